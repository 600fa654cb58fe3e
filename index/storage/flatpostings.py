"""Flat postings: a segment's postings of the text fields again, as plain arrays.

whoosh 2.7.4 stores a term's postings in blocks of 128, each a zlib-compressed
pickle of (ids, weights, positions), with every posting's positions a pickle of
its own inside it. Queries on the 100k-document benchmark spent most of their
time undoing that: for phrases, 85 % of the time went to unpickling positions
(45-60 us a block); for questions, a third of the first pass to inflating and
unpickling ids and weights. The same postings as machine arrays are read with
one copy each.

Each segment written by searcher's indexer (index/storage/fastwrite.py, index/storage/merge.py)
carries a ``.flat`` file inside its compound file, so it is published, merged
away and deleted with the segment. whoosh never reads it: its own postings stay
complete, and a segment without the file (an index written before it existed,
or by whoosh's writer) is read through whoosh's blocks, as is any term the file
does not hold or holds inconsistently with whoosh's term info.

Layout (native byte order, recorded and checked; every record 8-byte aligned):
header: magic, format, byte-order mark, document count, term count, table offset;
per term: count n, positions total, tf and position typecodes, then
ids ``I``*n, tfs *n, checkpoints ``I``*ceil(n/16) (where the positions of postings
0, 16, 32... start) and the positions, each list absolute and ascending;
table: whoosh's postings offset of each term, ascending (``Q``), then each
record's offset (``Q``).
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from itertools import accumulate, chain, compress, groupby, repeat
from operator import add, and_, itemgetter, rshift
import struct
from struct import Struct

from searcher.index.storage.whoosh_private import (postings_offset, reader_cache, segment_storage, segment_terms,
                                           term_info)

FLAT_EXT = ".flat"
# The fields whose postings are kept flat: the ones queries rank and match phrases in.
FLAT_FIELDS = ("body", "title")

_MAGIC = b"SRCHFLAT"
_FORMAT = 1
_BYTE_ORDER = 0x01020304
_HEADER = Struct("=8sIIIIQ")  # magic, format, byte order, documents, terms, table offset
_RECORD = Struct("=IIcc2x")  # postings, positions, tf typecode, position typecode
# A checkpoint every 16 postings: a posting's positions start at its checkpoint
# plus the tfs of at most 15 postings before it.
CHECKPOINT_SHIFT = 4
_CHECKPOINT_MASK = ~((1 << CHECKPOINT_SHIFT) - 1)


def _typecode(largest: int) -> str:
    return "B" if largest < 1 << 8 else "H" if largest < 1 << 16 else "I"


def _narrowest(numbers) -> array:
    """``numbers`` (non-negative) as an array of the smallest unsigned type that holds them."""
    typecode = _typecode(max(numbers, default=0))
    return numbers if type(numbers) is array and numbers.typecode == typecode else array(typecode, numbers)


def _padding(size: int) -> bytes:
    return bytes(-size % 8)


class FlatWriter:
    """Writes one segment's flat file; terms must come in the order of their whoosh
    postings offsets (the order they are written to the segment)."""

    def __init__(self, dbfile, doc_count: int = 0):
        self._file = dbfile
        self._offsets = array("Q")  # whoosh postings offset of each term
        self._records = array("Q")  # where its record starts
        self._position = _HEADER.size + len(_padding(_HEADER.size))
        self.doc_count = doc_count
        dbfile.write(bytes(self._position))  # the header, written last

    def add(self, whoosh_offset: int, ids, tfs, positions) -> None:
        """A term's postings: ``ids`` ascending, ``tfs`` the number of positions of each,
        ``positions`` all of them, each posting's ascending, one posting after another."""
        n = len(ids)
        if self._offsets and whoosh_offset <= self._offsets[-1]:
            raise ValueError("flat postings out of order")
        tfs, positions = _narrowest(tfs), _narrowest(positions)
        starts = [0]
        starts.extend(accumulate(tfs))
        checkpoints = array("I", starts[:n:1 << CHECKPOINT_SHIFT])
        parts = [_RECORD.pack(n, len(positions), tfs.typecode.encode(), positions.typecode.encode()),
                 ids if type(ids) is array and ids.typecode == "I" else array("I", ids)]
        parts.append(tfs)
        parts.append(bytes(-(n * tfs.itemsize) % 4))
        parts.append(checkpoints)
        parts.append(positions)
        data = b"".join(map(bytes, parts))
        data += _padding(len(data))
        self._offsets.append(whoosh_offset)
        self._records.append(self._position)
        self._file.write(data)
        self._position += len(data)

    def close(self) -> None:
        table = self._position
        self._file.write(self._offsets.tobytes() + self._records.tobytes())
        self._file.seek(0)
        self._file.write(_HEADER.pack(_MAGIC, _FORMAT, _BYTE_ORDER, self.doc_count, len(self._offsets), table))
        self._file.close()


