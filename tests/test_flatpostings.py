"""index/storage/flatpostings.py: flat postings hold exactly whoosh's postings, and queries
give the same answers with them as without them (whoosh's blocks)."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import searcher.index.storage.flatpostings as flatpostings
from searcher.index.storage.flatpostings import FlatPostings, FlatWriter
from searcher.index.runs.writer import build_index
from searcher.engine.search import SearchSession
from flatcheck import assert_flat_postings_complete


class _Buffer(io.BytesIO):
    """What FlatWriter writes to and FlatPostings reads from (whoosh's StructFile API)."""

    def close(self):
        self.written = self.getvalue()

    def get(self, position, length):
        return self.written[position:position + length]


class _Info:
    """A stand-in for whoosh's W3TermInfo."""

    def __init__(self, offset, df, weight, ids=None):
        self._offset, self._df, self._weight = offset, df, weight
        self._minid, self._maxid = (ids[0], ids[-1]) if ids else (None, None)

    def min_id(self):
        return self._minid

    def max_id(self):
        return self._maxid

    def doc_frequency(self):
        return self._df

    def weight(self):
        return self._weight


def _written(terms, doc_count=10**6) -> FlatPostings:
    buffer = _Buffer()
    writer = FlatWriter(buffer, doc_count)
    for offset, postings in terms:
        ids = [docnum for docnum, _ in postings]
        positions = [p for _, plist in postings for p in plist]
        writer.add(offset, ids, [len(plist) for _, plist in postings], positions)
    writer.close()
    return FlatPostings(buffer, len(buffer.written), doc_count)


_postings = st.lists(st.tuples(st.integers(0, 2**20), st.sets(st.integers(0, 70000), min_size=1, max_size=300)),
                     min_size=1, max_size=40).map(
    lambda pairs: sorted({d: sorted(p) for d, p in pairs}.items()))


@settings(max_examples=60, deadline=None)
@given(st.lists(_postings, min_size=1, max_size=4))
def test_written_postings_read_back(terms):
    """Any ids, tfs (to hundreds) and positions (past 65535) come back as written."""
    numbered = [(100 * i + 7, postings) for i, postings in enumerate(terms)]
    flat = _written(numbered)
    for offset, postings in numbered:
        info = _Info(offset, len(postings), float(sum(len(p) for _, p in postings)), [d for d, _ in postings])
        term = flat.term(info)
        assert list(term.ids) == [d for d, _ in postings]
        assert list(term.tfs) == [len(p) for _, p in postings]
        indexes = sorted(random.Random(offset).sample(range(len(postings)), min(5, len(postings))))
        assert list(map(list, term.position_lists(indexes))) == [postings[i][1] for i in indexes]


def test_a_term_unlike_whoosh_term_info_is_not_read():
    flat = _written([(5, [(1, [0, 3]), (4, [2])])])
    assert flat.term(_Info(5, 2, 3.0, [1, 4])) is not None
    assert flat.term(_Info(5, 3, 3.0, [1, 4])) is None  # another document frequency
    assert flat.term(_Info(5, 2, 4.0, [1, 4])) is None  # another number of positions
    assert flat.term(_Info(5, 2, 3.0, [1, 5])) is None  # another last id
    assert flat.term(_Info(6, 2, 3.0, [1, 4])) is None  # a term the file does not hold


def test_a_damaged_file_is_refused():
    buffer = _Buffer()
    writer = FlatWriter(buffer, 3)
    writer.add(0, [0, 2], [1, 1], [4, 9])
    writer.close()
    with pytest.raises(ValueError):
        FlatPostings(buffer, len(buffer.written), 4)  # another segment's
    with pytest.raises(ValueError):
        FlatPostings(buffer, len(buffer.written) - 1, 3)  # cut short
    with pytest.raises(ValueError):
        FlatPostings(_cut(buffer, 10), 10, 3)  # not even a header
    buffer.written = b"X" + buffer.written[1:]
    with pytest.raises(ValueError):
        FlatPostings(buffer, len(buffer.written), 3)


def _cut(buffer, size):
    cut = _Buffer()
    cut.written = buffer.written[:size]
    return cut


def test_out_of_order_terms_are_refused():
    writer = FlatWriter(_Buffer(), 3)
    writer.add(8, [0], [1], [0])
    with pytest.raises(ValueError):
        writer.add(8, [1], [1], [0])


def _segment_readers(index_dir):
    from whoosh import index as whoosh_index

    from searcher.index.storage.whoosh_private import use_searcher_readers
    from searcher.index.storage.store import read_meta

    use_searcher_readers()
    ix = whoosh_index.open_dir(str(index_dir), indexname=read_meta(index_dir).indexname)
    reader = ix.reader()
    return reader, [sub for sub, _ in reader.leaf_readers()]


def test_every_segment_of_an_index_has_complete_flat_postings(corpus, tmp_path):
    build_index([corpus], tmp_path / "index", jobs=0)
    (corpus / "more.txt").write_text("Indo-Pacific partners met again.\n\nThe partners agreed.", encoding="utf-8")
    build_index([corpus], tmp_path / "index", jobs=0)
    reader, segments = _segment_readers(tmp_path / "index")
    try:
        assert len(segments) >= 2
        for segment in segments:
            assert_flat_postings_complete(segment)
    finally:
        reader.close()


QUERIES = ["flow", "heat transfer", '"boundary layer"', '"shock wing" cone', "flow -heat",
           'layer NOT "boundary layer"', "what is the pressure on a cone in a shock at high mach speed",
           "title:flow", "+shock wing"]


def _answers(index_dir):
    with SearchSession(index_dir) as session:
        found = []
        for query in QUERIES:
            result = session.search(query, limit=10, exact_total=True)
            found.append(([(h.path, h.start_line, h.score, h.spans) for h in result.hits], result.total))
        return found


@pytest.mark.parametrize("replace", [False, True])
def test_queries_answer_the_same_without_flat_postings(tmp_path_factory, monkeypatch, replace):
    """With and without flat postings (then from whoosh's blocks): the same hits, scores and totals."""
    from test_ranking import _larger_index

    index_dir = _larger_index(tmp_path_factory.mktemp("flat"), replace=replace)
    with_flat = _answers(index_dir)
    assert any(hits for hits, _ in with_flat)
    with monkeypatch.context() as patched:
        patched.setattr(flatpostings, "flat_postings", lambda reader: None)
        assert _answers(index_dir) == with_flat
    # A damaged flat file (here: its header) is passed over, silently.
    for segment in index_dir.glob("*.seg"):
        data = segment.read_bytes()
        assert data.count(b"SRCHFLAT") == 1
        segment.write_bytes(data.replace(b"SRCHFLAT", b"SRCHFLAX"))
    assert _answers(index_dir) == with_flat
