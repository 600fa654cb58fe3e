"""What BM25 needs to know about an index, at passage level and at file level.

Each passage's file (as a number), each passage's field lengths (whoosh's length
bytes) and each file's summed lengths, with the length norms BM25 derives from
them. The indexing run saves them beside the index (index/storage/rankstats.py); a query
loads them for its reader, or computes them when they are not there (an index
from before, a run cut short), with the same result. Built once per reader
(``statistics``) and kept with it.

Sequences (``file_of``, ``norms``, ``file_norms``, ``file_lengths`` and those of a
segment) are read-only: arrays, or memoryviews of the saved file. They index and
slice like lists (``seq[i]``, ``map(seq.__getitem__, ids)``, ``len``, iteration).
"""

from __future__ import annotations

from array import array

from searcher.index.storage import rankstats
from searcher.index.storage.whoosh_private import reader_cache

# BM25's term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75
# The term weighting: "bm25", or "ineb2" (DFR's I(ne)B2 with H2 length normalisation,
# as Terrier and Lucene define it; see searcher/engine/ranking.py's term_factor).
WEIGHTING = "bm25"
FIELD_NAMES = rankstats.FIELDS


class _Segment:
    """One segment's part of the statistics: its reader, where its passages start
    (global docnum ``offset``), how many (``count``, deleted ones included), the
    deleted ones (local docnums) and, by local docnum, each passage's file number
    (``file_of``) and BM25 length norms (``norms[field]``)."""

    def __init__(self, reader, info: rankstats.Segment, data: rankstats.RankStats):
        self.reader = reader
        self.offset = offset = info.offset
        self.count = count = info.count
        self.deleted = info.deleted
        self._data = data
        self.file_of = data.file_of[offset:offset + count]
        self.norms = {name: norms[offset:offset + count] for name, norms in data.passage_norms.items()}
        self.length_bytes = {name: raw[offset:offset + count] for name, raw in data.length_bytes.items()}
        self._passages: dict | None = None
        first, last = self._run_span()
        self.run_count = last - first
        self._runs = None

    def _run_span(self) -> tuple[int, int]:
        from bisect import bisect_left

        starts = self._data.run_start
        return bisect_left(starts, self.offset), bisect_left(starts, self.offset + self.count)

    def runs(self):
        """(local starts, local ends, file numbers) of the segment's runs of live passages,
        in index order, if no file has two runs here (else None: then they cannot be told
        apart by range)."""
        if self._runs is None:
            data, offset = self._data, self.offset
            first, last = self._run_span()
            numbers = list(data.run_file[first:last])
            if len(set(numbers)) == len(numbers):
                starts = array("I", (start - offset for start in data.run_start[first:last]))
                ends = array("I", (end - offset for end in data.run_end[first:last]))
                self._runs = (starts, ends, numbers)
            else:
                self._runs = False
        return self._runs or None

    def passages(self) -> dict:
        """{file number: range or list of its live passages' global docnums} in this segment."""
        if self._passages is None:
            from bisect import bisect_left

            data = self._data
            first = bisect_left(data.run_start, self.offset)
            last = bisect_left(data.run_start, self.offset + self.count)
            runs = range(first, last)
            numbers = data.run_file[first:last]
            grouped = dict(zip(numbers, map(range, data.run_start[first:last], data.run_end[first:last])))
            if len(grouped) != len(runs):  # a file in several runs (deleted passages between)
                grouped = {}
                for i in runs:
                    grouped.setdefault(data.run_file[i], []).extend(range(data.run_start[i], data.run_end[i]))
            self._passages = grouped
        return self._passages


class Statistics:
    """What BM25 needs about an index, at passage level and file level; one per reader.

    ``file_of[docnum]``: a passage's file number (global docnum); ``norms[field][docnum]``:
    its BM25 length norm K1 * (1 - B + B * length / avg_passage_length[field]);
    ``file_norms[field][number]`` the same for a file's summed length (``file_lengths``);
    ``passages``: live passages; ``file_count``: files with live passages (at least 1).
    """

    def __init__(self, reader, data: rankstats.RankStats | None = None):
        if data is None:
            data = rankstats.load(reader) or rankstats.compute(reader, K1, B)
        data = data.with_norms(K1, B, WEIGHTING)
        self._data = data
        leaves = dict((offset, sub) for sub, offset in rankstats.leaves(reader))
        self.segments = [_Segment(leaves[info.offset], info, data) for info in data.segments]
        self.file_of = data.file_of
        self.norms = data.passage_norms
        self.file_norms = data.file_norms
        self.file_lengths = data.file_lengths
        self.passages = data.passages
        self.file_count = data.live_files or 1
        self.avg_passage_length = data.avg_passage_length
        self.avg_file_length = data.avg_file_length
        self._reader = reader

    @property
    def files(self) -> list[bytes]:
        """Every file's key (the ``file`` field, as bytes), by file number."""
        return self._keys().keys()

    def file_key(self, number: int) -> str:
        try:
            return self._data.key(number).decode("utf-8")
        except ValueError:  # the saved file keys are damaged: take them from the index
            return self._keys().key(number).decode("utf-8")

    def _keys(self) -> rankstats.RankStats:
        try:
            self._data.keys()
        except ValueError:
            self._data = rankstats.compute(self._reader, K1, B)
        return self._data

    def passages_of(self, number: int) -> list[int]:
        """Global docnums of a file's live passages, in index order."""
        return self._data.passages_of(number)

    def runs_of(self, number: int) -> list[tuple[int, int]]:
        """A file's live passages as (first, last + 1) global docnums, in index order."""
        data = self._data
        first = data.file_run_first
        starts, ends = data.run_start, data.run_end
        return [(starts[i], ends[i]) for i in data.file_runs[first[number]:first[number + 1]]]


def statistics(reader) -> Statistics:
    """The reader's Statistics, loaded or built on first use and kept with the reader."""
    cache = reader_cache(reader)
    stats = cache.get("statistics")
    if stats is None:
        stats = cache["statistics"] = Statistics(reader)
    return stats



def passage_file(reader, docnum: int) -> str:
    """The path of the file a passage (global docnum) is from. Since schema 5 a passage's
    stored fields leave it out: it is the file's key, found through the passage's file number."""
    stats = statistics(reader)
    return stats.file_key(stats.file_of[docnum])
