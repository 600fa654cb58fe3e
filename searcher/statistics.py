"""What BM25 needs to know about an index, at passage level and at file level.

Each passage's file (as a number), each passage's field lengths (whoosh's length
bytes) and each file's summed lengths, with the length norms BM25 derives from
them. Built once per reader (``statistics``) and kept with it.
"""

from __future__ import annotations

from array import array
from itertools import accumulate, compress, islice, repeat
from operator import add, ne

# BM25's term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75
FIELD_NAMES = ("body", "title")


class _Segment:
    """Per-segment arrays: each passage's file number and BM25 length norms, and deletions."""

    def __init__(self, reader, offset: int, file_numbers: dict[bytes, int], files: list[bytes]):
        self.reader = reader
        self.offset = offset
        self.count = count = reader.doc_count_all()
        self.deleted = (frozenset(d for d in range(count) if reader.is_deleted(d))
                        if reader.has_deletions() else frozenset())
        refs, uniques = _file_column(reader, count)
        local = []
        for key in uniques:
            number = file_numbers.get(key)
            if number is None:
                number = file_numbers[key] = len(files)
                files.append(key)
            local.append(number)
        self.file_of = list(map(local.__getitem__, refs))
        self.length_bytes = {name: _length_bytes(reader, name, count) for name in FIELD_NAMES}
        self.norms: dict[str, list[float]] = {}
        # A file's passages are added one after another: (file numbers, first docnums) of
        # the runs of equal file numbers, and each file's live passages (global docnums).
        if self.deleted:
            self.run_files, self.run_starts = [], []
        else:
            file_of = self.file_of
            self.run_starts = [0, *compress(range(1, count), map(ne, file_of, islice(file_of, 1, None)))]
            self.run_files = list(map(file_of.__getitem__, self.run_starts))
        self._passages: dict | None = None

    def passages(self) -> dict:
        """{file number: range or list of its live passages' global docnums} in this segment."""
        if self._passages is None:
            if not self.deleted:
                ends = [*self.run_starts[1:], self.count]
                offset = self.offset
                grouped = dict(zip(self.run_files, map(range, map(add, self.run_starts, repeat(offset)),
                                                       map(add, ends, repeat(offset)))))
                if len(grouped) == len(self.run_files):
                    self._passages = grouped
                    return grouped
            grouped = {}
            deleted, offset = self.deleted, self.offset
            for docnum, number in enumerate(self.file_of):
                if docnum not in deleted:
                    grouped.setdefault(number, []).append(offset + docnum)
            self._passages = grouped
        return self._passages


def _file_column(reader, count: int):
    """(per-passage index into uniques, unique file keys) from the ``file`` column."""
    column = reader.column_reader("file", translate=False)
    uniques = getattr(column, "_uniques", None)
    if uniques is not None and hasattr(column, "_typecode"):
        # whoosh's RefBytes column: an array of references into a list of unique values
        raw = column._dbfile.get(column._basepos, count * column._itemsize)
        refs = array(column._typecode, raw)
        if array("H", [1]).tobytes() != b"\x00\x01":
            refs.byteswap()  # stored big-endian
        return refs, uniques
    offsets, lengths = getattr(column, "_offsets", None), getattr(column, "_lengths", None)
    if offsets is not None and lengths is not None and len(offsets) == len(lengths) == count and count:
        # whoosh's VarBytes column: the values one after another; read them in one go.
        data = column._dbfile.get(column._basepos, max(map(add, offsets, lengths)))
        values = list(map(data.__getitem__, map(slice, offsets, map(add, offsets, lengths))))
    else:
        values = list(column)
    uniques = list(dict.fromkeys(values))
    position = {value: i for i, value in enumerate(uniques)}
    return list(map(position.__getitem__, values)), uniques