class FlatTerm:
    """One term's flat postings in a segment."""

    __slots__ = ("ids", "tfs", "checkpoints", "positions")

    def __init__(self, ids: array, tfs: array, checkpoints: array, positions: array):
        self.ids = ids
        self.tfs = tfs
        self.checkpoints = checkpoints
        self.positions = positions

    def position_lists(self, indexes: list[int]) -> list[array]:
        """The positions of the postings at ``indexes``."""
        tfs = self.tfs
        starts = list(map(add, map(self.checkpoints.__getitem__, map(rshift, indexes, repeat(CHECKPOINT_SHIFT))),
                          map(sum, map(tfs.__getitem__,
                                       map(slice, map(and_, indexes, repeat(_CHECKPOINT_MASK)), indexes)))))
        ends = map(add, starts, map(tfs.__getitem__, indexes))
        return list(map(self.positions.__getitem__, map(slice, starts, ends)))


class FlatPostings:
    """A segment's flat file, opened: terms by their whoosh term info."""

    def __init__(self, dbfile, length: int, doc_count: int):
        self._file = dbfile
        header = dbfile.get(0, _HEADER.size)
        if len(header) != _HEADER.size:
            raise ValueError("flat postings file cut short")
        magic, form, order, docs, terms, table = _HEADER.unpack(header)
        if magic != _MAGIC or form != _FORMAT or order != _BYTE_ORDER or docs != doc_count:
            raise ValueError("not a flat postings file of this segment")
        if table + 16 * terms != length:
            raise ValueError("flat postings file of the wrong length")
        self._offsets = array("Q", dbfile.get(table, 8 * terms))
        self._records = array("Q", dbfile.get(table + 8 * terms, 8 * terms))
        self._table = table

    def term(self, terminfo) -> FlatTerm | None:
        """The flat postings of the term with whoosh's ``terminfo`` (W3TermInfo), or
        None when this file does not hold them as whoosh does."""
        offset = postings_offset(terminfo)
        if offset is None:
            return None
        offsets = self._offsets
        i = bisect_left(offsets, offset)
        if i == len(offsets) or offsets[i] != offset:
            return None
        start = self._records[i]
        end = self._records[i + 1] if i + 1 < len(offsets) else self._table
        data = self._file.get(start, end - start)
        try:
            n, npos, tfcode, poscode = _RECORD.unpack_from(data)
            # The cheap checks that it is this term's postings: count, positions, first and last id.
            if n != terminfo.doc_frequency() or npos != round(terminfo.weight()):
                return None
            where = _RECORD.size
            ids = array("I", data[where:where + 4 * n])
            where += 4 * n
            tfs = array(tfcode.decode())
            tfs.frombytes(data[where:where + tfs.itemsize * n])
            where += tfs.itemsize * n
            where += -where % 4
            cps = -(-n >> CHECKPOINT_SHIFT)
            checkpoints = array("I", data[where:where + 4 * cps])
            where += 4 * cps
            positions = array(poscode.decode())
            positions.frombytes(data[where:where + positions.itemsize * npos])
        except (ValueError, TypeError, struct.error):
            return None
        if len(ids) != n or len(tfs) != n or len(checkpoints) != cps or len(positions) != npos:
            return None
        if n and (ids[0] != terminfo.min_id() or ids[-1] != terminfo.max_id()):
            return None
        return FlatTerm(ids, tfs, checkpoints, positions)


