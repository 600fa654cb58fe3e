"""index/storage/flatpostings.py: flat postings hold exactly whoosh's postings, and queries
give the same answers from them as from whoosh's blocks (an index of whoosh's writer)."""

from __future__ import annotations

import io
from array import array
import random
from itertools import accumulate

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
    """A stand-in for whoosh's W3TermInfo of a term held flat (length 0)."""

    _inlined = None
    _length = 0

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


def _write(writer, postings) -> int:
    ids = [docnum for docnum, _ in postings]
    positions = [p for _, plist in postings for p in plist]
    return writer.add(ids, [len(plist) for _, plist in postings], positions)


def _written(terms, doc_count=2**25) -> tuple[FlatPostings, list[int]]:
    buffer = _Buffer()
    writer = FlatWriter(buffer, doc_count)
    keys = [_write(writer, postings) for postings in terms]
    writer.close()
    return FlatPostings(buffer, len(buffer.written), doc_count), keys


def _info(key, postings) -> _Info:
    return _Info(key, len(postings), float(sum(len(p) for _, p in postings)), [d for d, _ in postings])


def _read_back(flat, key, postings) -> None:
    term = flat.term(_info(key, postings))
    assert list(term.ids) == [d for d, _ in postings]
    assert list(term.tfs) == [len(p) for _, p in postings]
    indexes = sorted(random.Random(key).sample(range(len(postings)), min(5, len(postings))))
    assert list(map(list, term.position_lists(indexes))) == [postings[i][1] for i in indexes]


# ids of the segment (below _written's document count)
_postings = st.lists(st.tuples(st.integers(0, 10**6 - 1), st.sets(st.integers(0, 70000), min_size=1, max_size=300)),
                     min_size=1, max_size=40).map(
    lambda pairs: sorted({d: sorted(p) for d, p in pairs}.items()))


# A frequent word's postings: ids close together, often one position each (no tfs stored),
# anywhere in a large segment (ids past 65535 split in halves).
_dense = st.tuples(st.integers(0, 2**24), st.lists(st.integers(1, 300), max_size=60),
                   st.booleans(), st.integers(0, 70000)).map(
    lambda drawn: [(d, [drawn[3]] if drawn[2] else [drawn[3], drawn[3] + 1 + i % 3])
                   for i, d in enumerate(accumulate(drawn[1], initial=drawn[0]))])


@settings(max_examples=80, deadline=None)
@given(st.lists(_postings | _dense, min_size=1, max_size=4))
def test_written_postings_read_back(terms):
    """Any ids (far apart or close together, past 65535), tfs (to hundreds, or all 1) and
    positions (past 65535) come back as written."""
    flat, keys = _written(terms)
    assert keys == list(range(len(terms)))
    for key, postings in zip(keys, terms):
        _read_back(flat, key, postings)


@settings(max_examples=30, deadline=None)
@given(st.lists(_postings, min_size=1, max_size=3), st.lists(_postings, min_size=1, max_size=3))
def test_a_part_appended_reads_back(first, second):
    """A merge's second half, written by another process to a file of its own, appended:
    its terms follow the first half's, each as written."""
    part = _Buffer()
    writer = FlatWriter(part, 10**6)
    for postings in second:
        _write(writer, postings)
    writer.close()
    buffer = _Buffer()
    writer = FlatWriter(buffer, 10**6)
    for postings in first:
        _write(writer, postings)
    writer.append(io.BytesIO(part.written))
    assert writer.terms == len(first) + len(second)
    writer.close()
    flat = FlatPostings(buffer, len(buffer.written), 10**6)
    for key, postings in enumerate(first + second):
        _read_back(flat, key, postings)


def test_a_term_unlike_whoosh_term_info_is_not_read():
    flat, (key,) = _written([[(1, [0, 3]), (4, [2])]])
    assert flat.term(_Info(key, 2, 3.0, [1, 4])) is not None
    # The number of positions is not checked: whoosh's total weight is a float32, inexact past 2**24.
    assert flat.term(_Info(key, 2, 4.0, [1, 4])) is not None
    assert flat.term(_Info(key, 3, 3.0, [1, 4])) is None  # another document frequency
    assert flat.term(_Info(key, 2, 3.0, [1, 5])) is None  # another last id
    assert flat.term(_Info(key + 1, 2, 3.0, [1, 4])) is None  # a term the file does not hold
    whoosh_blocks = _Info(key, 2, 3.0, [1, 4])
    whoosh_blocks._length = 40
    assert flat.term(whoosh_blocks) is None  # a term whose postings are whoosh's blocks


def test_a_damaged_file_is_refused():
    buffer = _Buffer()
    writer = FlatWriter(buffer, 3)
    writer.add([0, 2], [1, 1], [4, 9])
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


