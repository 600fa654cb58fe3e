"""Ranking statistics of an index: computed by the indexing run, loaded by queries.

What BM25 needs about every passage and file (searcher/engine/statistics.py): each
passage's file as a number, its field lengths (whoosh's length bytes) and length
norms, each file's summed lengths and norms, and where each file's live
passages are. Computing them from whoosh's columns costs about 0.4 s per 200k
passages, most of a cold ``searcher query``; so an indexing run computes them
once, at its end (``save``, called by index/runs/writer.py), and a query loads them
(``load``) in a few milliseconds.

The file ``_<indexname>_<generation>.rankstats`` belongs to one whoosh table of
contents. ``load`` uses it only when everything checks: its checksum, its format,
and the reader's generation, segment ids, passage and deletion counts. Anything
else (an index older than this file, a run interrupted before its end, a damaged
or foreign file) gives None, and the caller computes the statistics (``compute``):
the file changes how fast a query starts, never what it finds.

The norms K1 * (1 - B + B * length / average) depend on BM25's parameters:
the file holds those it was computed with (``NORM_K1``, ``NORM_B``), and a
caller with others derives its own from the lengths (``RankStats.with_norms``).

Layout (little-endian; sections 8-byte aligned): MAGIC, the CRC-32 of the main
part, its length; the main part (a header, the segment ids, then the arrays
below); the file keys (offsets and one blob), with a CRC-32 of their own, read
only when a key is asked for.
"""

from __future__ import annotations

import math
import mmap
import os
import re
import struct
import sys
import zlib
from array import array
from itertools import accumulate, compress, islice
from operator import ne
from operator import sub as sub_

# The BM25 parameters of the stored norms; searcher/engine/statistics.py has the authoritative ones.
NORM_K1 = 1.2
NORM_B = 0.75
FIELDS = ("body", "title")

MAGIC = b"SRKSTAT1"
SUFFIX = ".rankstats"
_PREAMBLE = struct.Struct("<8sIIQ")  # magic, crc32 of the main part, flags, length of the main part
# Flags: the file keys were computed with the paths lost by whoosh's column writer read back
# (``_lost_files_restored``); files without it (0: earlier releases) are not used for an index
# that may have lost some.
_FILES_RESTORED = 1
_HEADER = struct.Struct("<qddQQQQQQddddQQII")
# generation, k1, b, segments, passages (all), files, runs, live passages, live files,
# average passage length (body, title), average file length (body, title),
# keys offset, keys length, keys crc32, length of the segment ids blob
_SEGMENT = struct.Struct("<QQQ")  # passages, deleted passages, offset
_LITTLE = sys.byteorder == "little"
_TYPES_OK = all(array(code).itemsize == size for code, size in (("i", 4), ("q", 8), ("d", 8), ("B", 1)))


class Segment:
    """One non-empty whoosh segment as the statistics saw it."""

    __slots__ = ("segment_id", "offset", "count", "deleted")

    def __init__(self, segment_id: str, offset: int, count: int, deleted: frozenset):
        self.segment_id = segment_id
        self.offset = offset  # global docnum of its first passage
        self.count = count  # passages, deleted ones included
        self.deleted = deleted  # local docnums


