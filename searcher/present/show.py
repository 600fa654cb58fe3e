"""``searcher show PATH[:LINE]``: a passage, or a whole document, with a query's words highlighted.

PATH is a file of the index. ``PATH:LINE`` (and ``PATH:LINE:COLUMN``, as ``--vimgrep``
prints it) is the indexed passage that holds LINE; for a PDF, ``PATH#page=N`` is page N
(and ``PATH#page=N:LINE`` the passage at LINE, which must be on page N), as text output
prints a PDF hit's location.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from dataclasses import dataclass

from searcher.errors import QueryError
from searcher.present.source import Line, Source

_NUMBER_AT_END = re.compile(r":(\d+)$")
_PAGE_AT_END = re.compile(r"#page=(\d+)$")


@dataclass(frozen=True)
class Location:
    path: str
    line: int | None = None
    page: int | None = None


@dataclass(frozen=True)
class Shown:
    path: str
    lines: list[Line]
    # First line of each page, for a PDF: its lines are numbered through the whole document.
    page_starts: tuple[int, ...] = ()

    def page_of(self, line: int) -> int | None:
        return bisect_right(self.page_starts, line) if self.page_starts else None


def parse_location(location: str) -> Location:
    """``notes.txt:12`` → (``notes.txt``, line 12), ``a.pdf#page=3`` → (``a.pdf``, page 3); a path
    that exists as given wins over a split, and a longer existing path over a shorter one."""
    for path, numbers in _splits(location):
        page = None
        if not os.path.lexists(path):
            match = _PAGE_AT_END.search(path)
            if not match or not os.path.lexists(path[:match.start()]):
                continue
            path, page = path[:match.start()], int(match.group(1))
        line = numbers[0] if numbers else None
        if line == 0 or page == 0:
            raise QueryError(f"{location}: {'lines' if line == 0 else 'pages'} are numbered from 1")
        return Location(path, line, page)
    raise QueryError(f"no such file: {location}")


def _splits(location: str):
    """(path, [LINE, COLUMN]) readings of ``location``, the longest path first."""
    yield location, []
    rest, numbers = location.removesuffix(":"), []
    if rest != location:
        yield rest, []
    for _ in range(2):  # :LINE, then :LINE:COLUMN
        match = _NUMBER_AT_END.search(rest)
        if not match:
            return
        rest, numbers = rest[:match.start()], [int(match.group(1))] + numbers
        yield rest, numbers


def _read(path: str):
    from searcher.index.errors import IndexingError
    from searcher.index.reading.reader import read_document

    try:
        return read_document(path)
    except IndexingError as exc:
        raise QueryError(f"cannot show {path}: {exc}") from None
    except OSError as exc:
        raise QueryError(f"cannot show {path}: {exc.strerror or exc}") from None


def _passages(searcher, path: str) -> list[tuple[int, int]]:
    """(first line, last line) of each indexed passage of ``path``, in order; [] if not indexed."""
    keys = dict.fromkeys([os.path.abspath(path), os.path.realpath(path)])
    for key in keys:
        found = sorted((stored.get("start_line", 0), stored.get("end_line", 0))
                       for stored in searcher.documents(file=key))
        if found:
            return found
    return []


def _highlights(session, text: str, words: str) -> list[tuple[int, int]]:
    from searcher.present.snippets import highlight_spans, match_terms

    terms = match_terms(session.parse(words).plan)
    return highlight_spans(text, "body", session.schema["body"].analyzer, terms)


def show(session, location: str, words: str = "", context: int = 0) -> Shown:
    """The lines to print for ``location``: the passage holding LINE (plus ``context`` lines),
    a PDF's page, or every line (``session``: the open index, a searcher.engine.search.SearchSession).
    QueryError for a file the index does not hold, a line or a page it does not have."""
    where = parse_location(location)
    path = where.path
    if os.path.isdir(path):
        raise QueryError(f"cannot show {path}: it is a folder")
    if os.path.exists(path) and not os.path.isfile(path):
        raise QueryError(f"cannot show {path}: not a regular file")  # a FIFO or device: never opened
    passages = _passages(session.searcher, path)
    if not passages:
        raise QueryError(f"{path} is not in the index at {session.index_dir}: "
                         f"add it with 'searcher index {path}'")
    document = _read(path)
    source = Source(document.text)
    spans = _highlights(session, source.text, words) if words.strip() else []
    shown = Shown(path, [], document.page_starts)
    count = source.line_count()
    first, last = 1, count
    if where.page is not None:
        pages = len(document.page_starts)
        if not pages:
            raise QueryError(f"{path} has no pages: #page=N is for PDFs")
        if where.page > pages:
            raise QueryError(f"{path} has {_count(pages, 'page')}: there is no page {where.page}")
        first = document.page_starts[where.page - 1]
        last = document.page_starts[where.page] - 1 if where.page < pages else count
    if where.line is None:
        return Shown(path, source.lines(first, last, spans), document.page_starts)
    if where.line > count:
        raise QueryError(f"{path} has {_count(count, 'line')}: there is no line {where.line}")
    if where.page is not None and shown.page_of(where.line) != where.page:
        raise QueryError(f"line {where.line} of {path} is on page {shown.page_of(where.line)}, "
                         f"not page {where.page}")
    first, last = next(((s, e) for s, e in passages if s <= where.line <= e), (where.line, where.line))
    last = min(last, count)
    start, end = source.line_bounds(first)[0], source.line_bounds(last)[1]
    return Shown(path, source.lines(first - context, last + context, spans, passage=(start, end)),
                 document.page_starts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
