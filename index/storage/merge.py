"""Merging segments of an index into one: fast, in bounded memory, with whoosh's content.

whoosh merges segments (its MERGE_SMALL policy at every commit, or OPTIMIZE) by adding
every posting of every merged segment to a posting pool, one Python call each, which
spills sorted runs to a scratch folder and is then written out posting by posting. At
1M passages a run's last commit merged 25 segments that way: a 5 GB scratch folder,
1.6 GB of RSS and tens of minutes (tests/test_merge.py compares the two merges).

Segments of whoosh's codec already hold each term's postings sorted by document number,
and the documents of one segment all come after those of the segments before it. So a
merged posting list is the segments' lists one after another, each document number moved
by its segment's offset (or mapped, dropping deleted documents). ``merge_segments`` walks
the segments' term tables in step, decodes each term's posting blocks (zlib and pickle,
at C speed), renumbers them and re-encodes blocks of 128 as whoosh's posting writer does.
Stored fields and columns are copied as stored (no unpickling), field lengths as bytes.

Memory: one term's postings (gathered into arrays, 4 bytes a posting and a position),
one byte per document and field, 16 bytes per term of the new term table and whoosh's
6-8 bytes per document of stored fields' lengths and offsets. The sources are read
through maps, whose pages count in the process's RSS until unmapped: they are released
every RELEASE_TERMS terms (stored fields every 65,536 documents), or a merge's RSS
would grow to the size of its sources (at 1M passages 288 MB of a 429 MB peak, at 10M
most of a 1.08 GB one).

The new segment holds what whoosh's own merge would write (tests/test_merge.py compares
them term by term, block by block, document by document), deletions applied, except the
postings of the fields held flat (index/storage/flatpostings.py): those go to the new segment's flat
file only, read from each source's flat file (or from whoosh's blocks, for a segment of an
earlier release without one), with whoosh's term infos pointing there. Its files
are written but not published: the caller commits a table of contents that replaces the
merged segments by it (index/runs/writer.py), so an interrupted merge leaves only orphan files.

``segments_to_merge`` is the policy: which segments to merge after a commit.
"""

from __future__ import annotations

import heapq
import os
import pickle
import shutil
import signal
from array import array
from itertools import chain

from searcher.index.errors import IndexDamaged
from searcher.index.storage.flatpostings import (FLAT_EXT, FlatWriter, flat_postings, held_flat_field,
                                                 renumbered)
from searcher.index.storage.whoosh_private import (MergeUnsupported, SegmentSource, byte_to_length,
                                           codec_compression, encode_term, flat_term_info, held_flat,
                                           position_lists, postings_output, shift_term_info, term_info_from_bytes,
                                           write_per_document)

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
# A merge unmaps the pages it read of its sources every this many terms (SegmentSource.release_pages).
RELEASE_TERMS = 8192
# A segment with this share of its passages deleted is rewritten to drop them.
EXPUNGE_SHARE = 0.3



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
    from searcher.index.runs.builder import private_storage
    from searcher.index.storage.whoosh_private import W3Codec, W3Segment, use_searcher_readers

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
            source = SegmentSource(storage, schema, segment, base)
            sources.append(source)
            base += source.live_count
        if not base:
            return None  # every document was deleted: the segments just go
        perdoc = codec.per_document_writer(storage, merged)
        lengths = write_per_document(perdoc, sources, schema, base)
        perdoc.close()
        fields = codec.field_writer(storage, merged)
        flat = FlatWriter(merged.create_file(storage, FLAT_EXT), base)
        _write_postings(fields, flat, sources, schema, lengths, codec_compression(codec),
                        os.path.join(index_dir, merged.segment_id()), workers, close_fds)
        fields.close()
        flat.close()
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


