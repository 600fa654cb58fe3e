"""whoosh's private structures, behind one door: the only module that touches them.

searcher reads and writes whoosh 2.7.4's file format directly where whoosh's
public API is too slow (issue 6): posting blocks decoded without their
positions, segments written and merged a block at a time, compound files read
in place. That knowledge lives here, and nowhere else (tests/test_whoosh_door.py
walks searcher/ and index/ and fails on any other module importing a whoosh
module or name outside its public API). What other modules may import from
whoosh itself: ``whoosh.query``, the public classes of ``whoosh.qparser``,
``whoosh.fields``, ``whoosh.analysis``, ``whoosh.scoring`` and
``whoosh.index.open_dir``/``create_in``.

whoosh is pinned to 2.7.4, its last release: every structure below is that
release's, so importing this module checks the version once and refuses any
other with a one-line ``UnsupportedWhoosh`` (an ``IndexingError``: the CLI
prints it and exits 2).

What is here:

- the private classes and functions other modules use, under these names;
- ``use_searcher_readers()``: every patch searcher makes to whoosh, applied
  once, explicitly, before an index is opened (compound files read in place,
  a faster ``skip_to``, the text fields' postings read from the flat file,
  unpickling through index/storage/safepickle.py);
- term infos of postings held flat (``held_flat``, ``flat_term_info``) and
  ``FlatMatcher``, whoosh's matcher interface over them;
- the posting-block decoder (``decode_ids_weights``, ``decode_ids``,
  ``decode_values``, ``decode_block``, ``position_lists``) and block directories
  (``term_blocks``), read by ranking, phrases and merges;
- helpers for the writer's and the columns' privates (fastwrite, builder, writer,
  rankstats, flatpostings);
- what a merge reads and writes below whoosh's API (``SegmentSource``,
  ``write_per_document``, ``encode_term``): index/storage/merge.py keeps the policy and the walk;
- ``reader_cache``: what searcher keeps with an open reader, in one place.
"""

from __future__ import annotations

import mmap
import os
import pickle
import zlib
from array import array
from bisect import bisect_left
from collections import defaultdict
from itertools import accumulate, compress, count, repeat
from operator import getitem, sub
from pickle import dumps
from struct import Struct
from struct import error as struct_error

import whoosh

from searcher.index.errors import IndexDamaged, IndexingError

WHOOSH_VERSION = (2, 7, 4)


class UnsupportedWhoosh(IndexingError):
    """Another whoosh release than the one whose file format searcher reads and writes."""


if tuple(getattr(whoosh, "__version__", ())) != WHOOSH_VERSION:
    raise UnsupportedWhoosh(
        f"searcher needs whoosh {'.'.join(map(str, WHOOSH_VERSION))}, but whoosh "
        f"{'.'.join(map(str, getattr(whoosh, '__version__', ('unknown',))))} is installed: "
        f"run 'pip install whoosh=={'.'.join(map(str, WHOOSH_VERSION))}'"
    )

# ruff: noqa: E402 (the version is checked before any private module is imported)
from whoosh import columns
from whoosh.codec import base as _codec_base
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3LeafMatcher, W3Segment, W3TermInfo
from whoosh.codec.whoosh3 import _lenfield
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage, StorageError
from whoosh.filedb.filetables import FileFormatError
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.formats import Positions
from whoosh.index import TOC, FileIndex, clean_files
from whoosh.matching import ListMatcher, NullMatcher, ReadTooFar, WrappingMatcher
from whoosh.qparser.syntax import FieldnameNode, GroupNode
from whoosh.reading import SegmentReader
from whoosh.support.levenshtein import damerau_levenshtein, distance as edit_distance
from whoosh.system import pack_uint
from whoosh.util import random_name
from whoosh.util.numeric import byte_to_length, length_to_byte

from searcher.index.storage import safepickle
from searcher.index.storage.safepickle import loads

__all__ = [
    "WHOOSH_VERSION", "UnsupportedWhoosh", "use_searcher_readers", "reader_cache",
    # re-exported private names
    "columns", "LENGTHS_COLUMN", "W3Codec", "W3LeafMatcher", "W3Segment", "W3TermInfo", "CompoundStorage",
    "FileStorage", "StorageError", "BufferFile", "StructFile", "Positions", "TOC", "FileIndex", "clean_files",
    "ListMatcher", "NullMatcher", "ReadTooFar", "WrappingMatcher", "FieldnameNode", "GroupNode",
    "SegmentReader", "SegmentWriter", "UnlockedSegmentWriter", "damerau_levenshtein", "edit_distance",
    "pack_uint", "random_name", "byte_to_length", "length_to_byte",
    # helpers
    "length_column_name", "length_bytes", "open_file_index", "pickled_classes",
    "leaf_matcher", "block_matcher", "is_block_matcher", "term_blocks", "BlockDirectory", "read_block_header",
    "decode_ids_weights", "decode_ids", "decode_values", "decode_block", "position_lists",
    "start_term", "block_limit", "add_block", "discard_segment", "finish_segment", "close_segment",
    "release_writer", "file_column_arrays", "writing_column", "segment_storage", "reader_folder", "segment_terms", "term_info",
    "field_term_infos", "release_file_pages", "release_term_pages",
    "postings_offset", "MergeUnsupported", "SegmentSource", "write_per_document", "encode_term",
    "shift_term_info", "postings_output", "codec_compression",
    "held_flat", "flat_term_info", "term_info_from_bytes", "FlatMatcher", "DAMAGED_DATA_ERRORS",
]


# What reading an index file whose bytes were changed raises (truncated, overwritten, flipped):
# whoosh's tables, zlib, struct, pickle, text decoding, arrays read past their end.
DAMAGED_DATA_ERRORS = (FileFormatError, zlib.error, struct_error, pickle.UnpicklingError, UnicodeDecodeError,
                       EOFError, IndexError, OverflowError)


def __getattr__(name):
    # whoosh.writing is not on the query path: imported when a writer is wanted.
    if name == "SegmentWriter":
        from whoosh.writing import SegmentWriter

        return SegmentWriter
    if name == "UnlockedSegmentWriter":
        from whoosh.writing import SegmentWriter

        class UnlockedSegmentWriter(SegmentWriter):
            """whoosh's SegmentWriter without whoosh's lock: searcher's run lock
            (index/runs/lock.py) makes the indexing run the index's only writer, and only
            the run commits, with a table of contents of its own."""

            def __init__(self, ix, limitmb: int = 128):
                super().__init__(ix, _lk=False, limitmb=limitmb)

        globals()[name] = UnlockedSegmentWriter
        return UnlockedSegmentWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- one cache per reader

def reader_cache(reader) -> dict:
    """What searcher keeps with one open whoosh reader, by key: its ranking statistics
    (searcher/engine/statistics.py), its segment's flat postings (index/storage/flatpostings.py), block
    directories (``term_blocks``). It lives in the reader, so it goes with it. An object
    that cannot take attributes gets a new, empty dict each time: nothing is kept for it."""
    try:
        return reader._searcher_cache
    except AttributeError:
        pass
    cache = {}
    try:
        reader._searcher_cache = cache
    except AttributeError:  # no attributes (slots, a builtin)
        pass
    return cache