def flat_postings(reader) -> FlatPostings | None:
    """The flat postings of a whoosh SegmentReader's segment, or None (no such file,
    or not a valid one). Kept for as long as the reader lives."""
    cache = reader_cache(reader)
    if "flat postings" in cache:
        return cache["flat postings"]
    found = None
    storage, segment = segment_storage(reader)
    if storage is not None and segment is not None:
        name = segment.make_filename(FLAT_EXT)
        try:
            if storage.file_exists(name):
                found = FlatPostings(storage.open_file(name), storage.file_length(name), segment.doc_count_all())
        except (OSError, ValueError, KeyError):
            found = None
    cache["flat postings"] = found
    return found


def flat_term(reader, fieldname: str, btext: bytes) -> FlatTerm | None:
    """A term's flat postings in one segment's ``reader``, or None: read whoosh's then."""
    if fieldname not in FLAT_FIELDS:
        return None
    flat = flat_postings(reader)
    if flat is None:
        return None
    info = term_info(reader, fieldname, btext)
    return None if info is None else flat.term(info)


def merge_flat(dbfile, terms_reader, sources, doc_count: int) -> bool:
    """Write the flat file of a merged segment and close it: ``terms_reader`` reads the
    merged segment's terms, ``sources`` are (segment reader, base, docmap or None) of the
    segments merged, in order (docmap[d]: document d's new number, -1 if deleted).
    False if a source lacks flat postings of a term: the file is then not worth keeping."""
    flats = [flat_postings(reader) for reader, _, _ in sources]
    writer = FlatWriter(dbfile, doc_count)
    try:
        if None in flats:
            return False
        for fieldname in FLAT_FIELDS:
            merged = _field_items(terms_reader, fieldname)
            merged_text, _, merged_info = next(merged, (None, 0, None))
            streams = [_field_items(segment_terms(reader), fieldname, number)
                       for number, (reader, _, _) in enumerate(sources)]
            for btext, group in groupby(heapq.merge(*streams, key=itemgetter(0, 1)), key=itemgetter(0)):
                while merged_text is not None and merged_text < btext:
                    merged_text, _, merged_info = next(merged, (None, 0, None))
                if merged_text != btext:  # every posting of the term was deleted
                    continue
                postings = _merged_postings(sources, flats, group)
                if postings is None:
                    return False
                if postings[0]:
                    writer.add(postings_offset(merged_info), *postings)
    except ValueError:  # out of order: not whoosh's layout as expected
        return False
    finally:
        writer.close()
    return True


def _field_items(terms_reader, fieldname: str, number: int = 0):
    """(term bytes, ``number``, term info) of one field of a whoosh terms reader, in term order."""
    if fieldname not in terms_reader.indexed_field_names():
        return
    for (name, btext), info in terms_reader.items_from(fieldname, b""):
        if name != fieldname:
            return
        yield btext, number, info


def _merged_postings(sources, flats, group):
    """(ids, tfs, positions) of one term over the sources, renumbered, or None."""
    ids, tfs, positions = array("I"), [], array("I")
    for _, number, info in group:
        term = flats[number].term(info)
        if term is None:
            return None
        _, base, docmap = sources[number]
        if docmap is None:
            ids.extend(map(add, term.ids, repeat(base)) if base else term.ids)
            tfs.extend(term.tfs)
            positions.extend(_wide(term.positions))
            continue
        new = list(map(docmap.__getitem__, term.ids))
        keep = [d >= 0 for d in new]
        ids.extend(compress(new, keep))
        tfs.extend(compress(term.tfs, keep))
        ends = list(accumulate(term.tfs))
        wide = _wide(term.positions)
        for start, end in compress(zip(chain((0,), ends), ends), keep):
            positions.extend(wide[start:end])
    return ids, tfs, positions


def _wide(numbers: array) -> array:
    return numbers if numbers.typecode == "I" else array("I", numbers)