class RankStats:
    """The statistics of one reader. Sequences are read-only and indexable: lists when
    computed, memoryviews of the file when loaded. Docnums are global; file numbers
    index the file keys.

    - ``file_of[docnum]``: the passage's file number (deleted passages included);
    - ``length_bytes[field][docnum]``: whoosh's length byte of the passage's field;
    - ``passage_norms[field][docnum]``: K1 * (1 - B + B * length / avg_passage_length);
    - ``file_lengths[field][number]``: the file's summed length over its live passages
      (title: one passage's, as every passage carries the title);
    - ``file_norms[field][number]``: K1 * (1 - B + B * file length / avg_file_length);
    - runs of consecutive live passages of one file, in index order: ``run_file``,
      ``run_start``, ``run_end`` (global docnums, end excluded); a file's runs are
      ``file_runs[file_run_first[number]:file_run_first[number + 1]]`` (indexes of runs).
    """

    def __init__(self):
        self.generation = -1
        self.k1 = NORM_K1
        self.b = NORM_B
        self.model = "bm25"  # the term weighting the norms are for (searcher/engine/statistics.py's WEIGHTING)
        self.segments: list[Segment] = []
        self.file_of = array("i")
        self.length_bytes: dict = {}
        self.passage_norms: dict = {}
        self.file_lengths: dict = {}
        self.file_norms: dict = {}
        self.passages = 0  # live passages
        self.live_files = 0  # files with a live passage
        self.avg_passage_length: dict[str, float] = {}
        self.avg_file_length: dict[str, float] = {}
        self.run_file = self.run_start = self.run_end = array("i")
        self._file_run_first = self._file_runs = None  # built on first use when computed
        self.file_count_all = 0  # files numbered, those without live passages included
        self._keys: list[bytes] | None = None
        self._key_source = None  # () -> (blob, offsets) of the keys in a file, read when asked for
        self._key_blob = self._key_offsets = None

    # --- file keys ----------------------------------------------------------------

    def _key_parts(self):
        """(blob, offsets) of the keys read from a file; ValueError if they are damaged."""
        if self._key_blob is None:
            self._key_blob, self._key_offsets = self._key_source()
        return self._key_blob, self._key_offsets

    def keys(self) -> list[bytes]:
        """Every file key (the ``file`` field's bytes), by file number."""
        if self._keys is None:
            blob, offsets = self._key_parts()
            data = bytes(blob)
            self._keys = list(map(data.__getitem__, map(slice, offsets, islice(offsets, 1, None))))
        return self._keys

    def key(self, number: int) -> bytes:
        if self._keys is not None:
            return self._keys[number]
        blob, offsets = self._key_parts()
        return bytes(blob[offsets[number]:offsets[number + 1]])

    # --- files' passages ----------------------------------------------------------

    @property
    def file_run_first(self):
        if self._file_run_first is None:
            self._index_runs()
        return self._file_run_first

    @property
    def file_runs(self):
        if self._file_runs is None:
            self._index_runs()
        return self._file_runs

    def _index_runs(self) -> None:
        per_file = [0] * self.file_count_all
        for number in self.run_file:
            per_file[number] += 1
        # sorted() is stable: a file's runs stay in index order
        self._file_runs = sorted(range(len(self.run_file)), key=self.run_file.__getitem__)
        self._file_run_first = list(accumulate(per_file, initial=0))

    def passages_of(self, number: int) -> list[int]:
        """Global docnums of a file's live passages, in index order."""
        first = self.file_run_first
        runs = self.file_runs[first[number]:first[number + 1]]
        if len(runs) == 1:
            i = runs[0]
            return list(range(self.run_start[i], self.run_end[i]))
        found: list[int] = []
        for i in runs:
            found.extend(range(self.run_start[i], self.run_end[i]))
        return found

    def with_norms(self, k1: float, b: float, model: str = "bm25") -> "RankStats":
        """These statistics with the norms of other BM25 parameters or another
        weighting (``model``: "bm25" or "ineb2"), computed here."""
        if (k1, b, model) == (self.k1, self.b, self.model):
            return self
        other = RankStats()
        other.__dict__.update(self.__dict__)
        other.k1, other.b, other.model = k1, b, model
        _set_norms(other)
        return other


def _norm(stats: RankStats, avg: float):
    """length -> the norm of a term's saturation tf / (tf + norm) for ``stats``' weighting."""
    k1, b = stats.k1, stats.b
    if stats.model == "ineb2":
        # DFR's H2 normalisation, tfn = tf * log2(1 + avg / length), under B's after-effect
        # weighs tfn / (1 + tfn) = tf / (tf + 1 / log2(1 + avg / length)).
        return lambda length: 1.0 / math.log2(1.0 + avg / length) if length > 0 else 1.0
    return lambda length: k1 * (1 - b + b * length / avg)


def _set_norms(stats: RankStats) -> None:
    from searcher.index.storage.whoosh_private import byte_to_length

    decoded = [byte_to_length(i) for i in range(256)]
    passage_norms, file_norms = {}, {}
    for name in FIELDS:
        # A passage's norm depends only on its length byte: 256 values.
        norm = _norm(stats, stats.avg_passage_length[name])
        table = list(map(norm, decoded))
        passage_norms[name] = list(map(table.__getitem__, stats.length_bytes[name]))
        # Files have far fewer distinct lengths than files: each norm computed once.
        norm = _norm(stats, stats.avg_file_length[name])
        lengths = stats.file_lengths[name]
        norm_of = {length: norm(length) for length in set(lengths)}
        file_norms[name] = list(map(norm_of.__getitem__, lengths))
    stats.passage_norms, stats.file_norms = passage_norms, file_norms


