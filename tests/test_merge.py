"""index/storage/merge.py: a merged segment holds what whoosh's own merge would write, and the policy."""

from __future__ import annotations

import io
import pickle
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searcher.index.runs.builder import passage_documents
from searcher.index.storage.flatpostings import FLAT_FIELDS
from searcher.index.storage.merge import merge_segments, segments_to_merge
from searcher.index.storage.schema import make_schema
from documents import documents_of, term_rows
from flatcheck import assert_flat_postings_complete


# --- building segments, and whoosh's own merge of them --------------------------------------

def new_index(folder, language="english"):
    from whoosh import index as whoosh_index

    folder.mkdir()
    return whoosh_index.create_in(str(folder), make_schema(language))


def write_segment(ix, docs, fast=True):
    from whoosh.writing import SegmentWriter

    from searcher.index.storage.fastwrite import FastSegmentWriter

    writer = FastSegmentWriter(ix) if fast else SegmentWriter(ix, _lk=False)
    for doc in docs:
        writer.add_document(**doc)
    segment = writer._finalize_segment()
    writer._finish()
    return segment


def whoosh_merge(ix, segments):
    """What whoosh's OPTIMIZE / MERGE_SMALL write for these segments: add_reader of each."""
    from whoosh.reading import SegmentReader
    from whoosh.writing import SegmentWriter

    writer = SegmentWriter(ix, _lk=False)
    for segment in segments:
        reader = SegmentReader(ix.storage, ix.schema, segment)
        writer.add_reader(reader)
        reader.close()
    merged = writer._finalize_segment()
    writer._finish()
    return merged


# --- everything a segment holds --------------------------------------------------------------

def contents(ix, segment) -> dict:
    """A segment's documents, terms, postings and posting blocks, decoded."""
    from whoosh.codec.whoosh3 import W3TermInfo
    from whoosh.reading import SegmentReader

    reader = SegmentReader(ix.storage, ix.schema, segment)
    schema = ix.schema
    docs = []
    for docnum in range(reader.doc_count_all()):
        lengths = {name: reader.doc_field_length(docnum, name) for name in schema.names()}
        columns = {name: reader.column_reader(name, translate=False)[docnum]
                   for name, field in schema.items() if field.column_type and reader.has_column(name)}
        docs.append((reader.is_deleted(docnum), reader.stored_fields(docnum), lengths, columns))
    terms = []
    for row in term_rows(reader):
        fieldname, text = row[:2]
        if fieldname in FLAT_FIELDS:
            # Held flat by searcher's merge (no posting blocks), in blocks by whoosh's: the
            # postings in the row, read through each segment's matchers, are what is compared.
            terms.append(row + (None,))
            continue
        raw = reader._terms._tindex[reader._terms._keycoder(fieldname, text)]
        offset, length = W3TermInfo.from_bytes(raw).extent()
        length = length[0] if isinstance(length, tuple) else length  # whoosh reads it as a 1-tuple
        terms.append(row + (posting_blocks(reader._terms._postfile.get(offset, length)),))
    fieldmap = dict(reader._terms._fieldmap)
    # Flat postings are searcher's own addition, checked by assert_flat_postings_complete.
    files = (sorted(name.split(".", 1)[1] for name in reader._storage.list() if not name.endswith(".flat"))
             if segment.is_compound() else None)
    result = {
        "doc_count": reader.doc_count_all(),
        "deleted": segment.deleted_count(),
        "field_lengths": {name: reader.field_length(name) for name in schema.names()},
        "min_max_lengths": {name: (reader.min_field_length(name), reader.max_field_length(name))
                            for name in segment._fieldlengths},
        "docs": docs,
        "terms": terms,
        "fieldmap": fieldmap,
        "files": files,
    }
    reader.close()
    return result


def posting_blocks(data: bytes) -> list:
    """A term's posting list as [(block info, block data)], unpickled."""
    assert data[:4] == b"W3Bl"
    blocks, pos = [], 4
    while pos < len(data):
        (length,) = struct.unpack(">i", data[pos:pos + 4])
        pos += 4
        chunk = data[pos:pos + abs(length)]
        pos += abs(length)
        stream = io.BytesIO(chunk)
        info = pickle.Unpickler(stream).load()
        rest = chunk[stream.tell():]
        blocks.append((length < 0, info, pickle.loads(zlib.decompress(rest) if info[3] else rest)))
    return blocks


