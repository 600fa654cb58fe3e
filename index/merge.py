"""Merging segments of an index into one: fast, in bounded memory, with whoosh's content.

whoosh merges segments (its MERGE_SMALL policy at every commit, or OPTIMIZE) by adding
every posting of every merged segment to a posting pool, one Python call each, which
spills sorted runs to a scratch folder and is then written out posting by posting. At
1M passages a run's last commit merged 25 segments that way: a 5 GB scratch folder,
1.6 GB of RSS and tens of minutes (see tests/test_merge.py and /work/notes/H4-merge.md).

Segments of whoosh's codec already hold each term's postings sorted by document number,
and the documents of one segment all come after those of the segments before it. So a
merged posting list is the segments' lists one after another, each document number moved
by its segment's offset (or mapped, dropping deleted documents). ``merge_segments`` walks
the segments' term tables in step, decodes each term's posting blocks (zlib and pickle,
at C speed), renumbers them and re-encodes blocks of 128 as whoosh's posting writer does.
Stored fields and columns are copied as stored (no unpickling), field lengths as bytes.
Memory holds one term's postings and one byte per document and field.

The new segment holds what whoosh's own merge would write (tests/test_merge.py compares
them term by term, block by block, document by document), deletions applied, and the
merged flat postings of its sources (index/flatpostings.py; none if a source lacks them). Its files
are written but not published: the caller commits a table of contents that replaces the
merged segments by it (index/writer.py), so an interrupted merge leaves only orphan files.

``segments_to_merge`` is the policy: which segments to merge after a commit.
"""

from __future__ import annotations

import heapq
import mmap
import os
import pickle
import shutil
import signal
import struct
import zlib
from array import array
from collections import defaultdict
from itertools import accumulate, compress, count, repeat
from operator import sub

from searcher.index.whoosh_private import (SegmentReader, W3TermInfo, byte_to_length, columns, decode_block,
                                           length_bytes, length_column_name, length_to_byte, read_block_header)

# The policy is a log-structured merge (as Lucene's LogMergePolicy): segments fall into
# size levels, LEVEL_FLOOR passages and under the lowest, each level 10 times the one
# below; a level holding MERGE_FACTOR segments is merged into one, a level up. An index
# then has a logarithmic number of segments, and a passage is rewritten about once per
# level it climbs. Merging costs about 0.2 ms of CPU per passage, and queries gain
# little from fewer big segments (8 -> 1 segments at 225k passages: 0-8 % less CPU per
# query; 30 -> 1 at 1M: 7.5 % less in all), so levels of segments over LARGE_SEGMENT
# passages wait for LARGE_FACTOR segments (an indexing worker writes about 50k passages
# before its memory budget ends a segment: a first run of 1M passages merges none).
MERGE_FACTOR = 10
LARGE_FACTOR = 50
LEVEL_FLOOR = 2_000
LARGE_SEGMENT = 20_000
# A segment with this share of its passages deleted is rewritten to drop them.
EXPUNGE_SHARE = 0.3

_BLOCK_MAGIC = b"W3Bl"
_BLOCK_LIMIT = 128  # postings per block, as W3Codec writes them
_INT = struct.Struct("!i")
_FIELD_ID = struct.Struct("!H")
_EXTENT = struct.Struct("!qi")  # a term info's pointer into the posting file: offset, length


class MergeUnsupported(Exception):
    """Segments this merge cannot combine (another codec, term vectors, inlined postings)."""


