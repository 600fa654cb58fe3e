"""Formatting search hits for people (path:line: lines with highlights) and for scripts (JSON lines)."""

from __future__ import annotations

import json
import os
import re
import shlex

from searcher.console import Console, escape_line, json_safe, one_line, sanitize
from searcher.engine.search import Hit

PATH_STYLE = {"fg": "magenta"}
LINE_STYLE = {"fg": "green"}
TITLE_STYLE = {"bold": True}
MATCH_STYLE = {"fg": "red", "bold": True}
STALE_STYLE = {"fg": "yellow"}
STALE_MARK = "[changed]"
CONTEXT_STYLE = {"dim": True}


def display_path(path: str, cwd: str | None = None) -> str:
    """Relative to the working directory when inside it, as grep would print it; else absolute."""
    cwd = cwd or os.getcwd()
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def shown_path(path: str) -> str:
    """A hit's path as printed: relative when inside the working directory, on one line,
    with nothing in it that a terminal would act on."""
    return escape_line(display_path(path))


def print_file(console: Console, path: str, null: bool = False) -> None:
    """One line of ``-l``; with ``--null``, the name's own bytes ended by NUL, as ``grep -lZ``."""
    if null:
        console.print_raw(os.fsencode(display_path(path)) + b"\0")
    else:
        console.print(shown_path(path))


def hit_location(console: Console, hit: Hit) -> str:
    """``path:line:``, and for a PDF ``path#page=N:line:``: the page as PDF viewers and browsers
    take it after the file name; ``searcher show`` takes the whole location as printed."""
    page = f"#page={hit.page}" if hit.page else ""
    return (console.style(shown_path(hit.path) + page, **PATH_STYLE)
            + ":" + console.style(str(hit.start_line), **LINE_STYLE) + ":")


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


def _linked(links, location: str, hit: Hit) -> str:
    """``location`` as an OSC 8 hyperlink to the hit (searcher/present/links.py), when links are on."""
    return links.wrap(location, hit.path, hit.start_line, 1, hit.page) if links is not None else location


def format_hit(console: Console, hit: Hit, links=None) -> str:
    """``path:line: title`` then the highlighted fragments of the passage, indented."""
    location = _linked(links, hit_location(console, hit), hit)
    lines = [f"{location}{_stale_mark(console, hit)} {heading(console, hit)}{_index_mark(console, hit)}".rstrip()]
    parts = []
    for fragment in hit.fragments:
        text = highlighted(console, hit.text, fragment.spans, fragment.start, fragment.end)
        prefix = "…" if fragment.start > 0 else ""
        suffix = "…" if fragment.end < len(hit.text) else ""
        parts.append(prefix + text + suffix)
    lines.append("    " + " ".join(parts))
    return "\n".join(lines + copies_lines(console, hit))


def copies_lines(console: Console, hit: Hit) -> list[str]:
    """``    also in: other.html:12, ref.pdf#page=30:830``: the hit's near-duplicates elsewhere,
    written as hits' locations are (``searcher show`` takes each)."""
    if not hit.copies:
        return []
    places = [shown_path(copy.path) + (f"#page={copy.page}" if copy.page else "") + f":{copy.start_line}"
              for copy in hit.copies]
    return ["    " + console.style("also in: " + ", ".join(places), **CONTEXT_STYLE)]


def heading(console: Console, hit: Hit) -> str:
    """``Title › Section``: the document's title, and the passage's section when it is another."""
    title = highlighted(console, hit.title, hit.title_spans)
    title = console.style(title, **TITLE_STYLE) if title else ""
    if not hit.section or _same_words(hit.section, hit.title):
        return title
    section = highlighted(console, hit.section, hit.section_spans)
    return f"{title} \u203a {section}" if title else section