# ---------------------------------------------------------------- patches


class MappedFile(StructFile):
    """One file inside a compound file, read from a map of just that part of it.

    whoosh 2.7.4 maps a compound segment file (``.seg``) and then opens each file
    inside it as a ``BufferFile``, whose ``io.BytesIO(buf)`` copies that part of the
    map: opening a reader copies the whole index into the process (on the 100k-document
    benchmark index, 295 MB: 0.33 s and about 900 MB of peak RSS for one query).
    Here each inner file is a map of its own (the map's offset rounded down to the
    allocation granularity, the difference added on every seek), so reads go
    straight to the page cache and nothing is copied up front.
    """

    def __init__(self, fileno: int, offset: int, length: int, name=None):
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        self._delta = offset - start
        self._length = length
        if length:
            mapped = mmap.mmap(fileno, self._delta + length, access=mmap.ACCESS_READ, offset=start)
        else:  # an empty map is not allowed
            mapped = mmap.mmap(-1, 1)
        super().__init__(mapped, name=name)
        self.is_real = False
        mapped.seek(self._delta)

    def seek(self, position, whence=0):
        if whence == 0:
            position += self._delta
        return self.file.seek(position, whence)

    def tell(self):
        return self.file.tell() - self._delta

    def get(self, position, length):
        start = self._delta + position
        return self.file[start:start + max(0, min(length, self._length - position))]

    def subset(self, position, length, name=None):
        return BufferFile(self.get(position, length), name=name or self._name)

    def __iter__(self):
        self.seek(0)
        end = self._delta + self._length
        while self.file.tell() < end:
            yield self.file.readline()


class MappedCompoundStorage(CompoundStorage):
    def __init__(self, dbfile, use_mmap=True, basepos=0):
        # CompoundStorage closes the segment file once it has mapped it: keep a handle.
        self._fileno = os.dup(dbfile.fileno())
        try:
            super().__init__(dbfile, use_mmap=True, basepos=basepos)
        except BaseException:
            os.close(self._fileno)
            raise

    def open_file(self, name, *args, **kwargs):
        if self.is_closed:
            raise StorageError("Storage was closed")
        offset, length = self.range(name)
        return MappedFile(self._fileno, offset, length, name=name)

    def close(self):
        try:
            super().close()
        finally:
            if self._fileno is not None:
                os.close(self._fileno)
                self._fileno = None


def _open_compound_file(self, storage):
    dbfile = storage.open_file(self.make_filename(self.COMPOUND_EXT))
    if not storage.supports_mmap or not hasattr(dbfile, "fileno"):
        return CompoundStorage(dbfile, use_mmap=storage.supports_mmap)
    return MappedCompoundStorage(dbfile)


whoosh_skip_to = W3LeafMatcher.skip_to  # whoosh's own (tests compare the two)


def _skip_to(self, targetid):
    """W3LeafMatcher.skip_to with a binary search inside the block, instead of stepping
    one posting at a time with two method calls each: phrase and AND queries skip a
    lot (same result: the first id >= target)."""
    if self._atend or self._i >= self._blocklength:
        raise ReadTooFar
    if self._ids is None:
        self._read_ids()
    if targetid <= self._ids[self._i]:
        return
    if targetid > self._maxid:
        while not self._atend and targetid > self._maxid:
            self._next_block()
        if self._atend:
            return
        self._read_ids()
    self._i = bisect_left(self._ids, targetid, self._i)


_whoosh_segment_reader_init = SegmentReader.__init__