def _write_postings(fieldwriter, flat, sources, schema, lengths: dict[str, bytes], compression: int,
                    part_prefix: str, workers: int, close_fds=()):
    """Every term of every field, its postings the sources' ones after another (to
    ``flat``, a FlatWriter, for the fields held flat).

    A big merge with ``workers`` > 1 gives the second half of the terms (by posting
    bytes) to a forked process, which writes their postings to files of its own
    (``<segment id>.pst1``, ``.flat1``) and their term infos to another (``.trm1``); they
    are appended once this process has written the first half.
    """
    names = set()
    for source in sources:
        names.update(source.field_names())
    names = sorted(n for n in names if n in schema)
    postfile, add_term = postings_output(fieldwriter)
    started = set()

    def publish(fieldname, btext, terminfo: bytes):
        if fieldname not in started:
            if started:
                fieldwriter.finish_field()
            fieldwriter.start_field(fieldname, schema[fieldname])
            started.add(fieldname)
        add_term(btext, terminfo)

    split = _split_key(sources) if workers > 1 else None
    if split is None:
        _merge_terms(sources, schema, names, lengths, compression, None, None, postfile, flat, publish)
    else:
        child = _start_part(sources, schema, names, lengths, compression, split, part_prefix, close_fds)
        try:
            _merge_terms(sources, schema, names, lengths, compression, None, split, postfile, flat, publish)
            _append_part(child, part_prefix, postfile, flat, publish)
        finally:
            _stop_part(child, part_prefix)
    if started:
        fieldwriter.finish_field()


# Below this many bytes of postings, a merge is not split between processes.
PARALLEL_BYTES = 32 * 1024 * 1024


def _split_key(sources):
    """The (field name, term) halving the biggest source's posting bytes, or None
    for a merge too small to split."""
    total = sum(source.posting_bytes_total() or 0 for source in sources)
    if total < PARALLEL_BYTES:
        return None
    biggest = max(sources, key=lambda source: source.live_count)
    pairs = list(_posting_sizes(biggest))
    half, running = sum(size for _, size in pairs) / 2, 0
    for key, size in pairs:
        running += size
        if running >= half:
            return key
    return None


def _posting_sizes(source):
    """((field name, term bytes), bytes of its postings) of every term of a source, in
    term order: whoosh's posting list, or its record in the flat file."""
    flat = flat_postings(source.reader)
    for key, offset, length in source.posting_bytes():
        yield key, (flat.record_size(offset) if length == 0 and flat is not None and flat.sole else length)


def _source_flat(source, valbytes: bytes, fixedsize):
    """(ids, tfs, positions) of a term in one source, renumbered: from its flat file, or
    from whoosh's blocks in a segment that holds them there."""
    info = term_info_from_bytes(valbytes)
    flat = flat_postings(source.reader)
    term = None if flat is None else flat.term(info)
    if term is not None:
        return renumbered(term.ids, term.tfs, term.positions, source.base, source.docmap)
    if held_flat(info):
        raise IndexDamaged("the index's postings are damaged: rebuild it with 'searcher index --rebuild PATH...'")
    ids, weights, values = source.postings(valbytes, fixedsize)
    return (array("I", ids), list(map(int, weights)),
            array("I", chain.from_iterable(position_lists(values)) if values else ()))


def _merge_terms(sources, schema, names, lengths, compression, start, end, postfile, flat, publish):
    """Merge the terms from ``start`` up to ``end`` ((field name, term); None: no bound):
    postings to ``postfile`` (or ``flat``), each term's info to
    ``publish(field name, term, info bytes)``."""
    for fieldname in names:
        if (start is not None and fieldname < start[0]) or (end is not None and fieldname > end[0]):
            continue
        low = start[1] if start is not None and fieldname == start[0] else b""
        high = end[1] if end is not None and fieldname == end[0] else None
        fixedsize = schema[fieldname].format.fixed_value_size()
        fieldlengths = lengths.get(fieldname)
        streams = [source.field_terms(fieldname, i, low, high) for i, source in enumerate(sources)]
        if held_flat_field(fieldname, schema[fieldname]):
            _merge_flat_terms(fieldname, sources, streams, fixedsize, fieldlengths, flat, publish)
            continue
        current, parts = None, []
        for terms, (btext, number, valbytes) in enumerate(heapq.merge(*streams)):
            if btext != current:
                if parts:
                    _flush_term(fieldname, current, parts, fixedsize, fieldlengths, compression,
                                postfile, publish)
                current, parts = btext, []
                if not terms % RELEASE_TERMS:
                    for source in sources:
                        source.release_pages()
            parts.append(sources[number].postings(valbytes, fixedsize))
        if parts:
            _flush_term(fieldname, current, parts, fixedsize, fieldlengths, compression,
                        postfile, publish)


