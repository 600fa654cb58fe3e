"""index/storage/fastwrite.py writes the same segments as whoosh's own SegmentWriter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searcher.index.runs.builder import passage_documents
from searcher.index.storage.fastwrite import FastSegmentWriter, _field_plan
from searcher.index.storage.schema import make_schema
from documents import documents_of, term_rows
from flatcheck import assert_flat_postings_complete
from searcher.index.storage.flatpostings import FLAT_FIELDS


def segment_contents(tmp_path, name, docs, fast: bool, language="english") -> dict:
    """Everything a segment holds, decoded where encodings may legitimately differ.

    The fast writer reuses one bytes object for equal posting values, which pickle
    then stores once per block: smaller blocks, the same values when read. So the
    posting blocks are compared unpickled, and the term table through whoosh's reader;
    every other file of the segment byte for byte. The fields the fast writer holds flat
    (index/storage/flatpostings.py) have no posting blocks there: their postings are compared as
    whoosh's matchers read them (``term_rows``), as are the term infos' statistics.
    """
    from whoosh import index as whoosh_index
    from whoosh.codec.base import Segment
    from whoosh.filedb.compound import CompoundStorage
    from whoosh.filedb.filestore import FileStorage
    from whoosh.writing import SegmentWriter

    folder = tmp_path / name
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), make_schema(language))
    original = Segment._random_id
    Segment._random_id = classmethod(lambda cls, size=16: "fixedsegmentid00")
    try:
        writer = FastSegmentWriter(ix) if fast else SegmentWriter(ix, _lk=False)
    finally:
        Segment._random_id = original
    for doc in docs:
        writer.add_document(**doc)
    segment = writer._finalize_segment()
    writer._finish()
    assert segment.segment_id() == "MAIN_fixedsegmentid00"
    # The compound file's directory records modification times: compare its parts.
    compound = CompoundStorage(FileStorage(str(folder)).open_file("MAIN_fixedsegmentid00.seg"), use_mmap=False)
    parts = {name: compound.open_file(name).read() for name in compound.list()}
    compound.close()
    # The fast writer's flat postings are its own addition (tests/test_flatpostings.py checks them).
    contents = {name: data for name, data in parts.items() if not name.endswith((".pst", ".trm", ".flat"))}
    from whoosh.codec.whoosh3 import W3TermInfo
    from whoosh.reading import SegmentReader

    from searcher.index.storage.whoosh_private import use_searcher_readers

    use_searcher_readers()
    reader = SegmentReader(FileStorage(str(folder)), ix.schema, segment)
    postfile = parts["MAIN_fixedsegmentid00.pst"]
    contents["postings"] = []
    for fieldname, text in reader.all_terms():
        if fieldname not in FLAT_FIELDS:
            offset, length = W3TermInfo.from_bytes(reader._terms._tindex[reader._terms._keycoder(fieldname, text)]).extent()
            length = length[0] if isinstance(length, tuple) else length  # whoosh reads it as a 1-tuple
            contents["postings"].append(posting_blocks(postfile[offset:offset + length]))
    if fast:
        assert_flat_postings_complete(reader)
    terms = term_rows(reader)
    reader.close()
    contents["terms"] = terms
    return contents


def posting_blocks(data: bytes) -> list:
    """The posting file as a list of (block info, block data), unpickled."""
    import io
    import pickle
    import struct
    import zlib

    blocks, pos = [], 0
    while pos < len(data):
        if data[pos:pos + 4] == b"W3Bl":
            pos += 4
        (length,) = struct.unpack(">i", data[pos:pos + 4])
        pos += 4
        chunk = data[pos:pos + abs(length)]
        pos += abs(length)
        stream = io.BytesIO(chunk)
        info = pickle.Unpickler(stream).load()
        rest = chunk[stream.tell():]
        blocks.append((info, pickle.loads(zlib.decompress(rest) if info[3] else rest)))
    return blocks


def test_same_segment_on_the_test_corpus(tmp_path, corpus):
    docs = []
    for path in sorted(corpus.rglob("*.*")):
        docs.extend(passage_documents(str(path)))
    stock = segment_contents(tmp_path, "stock", docs, fast=False)
    fast = segment_contents(tmp_path, "fast", docs, fast=True)
    assert stock["terms"] and stock["postings"]
    assert stock == fast


def test_same_segment_with_many_postings_per_term(tmp_path):
    # More documents than a posting block (128) holds, repeated words and long passages.
    texts = [f"Title {i % 3}\n\n" + " ".join(f"word{j % 50} common the rule of law." for j in range(i % 40 + 1))
             for i in range(300)]
    docs = documents_of(tmp_path, texts)
    assert segment_contents(tmp_path, "stock", docs, False) == segment_contents(tmp_path, "fast", docs, True)


TEXT = st.text(alphabet=st.sampled_from(list("ab cé.É'’-\nŠš1_東")), min_size=1, max_size=300)


@settings(max_examples=40, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=6))
def test_same_segment_on_any_text(tmp_path_factory, texts):
    tmp_path = tmp_path_factory.mktemp("any")
    texts = [t for t in texts if t.strip(" .'’-\n_")]
    docs = documents_of(tmp_path, texts) if texts else []
    if not docs:
        return
    assert segment_contents(tmp_path, "stock", docs, False) == segment_contents(tmp_path, "fast", docs, True)


@pytest.mark.parametrize("language", ["english", "french", "german"])
def test_fast_analysis_matches_the_analyzer(language):
    schema = make_schema(language)
    for name in ("title", "body", "path"):
        field = schema[name]
        plan = _field_plan(name, field)
        assert plan is not None, name
        text = "Les élèves d'aujourd'hui Straße Indo-Pacific Russia’s 2023 naïve CAFÉ café café"
        items = plan(text)
        assert sorted(item[:4] for item in items) == sorted(field.index(text))
        # The positions kept for the flat postings are the ones encoded for whoosh.
        assert all(field.format.decode_positions(vbytes) == poslist for _, _, _, vbytes, poslist in items)
        # A field held flat: the same postings, with no encoded values.
        flat_items = _field_plan(name, field, flat=True)(text)
        assert [item[:3] + item[4:] for item in flat_items] == [item[:3] + item[4:] for item in items]
        assert {item[3] for item in flat_items} == {None}


def test_an_unknown_analyzer_uses_the_analyzer():
    from whoosh.analysis import StandardAnalyzer
    from whoosh.fields import TEXT

    assert _field_plan("body", TEXT(analyzer=StandardAnalyzer())) is None
