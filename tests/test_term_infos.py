"""The compact term infos of terms held flat (schema 5, index/storage/whoosh_private.py):
the same statistics as whoosh's own layout in fewer bytes, read by whoosh in place,
moved by merges, and, when damaged, read as a damaged index."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.filedb.structfile import BufferFile

from searcher.index.runs.writer import build_index
from searcher.index.storage.whoosh_private import (DAMAGED_DATA_ERRORS, flat_term_info, held_flat, shift_term_info,
                                                   term_info_from_bytes, use_searcher_readers)

use_searcher_readers()

ID = st.integers(0, 2**32 - 2)  # (whoosh reads 2**32 - 1 as "no id")


def whoosh_layout(key: int, ids, tfs, minlength, maxlength) -> bytes:
    """The term info whoosh's layout gives the same term (what schemas 3 and 4 wrote)."""
    info = W3TermInfo()
    info._weight, info._df, info._maxweight = float(sum(tfs)), len(ids), float(max(tfs))
    info._minid, info._maxid = ids[0], ids[-1]
    info._minlength, info._maxlength = minlength, maxlength
    info.set_extent(key, 0)
    return info.to_bytes()


def fields(info) -> tuple:
    length = info._length[0] if type(info._length) is tuple else info._length
    return (info.weight(), info.doc_frequency(), info.max_weight(), info.min_id(), info.max_id(),
            info.min_length(), info.max_length(), info._offset, length, held_flat(info))


@st.composite
def terms(draw):
    first = draw(ID)
    last = draw(st.integers(first, 2**32 - 2))
    middle = draw(st.lists(st.integers(first, last), max_size=5))
    ids = [first, *sorted(middle), last] if last > first else [first]
    tfs = draw(st.lists(st.integers(1, 300), min_size=len(ids), max_size=len(ids)))
    minlength = draw(st.one_of(st.none(), st.integers(0, 10**6)))
    maxlength = draw(st.integers(0 if minlength is None else minlength, 10**7))
    return draw(ID), ids, tfs, minlength, maxlength


@settings(max_examples=300, deadline=None)
@given(terms())
def test_a_compact_term_info_reads_as_whoosh_layout_does(term):
    compact = flat_term_info(*term)
    old = whoosh_layout(*term)
    assert len(compact) <= 15 + 1 + 12 < len(old) == 35
    assert fields(term_info_from_bytes(compact)) == fields(term_info_from_bytes(old))
    assert fields(W3TermInfo.from_bytes(compact)) == fields(W3TermInfo.from_bytes(old))
    # whoosh reads some statistics in place, at fixed offsets (W3TermsReader.frequency, ...)
    for layout in (compact, old):
        dbfile = BufferFile(b"xx" + layout)
        assert W3TermInfo.read_weight(dbfile, 2) == float(sum(term[2]))
        assert W3TermInfo.read_doc_freq(dbfile, 2) == len(term[1])
        assert W3TermInfo.read_max_weight(dbfile, 2) == float(max(term[2]))
        whoosh = term_info_from_bytes(old)
        assert W3TermInfo.read_min_and_max_length(dbfile, 2) == (whoosh.min_length(), whoosh.max_length())


@settings(max_examples=100, deadline=None)
@given(terms(), st.integers(0, 2**20))
def test_a_merge_moves_the_key_of_either_layout(term, shift):
    key, *rest = term
    for layout in (flat_term_info, whoosh_layout):
        moved = term_info_from_bytes(shift_term_info(layout(key, *rest), 12345, shift))
        assert fields(moved) == fields(term_info_from_bytes(layout(key + shift, *rest)))


def test_a_rare_term_info_takes_19_bytes():
    assert len(flat_term_info(7, [3], [1], 12, 12)) == 19
    assert len(flat_term_info(70_000, [300, 90_000], [1, 2], 1, 40)) == 15 + 1 + 2 + 3 + 3


@settings(max_examples=300, deadline=None)
@given(terms(), st.data())
def test_a_damaged_compact_term_info_is_read_as_damage_or_as_a_term_info(term, data):
    raw = bytearray(flat_term_info(*term))
    edit = data.draw(st.sampled_from(["flip", "cut", "extend"]))
    if edit == "flip":
        at = data.draw(st.integers(1, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
    elif edit == "cut":
        del raw[data.draw(st.integers(1, len(raw) - 1)):]
    else:
        raw += bytes(data.draw(st.integers(1, 8)))
    try:
        info = term_info_from_bytes(bytes(raw))
    except DAMAGED_DATA_ERRORS:
        return
    assert edit == "flip"  # a changed length is always found
    fields(info)


def test_an_index_holds_compact_term_infos_and_a_damaged_one_is_a_one_line_error(tmp_path, corpus, run):
    """Every term of title, body and path has a compact term info; a width byte made
    impossible in one of them: the query reading it says the index is damaged, in one line."""
    from searcher.index.storage.store import open_index

    index = tmp_path / "index"
    build_index([corpus], index, jobs=0)
    ix = open_index(index)
    with ix.reader() as reader:
        (leaf,) = [sub for sub, _ in reader.leaf_readers()] if hasattr(reader, "leaf_readers") else [reader]
        values = {(name, btext): leaf._terms._tindex[leaf._terms._keycoder(name, btext)]
                  for name, btext in leaf.all_terms()}
    assert values
    for (name, _), value in values.items():
        assert (value[0] == 2) == (name in ("title", "body", "path")), name
    target = values[("body", b"cooper")]
    (segment,) = index.glob("*.seg")
    data = segment.read_bytes()
    assert data.count(target) == 1
    at = data.index(target) + 15
    segment.write_bytes(data[:at] + b"\xff" + data[at + 1:])
    result = run("query", "--index", index, "cooperation")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "damaged" in lines[0] and "--rebuild" in lines[0], lines