def live_view(content: dict) -> dict:
    """What queries see of a segment: its live documents and their postings only."""
    return {"docs": [d[1:] for d in content["docs"] if not d[0]],
            "postings": {(t[0], t[1]): [p[1:] for p in t[9]] for t in content["terms"] if t[9]}}


def assert_merge_like_whoosh(tmp_path, groups, deletions=(), fast=True, language="english", workers=1):
    """``workers`` 2: the merge is split between two processes however small it is."""
    import searcher.index.storage.merge

    ix = new_index(tmp_path / "ix", language)
    segments = [write_segment(ix, docs, fast) for docs in groups]
    for number, docnum in deletions:
        segments[number].delete_document(docnum)
    threshold, searcher.index.storage.merge.PARALLEL_BYTES = searcher.index.storage.merge.PARALLEL_BYTES, 0
    try:
        merged = merge_segments(str(tmp_path / "ix"), ix.indexname, ix.schema, segments, workers)
    finally:
        searcher.index.storage.merge.PARALLEL_BYTES = threshold
    if all(s.deleted_count() == s.doc_count_all() for s in segments):
        assert merged is None  # where whoosh would write an empty segment
        return None
    expected = whoosh_merge(ix, segments)
    assert merged.deleted_count() == 0 and merged.is_compound()
    got = contents(ix, merged)
    assert got == contents(ix, expected)
    # The merged segment holds the text fields flat, whatever its sources held.
    from whoosh.reading import SegmentReader

    reader = SegmentReader(ix.storage, ix.schema, merged)
    try:
        assert_flat_postings_complete(reader)
    finally:
        reader.close()
    # No scratch folders or loose segment files are left behind.
    names = {p.name for p in (tmp_path / "ix").iterdir()}
    assert all(name.endswith((".seg", ".toc")) for name in names), names
    return got


# --- the tests ---------------------------------------------------------------------------------

def test_merge_is_whoosh_merge_on_the_test_corpus(tmp_path, corpus):
    docs = []
    for path in sorted(corpus.rglob("*.*")):
        docs.extend(passage_documents(str(path)))
    assert len(docs) >= 4
    got = assert_merge_like_whoosh(tmp_path, [docs[:2], docs[2:3], docs[3:]])
    assert got["doc_count"] == len(docs) and got["terms"]


@pytest.mark.parametrize("workers", [1, 2])
def test_merge_with_deletions_and_long_posting_lists(tmp_path, workers):
    # More postings per term than a block holds (128), spread over segments, some deleted.
    texts = [f"Title {i % 3}\n\n" + " ".join(f"word{j % 50} common the rule of law." for j in range(i % 40 + 1))
             for i in range(360)]
    docs = documents_of(tmp_path, texts)
    groups = [docs[:100], docs[100:101], docs[101:250], docs[250:]]
    deletions = [(0, d) for d in range(0, 100, 3)] + [(1, 0)] + [(2, d) for d in range(140, 149)]
    got = assert_merge_like_whoosh(tmp_path, groups, deletions, workers=workers)
    assert any(len(t[9]) > 2 * 128 for t in got["terms"])  # terms of several blocks' postings


def test_merge_of_segments_written_by_whoosh_itself(tmp_path, corpus):
    docs = []
    for path in sorted(corpus.rglob("*.*")):
        docs.extend(passage_documents(str(path)))
    assert_merge_like_whoosh(tmp_path, [docs[:2], docs[2:]], [(0, 1)], fast=False)


def test_merge_of_only_deleted_documents(tmp_path, corpus):
    docs = []
    for path in sorted(corpus.rglob("*.*")):
        docs.extend(passage_documents(str(path)))
    assert_merge_like_whoosh(tmp_path, [docs[:1], docs[1:]], [(0, 0)] + [(1, d) for d in range(len(docs) - 1)])


