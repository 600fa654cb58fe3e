"""Per-file postings: a segment's common words counted by file, written beside it.

Ranking scores a file by BM25 over the whole file (searcher/engine/ranking.py), so
each query word needs its count in every file that holds it. From passage postings
that is a walk over every posting of the word, each mapped to its file: at a million
passages most of a query's time. This file holds, for the words where it is worth
it, those counts already summed: one entry per run of a file's passages instead of
one per passage.

A segment's passages are grouped in runs: maximal ranges of consecutive passages
with the same ``file`` key (a file's passages are added one after another), deleted
passages included, as the segment was written; segments never change but for
deletions, so the file stays true for the segment's life. A query maps a run to its
file through the ranking statistics (the file number of the run's first passage)
and uses an entry only where every run of the segment is wholly live or wholly
deleted (a file's passages are deleted together); otherwise, and for a word the file
does not hold, it walks the passage postings as before (``searcher/engine/ranking.py``
``term_walk``), with the same result.

Which words: those of the ranking fields (body, title) with at least
``MIN_POSTINGS`` postings in the segment whose runs number at most three quarters of
their postings. A rare word's walk costs less than looking it up; a word found once
per file saves nothing. A segment of one passage per file gets no file at all.
Entries: body, the word's count summed over the run's passages; title (the file's
title, carried by each passage), the count in the run's last passage holding it,
which is what the walk keeps.

The file ``<indexname>_<segment id>.filepost`` lies in the index folder, outside
the segment's compound file, so that it is written at the end of an indexing run
(``save``, index/runs/writer.py) for every segment lacking it, an index from an
earlier release included, without touching how segments are written or merged.
whoosh's own cleaning removes it with its segment (its name matches whoosh's
pattern for a segment's files).

The index folder is not trusted: the file is read with bounds and checksums, never
executed. Anything wrong with the file as a whole (magic, format, byte order,
segment, lengths, tables) makes it absent; a record whose checksum or counts do not
match is not used (the walk then reads that word): the file changes how fast a
query runs, never what it finds.

Layout (native byte order, recorded and checked; all numbers unsigned):
header: magic, format, byte-order mark, the segment's document count, the flat
file's term count, runs R, words K, where the key table starts;
then the runs table: a crc32 of it, the first passage of each run (``I`` * R, from 0,
ascending); then one record per word, each: crc32 of the rest, a byte of typecodes
(run gaps: ``B``/``H``/``I``; counts: ``1`` (all 1, none stored), ``B``/``H``/``I``),
the word's postings count (as its term info says), entries m, the first run number (``I``
each), the m - 1 gaps from each run number to the next (a common word's are small: the
narrowest type that holds them; summed at C speed when read) and the counts;
then the key table: each word's key (its number in the segment's flat postings file,
index/storage/flatpostings.py formats 2 and 3) ascending (``I`` * K), where each
record starts (``Q`` * (K + 1), the last where the table starts), and a crc32 of the
table.
"""

from __future__ import annotations

import mmap
import os
import struct
from array import array
from bisect import bisect_left
from itertools import accumulate, compress, islice, repeat
from operator import lt, ne, sub
from struct import Struct
from zlib import crc32

from searcher.index.storage.flatpostings import flat_postings
from searcher.index.storage.whoosh_private import (field_term_infos, held_flat, postings_offset, reader_cache,
                                                   reader_folder, release_term_pages)

EXT = ".filepost"
FIELDS = ("body", "title")
# A word gets an entry list only with at least this many postings in the segment (below
# it the walk costs less than the lookup) and runs at most RUN_SHARE of its postings.
MIN_POSTINGS = 64
RUN_SHARE = 0.75

_MAGIC = b"SRCHFPST"
_FORMAT = 1
_BYTE_ORDER = 0x01020304
_HEADER = Struct("=8sIIIIIIQ")  # magic, format, byte order, documents, flat terms, runs, words, table
_RECORD = Struct("=IBIII")  # crc32 of the rest, typecodes, postings, entries, the first run
_CRC = Struct("=I")
_RUN_CODES = (b"B", b"H", b"I")
_TF_CODES = (b"1", b"B", b"H", b"I")
_ALL_ONES = b"1"
_TYPES_OK = all(array(code).itemsize == size for code, size in (("B", 1), ("H", 2), ("I", 4), ("Q", 8)))


def _typecode(largest: int) -> str:
    return "B" if largest < 1 << 8 else "H" if largest < 1 << 16 else "I"


