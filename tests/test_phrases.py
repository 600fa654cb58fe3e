"""searcher/engine/phrases.py finds exactly the passages whoosh's own Phrase query finds, as often."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searcher.index.storage import whoosh_private
from searcher.index.storage.schema import make_schema
from searcher.engine import phrases as phrases_module
from searcher.engine.phrases import match_phrase

# Words that are their own stems; "zz" is never in an index.
VOCABULARY = ("the", "of", "flow", "wing", "air")
MISSING = "zz"


def build_index(segments, deleted, monkeypatch):
    """An in-memory index of the project's schema: one segment per entry of ``segments``.

    Each segment is (writer, block limit, [(title words, body words)]): whoosh's
    SegmentWriter or the project's FastSegmentWriter, with posting blocks of
    ``block limit`` postings, so that phrases span many blocks.
    ``deleted``: global docnums to delete afterwards.
    """
    from whoosh import codec
    from whoosh.codec.whoosh3 import W3Codec
    from whoosh.filedb.filestore import RamStorage

    from searcher.index.storage.fastwrite import FastSegmentWriter

    # Format-2 segments hold their postings only in the flat file, which whoosh reads
    # through the door's patched readers (applied here, not by whichever test ran first).
    whoosh_private.use_searcher_readers()
    ix = RamStorage().create_index(make_schema())
    count = 0
    for kind, blocklimit, docs in segments:
        monkeypatch.setattr(codec, "default_codec", lambda *a, **k: W3Codec(blocklimit=blocklimit))
        writer = FastSegmentWriter(ix) if kind == "fast" else ix.writer()
        for i, (title, body) in enumerate(docs):
            writer.add_document(file=f"/f{count + i // 3}", title=" ".join(title), body=" ".join(body))
        writer.commit(merge=False)
        count += len(docs)
    if deleted:
        writer = ix.writer()
        for docnum in deleted:
            if docnum < count:
                writer.delete_document(docnum)
        writer.commit(merge=False)
    return ix


def whoosh_phrase(searcher, fieldname, words) -> dict[int, int]:
    """{global docnum: number of matches} from whoosh's own Phrase matcher, segment by segment."""
    from whoosh import query as wq

    found = {}
    for sub, offset in searcher.leaf_searchers():
        matcher = wq.Phrase(fieldname, list(words)).matcher(sub)
        while matcher.is_active():
            found[offset + matcher.id()] = len(matcher.spans())
            matcher.next()
    return found


def our_phrase(searcher, fieldname, words) -> dict[int, int]:
    found = {}
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        for docnum, count in match_phrase(reader, fieldname, words).items():
            if not reader.is_deleted(docnum):
                found[offset + docnum] = count
    return found


texts = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=12)
segment = st.tuples(st.sampled_from(["whoosh", "fast"]), st.sampled_from([1, 2, 3, 5, 8, 40]),
                    st.lists(st.tuples(texts, texts), min_size=1, max_size=60))
phrase = st.lists(st.sampled_from(VOCABULARY + (MISSING,)), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=st.lists(segment, min_size=1, max_size=3),
       deleted=st.sets(st.integers(0, 150), max_size=20),
       phrases=st.lists(phrase, min_size=1, max_size=4),
       through_matcher=st.booleans(), headers_by_whoosh=st.booleans())
def test_same_matches_and_frequencies_as_whoosh(segments, deleted, phrases, through_matcher, headers_by_whoosh,
                                                monkeypatch):
    ix = build_index(segments, deleted, monkeypatch)
    monkeypatch.undo()  # one monkeypatch for all the examples
    if headers_by_whoosh:  # too few bytes for a block header: whoosh's matcher reads them
        monkeypatch.setattr(whoosh_private, "_HEAD_BYTES", 3)
    if through_matcher:  # the reading for codecs other than whoosh3's block format
        monkeypatch.setattr(phrases_module, "_BlockPostings",
                            lambda reader, fieldname, btext, matcher, df: phrases_module._ListPostings(matcher, df))
    with ix.searcher() as searcher:
        for words in phrases:
            for fieldname in ("body", "title"):
                assert our_phrase(searcher, fieldname, words) == whoosh_phrase(searcher, fieldname, words), \
                    (fieldname, words)