TEXT = st.text(alphabet=st.sampled_from(list("ab cé.É'’-\nŠš1_東")), min_size=1, max_size=200)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(TEXT, min_size=1, max_size=4), min_size=1, max_size=4), st.data())
def test_merge_is_whoosh_merge_on_any_text(tmp_path_factory, groups_of_texts, data):
    tmp_path = tmp_path_factory.mktemp("any")
    groups = []
    for number, texts in enumerate(groups_of_texts):
        folder = tmp_path / f"g{number}"
        folder.mkdir()
        texts = [t for t in texts if t.strip(" .'’-\n_")]
        docs = documents_of(folder, texts)
        if docs:
            groups.append(docs)
    if not groups:
        return
    deletions = [(g, d) for g, docs in enumerate(groups) for d in range(len(docs))
                 if data.draw(st.booleans(), label=f"delete {g}:{d}")]
    assert_merge_like_whoosh(tmp_path, groups, deletions, workers=data.draw(st.sampled_from([1, 2])))


def test_queries_see_the_same_documents_after_a_merge(tmp_path, corpus):
    """Deleted passages are gone, live ones keep their order, postings and stored fields."""
    docs = []
    for path in sorted(corpus.rglob("*.*")):
        docs.extend(passage_documents(str(path)))
    ix = new_index(tmp_path / "ix")
    segments = [write_segment(ix, docs[:2]), write_segment(ix, docs[2:])]
    segments[0].delete_document(1)
    before = [live_view(contents(ix, s)) for s in segments]
    merged = contents(ix, merge_segments(str(tmp_path / "ix"), "MAIN", ix.schema, segments))
    assert [d[1:] for d in merged["docs"]] == before[0]["docs"] + before[1]["docs"]


@pytest.mark.parametrize("sizes, deleted, expected", [
    ([], [], []),
    ([100], [0], []),
    ([100], [40], [0]),  # many deletions: rewritten
    ([52000] * 4 + [8500, 8700, 362, 204], [0] * 8, []),  # fewer than MERGE_FACTOR per level
    ([50] * 9 + [52000], [0] * 10, []),
    ([50] * 10 + [52000], [0] * 11, list(range(10))),  # a full level merges, the rest stays
    ([5000] * 10 + [50] * 10, [0] * 20, list(range(10, 20))),  # the lowest full level first
    ([50] * 3 + [5000] * 10, [0] * 13, list(range(13))),  # a full level takes the smaller along
    ([52000] * 34, [0] * 34, []),  # big segments gain queries little: left alone...
    ([52000] * 50 + [10], [0] * 51, list(range(51))),  # ... up to LARGE_FACTOR of a level
    ([1000000, 52000, 300], [400000, 0, 0], [0, 1, 2]),  # deletions: with what is smaller
    ([1000000, 52000, 300], [0, 30000, 0], [1, 2]),
])
def test_which_segments_are_merged(sizes, deleted, expected):
    segments = [FakeSegment(s, d) for s, d in zip(sizes, deleted)]
    assert segments_to_merge(segments) == [segments[i] for i in expected]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 10**5), max_size=60))
def test_segment_count_stays_logarithmic(sizes):
    """Merging after every commit leaves fewer than MERGE_FACTOR small segments per
    level (LARGE_FACTOR large ones), and rewrites each passage about once per level."""
    from searcher.index.storage.merge import LARGE_FACTOR, LARGE_SEGMENT, MERGE_FACTOR, level_of

    segments = []
    rewritten = 0
    for size in sizes:
        segments.append(FakeSegment(size, 0))
        while chosen := segments_to_merge(segments):
            assert len(chosen) >= 2
            segments = [s for s in segments if s not in chosen]
            segments.append(FakeSegment(sum(s.doc_count_all() for s in chosen), 0))
            rewritten += segments[-1].count
        levels = [level_of(s.count) for s in segments]
        assert all(levels.count(level) < LARGE_FACTOR for level in levels)
        assert all(levels.count(level_of(s.count)) < MERGE_FACTOR for s in segments if s.count <= LARGE_SEGMENT)
    total = sum(sizes)
    assert rewritten <= total * (level_of(total) + 1)


