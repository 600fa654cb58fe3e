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
away and deleted with the segment. Formats 2 and 3 (this release: 3, a third of 2's
size) are the only copy of
these fields' postings: whoosh's postings file holds none of them, and their
term infos hold whoosh's statistics and the term's key here (with a length of 0,
index/storage/whoosh_private.py ``held_flat``); whoosh's own matchers read them through
the door's patched ``SegmentReader.postings``. Format 1 (earlier releases) is a
second copy beside whoosh's blocks, keyed by the term's offset in whoosh's
postings file; a segment without the file (an index written before it existed,
or by whoosh's writer) is read through whoosh's blocks, as is any format-1 term
the file does not hold or holds inconsistently with whoosh's term info.

Layout (native byte order, recorded and checked):
header: magic, format, byte-order mark, document count, term count, table offset;
then one record per term, and the table.
Format 3 (this release), records one after another, each:
crc32 of the rest of the record; a byte of the typecodes of ids, tfs, checkpoints and
positions, a byte of the widths of the three numbers after it: count n, positions total,
the first id (each 1, 2 or 4 bytes: most terms occur in a few passages, and a record's
start is most of a rare term's bytes); the other n - 1 ids, as they are
(``B``, ``H``, ``I``: the narrowest that holds the last) or split (``s``, when shorter:
ids past 65535, in a large segment): how many of them have each high half from the first
id's to the last's (a count ``I``, then the counts ``I``), then their low halves ``H``;
the tfs (none when every tf is 1: typecode ``1``), checkpoints (none then either:
typecode ``-``), positions, each in the narrowest unsigned type that holds its values.
Every array is read with one copy, split ids with a few strided copies: all at C speed,
as queries read the ids and tfs of every posting of each query word (ids as gaps would
save a byte more a posting, but summing them costs a phrase query several times what
reading its postings does). The checksum makes a damaged record cost one C-speed pass
to detect, instead of ids past the document count reaching the ranking.
table: each record's offset (``I``, or ``Q`` when the table starts past 4 GiB).
Formats 1 and 2 (earlier releases, still read), records 8-byte aligned: count n,
positions total, tf and position typecodes, then ids ``I``*n, tfs *n, checkpoints
``I``*ceil(n/16) and the positions; table: each term's key, ascending (``Q``: format 1,
whoosh's postings offset; format 2, the term's number in the file), then each record's
offset (``Q``).
Checkpoints: where the positions of postings 0, 16, 32... start.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from itertools import accumulate, chain, compress, repeat
from operator import add, and_, rshift
import struct
import sys
from struct import Struct
from zlib import crc32

from searcher.index.storage.whoosh_private import (Positions, held_flat, postings_offset, reader_cache,
                                                   release_file_pages, segment_storage, term_info)

FLAT_EXT = ".flat"
# The fields whose postings are kept flat: the text fields, with positions (queries rank
# and match phrases in them). The file field (one term per file, no positions) stays whoosh's.
FLAT_FIELDS = ("body", "title", "path")

_MAGIC = b"SRCHFLAT"
_FORMAT = 3
_READABLE_FORMATS = (1, 2, _FORMAT)
_BYTE_ORDER = 0x01020304
_HEADER = Struct("=8sIIIIQ")  # magic, format, byte order, documents, terms, table offset
_RECORD_2 = Struct("=IIcc2x")  # formats 1 and 2: postings, positions, tf typecode, position typecode
# Format 3: crc32 of the rest; the typecodes of ids, tfs, checkpoints, positions (2 bits
# each, their places in the tuples below); the widths of the three numbers that follow
# (2 bits each, 1, 2 or 4 bytes): postings, positions, the first id.
_CRC_AND_KINDS = Struct("=IBB")
_ID_CODES = (b"B", b"H", b"I", b"s")
_TF_CODES = (b"1", b"B", b"H", b"I")
_CP_CODES = (b"-", b"B", b"H", b"I")
_POSITION_CODES = (b"B", b"H", b"I")
_NUMBERS = (Struct("=B"), Struct("=H"), Struct("=I"))
_CRC = Struct("=I")
_ALL_ONES = b"1"  # the tf typecode of a term whose tfs are all 1 (none stored)
_NO_CHECKPOINTS = b"-"
_SPLIT = b"s"  # the id typecode of ids split in high and low halves
_COUNT = Struct("=I")
_HALF = Struct("=H")
# Where an id's low and high halves are in its 4 bytes (a native "I").
_LOW, _HIGH = (0, 2) if sys.byteorder == "little" else (2, 0)
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


def _table_typecode(table: int) -> str:
    """The typecode of a format-3 table's record offsets, all below ``table``."""
    return "I" if table < 1 << 32 else "Q"


class FlatWriter:
    """Writes one segment's flat file (format 3); a term's key is its number in the
    file (``terms``, before ``add``), given to whoosh's term info."""

    def __init__(self, dbfile, doc_count: int = 0):
        self._file = dbfile
        self._records = array("Q")  # where each term's record starts
        self._position = _HEADER.size
        self.doc_count = doc_count
        dbfile.write(bytes(self._position))  # the header, written last

    @property
    def terms(self) -> int:
        return len(self._records)

    def add(self, ids, tfs, positions) -> int:
        """A term's postings: ``ids`` ascending (at least one), ``tfs`` the number of
        positions of each, ``positions`` all of them, each posting's ascending, one
        posting after another. Returns the term's key."""
        n = len(ids)
        key = len(self._records)
        code = _typecode(ids[-1])
        parts = [_split_ids(ids) if code == "I" and n > 3 else None]
        if parts[0] is None:
            idcode = code.encode()
            parts[0] = array(code, ids[1:])
        else:
            idcode = _SPLIT
        if len(positions) == n:  # every tf is 1 (a posting has at least one position)
            tfcode = cpcode = None
        else:
            tfs = _narrowest(tfs)
            parts.append(tfs)
            starts = array("Q", [0])  # 8 bytes a posting: a list of ints takes 36
            starts.extend(accumulate(tfs))
            checkpoints = _narrowest(starts[:n:1 << CHECKPOINT_SHIFT])
            parts.append(checkpoints)
            tfcode, cpcode = tfs.typecode.encode(), checkpoints.typecode.encode()
        positions = _narrowest(positions)
        parts.append(positions)
        body = _head(n, len(positions), ids[0], idcode, tfcode or _ALL_ONES, cpcode or _NO_CHECKPOINTS,
                     positions.typecode.encode()) + b"".join(map(bytes, parts))
        self._file.write(_CRC.pack(crc32(body)))
        self._file.write(body)
        self._records.append(self._position)
        self._position += 4 + len(body)
        return key

    def append(self, part) -> None:
        """Append the records of another writer's file, closed (``part``: its bytes, read from
        the start): keys follow this file's ones, and the table is written at close."""
        header = part.read(_HEADER.size)
        _, _, _, _, terms, table = _HEADER.unpack(header)
        shift = self._position - _HEADER.size
        remaining = table - _HEADER.size
        while remaining:
            chunk = part.read(min(remaining, 1 << 20))
            if not chunk:
                raise ValueError("flat postings part cut short")
            self._file.write(chunk)
            remaining -= len(chunk)
        records = array(_table_typecode(table))
        records.frombytes(part.read(records.itemsize * terms))
        self._records.extend(record + shift for record in records)
        self._position += table - _HEADER.size

    def close(self) -> None:
        table = self._position
        self._file.write(array(_table_typecode(table), self._records).tobytes())
        self._file.seek(0)
        self._file.write(_HEADER.pack(_MAGIC, _FORMAT, _BYTE_ORDER, self.doc_count, len(self._records), table))
        self._file.close()


def _head(n: int, npos: int, first: int, idcode: bytes, tfcode: bytes, cpcode: bytes, poscode: bytes) -> bytes:
    """A format-3 record's start after its checksum: the kinds and widths bytes, then
    the postings, positions and first id, each in as few bytes as hold it."""
    kinds = _ID_KIND[idcode] | _TF_KIND[tfcode] | _CP_KIND[cpcode] | _POSITION_KIND[poscode]
    widths = _width(n) | _width(npos) << 2 | _width(first) << 4
    return _HEADS[widths].pack(kinds, widths, n, npos, first)


def _width(number: int) -> int:
    return 0 if number < 1 << 8 else 1 if number < 1 << 16 else 2


_ID_KIND = {code: i for i, code in enumerate(_ID_CODES)}
_TF_KIND = {code: i << 2 for i, code in enumerate(_TF_CODES)}
_CP_KIND = {code: i << 4 for i, code in enumerate(_CP_CODES)}
_POSITION_KIND = {code: i << 6 for i, code in enumerate(_POSITION_CODES)}
_HEADS = {a | b << 2 | c << 4: Struct("=BB" + "BHI"[a] + "BHI"[b] + "BHI"[c])
          for a in range(3) for b in range(3) for c in range(3)}


def _split_ids(ids) -> bytes | None:
    """The ids after the first, split (format 3's ``s``), or None if that is no shorter."""
    rest = ids[1:] if type(ids) is array and ids.typecode == "I" else array("I", ids[1:])
    high, top = ids[0] >> 16, ids[-1] >> 16
    if 4 * (2 + top - high) + 2 * len(rest) >= 4 * len(rest):
        return None
    ends = [bisect_left(rest, (h + 1) << 16) for h in range(high, top)]
    ends.append(len(rest))
    counts = array("I", [ends[0]])
    counts.extend(map(int.__sub__, ends[1:], ends[:-1]))
    packed = rest.tobytes()
    lows = bytearray(2 * len(rest))
    lows[0::2] = packed[_LOW::4]
    lows[1::2] = packed[_LOW + 1::4]
    return _COUNT.pack(len(counts)) + counts.tobytes() + bytes(lows)


def _joined_ids(data: bytes, where: int, n: int, first: int) -> tuple[array, int]:
    """The ids of a record whose others are split, and where they end in ``data``."""
    (runs,) = _COUNT.unpack_from(data, where)
    where += _COUNT.size
    counts = array("I")
    counts.frombytes(data[where:where + 4 * runs])
    where += 4 * runs
    if len(counts) != runs or sum(counts) != n - 1:
        raise ValueError("split ids of another count")
    end = where + 2 * (n - 1)
    lows = data[where:end]
    joined = bytearray(4 * n)
    joined[0:4] = _COUNT.pack(first)
    joined[4 + _LOW::4] = lows[0::2]
    joined[5 + _LOW::4] = lows[1::2]
    high, start = first >> 16, 4
    for count in counts:
        if count:
            halves = _HALF.pack(high)
            stop = start + 4 * count
            joined[start + _HIGH:stop:4] = halves[:1] * count
            joined[start + _HIGH + 1:stop:4] = halves[1:] * count
            start = stop
        high += 1
    ids = array("I")
    ids.frombytes(joined)
    return ids, end


class FlatTerm:
    """One term's flat postings in a segment."""

    __slots__ = ("ids", "tfs", "checkpoints", "positions")

    def __init__(self, ids: array, tfs: array, checkpoints: array | None, positions: array):
        self.ids = ids
        self.tfs = tfs
        self.checkpoints = checkpoints  # None: every tf is 1
        self.positions = positions

    def position_lists(self, indexes: list[int]) -> list[array]:
        """The positions of the postings at ``indexes``."""
        if self.checkpoints is None:  # one position each: posting i's is positions[i]
            return list(map(self.positions.__getitem__, map(slice, indexes, map(add, indexes, repeat(1)))))
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
        self.format = form
        self.doc_count = docs
        # Formats 2 and 3 hold the only copy: whoosh's term info then points here (``held_flat``).
        self.sole = form >= 2
        if form >= 3:
            records = array(_table_typecode(table))
            self._offsets = None  # the key is the term's number
        else:
            records = array("Q")
            self._offsets = array("Q", dbfile.get(table, 8 * terms))
            table_keys = 8 * terms
        if table + (0 if form >= 3 else table_keys) + records.itemsize * terms != length:
            raise ValueError("flat postings file of the wrong length")
        records.frombytes(dbfile.get(length - records.itemsize * terms, records.itemsize * terms))
        self._records = records
        self._table = table
        self._terms = terms

    @property
    def term_count(self) -> int:
        return self._terms

    def release_pages(self) -> None:
        """Unmap the pages of the file read so far (they stay in the page cache): a pass over
        every record would otherwise count the whole file in the process's RSS."""
        release_file_pages(self._file)

    def _index(self, key: int) -> int | None:
        """Where the term with ``key`` is in the table, or None."""
        offsets = self._offsets
        if offsets is None:
            return key if 0 <= key < self._terms else None
        i = bisect_left(offsets, key)
        return i if i < len(offsets) and offsets[i] == key else None

    def _extent(self, i: int) -> tuple[int, int]:
        start = self._records[i]
        return start, (self._records[i + 1] if i + 1 < self._terms else self._table)

    def record_size(self, key: int) -> int:
        """Bytes of the record of the term with ``key`` (0 if there is none)."""
        i = self._index(key)
        if i is None:
            return 0
        start, end = self._extent(i)
        return end - start

    def term(self, terminfo, check_ids: bool = True) -> FlatTerm | None:
        """The flat postings of the term with whoosh's ``terminfo`` (W3TermInfo), or
        None when this file does not hold them as whoosh does (or they are damaged).
        ``check_ids=False``: the caller checks the ids it uses as document numbers
        (``ids_fit``); phrases look most of a common word's ids up, not at them."""
        if self.sole != held_flat(terminfo):
            return None
        key = postings_offset(terminfo)
        if key is None:
            return None
        i = self._index(key)
        if i is None:
            return None
        start, end = self._extent(i)
        if end <= start:
            return None
        data = self._file.get(start, end - start)
        try:
            term = self._read(data, terminfo) if self.format >= 3 else self._read_2(data, terminfo)
        except (ValueError, TypeError, OverflowError, IndexError, struct.error):
            return None
        if term is None:
            return None
        ids = term.ids
        if ids and (ids[0] != terminfo.min_id() or ids[-1] != terminfo.max_id()):
            return None
        # (A format-3 record's checksum finds damage; these find what a checksum cannot: a
        # record written wrongly, or an index folder made to look right.)
        if not ((not check_ids or ids_fit(ids, self.doc_count)) and checkpoints_fit(term.checkpoints,
                                                                                     len(term.positions))):
            return None
        return term

    @staticmethod
    def _read(data: bytes, terminfo) -> FlatTerm | None:
        """A format-3 record; None if its checksum, count or size is not as it says."""
        crc, kinds, widths = _CRC_AND_KINDS.unpack_from(data)
        if crc32(memoryview(data)[4:]) != crc:
            return None
        idcode, tfcode = _ID_CODES[kinds & 3], _TF_CODES[kinds >> 2 & 3]
        cpcode, poscode = _CP_CODES[kinds >> 4 & 3], _POSITION_CODES[kinds >> 6]
        where = _CRC_AND_KINDS.size
        numbers = []
        for width in (widths & 3, widths >> 2 & 3, widths >> 4 & 3):
            number = _NUMBERS[width]
            numbers.append(number.unpack_from(data, where)[0])
            where += number.size
        n, npos, first = numbers
        if n != terminfo.doc_frequency() or not n:
            return None
        if idcode == _SPLIT:
            ids, where = _joined_ids(data, where, n, first)
        else:
            code = idcode.decode()
            ids = array(code, (first,))
            end = where + ids.itemsize * (n - 1)
            ids.frombytes(data[where:end])
            where = end
        if tfcode == _ALL_ONES:
            tfs, checkpoints = array("B", b"\x01" * n), None
        else:
            tfs = array(tfcode.decode())
            end = where + tfs.itemsize * n
            tfs.frombytes(data[where:end])
            checkpoints = array(cpcode.decode())
            where, end = end, end + checkpoints.itemsize * -(-n >> CHECKPOINT_SHIFT)
            checkpoints.frombytes(data[where:end])
            where = end
        positions = array(poscode.decode())
        end = where + positions.itemsize * npos
        positions.frombytes(data[where:end])
        if end != len(data):
            return None
        return FlatTerm(ids, tfs, checkpoints, positions)

    def _read_2(self, data: bytes, terminfo) -> FlatTerm | None:
        """A record of formats 1 and 2."""
        n, npos, tfcode, poscode = _RECORD_2.unpack_from(data)
        # The cheap checks that it is this term's postings: count, positions (format 1:
        # format 2's weight is a float32 sum, inexact past 2**24), first and last id.
        if n != terminfo.doc_frequency() or (not self.sole and npos != round(terminfo.weight())):
            return None
        where = _RECORD_2.size
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
        if len(ids) != n or len(tfs) != n or len(checkpoints) != cps or len(positions) != npos:
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