# --- computing them from a reader ------------------------------------------------------


def leaves(reader) -> list:
    """(segment reader, global docnum of its first passage) of the non-empty segments."""
    pairs = reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]
    return [(sub, offset) for sub, offset in pairs if sub.doc_count_all()]


def _segment_id(sub) -> str:
    try:
        return str(sub.segment().segment_id())
    except Exception:  # not a whoosh segment reader: nothing to match a stored file with
        return ""


def _deleted(sub, count: int) -> frozenset:
    if not sub.has_deletions():
        return frozenset()
    try:
        return frozenset(sub.segment().deleted_docs())
    except Exception:
        return frozenset(d for d in range(count) if sub.is_deleted(d))


def compute(reader, k1: float = NORM_K1, b: float = NORM_B) -> RankStats:
    """The statistics of ``reader``, from whoosh's columns."""
    from searcher.index.storage.whoosh_private import byte_to_length

    stats = RankStats()
    stats.k1, stats.b = k1, b
    generation = getattr(reader, "generation", None)
    stats.generation = generation() if callable(generation) else -1
    stats.generation = stats.generation if isinstance(stats.generation, int) else -1
    numbers: dict[bytes, int] = {}
    keys: list[bytes] = []
    file_of: list[int] = []
    lengths = {name: bytearray() for name in FIELDS}
    for sub, offset in leaves(reader):
        count = sub.doc_count_all()
        if offset != len(file_of):
            raise ValueError("segments are not consecutive")
        refs, uniques = _file_column(sub, count)
        local = []
        for key in uniques:
            number = numbers.get(key)
            if number is None:
                number = numbers[key] = len(keys)
                keys.append(key)
            local.append(number)
        file_of.extend(map(local.__getitem__, refs))
        for name in FIELDS:
            lengths[name] += _length_bytes(sub, name, count)
        stats.segments.append(Segment(_segment_id(sub), offset, count, _deleted(sub, count)))
    stats.file_of = file_of
    stats.length_bytes = {name: bytes(raw) for name, raw in lengths.items()}
    stats._keys = keys
    stats.file_count_all = len(keys)

    # Runs of consecutive live passages of one file (a file's passages are added one
    # after another), never across segments or deleted passages.
    run_file: list[int] = []
    run_start: list[int] = []
    run_end: list[int] = []
    title_at: list[int] = []  # the passage whose title length is the file's (see below)
    for seg in stats.segments:
        begin, end = seg.offset, seg.offset + seg.count
        first_run = len(run_start)
        if not seg.deleted:
            part = file_of[begin:end]
            starts = [begin, *compress(range(begin + 1, end), map(ne, part, islice(part, 1, None)))]
            run_start.extend(starts)
            run_end.extend(starts[1:])
            run_end.append(end)
            run_file.extend(map(file_of.__getitem__, starts))
            title_at.extend(starts)
            continue
        deleted, previous = seg.deleted, None  # previous: the open run's file
        for g in range(begin, end):
            if g - begin in deleted:
                if previous is not None:
                    run_end.append(g)
                    previous = None
                continue
            number = file_of[g]
            if number != previous:
                if previous is not None:
                    run_end.append(g)
                run_file.append(number)
                run_start.append(g)
                previous = number
        if previous is not None:
            run_end.append(end)
        # As the statistics always did: where a segment has deletions, the last live passage's.
        title_at.extend(e - 1 for e in run_end[first_run:])
    stats.run_file, stats.run_start, stats.run_end = run_file, run_start, run_end

    decoded = [byte_to_length(i) for i in range(256)]
    live = sum(map(sub_, run_end, run_start))
    stats.passages = live
    stats.live_files = len(set(run_file))
    file_lengths = {}
    for name in FIELDS:
        per_passage = list(map(decoded.__getitem__, stats.length_bytes[name]))
        prefix = list(accumulate(per_passage, initial=0))
        sizes = list(map(sub_, map(prefix.__getitem__, run_end), map(prefix.__getitem__, run_start)))
        sums = [0] * len(keys)
        if name == "title":  # every passage carries the file's title: one passage's length
            for number, g in zip(run_file, title_at):
                sums[number] = per_passage[g]
        else:
            for number, size in zip(run_file, sizes):
                sums[number] += size
        file_lengths[name] = sums
        stats.avg_passage_length[name] = (sum(sizes) / (live or 1)) or 1.0
        stats.avg_file_length[name] = (sum(sums) / (stats.live_files or 1)) or 1.0
    stats.file_lengths = file_lengths
    _set_norms(stats)
    return stats