def file_name(segment) -> str:
    """The file's name for a whoosh segment (``<indexname>_<segment id>.filepost``)."""
    return segment.make_filename(EXT)


# ---------------------------------------------------------------- reading


class FilePostings:
    """A segment's per-file postings, opened: ``runs`` (the first passage of each run, local
    docnums) and each held word's entries by its flat key."""

    def __init__(self, data, doc_count: int, flat_terms: int):
        if not _TYPES_OK or len(data) < _HEADER.size:
            raise ValueError("per-file postings cut short")
        magic, form, order, docs, terms, runs, words, table = _HEADER.unpack_from(data)
        if magic != _MAGIC or form != _FORMAT or order != _BYTE_ORDER or docs != doc_count or terms != flat_terms:
            raise ValueError("not per-file postings of this segment")
        where = _HEADER.size
        starts = array("I")
        end = where + _CRC.size + 4 * runs
        if not runs or end > table:
            raise ValueError("per-file postings: runs out of bounds")
        starts.frombytes(data[where + _CRC.size:end])
        if _CRC.unpack_from(data, where)[0] != crc32(starts):
            raise ValueError("per-file postings: runs damaged")
        # The runs cut the segment: from 0, ascending, each below the document count.
        if starts[0] != 0 or starts[-1] >= docs or not all(map(lt, starts, islice(starts, 1, None))):
            raise ValueError("per-file postings: runs out of order")
        keys, offsets = array("I"), array("Q")
        table_end = table + 4 * words + 8 * (words + 1)
        if table_end + _CRC.size != len(data):
            raise ValueError("per-file postings of the wrong length")
        keys.frombytes(data[table:table + 4 * words])
        offsets.frombytes(data[table + 4 * words:table_end])
        if _CRC.unpack_from(data, table_end)[0] != crc32(data[table:table_end]):
            raise ValueError("per-file postings: table damaged")
        if (words and (not all(map(lt, keys, islice(keys, 1, None))) or offsets[0] < end
                       or not all(map(lt, offsets, islice(offsets, 1, None)))) or offsets[-1] != table):
            raise ValueError("per-file postings: table out of order")
        self._data = data
        self.runs = starts
        self.doc_count = docs
        self._keys = keys
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._keys)

    def term(self, terminfo):
        """(run numbers, counts) of the word with whoosh's ``terminfo`` (held in the flat
        file), or None: not held here, or its record does not check (the caller walks)."""
        if not held_flat(terminfo):
            return None
        key = postings_offset(terminfo)
        keys = self._keys
        i = bisect_left(keys, key) if type(key) is int else len(keys)
        if i == len(keys) or keys[i] != key:
            return None
        start, end = self._offsets[i], self._offsets[i + 1]
        record = self._data[start:end]
        try:
            crc, kinds, postings, m, first = _RECORD.unpack_from(record)
            if crc32(memoryview(record)[4:]) != crc or postings != terminfo.doc_frequency() or not 0 < m <= postings:
                return None
            gaps = array(_RUN_CODES[kinds & 3].decode())
            where = _RECORD.size
            stop = where + gaps.itemsize * (m - 1)
            gaps.frombytes(record[where:stop])
            runs = array("Q", accumulate(gaps, initial=first))
            tfcode = _TF_CODES[kinds >> 2 & 3]
            if tfcode == _ALL_ONES:
                tfs = array("B", b"\x01" * m)
            else:
                tfs = array(tfcode.decode())
                where, stop = stop, stop + tfs.itemsize * m
                tfs.frombytes(record[where:stop])
        except (IndexError, ValueError, struct.error):
            return None
        if stop != len(record) or len(runs) != m or len(tfs) != m:
            return None
        return runs, tfs


def file_postings(reader) -> FilePostings | None:
    """The per-file postings of a whoosh SegmentReader's segment, or None (no such file,
    or not a valid one, or no flat postings to key it by). Kept while the reader lives."""
    cache = reader_cache(reader)
    if "file postings" in cache:
        return cache["file postings"]
    found = None
    flat = flat_postings(reader)
    folder = reader_folder(reader)
    segment = getattr(reader, "segment", None)
    if flat is not None and flat.sole and isinstance(folder, str) and callable(segment):
        try:
            with open(os.path.join(folder, file_name(segment())), "rb") as f:
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            found = FilePostings(data, reader.doc_count_all(), flat.term_count)
        except (OSError, ValueError, struct.error, AttributeError, TypeError):
            found = None
    cache["file postings"] = found
    return found


# ---------------------------------------------------------------- writing