@pytest.mark.parametrize("words, body, expected", [
    (("flow", "flow"), "flow flow flow", 2),  # overlapping matches count
    (("the", "flow", "the"), "the flow the flow the", 2),
    (("wing",), "wing air wing", 2),
    (("air", "wing"), "wing air", 0),  # order matters
    (("air", "wing"), "air the wing", 0),  # next to each other
])
def test_phrase_frequency(words, body, expected, monkeypatch):
    ix = build_index([("whoosh", 2, [(["t"], body.split())])], set(), monkeypatch)
    with ix.searcher() as searcher:
        assert our_phrase(searcher, "body", words) == ({0: expected} if expected else {})
        assert whoosh_phrase(searcher, "body", words) == ({0: expected} if expected else {})


def test_wanted_limits_the_rarest_words_blocks(monkeypatch):
    docs = [(["t"], ["wing", "air"] if i % 2 else ["air"]) for i in range(40)]
    ix = build_index([("whoosh", 4, docs)], set(), monkeypatch)
    with ix.searcher() as searcher:
        reader = next(iter(searcher.leaf_searchers()))[0].reader()
        everything = match_phrase(reader, "body", ("wing", "air"))
        assert list(everything) == list(range(1, 40, 2))
        some = match_phrase(reader, "body", ("wing", "air"), wanted=lambda first, last: first <= 10)
        assert set(some) <= set(everything) and {1, 3, 5, 7, 9} <= set(some) and 39 not in some


def _near_match_by_levels(where, words, slop, ordered):
    """Every partial match grown word by word (whoosh's SpanNear2), uncapped: the reference."""
    partial = {(pos, pos) for pos in where.get(words[0], ())}
    for word in words[1:]:
        partial = {grown for start, end in partial for pos in where.get(word, ())
                   for grown in ([(start, pos)] if end < pos <= end + slop else
                                 [(pos, end)] if not ordered and start - slop <= pos < start else [])}
    return bool(partial)


@settings(max_examples=400, deadline=None)
@given(positions=st.dictionaries(st.sampled_from("abcd"), st.lists(st.integers(0, 40), min_size=1, max_size=8, unique=True)),
       words=st.lists(st.sampled_from("abcd"), min_size=1, max_size=5), slop=st.integers(1, 12), ordered=st.booleans())
def test_near_match_finds_what_growing_every_partial_match_finds(positions, words, slop, ordered):
    from searcher.present.snippets import near_match

    where = {word: sorted(found) for word, found in positions.items()}
    assert near_match(where, words, slop, ordered) == _near_match_by_levels(where, words, slop, ordered)


def test_near_match_of_a_common_word_repeated_stops_at_the_first_match(monkeypatch):
    from searcher.present import snippets

    where = {"the": list(range(0, 3000, 3))}
    monkeypatch.setattr(snippets, "_MAX_PARTIAL_MATCHES", 10)  # 80 partial matches at most: enough
    assert snippets.near_match(where, ["the"] * 8, 1000)
    assert not snippets.near_match(where, ["the"] * 8, 2, ordered=True)


def test_a_phrase_of_a_word_repeated_everywhere_is_matched_in_parts_with_the_same_answer(tmp_path, monkeypatch):
    """Past PART_POSITIONS positions of its rarest word, a phrase is matched a slice of
    candidates at a time (memory bounded): the same passages and frequencies as at once."""
    from searcher.engine import phrases
    from searcher.index.runs.writer import build_index
    from searcher.index.storage.store import open_index

    corpus = tmp_path / "c"
    corpus.mkdir()
    for i in range(30):
        (corpus / f"f{i}.txt").write_text(
            "\n\n".join(" ".join(["tide harbour"] * (5 + i % 7) + ["harbour"] * (i % 3)) + "." for _ in range(4)),
            encoding="utf-8")
    build_index([str(corpus)], str(tmp_path / "ix"))
    ix = open_index(tmp_path / "ix")
    with ix.searcher() as searcher:
        reader = searcher.reader()
        subs = getattr(reader, "readers", [reader])
        whole = [phrases.match_phrase(sub, "body", ["tide", "harbour"]) for sub in subs]
        repeated = [phrases.match_phrase(sub, "body", ["harbour", "harbour"]) for sub in subs]
        parts = []
        real = phrases._match_part
        monkeypatch.setattr(phrases, "_match_part", lambda *a: parts.append(1) or real(*a))
        monkeypatch.setattr(phrases, "PART_POSITIONS", 16)
        assert [phrases.match_phrase(sub, "body", ["tide", "harbour"]) for sub in subs] == whole
        assert [phrases.match_phrase(sub, "body", ["harbour", "harbour"]) for sub in subs] == repeated
    assert sum(map(len, whole)) > 30 and any(repeated)
    assert len(parts) > 2 * len(subs)