def _file_column(reader, count: int):
    """(per-passage index into uniques, unique file keys) from the ``file`` column."""
    from searcher.index.storage.whoosh_private import file_column_arrays

    column = reader.column_reader("file", translate=False)
    found = file_column_arrays(column, count)
    if found is not None and found[1] is not None:
        refs, uniques = found
        # A RefBytes column's values start with its default (b""), which no passage of a
        # searcher index holds: only the values passages refer to are files.
        used = sorted(set(refs))
        if used and used[0] == 0 and not uniques[0]:
            return _lost_files_restored(reader, refs, uniques)
        if len(used) == len(uniques):
            return refs, uniques
        renumber = [0] * len(uniques)
        for new, old in enumerate(used):
            renumber[old] = new
        return list(map(renumber.__getitem__, refs)), list(map(uniques.__getitem__, used))
    values = found[0] if found is not None else list(column)
    uniques = list(dict.fromkeys(values))
    position = {value: i for i, value in enumerate(uniques)}
    return list(map(position.__getitem__, values)), uniques


def _may_have_lost_files(sub) -> bool:
    """Whether a segment's ``file`` column may have been written by whoosh's own writer
    past its limit (see ``_lost_files_restored``): only a segment of more passages than
    that can be, and reading its column's unique values tells."""
    if sub.doc_count_all() <= _OLD_REFS_LIMIT:
        return False
    column = sub.column_reader("file", translate=False)
    uniques = getattr(column, "_uniques", None)
    return uniques is not None and len(uniques) > _OLD_REFS_LIMIT and getattr(column, "_typecode", None) == "H"


# Distinct values whoosh's RefBytesColumn writer keeps in a segment, its default included.
_OLD_REFS_LIMIT = 65_535


def _lost_files_restored(reader, refs, uniques):
    """(refs, uniques) of a segment whose ``file`` column lost values: whoosh's own column
    writer, which searcher used until schema 4, stores the default (b"") in place of every
    distinct value past the 65,535th of a segment, so all the files after it read as one.
    Each such passage's file is in its stored fields: read from there (once, when the
    statistics of a run are computed)."""
    from searcher.index.errors import IndexDamaged

    field = reader.schema["file"]
    values = list(map(uniques.__getitem__, refs))
    for docnum, value in enumerate(values):
        if not value:
            stored = reader.stored_fields(docnum).get("file")
            if not isinstance(stored, str) or not stored:
                raise IndexDamaged("the index's file column is damaged: rebuild it with 'searcher index --rebuild PATH...'")
            values[docnum] = field.to_column_value(stored)
    uniques = list(dict.fromkeys(values))
    position = {value: i for i, value in enumerate(uniques)}
    return list(map(position.__getitem__, values)), uniques


def _length_bytes(reader, fieldname: str, count: int) -> bytes:
    """Each passage's field length as whoosh stores it: one byte (see byte_to_length)."""
    from searcher.index.storage.whoosh_private import length_bytes, length_to_byte

    perdoc = getattr(reader, "_perdoc", None)
    raw = length_bytes(perdoc, fieldname, count) if perdoc is not None else None
    if raw is None:
        return bytes(length_to_byte(reader.doc_field_length(d, fieldname) or 0) for d in range(count))
    return raw


# --- the file ------------------------------------------------------------------------

_NAME = re.compile(r"_([A-Za-z0-9]+)_(\d+)\.rankstats(?:\.\d+\.tmp)?")
_INDEXNAME = re.compile(r"[A-Za-z0-9]{1,32}")


def file_name(indexname: str, generation: int) -> str:
    return f"_{indexname}_{generation}{SUFFIX}"


def _pad(n: int) -> int:
    return -n % 8