class FakeSegment:
    def __init__(self, count, deleted):
        self.count, self.deleted = count, deleted

    def doc_count_all(self):
        return self.count

    def deleted_count(self):
        return self.deleted

    def __repr__(self):
        return f"<{self.count}-{self.deleted}>"


# --- memory: what a merge holds does not grow with the segments' size --------------------------

def test_merge_unmaps_what_it_read_of_every_source_as_it_goes(tmp_path, monkeypatch):
    """Mapped pages of the sources count in the merging process's RSS: every batch of
    RELEASE_TERMS terms, each source's postings, term table and flat file are unmapped,
    and its stored fields every _RELEASE_DOCS documents (at 10M passages, kept mapped,
    they were most of a 1.6 GB peak)."""
    import searcher.index.storage.merge as merge
    import searcher.index.storage.whoosh_private as door
    from searcher.index.storage.flatpostings import flat_postings

    texts = [f"Title {i}\n\n" + " ".join(f"word{j} rare{i}" for j in range(i % 7 + 1)) for i in range(60)]
    docs = documents_of(tmp_path, texts)
    ix = new_index(tmp_path / "ix")
    segments = [write_segment(ix, docs[:20]), write_segment(ix, docs[20:45]), write_segment(ix, docs[45:])]
    released = []
    opened = []
    real_source = door.SegmentSource

    class Source(real_source):
        def __init__(self, *args):
            super().__init__(*args)
            opened.append(self)

    monkeypatch.setattr(merge, "SegmentSource", Source, raising=False)
    monkeypatch.setattr(door, "SegmentSource", Source)
    monkeypatch.setattr(door, "release_mapped", lambda dbfile: released.append(dbfile))
    monkeypatch.setattr(door, "_RELEASE_DOCS", 8)
    monkeypatch.setattr(merge, "RELEASE_TERMS", 16)
    merged = merge_segments(str(tmp_path / "ix"), ix.indexname, ix.schema, segments)
    assert merged is not None and len(opened) == 3
    terms = sum(1 for _ in ix.reader().all_terms())
    ids = [id(dbfile) for dbfile in released]
    known = set()
    for source in opened:
        flat = flat_postings(source.reader)._file
        known.update((id(flat), id(source.postfile), id(source.terms._tindex.dbfile)))
        # Every batch of terms once the flat file is open (the first of a field is read).
        assert ids.count(id(flat)) >= ids.count(id(source.postfile)) // 2 >= 2
        assert ids.count(id(source.postfile)) >= terms // 16
    # Stored fields: unmapped every 8 documents while they are copied.
    assert sum(1 for i in ids if i not in known) >= 60 // 8


def test_term_table_written_from_arrays_is_whoosh_s():
    """postings_output keeps the term table's hash entries in arrays (16 bytes a term,
    not a list of tuples' 120): the file written is the same byte for byte."""
    import io

    from whoosh.filedb.filetables import OrderedHashWriter
    from whoosh.filedb.structfile import StructFile

    from searcher.index.storage.whoosh_private import HashBucket

    class Kept(io.BytesIO):
        def close(self):
            pass

    files = []
    for compact in (False, True):
        out = Kept()
        writer = OrderedHashWriter(StructFile(out))
        if compact:
            writer.buckets = [HashBucket() for _ in writer.buckets]
        for n in range(5000):
            writer.add(b"\x00\x01" + f"term{n:06d}".encode(), struct.pack("!qi", n * 7, n))
        writer.close()
        files.append(out.getvalue())
    assert files[0] == files[1]


def test_segment_writers_keep_term_entries_in_arrays(tmp_path):
    from searcher.index.storage.whoosh_private import HashBucket, W3Codec, postings_output

    ix = new_index(tmp_path / "ix")
    codec = W3Codec()
    segment = codec.new_segment(ix.storage, ix.indexname)
    fieldwriter = codec.field_writer(ix.storage, segment)
    postings_output(fieldwriter)
    assert all(type(bucket) is HashBucket for bucket in fieldwriter._tindex.buckets)
    fieldwriter.close()