def _length_bytes(reader, fieldname: str, count: int) -> bytes:
    """Each passage's field length as whoosh stores it: one byte (see byte_to_length)."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
    from whoosh.util.numeric import length_to_byte

    perdoc = getattr(reader, "_perdoc", None)
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) if perdoc is not None else None
    if column is None:
        return bytes(length_to_byte(reader.doc_field_length(d, fieldname) or 0) for d in range(count))
    try:
        raw = column._dbfile.get(column._basepos, min(count, column._count))
    except AttributeError:
        raw = bytes(column)
    return raw + bytes(count - len(raw))


class Statistics:
    """What BM25 needs about an index, at passage level and file level; built once per reader."""

    def __init__(self, reader):
        from whoosh.util.numeric import byte_to_length

        self.files: list[bytes] = []
        numbers: dict[bytes, int] = {}
        leaves = reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]
        self.segments = [_Segment(sub, offset, numbers, self.files) for sub, offset in leaves
                         if sub.doc_count_all()]
        decoded = [byte_to_length(b) for b in range(256)]
        # Every passage's file number, by global docnum (segments are consecutive).
        self.file_of: list[int] = []
        for seg in self.segments:
            self.file_of.extend([-1] * (seg.offset - len(self.file_of)))
            self.file_of.extend(seg.file_of)
        self.file_lengths = {name: [0] * len(self.files) for name in FIELD_NAMES}
        live: set[int] = set()
        self.passages = 0
        totals = dict.fromkeys(self.file_lengths, 0)
        for seg in self.segments:
            deleted = seg.deleted
            file_of = seg.file_of
            if deleted:
                keep = [d for d in range(seg.count) if d not in deleted]
                file_of = [file_of[d] for d in keep]
            self.passages += len(file_of)
            live.update(seg.run_files if not deleted else file_of)
            for name, lengths in self.file_lengths.items():
                passage_lengths = list(map(decoded.__getitem__, seg.length_bytes[name]))
                if deleted:
                    passage_lengths = [passage_lengths[d] for d in keep]
                totals[name] += sum(passage_lengths)
                if not deleted:  # by runs of passages of one file
                    starts = seg.run_starts
                    if name == "title":  # every passage carries the file's title
                        for number, start in zip(seg.run_files, starts):
                            lengths[number] = passage_lengths[start]
                    else:
                        prefix = list(accumulate(passage_lengths, initial=0))
                        for number, start, end in zip(seg.run_files, starts, [*starts[1:], seg.count]):
                            lengths[number] += prefix[end] - prefix[start]
                elif name == "title":
                    for number, length in zip(file_of, passage_lengths):
                        lengths[number] = length
                else:
                    for number, length in zip(file_of, passage_lengths):
                        lengths[number] += length
        self.file_count = len(live) or 1
        passages = self.passages or 1
        self.avg_passage_length = {name: (total / passages) or 1.0 for name, total in totals.items()}
        self.avg_file_length = {name: (sum(lengths) / self.file_count) or 1.0
                                for name, lengths in self.file_lengths.items()}
        # K1 * (1 - B + B * length / average): BM25's length normalisation, precomputed.
        self.file_norms = {name: [K1 * (1 - B + B * length / self.avg_file_length[name]) for length in lengths]
                           for name, lengths in self.file_lengths.items()}
        for name in FIELD_NAMES:
            # A passage's norm depends only on its length byte: 256 values.
            table = [K1 * (1 - B + B * length / self.avg_passage_length[name]) for length in decoded]
            for seg in self.segments:
                seg.norms[name] = list(map(table.__getitem__, seg.length_bytes[name]))
        # The same by global docnum.
        self.norms: dict[str, list[float]] = {name: [] for name in FIELD_NAMES}
        for name, norms in self.norms.items():
            for seg in self.segments:
                norms.extend([1.0] * (seg.offset - len(norms)))
                norms.extend(seg.norms[name])

    def file_key(self, number: int) -> str:
        return self.files[number].decode("utf-8")

    def passages_of(self, number: int) -> list[int]:
        """Global docnums of a file's live passages, in index order."""
        found: list[int] = []
        for seg in self.segments:
            docnums = seg.passages().get(number)
            if docnums is not None:
                found.extend(docnums)
        return found


def statistics(reader) -> Statistics:
    """The reader's Statistics, built on first use and kept with the reader."""
    stats = getattr(reader, "_searcher_statistics", None)
    if stats is None:
        stats = Statistics(reader)
        reader._searcher_statistics = stats
    return stats
