"""Reading whoosh's compound segment files without copying them into memory.

whoosh 2.7.4 maps a compound segment file (``.seg``) and then opens each file
inside it as a ``BufferFile``, whose ``io.BytesIO(buf)`` copies that part of the
map: opening a reader copies the whole index into the process (on the 100k-document
benchmark index, 295 MB: 0.33 s and about 900 MB of peak RSS for one query).

``MappedCompoundStorage`` opens each inner file as a map of its own (the map's
offset rounded down to the allocation granularity, the difference added on every
seek), so reads go straight to the page cache: C-speed seek/read/readline for the
pickles and ints whoosh reads, and nothing is copied up front.
``use_mapped_segments()`` makes whoosh's segments open their compound files this
way; it is called when searcher opens an index (index/store.py), not on import.

It also gives whoosh's posting reader (``W3LeafMatcher.skip_to``) a binary search
inside a block instead of stepping one posting at a time with two method calls
each: phrase and AND queries skip a lot (same result: the first id >= target).
"""

from __future__ import annotations

import mmap
import os
from bisect import bisect_left

from whoosh.codec import base
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import StructFile
from whoosh.matching import ReadTooFar


class MappedFile(StructFile):
    """One file inside a compound file, read from a map of just that part of it."""

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
        from whoosh.filedb.structfile import BufferFile

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
        from whoosh.filedb.filestore import StorageError

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


whoosh_skip_to = None  # whoosh's own, once replaced (tests compare the two)


def _skip_to(self, targetid):
    """W3LeafMatcher.skip_to, with a binary search inside the block."""
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


def use_mapped_segments() -> None:
    """Open whoosh segments' compound files with MappedCompoundStorage, and the faster
    skip_to; and unpickle what whoosh reads with an allow-list (index/safepickle.py),
    so that opening a folder someone shared never runs code it names (idempotent)."""
    from whoosh.codec.whoosh3 import W3LeafMatcher

    from searcher.index.safepickle import use_safe_unpickling

    use_safe_unpickling()
    if base.Segment.open_compound_file is not _open_compound_file:
        base.Segment.open_compound_file = _open_compound_file
    if W3LeafMatcher.skip_to is not _skip_to:
        global whoosh_skip_to
        whoosh_skip_to = W3LeafMatcher.skip_to
        W3LeafMatcher.skip_to = _skip_to