def segments_to_merge(segments) -> list:
    """The segments to merge into one (in their index order), or [] for none.

    The lowest level with MERGE_FACTOR segments or more (LARGE_FACTOR for large
    segments) is merged whole, with the levels below it; merging again afterwards
    may cascade a level up. Otherwise a segment with many deletions is rewritten,
    with the segments of its level and below.
    """
    sizes = [s.doc_count_all() - s.deleted_count() for s in segments]
    levels = [level_of(size) for size in sizes]
    chosen = []
    for level in sorted(set(levels)):
        large = max(size for size, other in zip(sizes, levels) if other == level) > LARGE_SEGMENT
        if levels.count(level) >= (LARGE_FACTOR if large else MERGE_FACTOR):
            # With the smaller segments below: they cost little more to rewrite.
            chosen = [i for i, other in enumerate(levels) if other <= level]
            break
    else:
        for i, segment in enumerate(segments):
            total = segment.doc_count_all()
            if total and segment.deleted_count() >= EXPUNGE_SHARE * total:
                chosen = [j for j, l in enumerate(levels) if l <= levels[i]]
                break
    return [segments[i] for i in chosen]


def level_of(size: int) -> int:
    """0 for LEVEL_FLOOR passages and under, then one more for each 10 times more."""
    level, bound = 0, LEVEL_FLOOR
    while size > bound:
        level += 1
        bound *= 10
    return level


def merge_segments(index_dir, indexname: str, schema, segments, workers: int = 1, close_fds=()):
    """One new segment with the live documents of ``segments``, in their order (None
    if they have none).

    Its files are written into ``index_dir`` but not published (no new table of contents).
    ``workers``: processes writing postings (big merges split the terms between them);
    ``close_fds``: descriptors a forked merging process must not keep (the run lock).
    Raises MergeUnsupported for segments it cannot merge (nothing is written then).
    """
    from searcher.index.builder import private_storage
    from searcher.index.whoosh_private import W3Codec, W3Segment, use_searcher_readers

    for name, field in schema.items():
        if field.vector:
            raise MergeUnsupported(f"field {name!r} has term vectors")
    for segment in segments:
        if type(segment) is not W3Segment or type(segment.codec()) is not W3Codec:
            raise MergeUnsupported(f"segment {segment!r} is not of whoosh's default codec")
    use_searcher_readers()  # read the segments in place, not copied into memory
    storage = private_storage(index_dir, indexname)
    codec = W3Codec()
    merged = codec.new_segment(storage, indexname)
    sources, base = [], 0
    try:
        for segment in segments:
            source = _Source(storage, schema, segment, base)
            sources.append(source)
            base += source.live_count
        if not base:
            return None  # every document was deleted: the segments just go
        perdoc = codec.per_document_writer(storage, merged)
        lengths = _write_per_document(perdoc, sources, schema, base)
        perdoc.close()
        fields = codec.field_writer(storage, merged)
        _write_postings(fields, sources, schema, lengths, codec._compression,
                        os.path.join(index_dir, merged.segment_id()), workers, close_fds)
        fields.close()
        _write_flat(storage, codec, merged, sources, base)
        merged.set_doc_count(base)
        merged.create_compound_file(storage)
    except BaseException:
        for name in merged.list_files(storage):
            try:
                storage.delete_file(name)
            except OSError:
                pass
        raise
    finally:
        for source in sources:
            source.close()
        shutil.rmtree(os.path.join(storage.folder, storage.scratch), ignore_errors=True)
    return merged


def _write_flat(storage, codec, merged, sources, doc_count: int) -> None:
    """The merged segment's flat postings (index/flatpostings.py), if every source has them."""
    from searcher.index.flatpostings import FLAT_EXT, merge_flat

    terms = codec.terms_reader(storage, merged)
    try:
        written = merge_flat(merged.create_file(storage, FLAT_EXT), terms,
                             [(source.reader, source.base, source.docmap) for source in sources], doc_count)
    finally:
        terms.close()
    if not written:
        storage.delete_file(merged.make_filename(FLAT_EXT))


class _Source:
    """One segment being merged: its reader, and where its live documents go."""

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
            self.docmap = [-1] * count_all
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
        """((field name, term bytes), bytes of its posting list) of every term, in term order."""
        names = {number: name for name, number in self.terms._fieldmap.items()}
        for key, value in self.terms._tindex.items():
            yield (names[_FIELD_ID.unpack_from(key)[0]], key[2:]), _EXTENT.unpack_from(value, len(value) - 12)[1]

    def close(self):
        self.reader.close()


