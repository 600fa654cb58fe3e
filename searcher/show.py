"""``searcher show PATH[:LINE]``: a passage, or a whole document, with a query's words highlighted."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from searcher.console import sanitize
from searcher.errors import QueryError
from searcher.source import Line, Source

# PATH:LINE or PATH:LINE:COLUMN, as printed by `searcher query` and --vimgrep.
_LOCATION = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::\d+)?:?$")


@dataclass(frozen=True)
class Shown:
    path: str
    lines: list[Line]


def parse_location(location: str) -> tuple[str, int | None]:
    """``notes.txt:12`` → (``notes.txt``, 12); a path that exists as given wins over the split."""
    if os.path.exists(location):
        return location, None
    match = _LOCATION.match(location)
    if match and os.path.exists(match.group("path")):
        return match.group("path"), int(match.group("line"))
    raise QueryError(f"no such file: {sanitize(location)}")


def _read(path: str) -> Source:
    from index.errors import IndexingError
    from index.reader import read_document

    try:
        return Source(read_document(path).text)
    except IndexingError as exc:
        raise QueryError(f"cannot show {sanitize(path)}: {exc}") from None
    except OSError as exc:
        raise QueryError(f"cannot show {sanitize(path)}: {exc.strerror or exc}") from None


def _passage_lines(index_dir, path: str, line: int) -> tuple[int, int] | None:
    """First and last line of the indexed passage of ``path`` that holds ``line``, if indexed."""
    from index.errors import IndexingError
    from index.safepickle import UnsafeIndex
    from index.store import open_index

    try:
        ix = open_index(index_dir)
    except UnsafeIndex:
        raise  # without an index the line is shown alone; a tampered one is worth saying
    except IndexingError:
        return None
    keys = dict.fromkeys([os.path.abspath(path), os.path.realpath(path)])
    with ix.searcher() as searcher:
        for key in keys:
            for stored in searcher.documents(file=key):
                start, end = stored.get("start_line", 0), stored.get("end_line", 0)
                if start <= line <= end:
                    return start, end
    return None


def _highlights(index_dir, text: str, words: str) -> list[tuple[int, int]]:
    from index.store import open_index, read_meta
    from searcher.query import parse_query
    from searcher.snippets import highlight_spans, match_terms

    meta = read_meta(index_dir)
    ix = open_index(index_dir)
    parsed = parse_query(words, ix.schema, meta.language)
    with ix.searcher() as searcher:
        terms = match_terms(parsed.query, searcher.reader())
    return highlight_spans(text, "body", ix.schema["body"].analyzer, terms)


def show(index_dir, location: str, words: str = "", context: int = 0) -> Shown:
    """The lines to print for ``location``: the passage holding LINE (plus ``context`` lines), or every line."""
    path, line = parse_location(location)
    if os.path.isdir(path):
        raise QueryError(f"cannot show {sanitize(path)}: it is a folder")
    source = _read(path)
    spans = _highlights(index_dir, source.text, words) if words.strip() else []
    if line is None:
        return Shown(path, source.lines(1, source.line_count(), spans))
    if line > source.line_count():
        raise QueryError(f"{sanitize(path)} has only {source.line_count()} lines")
    first, last = _passage_lines(index_dir, path, line) or (line, line)
    start = source.line_bounds(first)[0]
    end = source.line_bounds(min(last, source.line_count()))[1]
    return Shown(path, source.lines(first - context, last + context, spans, passage=(start, end)))