def _open_segment_reader(self, storage, schema, segment, generation=None, codec=None):
    """``SegmentReader.__init__``, saying in one line that the index is damaged when a
    segment's files cannot be opened: missing, unreadable, cut short, or with a table
    (the terms file's field map, a column's header) that does not decode. Opening is
    all-or-nothing, so whatever fails in it is the segment's files, not the query."""
    try:
        _whoosh_segment_reader_init(self, storage, schema, segment, generation, codec)
    except (IndexingError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:
        name = getattr(segment, "segment_id", lambda: "?")()
        if isinstance(exc, OSError) and exc.strerror:
            detail = f"{exc.strerror}: {os.path.basename(str(exc.filename or name))}"
        else:
            detail = f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
        folder = getattr(storage, "folder", None)
        where = f"the index at {folder}" if folder else "the index"
        raise IndexDamaged(f"{where} is damaged: its segment {name} cannot be opened ({detail}); "
                           "rebuild it with 'searcher index --rebuild PATH...'") from None


def _read_block_header(self):
    """``W3LeafMatcher._read_header``, raising FileFormatError (a damaged index) where
    whoosh raises a bare Exception: a term info pointing where no postings start."""
    postfile = self._postfile
    postfile.seek(self._startoffset)
    magic = postfile.read(4)
    if magic != whoosh3.WHOOSH3_HEADER_MAGIC:
        raise FileFormatError(f"no postings where the term's info points (block tag {magic!r})")
    self._baseoffset = postfile.tell()  # (the start of the postings, after the tag)


def _doc_field_length(self, docnum, fieldname, default=0):
    """``W3PerDocReader.doc_field_length``, giving 0 for a length byte of 0 where whoosh
    gives None (a damaged lengths column has them; scorers then failed on None)."""
    if docnum > self._doccount:
        raise IndexError("Asked for docnum %r of %d" % (docnum, self._doccount))
    reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if reader is None:
        return default
    lbyte = reader[docnum]
    return byte_to_length(lbyte) if lbyte else 0


class _PickleModule:
    """What whoosh.index uses of the pickle module, with ``loads`` restricted."""

    loads = staticmethod(safepickle.loads)
    dumps = staticmethod(pickle.dumps)
    PicklingError = pickle.PicklingError


_patched = False


def use_searcher_readers() -> None:
    """Every change searcher makes to whoosh's reading, applied once (idempotent); called
    before searcher opens or creates an index (index/storage/store.py, index/runs/writer.py, index/storage/merge.py):

    - segments open their compound files with ``MappedCompoundStorage``;
    - ``W3LeafMatcher.skip_to`` searches a block instead of stepping through it;
    - ``SegmentReader.postings`` reads the terms held flat (``held_flat``) from the
      segment's flat file (index/storage/flatpostings.py), as a ``FlatMatcher``;
    - ``W3TermInfo.from_bytes`` reads the compact term infos of terms held flat too;
    - whoosh unpickles what it reads from an index with index/storage/safepickle.py's
      ``loads``/``load``, so that opening a folder someone shared never runs code it names;
    - a segment whose files cannot be opened raises ``IndexDamaged`` (one line), a term
      info pointing where no postings block starts ``FileFormatError``, and a length
      byte of 0 reads as 0, not None.
    """
    global _patched
    if _patched:
        return
    from whoosh import formats
    from whoosh import index as whoosh_index
    from whoosh.codec import whoosh3
    from whoosh.filedb import structfile

    whoosh3.loads = columns.loads = formats.loads = safepickle.loads
    structfile.load_pickle = safepickle.load
    whoosh_index.pickle = _PickleModule
    _codec_base.Segment.open_compound_file = _open_compound_file
    W3LeafMatcher.skip_to = _skip_to
    SegmentReader.postings = _segment_postings
    W3TermInfo.from_bytes = classmethod(_term_info_from_bytes)
    SegmentReader.__init__ = _open_segment_reader
    whoosh3.W3PerDocReader.doc_field_length = _doc_field_length
    W3LeafMatcher._read_header = _read_block_header
    _patched = True


def pickled_classes() -> dict[tuple[str, str], object]:
    """(module, name) -> class, of the whoosh classes whoosh 2.7.4 pickles into an index
    (schema, fields, analyzers, formats, columns, segments): index/storage/safepickle.py's allow-list."""
    from whoosh import fields, formats
    from whoosh.analysis import analyzers, filters, tokenizers

    groups = (
        ("whoosh.fields", (fields.Schema, fields.TEXT, fields.ID, fields.STORED, fields.KEYWORD,
                           fields.NUMERIC, fields.DATETIME, fields.BOOLEAN, fields.NGRAM, fields.NGRAMWORDS)),
        ("whoosh.analysis.analyzers", (analyzers.CompositeAnalyzer,)),
        ("whoosh.analysis.tokenizers", (tokenizers.IDTokenizer, tokenizers.RegexTokenizer,
                                        tokenizers.SpaceSeparatedTokenizer)),
        ("whoosh.analysis.filters", (filters.LowercaseFilter, filters.StopFilter)),
        ("whoosh.formats", (formats.Existence, formats.Frequency, formats.Positions,
                            formats.Characters, formats.PositionBoosts, formats.CharacterBoosts)),
        ("whoosh.columns", tuple(getattr(columns, name) for name in (
            "VarBytesColumn", "FixedBytesColumn", "RefBytesColumn", "NumericColumn",
            "BitColumn", "CompressedBytesColumn", "StructColumn", "PickleColumn"))),
        ("whoosh.codec.whoosh3", (W3Codec, W3Segment)),
    )
    return {(module, cls.__name__): cls for module, classes in groups for cls in classes}


# ---------------------------------------------------------------- indexes, writers, columns


def file_column():
    """The column of the schema's ``file`` field (index/storage/schema.py): whoosh's
    RefBytesColumn, which holds each distinct value once and a number per document.
    Segments write it with ``writing_column`` (no limit on distinct values)."""
    return columns.RefBytesColumn()


class _WideRefBytesWriter(columns.RefBytesColumn.Writer):
    """whoosh's RefBytesColumn writer without its limit of 65,535 distinct values in a
    segment: past it, whoosh's writer stores the default value instead (with a warning),
    so every file after the 65,535th of a segment would lose its path and all of them
    would read as one file. Here references widen from 1 to 2 to 4 bytes as needed. Up to
    the limit the bytes are whoosh's own; past it whoosh's reader reads them too, as it
    takes the reference width from the column's last byte."""

    def __init__(self, dbfile, fixedlen, default):
        super().__init__(dbfile, fixedlen, default)
        self._refs = array("B")

    def fill(self, docnum):
        if docnum > self._count:
            self._refs.extend(repeat(0, docnum - self._count))

    def add(self, docnum, v):
        self.fill(docnum)
        uniques = self._uniques
        ref = uniques.get(v)
        if ref is None:
            ref = uniques[v] = len(uniques)
            refs = self._refs
            if ref > 0xFF and refs.typecode == "B":
                self._refs = array("H", refs)
            elif ref > 0xFFFF and refs.typecode == "H":
                self._refs = array(_WIDE_REFS, refs)
        self._refs.append(ref)
        self._count = docnum + 1

    def finish(self, doccount):
        self.fill(doccount)
        refs = self._refs
        step = 1 << 20  # (write_array copies what it is given: in slices, not the whole column again)
        for start in range(0, len(refs), step):
            self._dbfile.write_array(refs[start:start + step])
        self._write_uniques(refs.typecode)
        self._dbfile.write_byte(ord(refs.typecode))


# whoosh's reader unpacks references with struct ("!" + typecode): 4 bytes for "I".
_WIDE_REFS = "I" if array("I").itemsize == 4 else "L"


class _WideRefBytesColumn(columns.RefBytesColumn):
    """A RefBytesColumn written by ``_WideRefBytesWriter``; only ever used to write (the
    schema stored in the index keeps whoosh's class)."""

    def writer(self, dbfile):
        return _WideRefBytesWriter(dbfile, self._fixedlen, self._default)


def writing_column(column):
    """The column object to write a field's column with: ``column`` itself, except that a
    RefBytesColumn is written without whoosh's limit on distinct values."""
    if type(column) is columns.RefBytesColumn:
        return _WideRefBytesColumn(column._fixedlen, column._default)
    return column



def open_file_index(folder: str, indexname: str, schema=None):
    """whoosh's FileIndex over a folder, with no lock taken (``schema``: used as it is)."""
    return FileIndex(FileStorage(folder), schema=schema, indexname=indexname)


def length_column_name(fieldname: str) -> str:
    """The name of the per-document column holding a field's length bytes."""
    return _lenfield(fieldname)


def length_bytes(perdoc, fieldname: str, count: int) -> bytes | None:
    """Each of ``count`` documents' length byte of the field (0: none), from a segment's
    per-document reader; None when the segment has no such column."""
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    try:
        raw = column._dbfile.get(column._basepos, min(count, column._count))
    except AttributeError:
        raw = bytes(column)
    return bytes(raw) + bytes(count - len(raw))


def start_term(fieldwriter, btext: bytes) -> int:
    """Start a term in a segment's field writer; returns where its postings start in the
    postings file."""
    fieldwriter.start_term(btext)
    return fieldwriter._postwriter._startoffset


def block_limit(fieldwriter) -> int:
    """How many postings a block of the field writer holds."""
    return fieldwriter._postwriter._blocklimit


def add_block(fieldwriter, ids, weights, values, maxweight, minlength, maxlength) -> None:
    """Give the term's posting writer a whole block at once: what W3PostingsWriter.add_posting
    collects one posting at a time. The block before it, if any, is written first; this
    one is written when the next comes or the term finishes (``fieldwriter.finish_term()``)."""
    postwriter = fieldwriter._postwriter
    if postwriter._ids:
        postwriter._write_block()
    postwriter._ids = ids
    postwriter._weights = weights
    postwriter._values = values
    postwriter._maxweight = maxweight
    postwriter._minlength = minlength
    postwriter._maxlength = maxlength


def discard_segment(writer) -> None:
    """Close a SegmentWriter's new segment unwritten and remove its scratch folder
    (no commit: searcher publishes segments with its own table of contents)."""
    try:
        writer._close_segment()
    finally:
        writer._tempstorage.destroy()


def finish_segment(writer):
    """The segment a SegmentWriter wrote (None if no document was added), without a
    commit; its scratch folder is removed."""
    try:
        if not writer._added:
            writer._close_segment()
            return None
        return writer._finalize_segment()
    finally:
        writer._tempstorage.destroy()


def close_segment(writer) -> None:
    """Close a SegmentWriter's new segment (only deletions were made: no segment to write)."""
    writer._close_segment()


def release_writer(writer) -> None:
    """Release a SegmentWriter whose changes were published another way (its lock, its files)."""
    writer._finish()


def segment_storage(reader):
    """(storage, segment) of a SegmentReader, to reach files of its segment that whoosh
    does not know (index/storage/flatpostings.py); (None, None) for another reader."""
    return getattr(reader, "_storage", None), getattr(reader, "_segment", None)


def reader_folder(reader):
    """The folder of a segment reader's index on disk, or None (an index in memory)."""
    storage = getattr(reader, "_storage", None)
    storage = getattr(storage, "b", storage)  # whoosh's OverlayStorage over a compound file
    return getattr(storage, "folder", None)


def segment_terms(reader):
    """A SegmentReader's terms reader (term infos, terms in order), or None for another reader."""
    return getattr(reader, "_terms", None)


def term_info(reader, fieldname: str, btext: bytes):
    """whoosh's term info (W3TermInfo) of a term in a SegmentReader, or None."""
    terms = getattr(reader, "_terms", None)
    if terms is None:
        return None
    try:
        return terms.term_info(fieldname, btext)
    except Exception:  # TermNotFound, or a codec without term infos
        return None


def release_file_pages(dbfile) -> None:
    """Unmap the pages of a memory-mapped file (MappedFile) read so far; nothing for another file."""
    mapped = getattr(dbfile, "file", None)
    if isinstance(mapped, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        mapped.madvise(mmap.MADV_DONTNEED)


def release_term_pages(reader) -> None:
    """``release_file_pages`` of a SegmentReader's terms table (a pass over every term)."""
    tindex = getattr(getattr(reader, "_terms", None), "_tindex", None)
    release_file_pages(getattr(tindex, "dbfile", None))


def field_term_infos(reader, fieldname: str):
    """whoosh's term infos (W3TermInfo) of a field's terms in a SegmentReader, in term
    order; nothing for another reader or a field it does not index."""
    terms = getattr(reader, "_terms", None)
    fieldmap = getattr(terms, "_fieldmap", None)
    if terms is None or not isinstance(fieldmap, dict) or fieldname not in fieldmap:
        return
    for (name, _), info in terms.items_from(fieldname, b""):
        if name != fieldname:
            return
        yield info


def postings_offset(terminfo):
    """Where a term's postings start in its segment's postings file (None if the term
    info does not say: inlined postings, another codec)."""
    return getattr(terminfo, "_offset", None)


def file_column_arrays(column, count: int):
    """(references, unique values) of a RefBytes column of ``count`` documents, or
    (values, None) of a VarBytes one, read in one go; None for another kind of column."""
    from operator import add

    uniques = getattr(column, "_uniques", None)
    if uniques is not None and hasattr(column, "_typecode"):
        # an array of references into a list of unique values, stored big-endian
        from array import array
        from sys import byteorder

        refs = array(column._typecode, column._dbfile.get(column._basepos, count * column._itemsize))
        if byteorder == "little":
            refs.byteswap()
        return refs, uniques
    offsets, lengths = getattr(column, "_offsets", None), getattr(column, "_lengths", None)
    if offsets is not None and lengths is not None and len(offsets) == len(lengths) == count and count:
        # the values one after another
        data = column._dbfile.get(column._basepos, max(map(add, offsets, lengths)))
        return list(map(data.__getitem__, map(slice, offsets, map(add, offsets, lengths)))), None
    return None


# ---------------------------------------------------------------- posting blocks
#
# whoosh3 writes a term's postings as blocks: the block's byte length (negative for
# the term's last block), its pickled info (count, last id, max weight, compression,
# min length, max length), then its data: (delta-coded ids, weights, values) pickled
# with protocol 2, zlib-compressed when ``compression`` is set. Each value (a posting's
# encoded positions) is a bytes object pickled as a call of _codecs.encode.

_BLOCK_LENGTH = Struct("!i")
# Enough bytes for a block's length and its pickled info tuple.
_HEAD_BYTES = 64
# The end of the ids (TUPLE, BINPUT 0) and the start of the values (MARK, GLOBAL
# _codecs.encode). Ids and weights (K/M/J ints, G floats) never hold these 17 bytes
# in a row where they are not opcodes, so the values marker cannot occur before the values.
_IDS_END = b"tq\x00"
_VALUES_START = b"(c_codecs\nencode\n"
_NO_VALUES_END = b"N\x87."  # None as the values, TUPLE3, STOP
# The most bytes a posting takes before the values: 5 for its id (BININT), 9 for its weight (BINFLOAT).
_PREFIX_BYTES = 14
# A pickled list (protocol 2: PROTO 2, EMPTY_LIST), as positions are stored.
_LIST_PICKLE = b"\x80\x02]"


def leaf_matcher(reader, fieldname: str, btext: bytes):
    """whoosh's matcher of a term in one segment's reader, or None when the term is not there."""
    if (fieldname, btext) not in reader:
        return None
    terms = getattr(reader, "_terms", None)
    if terms is None or held_flat(terms.term_info(fieldname, btext)):
        return reader.postings(fieldname, btext)
    return terms.matcher(fieldname, btext, reader.schema[fieldname].format)


def block_matcher(reader, fieldname: str, btext: bytes, fmt):
    """(matcher, document frequency) of a term of one segment's reader (None if absent).
    A W3 leaf matcher when the segment is whoosh3's (``term_blocks`` reads it)."""
    if (fieldname, btext) not in reader:
        return None
    terms = getattr(reader, "_terms", None)
    if terms is None:
        return reader.postings(fieldname, btext), reader.doc_frequency(fieldname, btext)
    info = terms.term_info(fieldname, btext)
    if held_flat(info):
        return reader.postings(fieldname, btext), info.doc_frequency()
    return terms._codec.postings_reader(terms._postfile, info, fmt), info.doc_frequency()


# ---------------------------------------------------------------- postings held flat
#
# A segment written by this release holds the postings of the text fields once, in its
# flat file (index/storage/flatpostings.py): their term infos carry whoosh's statistics and, where
# whoosh keeps a pointer into the postings file, the term's key in the flat file with a
# length of 0 (a list of whoosh blocks is never empty). whoosh's own matchers reach such
# terms through ``SegmentReader.postings``, patched to read the flat file.


def held_flat(terminfo) -> bool:
    """Whether a term info points into the flat file instead of whoosh's postings file."""
    if terminfo is None or terminfo._inlined is not None:
        return False
    length = terminfo._length
    return (length[0] if type(length) is tuple else length) == 0  # whoosh reads it back as a 1-tuple


# Since schema 5 the term info of a term held flat is shorter than whoosh's 35 bytes: whoosh's
# first 15 (flags, weight, document count, length bytes, max weight: whoosh reads some of
# them in place, at fixed offsets) with flags = _COMPACT, then one byte giving the widths
# (1 to 4 bytes, 2 bits each) of the first id, the last id minus the first, and the term's
# key in the flat file, then those three, big-endian. whoosh's own layout (minid, maxid,
# an 8-byte offset and a 4-byte length) took 20 bytes where these take 4 to 8: about 12
# bytes of a term dictionary's ~90 per term. Term infos of the earlier layout still read.
_COMPACT = 2  # whoosh's flags: 0, or 1 for inlined postings
_PREFIX = Struct("!BfIBBf")
_ORIGINAL_FROM_BYTES = W3TermInfo.from_bytes.__func__


def _compact_term_info(weight: float, df: int, minlength: int, maxlength: int, maxweight: float,
                       minid: int, maxid: int, key: int) -> bytes:
    """``minlength``, ``maxlength``: length bytes (whoosh's ``length_to_byte``)."""
    span = maxid - minid
    if not 0 <= minid <= maxid < 2**32 or not 0 <= key < 2**32:
        raise ValueError(f"a term info out of range: ids {minid}..{maxid}, key {key}")
    # widths less one, by comparisons: cheaper than bit_length arithmetic, per term written
    w0 = (minid > 0xFF) + (minid > 0xFFFF) + (minid > 0xFFFFFF)
    w1 = (span > 0xFF) + (span > 0xFFFF) + (span > 0xFFFFFF)
    w2 = (key > 0xFF) + (key > 0xFFFF) + (key > 0xFFFFFF)
    tail = ((w0 | w1 << 2 | w2 << 4) << 8 * (w0 + w1 + w2 + 3) | minid << 8 * (w1 + w2 + 2)
            | span << 8 * (w2 + 1) | key)
    return (_PREFIX.pack(_COMPACT, weight, df, minlength, maxlength, maxweight)
            + tail.to_bytes(w0 + w1 + w2 + 4, "big"))


def _compact_fields(s: bytes) -> tuple:
    """(the 15-byte prefix's values, first id, last id, key) of a compact term info;
    FileFormatError (read as damage) if its length does not match its widths."""
    size = _PREFIX.size
    if len(s) < size + 1:
        raise FileFormatError("a term info cut short")
    code = s[size]
    widths = (code & 3) + 1, (code >> 2 & 3) + 1, (code >> 4 & 3) + 1
    if code >> 6 or len(s) != size + 1 + sum(widths):
        raise FileFormatError("a term info of the wrong size")
    at = size + 1
    values = []
    for width in widths:
        values.append(int.from_bytes(s[at:at + width], "big"))
        at += width
    minid, span, key = values
    return _PREFIX.unpack_from(s), minid, minid + span, key


def _term_info_from_bytes(cls, s):
    """``W3TermInfo.from_bytes``, reading the compact layout too."""
    if not s or s[0] != _COMPACT:
        return _ORIGINAL_FROM_BYTES(cls, s)
    (_, weight, df, minlength, maxlength, maxweight), minid, maxid, key = _compact_fields(s)
    info = cls()
    info._weight, info._df, info._maxweight = weight, df, maxweight
    info._minlength, info._maxlength = byte_to_length(minlength), byte_to_length(maxlength)
    info._minid, info._maxid = minid, maxid
    info.set_extent(key, 0)
    return info


def term_info_from_bytes(valbytes: bytes):
    return _term_info_from_bytes(W3TermInfo, valbytes)


def flat_term_info(key: int, ids, tfs, minlength: int | None, maxlength: int) -> bytes:
    """Term info bytes of a term held flat: whoosh's statistics of its postings (``ids``
    ascending, ``tfs`` its weights, the field lengths' bounds over them) and ``key``, its
    number in the flat file."""
    return _compact_term_info(float(sum(tfs)), len(ids), 0 if minlength is None else length_to_byte(minlength),
                              length_to_byte(maxlength), float(max(tfs)), ids[0], ids[-1], key)


def _term_info_extent(valbytes: bytes) -> tuple[int, int]:
    """(offset, length) a term info's bytes point at (length 0: its key in the flat file)."""
    if valbytes[0] == _COMPACT:
        return _compact_fields(valbytes)[3], 0
    return _EXTENT.unpack_from(valbytes, len(valbytes) - _EXTENT.size)


class FlatMatcher(ListMatcher):
    """whoosh's matcher interface over a term's flat postings (``FlatTerm``)."""

    def __init__(self, flat, format=None, scorer=None, position=0, term=None, terminfo=None, block_max=None):
        super().__init__(flat.ids, flat.tfs, None, format, scorer, position, None, term, terminfo)
        self._flat = flat
        self._block_max = block_max

    def copy(self):
        return FlatMatcher(self._flat, self._format, self._scorer, self._i, self._term, self._terminfo,
                           self._block_max)

    def skip_to(self, id):
        if not self.is_active():
            raise ReadTooFar
        if id > self._ids[self._i]:
            self._i = bisect_left(self._ids, id, self._i)

    def weight(self):
        return float(self._weights[self._i])

    def block_max_weight(self):
        # The whole list is one block, and whoosh's collector asks again at every step
        # where it could skip: taking the maximum each time made a query on two common
        # words quadratic (seconds on a folder of 60k passages).
        if self._block_max is None:
            self._block_max = float(max(self._weights)) if len(self._weights) else 0.0
        return self._block_max

    def _positions(self) -> list[int]:
        return list(self._flat.position_lists([self._i])[0])

    def value(self):
        return self._format.encode(self._positions())

    def value_as(self, astype):
        if astype == "positions":
            return self._positions()
        if astype in ("frequency", "weight"):
            return self._weights[self._i]
        return super().value_as(astype)


def _segment_postings(self, fieldname, text, scorer=None):
    """``SegmentReader.postings``, reading terms held flat from the segment's flat file."""
    from whoosh.matching import FilterMatcher
    from whoosh.reading import ReaderClosed, TermNotFound

    if self.is_closed:
        raise ReaderClosed
    if fieldname not in self.schema:
        raise TermNotFound((fieldname, text))
    btext = self._text_to_bytes(fieldname, text)
    format_ = self.schema[fieldname].format
    info = self._terms.term_info(fieldname, btext)
    if held_flat(info):
        from searcher.index.storage.flatpostings import flat_postings

        flat = flat_postings(self)
        held = None if flat is None else flat.term(info)
        if held is None:
            raise IndexDamaged("the index's postings are damaged: rebuild it with "
                               "'searcher index --rebuild PATH...'")
        matcher = FlatMatcher(held, format_, scorer=scorer, term=(fieldname, btext), terminfo=info)
    else:
        matcher = self._terms.matcher(fieldname, btext, format_, scorer=scorer)
    deleted = frozenset(self._perdoc.deleted_docs())
    if deleted:
        matcher = FilterMatcher(matcher, deleted, exclude=True)
    return matcher


class BlockDirectory:
    """Where a term's posting blocks are and what they hold, from the blocks' headers."""

    __slots__ = ("postfile", "lasts", "data_starts", "data_lengths", "compressed", "counts")

    def __init__(self, postfile):
        self.postfile = postfile  # the segment's postings file (get(offset, length) -> bytes)
        self.lasts: list[int] = []  # the last id in each block
        self.data_starts: list[int] = []  # where its pickled data starts, and how long it is
        self.data_lengths: list[int] = []
        self.compressed: list[int] = []
        self.counts: list[int] = []  # postings in it

    def add(self, info: tuple, data_start: int, data_length: int) -> None:
        count, last, _, compression = info[:4]
        self.lasts.append(last)
        self.data_starts.append(data_start)
        self.data_lengths.append(data_length)
        self.compressed.append(compression)
        self.counts.append(count)

    def data(self, block: int) -> bytes:
        """A block's pickled (maybe compressed) data."""
        return self.postfile.get(self.data_starts[block], self.data_lengths[block])


def is_block_matcher(matcher) -> bool:
    """Whether ``matcher`` reads whoosh3's posting blocks (``term_blocks`` can read them raw)."""
    return hasattr(matcher, "_goto") and hasattr(matcher, "_nextoffset")


# Block directories of the terms read most recently, per segment reader.
_DIRECTORY_CACHE_SIZE = 512


def term_blocks(reader, fieldname: str, btext: bytes, matcher) -> BlockDirectory:
    """The block directory of a term whose ``matcher`` ``is_block_matcher``; kept for the
    terms read most recently: a phrase's common words ("the", "of") come back in query
    after query."""
    cache = reader_cache(reader).setdefault("block directories", {})
    key = (fieldname, btext)
    found = cache.pop(key, None)
    if found is None:
        found = _walk_blocks(matcher)
    cache[key] = found  # the most recent last
    if len(cache) > _DIRECTORY_CACHE_SIZE:
        del cache[next(iter(cache))]
    return found


def read_block_header(data, position: int = 0) -> tuple[tuple, int, int, bool]:
    """(info, where its data starts, how long it is, whether it is the term's last block)
    of the block at ``position`` of ``data`` (bytes, a memoryview, or a file's ``get``
    result). The info is pickled by whoosh with ``dumps(info, 2)``, which gives its length;
    checked, else ValueError."""
    length = _BLOCK_LENGTH.unpack_from(data, position)[0]
    info, used = safepickle.loads_prefix(data[position + 4:position + 4 + abs(length)])
    if type(info) is not tuple or len(info) < 4:
        raise ValueError("not whoosh's block header")
    return info, position + 4 + used, abs(length) - used, length < 0


def _walk_blocks(matcher) -> BlockDirectory:
    """Each block starts with its byte length and its pickled info: read those, not the
    blocks. If they are not laid out as expected, whoosh reads the headers."""
    postfile = matcher._postfile
    directory = BlockDirectory(postfile)
    get = postfile.get
    unpack = _BLOCK_LENGTH.unpack_from
    position = matcher._baseoffset
    try:
        while True:
            head = get(position, _HEAD_BYTES)
            length = unpack(head)[0]
            info = loads(head[4:])
            pickled = dumps(info, 2)
            if not head.startswith(pickled, 4):
                raise ValueError("not whoosh's block header")
            directory.add(info, position + 4 + len(pickled), abs(length) - len(pickled))
            if length < 0:
                return directory
            position += 4 + length
    except Exception:  # not the layout expected: let whoosh read the headers
        directory = BlockDirectory(postfile)
        position = matcher._baseoffset
        while True:
            matcher._goto(position)
            info = (matcher._blocklength, matcher._maxid, None, matcher._compression)
            directory.add(info, matcher._dataoffset, matcher._nextoffset - matcher._dataoffset)
            if matcher._lastblock:
                return directory
            position = matcher._nextoffset


def decode_ids_weights(raw: bytes, compressed: bool, count: int):
    """(ids, term frequencies) of one block's data, its values (positions) not decoded:
    the block is unpickled only up to where they start, which is most of the decoding time."""
    if compressed:
        # Inflate only the ids and weights, which come first: the positions are most of a block.
        inflate = zlib.decompressobj()
        data = inflate.decompress(raw, _PREFIX_BYTES * count + 32)
        cut = data.find(_VALUES_START)
        if cut < 0 and not inflate.eof:
            data += inflate.decompress(inflate.unconsumed_tail) + inflate.flush()
            cut = data.find(_VALUES_START)
        raw = data
    else:
        cut = raw.find(_VALUES_START)
    data = loads(raw[:cut] + _NO_VALUES_END if cut > 0 else raw)
    ids = list(accumulate(data[0]))
    weights = data[1]
    if weights is None:
        weights = [1.0] * count
    elif isinstance(weights, float):
        weights = [weights] * count
    return ids, weights


def decode_ids(raw: bytes, compressed: bool, count: int) -> tuple[list[int], list]:
    """A block's ids, and the state ``decode_values`` continues from.

    The ids come first in the block's pickled data, a tuple of at most 5 bytes an id,
    closed by TUPLE, BINPUT 0: only that much of a compressed block is inflated and
    unpickled, the rest (weights, positions) when asked for.
    """
    data = raw
    inflate = None
    if compressed:
        inflate = zlib.decompressobj()
        data = inflate.decompress(data, 5 * count + 16)
    end = data.find(_IDS_END, 2)
    ids = None
    if end > 0:
        try:
            ids = loads(data[:end + len(_IDS_END)] + b".")
        except Exception:
            pass
    if type(ids) is not tuple or len(ids) != count:  # not as expected: unpickle it all
        if inflate is not None:
            data += inflate.decompress(inflate.unconsumed_tail) + inflate.flush()
            inflate = None
        ids = loads(data)[0]
    ids = list(accumulate(ids))
    return ids, [ids, data, inflate]


def decode_values(state: list, last: int) -> tuple:
    """A block's values (encoded positions), at least up to index ``last``, from the
    ``state`` ``decode_ids`` returned (updated: the block is inflated once)."""
    ids, data, inflate = state
    if inflate is not None:
        data = state[1] = data + inflate.decompress(inflate.unconsumed_tail) + inflate.flush()
        state[2] = None
    if last < len(ids) * 3 // 4:
        values = _values_up_to(data, last)
        if values is not None:
            return values
    return loads(data)[2]


def _values_up_to(data: bytes, last: int) -> tuple | None:
    """The encoded positions of a block's pickled data up to index ``last`` at least, or None.

    Only as much of the pickle is unpickled as holds them: whoosh pickles each value
    (bytes) as a call of _codecs.encode, memoised after the first as BINGET <memo>,
    BINUNICODE, so every value not seen before in the block starts with those 3 bytes.
    The data is cut before the (last + 1)-th of them, after which no value up to
    ``last`` can be, and closed (TUPLE, TUPLE3, STOP). A cut anywhere else (were the
    3 bytes ever inside a value) fails to unpickle, or does not give bytes: None then.
    """
    start = data.find(_VALUES_START)
    memo = start + len(_VALUES_START)
    if start < 0 or data[memo:memo + 1] != b"q":
        return None
    pieces = data.split(b"h" + data[memo + 1:memo + 2] + b"X", last + 1)
    if len(pieces) <= last + 1:
        return None
    try:
        values = loads(data[:len(data) - len(pieces[-1]) - 3] + b"t\x87.")[2]
    except Exception:
        return None
    if type(values) is not tuple or len(values) <= last or set(map(type, values)) != {bytes}:
        return None
    return values


def decode_block(raw, compressed: bool) -> tuple:
    """(delta-coded ids, weights, values) of a block's data, all of it."""
    return loads(zlib.decompress(raw) if compressed else raw)


def position_lists(values: list[bytes]) -> list[list[int]]:
    """Positions from whoosh's Positions encoding (see Positions.decode_positions):
    4 bytes of frequency, then the position deltas as a protocol 2 pickle of a list.

    The lists' pickles are unpickled in one go, as one tuple (the memo entry each list
    puts is overwritten by the next, and read by none).
    """
    if (all(map(bytes.startswith, values, repeat(_LIST_PICKLE), repeat(4)))
            and all(map(bytes.endswith, values, repeat(b".")))):
        lists = loads(b"".join((b"\x80\x02(", *map(getitem, values, repeat(slice(6, -1))), b"t.")))
        if len(lists) == len(values):
            return list(map(list, map(accumulate, lists)))
    return [list(accumulate(loads(value[4:] if value.endswith(b".") else value[4:] + b"."))) for value in values]


# ---------------------------------------------------------------- merging segments (index/storage/merge.py)


class MergeUnsupported(Exception):
    """Segments this merge cannot combine (another codec, term vectors, inlined postings)."""


_BLOCK_MAGIC = b"W3Bl"
_BLOCK_LIMIT = 128  # postings per block, as W3Codec writes them
_FIELD_ID = Struct("!H")
_EXTENT = Struct("!qi")  # a term info's pointer into the posting file: offset, length


class SegmentSource:
    """One segment being merged (index/storage/merge.py): its reader, and where its live documents go."""

    def __init__(self, storage, schema, segment, base: int):
        self.reader = SegmentReader(storage, schema, segment)
        self.perdoc = self.reader._perdoc
        self.terms = self.reader._terms
        self.postfile = self.terms._postfile
        self.count = count_all = segment.doc_count_all()
        self.base = base
        deleted = set(segment.deleted_docs())
        deleted = {d for d in deleted if 0 <= d < count_all}
        self.live_count = count_all - len(deleted)
        if deleted:
            # live[d]: 1 if document d stays; docmap[d]: its new number, -1 if deleted.
            self.live = bytes(0 if d in deleted else 1 for d in range(count_all))
            self.docmap = array("q", [-1]) * count_all  # 8 bytes a document, not a list's 36
            for new, old in enumerate(compress(range(count_all), self.live), base):
                self.docmap[old] = new
        else:
            self.live = None
            self.docmap = None

    def keep(self, values):
        """The values of live documents, from one value per document."""
        return values if self.live is None else compress(values, self.live)

    def length_bytes(self, fieldname: str) -> bytes:
        """Each document's length byte for the field (0: none), live documents only."""
        raw = length_bytes(self.perdoc, fieldname, self.count)
        if raw is None:
            raw = bytes(self.count)
        return raw if self.live is None else bytes(compress(raw, self.live))

    def postings(self, valbytes: bytes, fixedsize):
        """(docnums, weights, values) of one term, renumbered, deleted documents dropped."""
        if valbytes[0]:
            raise MergeUnsupported("inlined postings")
        offset, length = _EXTENT.unpack_from(valbytes, len(valbytes) - _EXTENT.size)
        raw = self.postfile.get(offset, length)
        if raw[:4] != _BLOCK_MAGIC:
            raise MergeUnsupported(f"posting list without a block header at {offset}")
        ids: list[int] = []
        weights = array("f")
        values = None if fixedsize == 0 else []
        pos, end = 4, len(raw)
        view = memoryview(raw)
        while pos < end:
            info, start, length, _ = read_block_header(view, pos)
            pos = start + length
            n, compressed = info[0], info[3]
            deltas, block_weights, block_values = decode_block(view[start:pos], compressed)
            ids.extend(accumulate(deltas))
            if block_weights is None:
                weights.extend(repeat(1.0, n))
            elif isinstance(block_weights, float):
                weights.extend(repeat(block_weights, n))
            else:
                weights.extend(block_weights)
            if values is not None:
                if fixedsize is None or fixedsize < 0:
                    if len(block_values) != n:
                        raise MergeUnsupported("a posting block with empty values")
                    values.extend(block_values)
                else:
                    values.extend(block_values[i:i + fixedsize] for i in range(0, len(block_values), fixedsize))
        if self.docmap is None:
            base = self.base
            if base:
                ids = list(map(base.__add__, ids))
            return ids, weights, values
        mapped = list(map(self.docmap.__getitem__, ids))
        if -1 not in mapped:
            return mapped, weights, values
        keep = [d >= 0 for d in mapped]
        return (list(compress(mapped, keep)), array("f", compress(weights, keep)),
                None if values is None else list(compress(values, keep)))

    def field_terms(self, fieldname: str, number: int, low: bytes = b"", high: bytes | None = None):
        """(term bytes, source number, term info bytes) of the field's terms from
        ``low`` up to, not including, ``high`` (None: to the end), in term order."""
        fieldid = self.terms._fieldmap.get(fieldname)
        if fieldid is None:
            return
        prefix = _FIELD_ID.pack(fieldid)
        for key, value in self.terms._tindex.items_from(prefix + low):
            if key[:2] != prefix:
                return
            text = key[2:]
            if high is not None and text >= high:
                return
            yield text, number, value

    def posting_bytes(self):
        """((field name, term bytes), offset, bytes of its posting list) of every term, in
        term order (a length of 0: held flat, the offset its key: ``held_flat``)."""
        names = {number: name for name, number in self.terms._fieldmap.items()}
        for key, value in self.terms._tindex.items():
            yield (names[_FIELD_ID.unpack_from(key)[0]], key[2:]), *_term_info_extent(value)

    def field_names(self):
        """The names of the fields this segment has terms of."""
        return self.terms._fieldmap.keys()

    def posting_bytes_total(self) -> int | None:
        """The size of the segment's postings file, if known."""
        return getattr(self.postfile, "_length", None)

    def release_pages(self, *others) -> None:
        """Unmap the pages read so far of the postings, the term table, the flat file
        and ``others`` (files of this segment): a merge reads the segments once, and
        pages it keeps mapped count in its process's RSS, up to the whole segment (they
        stay in the page cache)."""
        flat = reader_cache(self.reader).get("flat postings")
        for dbfile in (self.postfile, self.terms._tindex.dbfile, getattr(flat, "_file", None), *others):
            release_mapped(dbfile)

    def close(self):
        self.reader.close()


# A merge unmaps the pages of the stored fields it copied every this many documents.
_RELEASE_DOCS = 1 << 16


def write_per_document(perdoc, sources, schema, doccount: int) -> dict[str, bytes]:
    """Stored fields, columns and field lengths of the live documents, one after another.

    Returns each indexed field's length bytes by new document number (what the
    posting blocks' length bounds are computed from).
    """
    perdoc._doccount = doccount
    # Stored fields: the compressed pickles as they are (no unpickling).
    stored = perdoc._get_column("_stored")._child
    raw_writer = columns.VarBytesColumn.Writer.add
    for source in sources:
        if not source.live_count:
            continue
        colfile, offset, length = source.perdoc._get_column_file("_stored")
        reader = columns.VarBytesColumn.Reader(colfile, offset, length, source.count)
        for docnum, value in zip(count(source.base), source.keep(iter(reader))):
            raw_writer(stored, docnum, value)
            if not docnum % _RELEASE_DOCS:
                release_mapped(colfile)
        colfile.close()
    # Sortable columns, value by value as whoosh's merge copies them.
    for name, field in sorted(schema.items()):
        column = field.column_type
        if not column:
            continue
        column = writing_column(column)
        for source in sources:
            if not source.live_count or not source.perdoc.has_column(name):
                continue
            if not perdoc._has_column(name):
                perdoc._create_column(name, column)
            writer = perdoc._get_column(name)
            reader = source.perdoc.column_reader(name, column)
            for docnum, value in zip(count(source.base), source.keep(iter(reader))):
                writer.add(docnum, value)
    # Field lengths: one byte per document; the column ends at the last non-zero byte.
    lengths: dict[str, bytes] = {}
    totals = defaultdict(int)
    for name, field in sorted(schema.items()):
        if not field.indexed:
            continue
        merged = b"".join(source.length_bytes(name) for source in sources)
        if not merged.strip(b"\0"):
            continue
        lengths[name] = merged
        perdoc._cols.create_file(length_column_name(name)).write(merged.rstrip(b"\0"))
        perdoc._colwriters[length_column_name(name)] = _WrittenColumn()
        totals[name] = sum(byte_to_length(b) * merged.count(b) for b in set(merged) if b)
    perdoc._fieldlengths = totals
    return lengths


def release_mapped(dbfile) -> None:
    """Drop the pages of a mapped file (a MappedFile) from this process's RSS; the next
    read maps them again from the page cache. Anything else is left alone."""
    mapped = getattr(dbfile, "file", None)
    if isinstance(mapped, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        mapped.madvise(mmap.MADV_DONTNEED)


class _WrittenColumn:
    """A column already written in full: nothing to finish."""

    def finish(self, doccount):
        pass


def encode_term(ids, weights, values, fixedsize, fieldlengths: bytes | None, compression: int,
                start: int) -> tuple[bytes, bytes]:
    """(posting list bytes, term info bytes) of one term's postings (``ids`` ascending,
    ``weights`` an array("f"), ``values`` encoded or None), in blocks of 128 as
    W3PostingsWriter writes them; ``start``: where the bytes go in the postings file;
    ``fieldlengths``: each document's length byte of the field (for the blocks' bounds)."""
    total = len(ids)
    blocklimit = _BLOCK_LIMIT
    terminfo = W3TermInfo()
    out = [_BLOCK_MAGIC]
    dumps = pickle.dumps
    for first in range(0, total, blocklimit):
        block_ids = ids[first:first + blocklimit]
        block_weights = weights[first:first + blocklimit]
        n = len(block_ids)
        top = max(block_weights)
        block = _Block(block_ids, block_weights, top if top > 0 else 0)
        if fieldlengths is not None:
            present = bytes(map(fieldlengths.__getitem__, block_ids)).replace(b"\0", b"")
            if present:
                block.minlength = byte_to_length(min(present))
                block.maxlength = byte_to_length(max(present))
        terminfo.add_block(block)
        # What W3PostingsWriter._write_block writes, from C-speed pieces.
        deltas = [block_ids[0]]
        deltas.extend(map(sub, block_ids[1:], block_ids))
        if block_weights.count(1.0) == n:
            mini_weights = None
        elif block_weights.count(block_weights[0]) == n:
            mini_weights = block_weights[0]
        else:
            mini_weights = tuple(block_weights)
        if fixedsize is None or fixedsize < 0:
            mini_values = tuple(values[first:first + blocklimit])
        elif fixedsize == 0:
            mini_values = None
        else:
            mini_values = b"".join(values[first:first + blocklimit])
        databytes = dumps((tuple(deltas), mini_weights, mini_values), 2)
        if compression:
            databytes = zlib.compress(databytes, compression)
        infobytes = dumps((n, block_ids[-1], block.maxweight, compression,
                           length_to_byte(block.minlength), length_to_byte(block.maxlength)), 2)
        blocklength = len(infobytes) + len(databytes)
        if first + blocklimit >= total:
            blocklength = -blocklength  # the last block
        out.append(_BLOCK_LENGTH.pack(blocklength))
        out.append(infobytes)
        out.append(databytes)
    data = b"".join(out)
    terminfo.set_extent(start, len(data))
    return data, terminfo.to_bytes()


def shift_term_info(terminfo: bytes, shift: int, flat_shift: int = 0) -> bytes:
    """Term info bytes whose postings moved ``shift`` bytes further in the postings file,
    or, for a term held flat, ``flat_shift`` terms further in the flat file."""
    if terminfo[0] == _COMPACT:
        (_, *statistics), minid, maxid, key = _compact_fields(terminfo)
        return _compact_term_info(*statistics, minid, maxid, key + flat_shift)
    cut = -_EXTENT.size
    offset, length = _EXTENT.unpack_from(terminfo, len(terminfo) + cut)
    return terminfo[:cut] + _EXTENT.pack(offset + (shift if length else flat_shift), length)


def postings_output(fieldwriter):
    """(postings file, add(term bytes, term info bytes)) of a segment's field writer, for
    postings written outside it: ``add`` files a term info under the field started last.

    The term table keeps its hash entries in arrays (``HashBucket``) rather than whoosh's
    lists of tuples: those take about 120 bytes a term until the segment is closed, and a
    merge's new segment has as many terms as its sources together (millions at 10M
    passages). The file written is the same."""
    tindex = fieldwriter._tindex
    if not any(tindex.buckets):
        tindex.buckets = [HashBucket() for _ in tindex.buckets]

    def add(btext: bytes, terminfo: bytes) -> None:
        tindex.add(_FIELD_ID.pack(fieldwriter._fieldid) + btext, terminfo)

    return fieldwriter._postfile, add


class HashBucket:
    """One of whoosh's HashWriter buckets, its (hash, position) entries in two arrays
    (16 bytes an entry): what HashWriter.add appends and HashWriter.close reads back."""

    __slots__ = ("hashes", "positions")

    def __init__(self):
        self.hashes = array("Q")
        self.positions = array("Q")

    def append(self, entry: tuple[int, int]) -> None:
        self.hashes.append(entry[0])
        self.positions.append(entry[1])

    def __len__(self) -> int:
        return len(self.hashes)

    def __iter__(self):
        return zip(self.hashes, self.positions)


def codec_compression(codec) -> int:
    """The zlib level whoosh's codec compresses posting blocks with (0: none)."""
    return codec._compression


class _Block:
    """A block's statistics, as W3TermInfo.add_block reads them from a posting writer."""

    __slots__ = ("_ids", "_weights", "maxweight", "minlength", "maxlength")

    def __init__(self, ids, weights, maxweight):
        self._ids = ids
        self._weights = weights
        self.maxweight = maxweight
        self.minlength = None
        self.maxlength = 0

    def __len__(self):
        return len(self._ids)

    def min_id(self):
        return self._ids[0]

    def max_id(self):
        return self._ids[-1]

    def min_length(self):
        return self.minlength

    def max_length(self):
        return self.maxlength

    def max_weight(self):
        return self.maxweight
