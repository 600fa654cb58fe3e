"""Where a passage sits in its source document: the lines around it and the line and column of each match.

The index stores each passage's text and first line; the lines around it
(``-C``), exact columns (``--vimgrep``) and whole documents (``show``) come
from reading the file again with the indexer's own reader, so line N here is
line N of what was indexed. When the file has changed or gone since it was
indexed, the stored passage is used on its own.
"""

from __future__ import annotations

import io
import re
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
    # First line of each page, for a PDF (its lines are those of the extracted text).
    page_starts: tuple[int, ...] = ()

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
    from searcher.index.errors import IndexingError
    from searcher.index.reading.reader import read_document

    try:
        document = read_document(path)
    except (IndexingError, OSError, ValueError):
        return None
    return Source(document.text, page_starts=document.page_starts)


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


# --- columns in the file as an editor opens it ---------------------------------

@lru_cache(maxsize=8)
def raw_lines(path: str) -> tuple[str, ...] | None:
    """The lines of ``path`` as an editor shows them (its own bytes decoded as the reader
    decodes them, a gzip file's contents, as vim's gzip plugin opens it), or None."""
    from searcher.index.errors import IndexingError
    from searcher.index.reading.reader import DEFAULT_MAX_BYTES, _read_bytes, decode_text

    try:
        data = _read_bytes(path, DEFAULT_MAX_BYTES)
        if data[:2] == b"\x1f\x8b":
            import gzip

            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                data = f.read(DEFAULT_MAX_BYTES + 1)[:DEFAULT_MAX_BYTES]
        return tuple(decode_text(data).split("\n"))
    except (IndexingError, OSError, ValueError, EOFError):
        return None


def file_column(path: str, source: Source, number: int, start: int, end: int) -> int:
    """1-based byte column, in line ``number`` of the file on disk, of the match ``start``..``end``
    (offsets in line ``number`` of ``source``, the extracted text): what ``vim -q`` jumps to.

    Plain text is its own extracted text. For markup (HTML: tags gone from the text and
    entities decoded, but every piece of text kept on its source line) the match is looked
    up in the visible text of the file's line, as the same occurrence of the same word, and
    its column in the file taken from there. When that cannot be done safely (the word is
    not there as often as in the extracted line, a PDF's binary file), column 1: the right
    line, at its start.
    """
    line_start, line_end = source.line_bounds(number)
    text = source.text[line_start:line_end]
    if source.page_starts:
        return 1
    raw = raw_lines(path)
    if raw is None or not 0 < number <= len(raw):
        return 1
    raw_line = raw[number - 1]
    if raw_line == text:
        return column(text, start)
    # The match's first word: a phrase's words may have tags between them in the file.
    words = text[start:end].split()
    if not words:
        return 1
    start += len(text[start:end]) - len(text[start:end].lstrip())
    word = re.compile(rf"(?<!\w){re.escape(words[0])}(?!\w)", re.IGNORECASE)
    in_text = [m.start() for m in word.finditer(text)]
    if start not in in_text:
        return 1
    # The line as it reads, then (when that does not hold the word as often as the indexed
    # text does) as the end of a tag begun on an earlier line, up to its first ">".
    for inside_tag in (False, True):
        visible, offsets = _visible_text(raw_line, inside_tag)
        in_file = [m.start() for m in word.finditer(visible)]
        if len(in_file) == len(in_text):
            return column(raw_line, offsets[in_file[in_text.index(start)]])
    return 1  # not the same occurrences: any pick could be the wrong one


# Pieces of a line of markup: a tag, a character reference, text, or a lone < or &.
_MARKUP = re.compile(r"<[^<>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?|[^<&]+|[<&]")


def _visible_text(line: str, inside_tag: bool = False) -> tuple[str, list[int]]:
    """The text of a line of markup with tags left out and character references decoded, and
    for each of its characters the offset in ``line`` it comes from; ``inside_tag``: the line
    starts inside a tag, which ends at its first ">"."""
    from html import unescape

    pieces, offsets = [], []
    begin = line.find(">") + 1 if inside_tag else 0
    if inside_tag and (begin == 0 or "<" in line[:begin]):
        return "", []
    for match in _MARKUP.finditer(line, begin):
        piece = match.group()
        if piece[0] == "<" and len(piece) > 1:
            continue
        if piece[0] == "&" and len(piece) > 1:
            decoded = unescape(piece)
            pieces.append(decoded)
            offsets.extend([match.start()] * len(decoded))
        else:
            pieces.append(piece)
            offsets.extend(range(match.start(), match.end()))
    return "".join(pieces), offsets