def _write_per_document(perdoc, sources, schema, doccount: int) -> dict[str, bytes]:
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
        colfile.close()
    # Sortable columns, value by value as whoosh's merge copies them.
    for name, field in sorted(schema.items()):
        column = field.column_type
        if not column:
            continue
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


class _WrittenColumn:
    """A column already written in full: nothing to finish."""

    def finish(self, doccount):
        pass


def _write_postings(fieldwriter, sources, schema, lengths: dict[str, bytes], compression: int,
                    part_prefix: str, workers: int, close_fds=()):
    """Every term of every field, its postings the sources' ones after another.

    A big merge with ``workers`` > 1 gives the second half of the terms (by posting
    bytes) to a forked process, which writes their postings to a file of its own
    (``<segment id>.pst1``) and their term infos to another (``.trm1``); they are
    appended once this process has written the first half.
    """
    names = set()
    for source in sources:
        names.update(source.terms._fieldmap)
    names = sorted(n for n in names if n in schema)
    postfile = fieldwriter._postfile
    tindex = fieldwriter._tindex
    started = set()

    def publish(fieldname, btext, terminfo: bytes):
        if fieldname not in started:
            if started:
                fieldwriter.finish_field()
            fieldwriter.start_field(fieldname, schema[fieldname])
            started.add(fieldname)
        tindex.add(_FIELD_ID.pack(fieldwriter._fieldid) + btext, terminfo)

    split = _split_key(sources) if workers > 1 else None
    if split is None:
        _merge_terms(sources, schema, names, lengths, compression, None, None, postfile, publish, W3TermInfo)
    else:
        child = _start_part(sources, schema, names, lengths, compression, split, part_prefix, close_fds,
                            W3TermInfo)
        try:
            _merge_terms(sources, schema, names, lengths, compression, None, split, postfile, publish,
                         W3TermInfo)
            _append_part(child, part_prefix, postfile, publish)
        finally:
            _stop_part(child, part_prefix)
    if started:
        fieldwriter.finish_field()


# Below this many bytes of postings, a merge is not split between processes.
PARALLEL_BYTES = 32 * 1024 * 1024


def _split_key(sources):
    """The (field name, term) halving the biggest source's posting bytes, or None
    for a merge too small to split."""
    total = sum(source.postfile._length for source in sources if hasattr(source.postfile, "_length"))
    if total < PARALLEL_BYTES:
        return None
    biggest = max(sources, key=lambda source: source.live_count)
    pairs = list(biggest.posting_bytes())
    half, running = sum(size for _, size in pairs) / 2, 0
    for key, size in pairs:
        running += size
        if running >= half:
            return key
    return None


def _merge_terms(sources, schema, names, lengths, compression, start, end, postfile, publish, W3TermInfo):
    """Merge the terms from ``start`` up to ``end`` ((field name, term); None: no bound):
    postings to ``postfile``, each term's info to ``publish(field name, term, info bytes)``."""
    for fieldname in names:
        if (start is not None and fieldname < start[0]) or (end is not None and fieldname > end[0]):
            continue
        low = start[1] if start is not None and fieldname == start[0] else b""
        high = end[1] if end is not None and fieldname == end[0] else None
        fixedsize = schema[fieldname].format.fixed_value_size()
        fieldlengths = lengths.get(fieldname)
        streams = [source.field_terms(fieldname, i, low, high) for i, source in enumerate(sources)]
        current, parts = None, []
        for terms, (btext, number, valbytes) in enumerate(heapq.merge(*streams)):
            if btext != current:
                if parts:
                    _flush_term(fieldname, current, parts, fixedsize, fieldlengths, compression,
                                postfile, publish, W3TermInfo)
                current, parts = btext, []
                if not terms % 8192:
                    _release_pages(sources)
            parts.append(sources[number].postings(valbytes, fixedsize))
        if parts:
            _flush_term(fieldname, current, parts, fixedsize, fieldlengths, compression,
                        postfile, publish, W3TermInfo)


