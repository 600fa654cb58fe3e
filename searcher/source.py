"""Where a passage sits in its source document: the lines around it and the line and column of each match.

The index stores each passage's text and first line; the lines around it
(``-C``), exact columns (``--vimgrep``) and whole documents (``show``) come
from reading the file again with the indexer's own reader, so line N here is
line N of what was indexed. When the file has changed or gone since it was
indexed, the stored passage is used on its own.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

Span = tuple[int, int]


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    text: str
    spans: tuple[Span, ...]  # offsets into ``text``
    in_passage: bool  # False for context lines


@dataclass(frozen=True)
class Source:
    """A text and where its lines start; ``first_line`` is the number of its first line."""

    text: str
    first_line: int = 1

    @property
    def line_starts(self) -> list[int]:
        return _line_starts(self.text)

    def line_of(self, offset: int) -> int:
        return self.first_line + bisect_right(self.line_starts, offset) - 1

    def line_count(self) -> int:
        return len(self.line_starts)

    def line_bounds(self, number: int) -> Span:
        starts = self.line_starts
        i = number - self.first_line
        start = starts[i]
        end = starts[i + 1] - 1 if i + 1 < len(starts) else len(self.text) - self.text.endswith("\n")
        return start, end

    def lines(self, first: int, last: int, spans: list[Span] = (), passage: Span | None = None) -> list[Line]:
        """Lines ``first``..``last`` (clamped), each with the spans inside it."""
        first = max(first, self.first_line)
        last = min(last, self.first_line + self.line_count() - 1)
        out = []
        for number in range(first, last + 1):
            start, end = self.line_bounds(number)
            inside = tuple((max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start)
            in_passage = passage is None or (start < passage[1] and end >= passage[0])
            out.append(Line(number, self.text[start:end], inside, in_passage))
        return out


@lru_cache(maxsize=8)
def _line_starts(text: str) -> list[int]:
    starts = [0]
    index = text.find("\n")
    # A newline ends a line; one at the very end starts no new line ("a\nb\n" has 2 lines, as wc -l says).
    while 0 <= index < len(text) - 1:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


@lru_cache(maxsize=32)
def read_source(path: str) -> Source | None:
    """The text of ``path`` as the indexer read it, or None if it cannot be read now."""
    from index.errors import IndexingError
    from index.reader import read_document

    try:
        return Source(read_document(path).text)
    except (IndexingError, OSError, ValueError):
        return None


def locate(source: Source, passage: str, start_line: int) -> int | None:
    """Offset of ``passage`` in ``source`` if it still starts on ``start_line``."""
    if not passage or start_line < source.first_line or start_line >= source.first_line + source.line_count():
        return None
    line_start, line_end = source.line_bounds(start_line)
    offset = source.text.find(passage, line_start)
    return offset if 0 <= offset <= line_end else None


@dataclass(frozen=True)
class Placed:
    """A passage placed in a text: ``offset`` of the passage, and its text's source."""

    source: Source
    offset: int
    length: int

    def spans(self, spans) -> list[Span]:
        return [(s + self.offset, e + self.offset) for s, e in spans]

    def lines(self, spans, context: int = 0) -> list[Line]:
        first = self.source.line_of(self.offset)
        last = self.source.line_of(self.offset + max(self.length - 1, 0))
        return self.source.lines(first - context, last + context, self.spans(spans),
                                 passage=(self.offset, self.offset + self.length))


def place(path: str, passage: str, start_line: int) -> Placed:
    """The passage in its file when the file still holds it there, else in the stored text alone."""
    source = read_source(path)
    if source is not None:
        offset = locate(source, passage, start_line)
        if offset is not None:
            return Placed(source, offset, len(passage))
    return Placed(Source(passage, first_line=start_line), 0, len(passage))


def column(line: str, offset: int) -> int:
    """1-based byte column of ``offset`` in ``line``, as vim's quickfix and ripgrep count."""
    return len(line[:offset].encode("utf-8", "surrogatepass")) + 1