def _arrays(stats: RankStats) -> list:
    """The main part's arrays, in file order, with their typecodes."""
    return [
        ("i", stats.file_of),
        *(("B", stats.length_bytes[name]) for name in FIELDS),
        *(("d", stats.passage_norms[name]) for name in FIELDS),
        *(("q", stats.file_lengths[name]) for name in FIELDS),
        *(("d", stats.file_norms[name]) for name in FIELDS),
        ("i", stats.run_file), ("i", stats.run_start), ("i", stats.run_end),
        ("i", stats.file_run_first), ("i", stats.file_runs),
    ]


def _as_bytes(code: str, values) -> bytes:
    data = values if isinstance(values, array) and values.typecode == code else array(code, values)
    if not _LITTLE and code != "B":
        data = array(code, data)
        data.byteswap()
    return data.tobytes()


def encode(stats: RankStats) -> bytes:
    """The file's bytes for ``stats``."""
    keys = stats.keys()
    ids = "\n".join(seg.segment_id for seg in stats.segments).encode("ascii")
    parts = [b"", ids, bytes(_pad(len(ids)))]
    for seg in stats.segments:
        parts.append(_SEGMENT.pack(seg.count, len(seg.deleted), seg.offset))
    for code, values in _arrays(stats):
        raw = _as_bytes(code, values)
        parts += [raw, bytes(_pad(len(raw)))]
    main_length = _HEADER.size + sum(map(len, parts))
    offsets = _as_bytes("q", accumulate(map(len, keys), initial=0))
    key_part = offsets + b"".join(keys)
    parts[0] = _HEADER.pack(
        stats.generation, stats.k1, stats.b, len(stats.segments), len(stats.file_of), len(keys),
        len(stats.run_file), stats.passages, stats.live_files,
        *(stats.avg_passage_length[name] for name in FIELDS), *(stats.avg_file_length[name] for name in FIELDS),
        _PREAMBLE.size + main_length, len(key_part), zlib.crc32(key_part), len(ids))
    main = b"".join(parts)
    return _PREAMBLE.pack(MAGIC, zlib.crc32(main), _FILES_RESTORED, len(main)) + main + key_part


def _view(buffer, position: int, code: str, count: int):
    """``count`` items of type ``code`` at ``position``: a view of the buffer where
    the machine reads little-endian, else a copy; and the position after them (aligned)."""
    size = array(code).itemsize * count
    part = buffer[position:position + size]
    if len(part) != size:
        raise ValueError("truncated")
    if _LITTLE:
        values = part.cast(code) if code != "B" else part
    else:
        values = array(code, part.tobytes())
        if code != "B":
            values.byteswap()
    return values, position + size + _pad(size)


def decode(data, expected_generation: int | None = None, expected_segments=None) -> RankStats:
    """The statistics in ``data`` (bytes or a buffer, kept by the views); ValueError if
    they are damaged or are not those of ``expected_*`` (generation, ``Segment.key()``s)."""
    if not _TYPES_OK:
        raise ValueError("unsupported machine")
    buffer = memoryview(data)
    magic, crc, _, main_length = _PREAMBLE.unpack_from(buffer, 0)
    if magic != MAGIC:
        raise ValueError("not a rankstats file")
    main = buffer[_PREAMBLE.size:_PREAMBLE.size + main_length]
    if len(main) != main_length or zlib.crc32(main) != crc:
        raise ValueError("checksum")
    (generation, k1, b, nseg, passages_all, files, runs, live, live_files, apb, apt, afb, aft,
     keys_at, keys_length, keys_crc, ids_length) = _HEADER.unpack_from(main, 0)
    if expected_generation is not None and generation != expected_generation:
        raise ValueError("another generation")
    position = _HEADER.size
    ids = bytes(main[position:position + ids_length]).decode("ascii").split("\n") if nseg else []
    position += ids_length + _pad(ids_length)
    stats = RankStats()
    stats.generation, stats.k1, stats.b = generation, k1, b
    if len(ids) != nseg:
        raise ValueError("segment ids")
    found = []  # Segment.key() of each, with the number of deleted passages
    for segment_id in ids:
        count, deleted, offset = _SEGMENT.unpack_from(main, position)
        position += _SEGMENT.size
        stats.segments.append(Segment(segment_id, offset, count, frozenset()))
        found.append((segment_id, offset, count, deleted))
    if expected_segments is not None and found != list(expected_segments):
        raise ValueError("other segments")
    if sum(seg.count for seg in stats.segments) != passages_all:
        raise ValueError("counts")
    stats.file_of, position = _view(main, position, "i", passages_all)
    for name in FIELDS:
        stats.length_bytes[name], position = _view(main, position, "B", passages_all)
    for name in FIELDS:
        stats.passage_norms[name], position = _view(main, position, "d", passages_all)
    for name in FIELDS:
        stats.file_lengths[name], position = _view(main, position, "q", files)
    for name in FIELDS:
        stats.file_norms[name], position = _view(main, position, "d", files)
    stats.run_file, position = _view(main, position, "i", runs)
    stats.run_start, position = _view(main, position, "i", runs)
    stats.run_end, position = _view(main, position, "i", runs)
    stats._file_run_first, position = _view(main, position, "i", files + 1)
    stats._file_runs, position = _view(main, position, "i", runs)
    if position != main_length:
        raise ValueError("size")
    stats.passages, stats.live_files, stats.file_count_all = live, live_files, files
    stats.avg_passage_length = {"body": apb, "title": apt}
    stats.avg_file_length = {"body": afb, "title": aft}

    def read_keys():
        part = buffer[keys_at:keys_at + keys_length]
        if len(part) != keys_length or zlib.crc32(part) != keys_crc:
            raise ValueError("the file keys are damaged")
        offsets, start = _view(part, 0, "q", files + 1)
        if offsets[files] != keys_length - start:
            raise ValueError("the file keys are damaged")
        return part[start:], offsets

    stats._key_source = read_keys
    return stats