def _merge_flat_terms(fieldname, sources, streams, fixedsize, fieldlengths, flat, publish):
    """The terms of a field held flat: each term's postings to ``flat``, its info published.

    A term's postings from several sources are appended to arrays as each source's
    arrive (``_Postings``), so that a term in most passages is held once, at 4 bytes a
    posting and a position, not as every source's lists and their concatenation."""
    current, postings = None, None

    def flush():
        ids, tfs, positions = postings.parts()
        if not ids:
            return  # every posting was of a deleted document: the term goes
        key = flat.add(ids, tfs, positions)
        present = bytes(map(fieldlengths.__getitem__, ids)).replace(b"\0", b"") if fieldlengths else b""
        publish(fieldname, current, flat_term_info(key, ids, tfs, byte_to_length(min(present)) if present else None,
                                                   byte_to_length(max(present)) if present else 0))

    for terms, (btext, number, valbytes) in enumerate(heapq.merge(*streams)):
        if btext != current:
            if postings is not None:
                flush()
            current, postings = btext, _Postings()
            if not terms % RELEASE_TERMS:
                for source in sources:
                    source.release_pages()
        postings.add(*_source_flat(sources[number], valbytes, fixedsize))
    if postings is not None:
        flush()


class _Postings:
    """One term's postings, gathered from its sources in order."""

    __slots__ = ("ids", "tfs", "positions", "owned")

    def __init__(self):
        self.ids = self.tfs = self.positions = None
        self.owned = False

    def add(self, ids, tfs, positions) -> None:
        if self.ids is None:
            self.ids, self.tfs, self.positions = ids, tfs, positions  # kept as they are if alone
            return
        if not self.owned:
            self.ids, self.tfs, self.positions = array("I", self.ids), array("I", self.tfs), array("I", self.positions)
            self.owned = True
        self.ids.extend(ids)
        self.tfs.extend(tfs)
        self.positions.extend(positions)

    def parts(self):
        return self.ids, self.tfs, self.positions


def _start_part(sources, schema, names, lengths, compression, split, prefix, close_fds) -> int:
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
        flat = FlatWriter(open(prefix + ".flat1", "wb"), sum(source.live_count for source in sources))
        with open(prefix + ".pst1", "wb") as postfile, open(prefix + ".trm1", "wb") as termfile:
            def publish(fieldname, btext, terminfo):
                infos.append((fieldname, btext, terminfo))
                if len(infos) >= 10_000:
                    pickle.dump(infos, termfile, 4)
                    infos.clear()
                    if os.getppid() != parent:
                        os._exit(1)  # the parent is gone: stop
            _merge_terms(sources, schema, names, lengths, compression, split, None, postfile, flat, publish)
            pickle.dump(infos, termfile, 4)
        flat.close()
        status = 0
    except BaseException as exc:
        try:
            with open(prefix + ".err", "w", encoding="utf-8") as err:
                err.write(f"{type(exc).__name__}: {exc}")
        except OSError:
            pass
    finally:
        os._exit(status)


def _append_part(pid: int, prefix: str, postfile, flat, publish):
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
    shift, flat_shift = postfile.tell(), flat.terms
    with open(prefix + ".pst1", "rb") as part:
        shutil.copyfileobj(part, postfile, 1024 * 1024)
    with open(prefix + ".flat1", "rb") as part:
        flat.append(part)
    with open(prefix + ".trm1", "rb") as termfile:
        while True:
            try:
                infos = pickle.load(termfile)
            except EOFError:
                break
            for fieldname, btext, terminfo in infos:
                publish(fieldname, btext, shift_term_info(terminfo, shift, flat_shift))


def _stop_part(pid: int, prefix: str):
    """Make sure the forked part is gone and its files deleted."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    for suffix in (".pst1", ".trm1", ".flat1", ".err"):
        try:
            os.remove(prefix + suffix)
        except OSError:
            pass


def _flush_term(fieldname, btext, parts, fixedsize, fieldlengths, compression, postfile, publish):
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
    if not ids:
        return  # every posting was of a deleted document: whoosh drops the term
    data, terminfo = encode_term(ids, weights, values, fixedsize, fieldlengths, compression, postfile.tell())
    postfile.write(data)
    publish(fieldname, btext, terminfo)
