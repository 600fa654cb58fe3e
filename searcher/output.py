"""Formatting search hits for people (path:line: lines with highlights) and for scripts (JSON lines)."""

from __future__ import annotations

import json
import os

from searcher.console import Console, one_line, sanitize
from searcher.search import Hit

PATH_STYLE = {"fg": "magenta"}
LINE_STYLE = {"fg": "green"}
TITLE_STYLE = {"bold": True}
MATCH_STYLE = {"fg": "red", "bold": True}


def display_path(path: str, cwd: str | None = None) -> str:
    """Relative to the working directory when inside it, as grep would print it; else absolute."""
    cwd = cwd or os.getcwd()
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def highlighted(console: Console, text: str, spans, start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` on one line, safe to print, with the spans inside it styled."""
    end = len(text) if end is None else end
    pieces, cursor = [], start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        pieces.append(one_line_piece(text[cursor:span_start]))
        pieces.append(console.style(one_line_piece(text[span_start:span_end]), **MATCH_STYLE))
        cursor = span_end
    pieces.append(one_line_piece(text[cursor:end]))
    return "".join(pieces).strip()


def one_line_piece(text: str) -> str:
    """Like one_line, but keeps a single leading/trailing space so pieces join naturally."""
    if not text:
        return ""
    lead = " " if text[0].isspace() else ""
    trail = " " if text[-1].isspace() and text.strip() else ""
    return lead + one_line(text) + trail if text.strip() else " "


def format_hit(console: Console, hit: Hit) -> str:
    """``path:line: title`` then the highlighted fragments of the passage, indented."""
    location = (
        console.style(sanitize(display_path(hit.path)), **PATH_STYLE)
        + ":" + console.style(str(hit.start_line), **LINE_STYLE) + ":"
    )
    title = highlighted(console, hit.title, hit.title_spans)
    lines = [f"{location} {console.style(title, **TITLE_STYLE) if title else ''}".rstrip()]
    parts = []
    for fragment in hit.fragments:
        text = highlighted(console, hit.text, fragment.spans, fragment.start, fragment.end)
        prefix = "…" if fragment.start > 0 else ""
        suffix = "…" if fragment.end < len(hit.text) else ""
        parts.append(prefix + text + suffix)
    lines.append("    " + " ".join(parts))
    return "\n".join(lines)


def hit_json(hit: Hit) -> str:
    """One JSON object per hit; offsets are character offsets into ``text``."""
    record = {
        "path": hit.path,
        "title": hit.title,
        "start_line": hit.start_line,
        "end_line": hit.end_line,
        "page": hit.page,
        "position": hit.position,
        "score": round(hit.score, 6),
        "text": hit.text,
        "highlights": [{"start": s, "end": e, "text": hit.text[s:e]} for s, e in hit.spans],
        "fragments": [
            {
                "start": f.start,
                "end": f.end,
                "text": hit.text[f.start:f.end],
                "highlights": [{"start": s - f.start, "end": e - f.start} for s, e in f.spans],
            }
            for f in hit.fragments
        ],
    }
    # ensure_ascii=False keeps text readable; json escapes C0 controls itself,
    # and DEL, C1 and bidi controls are escaped here so a terminal never sees them.
    return _escape_invisible(json.dumps(record, ensure_ascii=False))


def _escape_invisible(text: str) -> str:
    from searcher.console import _UNSAFE

    return _UNSAFE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