def test_a_frequent_word_takes_three_bytes_a_posting():
    """Ids past 65535: their low halves, two bytes each, and how many share each high half;
    one position each: no tfs, no checkpoints; positions under 256: a byte each."""
    ids = list(range(65_000, 66_000))
    flat, (key,) = _written([[(d, [7]) for d in ids]])
    # checksum, typecodes and widths, 1000 postings and positions, the first id; the split ids
    assert flat.record_size(key) == 4 + 2 + 2 + 2 + 2 + (4 + 2 * 4 + 2 * (len(ids) - 1)) + len(ids)
    ids = [5, 9, 70_000]  # too few to split: as they are, 4 bytes each
    flat, (key,) = _written([[(d, [7, 300]) for d in ids]])
    assert flat.record_size(key) == 4 + 2 + 1 + 1 + 1 + 4 * (len(ids) - 1) + len(ids) + 1 + 2 * 2 * len(ids)
    flat, (key,) = _written([[(3, [5])]])  # a word in one passage: 10 bytes
    assert flat.record_size(key) == 4 + 2 + 1 + 1 + 1 + 1


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_changed_byte_of_a_record_is_never_read(data):
    """Whatever byte of a term's record (or its place in the table) is changed, the term is
    not read (then the one-line 'damaged' error), never ids past the document count."""
    terms = data.draw(st.lists(_postings | _dense, min_size=1, max_size=3))
    flat, keys = _written(terms)
    original = flat._file.written
    key = data.draw(st.sampled_from(keys))
    start, end = flat._extent(key)
    table_entry = len(original) - flat._records.itemsize * (flat._terms - key)
    where = data.draw(st.integers(start, end - 1) | st.integers(table_entry, table_entry + flat._records.itemsize - 1))
    change = data.draw(st.integers(1, 255))
    damaged = _Buffer()
    damaged.written = original[:where] + bytes([original[where] ^ change]) + original[where + 1:]
    reread = FlatPostings(damaged, len(damaged.written), flat.doc_count)
    assert reread.term(_info(key, terms[key])) is None


def _cut(buffer, size):
    cut = _Buffer()
    cut.written = buffer.written[:size]
    return cut


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
            found.append(([(h.path.rsplit("/", 1)[-1], h.start_line, h.score, h.spans) for h in result.hits],
                          result.total))
        return found


@pytest.mark.parametrize("replace", [False, True])
def test_queries_answer_as_from_whoosh_blocks(tmp_path_factory, monkeypatch, replace):
    """An index whose text fields are held flat answers as one written by whoosh's own
    writer (every posting in whoosh's blocks, no flat file): the same hits, scores and totals."""
    from test_ranking import _larger_index

    from searcher.index.storage.fastwrite import FastSegmentWriter

    flat_index = _larger_index(tmp_path_factory.mktemp("flat"), replace=replace)
    with monkeypatch.context() as patched:
        patched.setattr(FastSegmentWriter, "supports", staticmethod(lambda schema: False))
        blocks_index = _larger_index(tmp_path_factory.mktemp("blocks"), replace=replace)
    assert not any(b"SRCHFLAT" in segment.read_bytes() for segment in blocks_index.glob("*.seg"))
    with_flat = _answers(flat_index)
    assert any(hits for hits, _ in with_flat)
    assert _answers(blocks_index) == with_flat


def test_damaged_postings_are_a_one_line_error(tmp_path, corpus, run):
    """A byte changed in each term's record of the flat file, the file itself intact: the
    query that reads one says the postings are damaged, in one line."""
    build_index([corpus], tmp_path / "index", jobs=0)
    assert run("query", "--index", tmp_path / "index", "cooperation").exit_code == 0
    for segment in (tmp_path / "index").glob("*.seg"):
        data = bytearray(segment.read_bytes())
        at = data.index(b"SRCHFLAT")
        _, _, _, _, terms, table = flatpostings._HEADER.unpack_from(data, at)
        records = array(flatpostings._table_typecode(table),
                        data[at + table:at + table + 4 * terms] if table < 2**32 else b"")
        assert len(records) == terms
        for record in records:
            data[at + record + 4] ^= 0x01  # the ids' typecode: "B" -> "H"
        segment.write_bytes(bytes(data))
    result = run("query", "--index", tmp_path / "index", "cooperation")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "searcher: error: the index's postings are damaged: rebuild it with 'searcher index --rebuild PATH...'"]


def test_a_damaged_flat_file_is_a_one_line_error(tmp_path, corpus, run):
    build_index([corpus], tmp_path / "index", jobs=0)
    assert run("query", "--index", tmp_path / "index", "cooperation").exit_code == 0
    for segment in (tmp_path / "index").glob("*.seg"):
        data = segment.read_bytes()
        assert data.count(b"SRCHFLAT") == 1
        segment.write_bytes(data.replace(b"SRCHFLAT", b"SRCHFLAX"))
    result = run("query", "--index", tmp_path / "index", "cooperation")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "searcher: error: the index's postings are damaged: rebuild it with 'searcher index --rebuild PATH...'"]


def test_a_record_naming_a_document_past_the_segment_reads_as_damaged():
    """An id past the document count between the first and the last (which whoosh's term
    info checks): None, so that the query says the index is damaged; phrases, which
    check only their rarest word's ids, can still read it."""
    postings = [(1, [0]), (50, [1]), (7, [2])]
    flat, (key,) = _written([postings], doc_count=10)
    assert flat.term(_info(key, postings)) is None
    assert list(flat.term(_info(key, postings), check_ids=False).ids) == [1, 50, 7]
    fine = [(1, [0]), (5, [1]), (7, [2])]
    flat, (key,) = _written([fine], doc_count=10)
    assert list(flat.term(_info(key, fine)).ids) == [1, 5, 7]