def load(reader) -> RankStats | None:
    """The statistics saved for ``reader``'s generation of the index; None if there are
    none that are certainly its own (the caller computes them)."""
    try:
        parts = leaves(reader)
        if not parts:
            return None
        deleted = [_deleted(sub, sub.doc_count_all()) for sub, _ in parts]
        expected = [(_segment_id(sub), offset, sub.doc_count_all(), len(gone))
                    for (sub, offset), gone in zip(parts, deleted)]
        generation = reader.generation()
        folder, indexname = _location(parts[0][0])
        if not isinstance(generation, int) or generation < 0 or folder is None:
            return None
        with open(os.path.join(folder, file_name(indexname, generation)), "rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if not _PREAMBLE.unpack_from(mapped, 0)[2] & _FILES_RESTORED and any(_may_have_lost_files(sub)
                                                                             for sub, _ in parts):
            return None  # (saved before lost paths were read back: compute them again)
        stats = decode(mapped, generation, expected)
        for seg, gone in zip(stats.segments, deleted):
            seg.deleted = gone
        return stats
    except (OSError, ValueError, struct.error, AttributeError, TypeError):
        return None


def _location(sub):
    """(folder, index name) of a segment reader's index; (None, None) if not on disk."""
    from searcher.index.storage.whoosh_private import reader_folder

    folder = reader_folder(sub)
    indexname = getattr(sub.segment(), "indexname", None)
    if not isinstance(folder, str) or not isinstance(indexname, str) or not _INDEXNAME.fullmatch(indexname):
        return None, None
    return folder, indexname


def save(index_dir, indexname: str) -> bool:
    """Write the statistics of the index's latest generation, unless that is done, and
    remove those of other generations. For the indexing run, which holds the index's
    lock. Best effort: False if they could not be written (queries then compute them)."""
    from searcher.index.storage.whoosh_private import open_file_index

    from searcher.index.storage.store import replace_file

    index_dir = os.fspath(index_dir)
    keep = None
    try:
        reader = open_file_index(index_dir, indexname).reader()
        try:
            if leaves(reader):
                keep = file_name(indexname, reader.generation())
                if load(reader) is None:
                    replace_file(os.path.join(index_dir, keep), encode(compute(reader)))
        finally:
            reader.close()
    except Exception:  # noqa: BLE001 - a speed-up only: never fail the run for it
        return False
    finally:
        _remove_others(index_dir, indexname, keep)
    return True


def _remove_others(index_dir: str, indexname: str, keep: str | None) -> None:
    try:
        names = os.listdir(index_dir)
    except OSError:
        return
    for name in names:
        match = _NAME.fullmatch(name)
        if match and match.group(1) == indexname and name != keep:
            try:
                os.remove(os.path.join(index_dir, name))
            except OSError:
                pass