def _same_words(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ only in case, punctuation and markup."""
    import re

    return re.findall(r"\w+", a.casefold()) == re.findall(r"\w+", b.casefold())


def _stale_mark(console: Console, hit: Hit) -> str:
    """`` [changed]`` after the location of a hit whose file changed since it was indexed."""
    return " " + console.style(STALE_MARK, **STALE_STYLE) if hit.stale else ""


def _index_mark(console: Console, hit: Hit) -> str:
    """``  [notes]`` after the title when hits come from several indexes."""
    return console.style(f"  [{sanitize(hit.index)}]", dim=True) if hit.index else ""


def hit_json(hit: Hit) -> str:
    """One JSON object per hit; offsets are character offsets into ``text``."""
    record = {
        "path": hit.path,
        "title": hit.title,
        "section": hit.section,
        "start_line": hit.start_line,
        "end_line": hit.end_line,
        "page": hit.page,
        "position": hit.position,
        "score": round(hit.score, 6),
        "stale": hit.stale,
        "text": hit.text,
        "copies": [{"path": c.path, "start_line": c.start_line, "page": c.page} for c in hit.copies],
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
    if hit.index is not None:
        record["index"] = hit.index
    # ensure_ascii=False keeps text readable; json escapes C0 controls itself,
    # and DEL, C1 and bidi controls are escaped here so a terminal never sees them.
    return json_safe(json.dumps(record, ensure_ascii=False))


def styled_line(console: Console, text: str, spans) -> str:
    """One source line, safe to print, indentation kept, spans styled."""
    pieces, cursor = [], 0
    for start, end in spans:
        if start < cursor:
            continue
        pieces.append(sanitize(text[cursor:start]))
        pieces.append(console.style(sanitize(text[start:end]), **MATCH_STYLE))
        cursor = end
    pieces.append(sanitize(text[cursor:]))
    return "".join(pieces).rstrip()


def format_lines(console: Console, lines, page_starts=()) -> list[str]:
    """``12: text`` for lines of the passage, ``11- text`` for context lines, as grep -n -C;
    in a PDF (``page_starts``: the first line of each page), ``-- page N --`` where each page
    shown begins."""
    from bisect import bisect_right

    width = max((len(str(line.number)) for line in lines), default=1)
    starts = frozenset(page_starts)
    out = []
    for line in lines:
        if page_starts and (not out or line.number in starts):
            out.append(console.style(f"-- page {bisect_right(page_starts, line.number)} --", **CONTEXT_STYLE))
        number = console.style(str(line.number).rjust(width), **LINE_STYLE)
        mark = ":" if line.in_passage else "-"
        text = styled_line(console, line.text, line.spans)
        if text and not line.in_passage:
            text = console.style(text, **CONTEXT_STYLE)
        out.append(f"{number}{mark} {text}".rstrip())
    return out


def format_hit_with_context(console: Console, hit: Hit, context: int, links=None) -> str:
    """``path:line: title`` then the passage's own lines and ``context`` lines either side."""
    from searcher.present.source import place

    location = _linked(links, hit_location(console, hit), hit)
    head = f"{location}{_stale_mark(console, hit)} {heading(console, hit)}{_index_mark(console, hit)}".rstrip()
    placed = place(hit.path, hit.text, hit.start_line)
    lines = placed.lines(hit.spans, context)
    return "\n".join([head] + ["    " + line for line in format_lines(console, lines, placed.source.page_starts)]
                     + copies_lines(console, hit))


def vimgrep_lines(console: Console, hit: Hit) -> list[str]:
    """``path:line:column: text`` for each match in the passage: the line and the byte column
    (from 1) in the file as an editor opens it (see ``source.file_column``); for a PDF, whose
    lines are those of its extracted text, the text starts with the page: ``page 3: …``."""
    from bisect import bisect_right

    from searcher.present.source import file_column, place

    placed = place(hit.path, hit.text, hit.start_line)
    source = placed.source
    path = shown_path(hit.path)
    out = []
    for start, end in placed.spans(hit.spans or [(0, 0)]):
        number = source.line_of(start)
        page = bisect_right(source.page_starts, number) if source.page_starts else hit.page
        page = f"page {page}: " if page else ""
        line_start, line_end = source.line_bounds(number)
        text = source.text[line_start:line_end]
        col = file_column(hit.path, source, number, start - line_start, min(end, line_end) - line_start)
        spans = [(start - line_start, min(end, line_end) - line_start)]
        out.append(f"{path}:{number}:{col}: {page}"
                   f"{styled_line(console, text.strip(), _shift(spans, len(text) - len(text.lstrip())))}")
    return out


def _shift(spans, by: int):
    return [(max(s - by, 0), max(e - by, 0)) for s, e in spans]


def results_header(total: int, first: int, shown: int, seconds: float) -> str:
    """``37 passages match · showing 11–20 · 0.02 s``: on a terminal, above the results."""
    if total == 0:
        return f"no passage matches · {seconds:.2f} s"
    noun = "passage matches" if total == 1 else "passages match"
    showing = f"showing {first}–{first + shown - 1}" if shown else "none on this page"
    return f"{total} {noun} · {showing} · {seconds:.2f} s"


def expansion_lines(result, asked) -> list[str]:
    """``--explain``: whether query expansion ran, and the words it added."""
    expansion = getattr(result, "expansion", None)  # (results merged over indexes do not say)
    if expansion is None:
        if asked is False:
            return ["expansion: off (--no-expand)"]
        if not hasattr(result, "expansion"):
            return []
        if result.question:
            return ["expansion: did not run (nothing matched the question)"]
        return ["expansion: off (not a question of 4+ loose words; --expand forces it)"]
    why = "--expand" if asked else "a question"
    if not expansion:
        return [f"expansion: ran ({why}), added no words"]
    return [f"expansion: ran ({why}), added: {', '.join(expansion)}"]


def nothing_found(index_dir, result, offset: int, passages: int) -> list[str]:
    """Why there is nothing to show, when it is not simply that nothing matched (that is silent,
    as grep); ``passages``: how many the index holds."""
    if offset and result.total:  # (total is exact when there is an offset)
        matches = "1 passage matches" if result.total == 1 else f"{result.total} passages match"
        return [f"searcher: nothing on this page: {matches}, and --offset/--page skipped {offset}"]
    if passages == 0:
        from searcher.index.runs.writer import being_built

        building = being_built(index_dir)
        if building:
            return [f"searcher: the index at {index_dir} is being built: {building}; query again when it is done"]
        return [f"searcher: the index at {index_dir} is empty: add files with 'searcher index PATH...'"]
    return []


# A quoted phrase as the query language writes it: maybe excluded (``-"..."``), maybe in a
# field (``title:"..."``), maybe with a slop (``"..."~2``).
_QUOTED = re.compile(r'(?<![\w-])(-?)(?:(\w+):)?"([^"]*)"(?:~\d+)?')


def unquoted_hint(session, result) -> list[str]:
    """When a query with a phrase matched nothing, say so, and how many passages hold all
    the words of its phrases, quotes taken away (with the query that finds them)."""
    from searcher.index.text.analysis import WORD_PATTERN
    from searcher.errors import QueryError

    if not result.query.phrases:
        return []
    from searcher.index.text.analysis import stopwords_for

    stopwords = stopwords_for(session.meta.language)
    phrases, groups = {}, []
    for match in _QUOTED.finditer(result.query.read_as or result.query.text):
        negated, field, text = match.groups()
        # Words only, lower case: punctuation or an uppercase OR inside quotes is no operator outside them.
        words = [word.lower() for word in WORD_PATTERN.findall(text)]
        # Outside quotes a phrase's stopwords say nothing (and a short query would keep them).
        words = [word for word in words if word not in stopwords] or words
        if negated or not words:
            continue
        phrases[f'"{" ".join(text.split())}"'] = None
        group = " AND ".join(words)
        groups.append(f"{field}:({group})" if field else group)
    if not groups:
        return []
    phrases = list(phrases)
    said = f"the phrase {phrases[0]}" if len(phrases) == 1 else f"the phrases {', '.join(phrases)}"
    its = "its" if len(phrases) == 1 else "their"
    all_words = " AND ".join(groups)
    try:
        total = session.search(all_words, limit=1, per_file=None, highlight=False, exact_total=True,
                               expand=False, filters=result.query.filters).total
    except QueryError:  # e.g. only stopwords, which are not searched outside a phrase
        total = 0
    if result.query.filters:  # (ext:, modified:, size:: searcher/parse/filters.py)
        said += " in the files the filters keep"
    if not total:
        return [f"searcher: nothing matches: no passage has {said}, nor all {its} words"]
    holds = "1 passage has" if total == 1 else f"{total} passages have"
    return [f"searcher: nothing matches: no passage has {said}; {holds} all {its} words "
            f"(searcher query {shlex.quote(all_words)})"]