def encode(reader, file_refs) -> bytes | None:
    """The per-file postings of one segment (``reader``, its flat postings in format 2 or
    3; ``file_refs``: each passage's file, any values equal for one file), or None when the
    segment has none worth writing (no flat postings, one passage per file, no such word)."""
    flat = flat_postings(reader)
    count = reader.doc_count_all()
    if flat is None or not flat.sole or not count or len(file_refs) != count:
        return None
    starts = array("I", (0, *compress(range(1, count), map(ne, file_refs, islice(file_refs, 1, None)))))
    if len(starts) == count:  # one passage per file: every word's runs are its postings
        return None
    run_of = array("I")  # each passage's run
    for r, (a, b) in enumerate(zip(starts, (*islice(starts, 1, None), count))):
        run_of.extend(repeat(r, b - a))
    held: list[tuple[int, bytes]] = []
    read = 0
    for fieldname in FIELDS:
        title = fieldname == "title"
        for info in field_term_infos(reader, fieldname):
            n = info.doc_frequency()
            if n < MIN_POSTINGS:
                continue
            term = flat.term(info)
            read += 1
            if read % 256 == 0:  # (pages read so far, unmapped: they would count in the run's RSS)
                flat.release_pages()
                release_term_pages(reader)
            key = postings_offset(info)
            if term is None or type(key) is not int:
                continue
            ids, tfs = term.ids, term.tfs
            runs = list(map(run_of.__getitem__, ids))
            ends = [*compress(range(1, n), map(ne, runs, islice(runs, 1, None))), n]
            m = len(ends)
            if m > n * RUN_SHARE:
                continue
            firsts = [0, *ends[:-1]]
            entries = list(map(runs.__getitem__, firsts))
            gaps = list(map(sub, islice(entries, 1, None), entries))
            runcode = _typecode(max(gaps, default=0))
            if title:
                counts = list(map(tfs.__getitem__, [e - 1 for e in ends]))
            else:
                prefix = list(accumulate(tfs, initial=0))
                counts = list(map(sub, map(prefix.__getitem__, ends), map(prefix.__getitem__, firsts)))
            body = bytes(array(runcode, gaps))
            if counts.count(1) == m:
                tfcode = 0
            else:
                tfcode = 1 + "BHI".index(_typecode(max(counts)))
                body += bytes(array("BHI"[tfcode - 1], counts))
            rest = struct.pack("=BIII", "BHI".index(runcode) | tfcode << 2, n, m, entries[0]) + body
            held.append((key, _CRC.pack(crc32(rest)) + rest))
    flat.release_pages()
    release_term_pages(reader)
    if not held:
        return None
    held.sort()
    parts = [_HEADER.pack(b"", 0, 0, 0, 0, 0, 0, 0), _CRC.pack(crc32(starts)), bytes(starts)]
    where = _HEADER.size + _CRC.size + 4 * len(starts)
    offsets = array("Q")
    for _, record in held:
        offsets.append(where)
        parts.append(record)
        where += len(record)
    offsets.append(where)
    table = bytes(array("I", (key for key, _ in held))) + bytes(offsets)
    parts.append(table)
    parts.append(_CRC.pack(crc32(table)))
    parts[0] = _HEADER.pack(_MAGIC, _FORMAT, _BYTE_ORDER, count, flat.term_count, len(starts), len(held), where)
    return b"".join(parts)


def save(index_dir, indexname: str) -> bool:
    """Write the per-file postings of every segment of the index's latest generation that
    lacks them (a segment that has them keeps them: segments do not change). For the
    indexing run, which holds the index's lock. Best effort: False if some could not be
    written (queries then walk the passage postings)."""
    from searcher.index.storage.rankstats import _file_column, leaves
    from searcher.index.storage.store import replace_file
    from searcher.index.storage.whoosh_private import open_file_index, use_searcher_readers

    index_dir = os.fspath(index_dir)
    done = True
    use_searcher_readers()  # segments read in place (mapped), not copied into memory
    try:
        reader = open_file_index(index_dir, indexname).reader()
    except Exception:  # noqa: BLE001 - a speed-up only: never fail the run for it
        return False
    try:
        for sub_reader, _ in leaves(reader):
            try:
                if file_postings(sub_reader) is not None:
                    continue
                path = os.path.join(index_dir, file_name(sub_reader.segment()))
                refs, _ = _file_column(sub_reader, sub_reader.doc_count_all())
                data = encode(sub_reader, refs)
                if data is not None:
                    replace_file(path, data)
            except Exception:  # noqa: BLE001 - as above
                done = False
    finally:
        reader.close()
    return done