def _release_pages(sources):
    """Unmap the pages of the segments read so far (they stay in the page cache): the
    segments are read once, and mapped pages would count in this process's RSS."""
    for source in sources:
        for dbfile in (source.postfile, source.terms._tindex.dbfile):
            mapped = getattr(dbfile, "file", None)
            if isinstance(mapped, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
                mapped.madvise(mmap.MADV_DONTNEED)


def _start_part(sources, schema, names, lengths, compression, split, prefix, close_fds, W3TermInfo) -> int:
    """Fork a process merging the terms from ``split`` on; returns its pid."""
    pid = os.fork()
    if pid:
        return pid
    # The child: never returns into the caller's code.
    status = 1
    try:
        for fd in close_fds:
            os.close(fd)  # a run lock must die with the run, not wait for this process
        parent = os.getppid()
        infos = []
        with open(prefix + ".pst1", "wb") as postfile, open(prefix + ".trm1", "wb") as termfile:
            def publish(fieldname, btext, terminfo):
                infos.append((fieldname, btext, terminfo))
                if len(infos) >= 10_000:
                    pickle.dump(infos, termfile, 4)
                    infos.clear()
                    if os.getppid() != parent:
                        os._exit(1)  # the parent is gone: stop
            _merge_terms(sources, schema, names, lengths, compression, split, None, postfile, publish,
                         W3TermInfo)
            pickle.dump(infos, termfile, 4)
        status = 0
    except BaseException as exc:
        try:
            with open(prefix + ".err", "w", encoding="utf-8") as err:
                err.write(f"{type(exc).__name__}: {exc}")
        except OSError:
            pass
    finally:
        os._exit(status)


def _append_part(pid: int, prefix: str, postfile, publish):
    """Wait for the forked part, then append its postings and publish its terms."""
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        try:
            with open(prefix + ".err", encoding="utf-8") as err:
                detail = err.read()
        except OSError:
            detail = f"exit status {os.waitstatus_to_exitcode(status)}"
        if detail.startswith(MergeUnsupported.__name__):
            raise MergeUnsupported(detail)
        raise OSError(f"a merging process failed ({detail})")
    shift = postfile.tell()
    with open(prefix + ".pst1", "rb") as part:
        shutil.copyfileobj(part, postfile, 1024 * 1024)
    extent = _EXTENT
    cut = -extent.size
    with open(prefix + ".trm1", "rb") as termfile:
        while True:
            try:
                infos = pickle.load(termfile)
            except EOFError:
                break
            for fieldname, btext, terminfo in infos:
                offset, length = extent.unpack_from(terminfo, len(terminfo) + cut)
                publish(fieldname, btext, terminfo[:cut] + extent.pack(offset + shift, length))


def _stop_part(pid: int, prefix: str):
    """Make sure the forked part is gone and its files deleted."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    for suffix in (".pst1", ".trm1", ".err"):
        try:
            os.remove(prefix + suffix)
        except OSError:
            pass


def _flush_term(fieldname, btext, parts, fixedsize, fieldlengths, compression, postfile, publish,
                W3TermInfo):
    """Write one term's merged postings in blocks, then publish its term info."""
    if len(parts) == 1:
        ids, weights, values = parts[0]
    else:
        ids, weights, values = [], array("f"), (None if parts[0][2] is None else [])
        for part_ids, part_weights, part_values in parts:
            ids.extend(part_ids)
            weights.extend(part_weights)
            if values is not None:
                values.extend(part_values)
    total = len(ids)
    if not total:
        return  # every posting was of a deleted document: whoosh drops the term
    blocklimit = _BLOCK_LIMIT
    terminfo = W3TermInfo()
    start = postfile.tell()
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
        out.append(_INT.pack(blocklength))
        out.append(infobytes)
        out.append(databytes)
    data = b"".join(out)
    postfile.write(data)
    terminfo.set_extent(start, len(data))
    publish(fieldname, btext, terminfo.to_bytes())


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
