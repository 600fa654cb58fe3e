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
away and deleted with the segment. Format 2 (this release) is the only copy of
these fields' postings: whoosh's postings file holds none of them, and their
term infos hold whoosh's statistics and the term's key here (with a length of 0,
index/storage/whoosh_private.py ``held_flat``); whoosh's own matchers read them through
the door's patched ``SegmentReader.postings``. Format 1 (earlier releases) is a
second copy beside whoosh's blocks, keyed by the term's offset in whoosh's
postings file; a segment without the file (an index written before it existed,
or by whoosh's writer) is read through whoosh's blocks, as is any format-1 term
the file does not hold or holds inconsistently with whoosh's term info.

Layout (native byte order, recorded and checked; every record 8-byte aligned):
header: magic, format, byte-order mark, document count, term count, table offset;
per term: count n, positions total, tf and position typecodes, then
ids ``I``*n, tfs *n, checkpoints ``I``*ceil(n/16) (where the positions of postings
0, 16, 32... start) and the positions, each list absolute and ascending;
table: each term's key, ascending (``Q``: format 1, whoosh's postings offset;
format 2, the term's number in the file), then each record's offset (``Q``).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from itertools import accumulate, chain, compress, repeat
from operator import add, and_, rshift
import struct
from struct import Struct

from searcher.index.storage.whoosh_private import (Positions, held_flat, postings_offset, reader_cache, segment_storage,
                                                   term_info)

FLAT_EXT = ".flat"
# The fields whose postings are kept flat: the text fields, with positions (queries rank
# and match phrases in them). The file field (one term per file, no positions) stays whoosh's.
FLAT_FIELDS = ("body", "title", "path")

_MAGIC = b"SRCHFLAT"
_FORMAT = 2
_READABLE_FORMATS = (1, _FORMAT)
_BYTE_ORDER = 0x01020304
_HEADER = Struct("=8sIIIIQ")  # magic, format, byte order, documents, terms, table offset
_RECORD = Struct("=IIcc2x")  # postings, positions, tf typecode, position typecode
# A checkpoint every 16 postings: a posting's positions start at its checkpoint
# plus the tfs of at most 15 postings before it.
CHECKPOINT_SHIFT = 4
_CHECKPOINT_MASK = ~((1 << CHECKPOINT_SHIFT) - 1)


def held_flat_field(fieldname: str, field) -> bool:
    """Whether a segment written now holds the field's postings in its flat file only: a
    text field with positions and no boost (weight = frequency)."""
    return fieldname in FLAT_FIELDS and type(field.format) is Positions and field.format.field_boost == 1.0


def _typecode(largest: int) -> str:
    return "B" if largest < 1 << 8 else "H" if largest < 1 << 16 else "I"


def _narrowest(numbers) -> array:
    """``numbers`` (non-negative) as an array of the smallest unsigned type that holds them."""
    typecode = _typecode(max(numbers, default=0))
    return numbers if type(numbers) is array and numbers.typecode == typecode else array(typecode, numbers)


def _padding(size: int) -> bytes:
    return bytes(-size % 8)


class FlatWriter:
    """Writes one segment's flat file (format 2); a term's key is its number in the
    file (``terms``, before ``add``), given to whoosh's term info."""

    def __init__(self, dbfile, doc_count: int = 0):
        self._file = dbfile
        self._offsets = array("Q")  # whoosh postings offset of each term
        self._records = array("Q")  # where its record starts
        self._position = _HEADER.size + len(_padding(_HEADER.size))
        self.doc_count = doc_count
        dbfile.write(bytes(self._position))  # the header, written last

    @property
    def terms(self) -> int:
        return len(self._offsets)

    def add(self, ids, tfs, positions) -> int:
        """A term's postings: ``ids`` ascending, ``tfs`` the number of positions of each,
        ``positions`` all of them, each posting's ascending, one posting after another.
        Returns the term's key."""
        n = len(ids)
        key = len(self._offsets)
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
        self._offsets.append(key)
        self._records.append(self._position)
        self._file.write(data)
        self._position += len(data)
        return key

    def append(self, part) -> None:
        """Append the records of another writer's file, closed (``part``: its bytes, read from
        the start): keys follow this file's ones, and the table is written at close."""
        header = part.read(_HEADER.size)
        _, _, _, _, terms, table = _HEADER.unpack(header)
        part.read(len(_padding(_HEADER.size)))
        start = _HEADER.size + len(_padding(_HEADER.size))
        shift = self._position - start
        key = len(self._offsets)
        remaining = table - start
        while remaining:
            chunk = part.read(min(remaining, 1 << 20))
            if not chunk:
                raise ValueError("flat postings part cut short")
            self._file.write(chunk)
            remaining -= len(chunk)
        records = array("Q", part.read(16 * terms)[8 * terms:])
        self._offsets.extend(range(key, key + terms))
        self._records.extend(record + shift for record in records)
        self._position += table - start

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
        if magic != _MAGIC or form not in _READABLE_FORMATS or order != _BYTE_ORDER or docs != doc_count:
            raise ValueError("not a flat postings file of this segment")
        # Format 2 holds the only copy: whoosh's term info then points here (``held_flat``).
        self.sole = form == _FORMAT
        self.doc_count = docs
        if table + 16 * terms != length:
            raise ValueError("flat postings file of the wrong length")
        self._offsets = array("Q", dbfile.get(table, 8 * terms))
        self._records = array("Q", dbfile.get(table + 8 * terms, 8 * terms))
        self._table = table

    def record_size(self, key: int) -> int:
        """Bytes of the record of the term with ``key`` (0 if there is none)."""
        offsets = self._offsets
        i = bisect_left(offsets, key)
        if i == len(offsets) or offsets[i] != key:
            return 0
        return (self._records[i + 1] if i + 1 < len(offsets) else self._table) - self._records[i]

    def term(self, terminfo, check_ids: bool = True) -> FlatTerm | None:
        """The flat postings of the term with whoosh's ``terminfo`` (W3TermInfo), or
        None when this file does not hold them as whoosh does (or they are damaged).
        ``check_ids=False``: the caller checks the ids it uses as document numbers
        (``ids_fit``); phrases look most of a common word's ids up, not at them."""
        if self.sole != held_flat(terminfo):
            return None
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
            # The cheap checks that it is this term's postings: count, positions (format 1:
            # format 2's weight is a float32 sum, inexact past 2**24), first and last id.
            if n != terminfo.doc_frequency() or (not self.sole and npos != round(terminfo.weight())):
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
        if not ((not check_ids or ids_fit(ids, self.doc_count)) and checkpoints_fit(checkpoints, npos)):
            return None
        return FlatTerm(ids, tfs, checkpoints, positions)


DAMAGED_POSTINGS = "the index's postings are damaged: rebuild it with 'searcher index --rebuild PATH...'"

# Checks of a record's arrays against the segment, so that damaged bytes (a flipped bit, a
# zeroed block) read as a damaged index instead of failing deep in the query code. Each
# is one pass at C speed over one array; what they guard is in each docstring.

def ids_fit(ids: array, doc_count: int) -> bool:
    """Whether every posting names a document of the segment (``id < doc_count``): the
    query code indexes per-document arrays (file numbers, lengths, stored fields) with
    them, and the first and last ids (checked against whoosh's term info) say nothing of
    the ones between. Order is not checked here: an id out of order gives a wrong answer,
    never an error or an unbounded query (``bisect`` and the matchers only move forward)."""
    return not ids or max(ids) < doc_count


def checkpoints_fit(checkpoints: array, positions: int) -> bool:
    """Whether every checkpoint (where the positions of postings 0, 16, 32... start)
    lies within the term's ``positions``: a posting's positions are then a slice of the
    record's (at worst the wrong ones, or cut short), never read from past its end."""
    return not checkpoints or max(checkpoints) <= positions


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


def flat_term(reader, fieldname: str, btext: bytes, check_ids: bool = True) -> FlatTerm | None:
    """A term's flat postings in one segment's ``reader``, or None: read whoosh's then
    (``check_ids``: as for ``FlatPostings.term``)."""
    if fieldname not in FLAT_FIELDS:
        return None
    flat = flat_postings(reader)
    if flat is None:
        return None
    info = term_info(reader, fieldname, btext)
    return None if info is None else flat.term(info, check_ids)


def renumbered(ids, tfs, positions, base: int, docmap) -> tuple[array, list, array]:
    """One segment's postings of a term in a merged segment: ``ids`` moved by ``base``, or
    mapped by ``docmap`` (docmap[d]: the new number, -1 for a deleted document, dropped)."""
    if docmap is None:
        return (array("I", map(add, ids, repeat(base)) if base else ids), list(tfs), _wide(positions))
    new = list(map(docmap.__getitem__, ids))
    if -1 not in new:
        return array("I", new), list(tfs), _wide(positions)
    keep = [d >= 0 for d in new]
    ends = list(accumulate(tfs))
    positions = _wide(positions)
    kept = array("I")
    for start, end in compress(zip(chain((0,), ends), ends), keep):
        kept.extend(positions[start:end])
    return array("I", compress(new, keep)), list(compress(tfs, keep)), kept


def _wide(numbers) -> array:
    return numbers if type(numbers) is array and numbers.typecode == "I" else array("I", numbers)
