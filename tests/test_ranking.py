"""The ranking engine (searcher/engine/ranking.py): orderings on tiny corpora, never float scores."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passagefiles import file_of as passage_path
from searcher.index.runs.writer import build_index
from searcher.engine import expansion, ranking, statistics
from searcher.engine.expansion import rank as rank_expanded
from searcher.index.storage.whoosh_private import reader_cache
from searcher.engine.search import SearchSession

DOCS = {
    "wing.txt": "Wing flutter at transonic speed\n\nFlutter of a swept wing was measured at transonic speed. "
                "The flutter boundary moved with the Mach number.\n\nA second test repeated the wing flutter runs.",
    "plate.txt": "Heat transfer to a flat plate\n\nHeat transfer to a flat plate in laminar flow was computed. "
                 "The plate temperature was held constant.",
    "shock.txt": "Shock waves near a wing\n\nA shock wave forms near the wing at transonic speed. "
                 "Boundary layer separation follows the shock.",
    "cone.txt": "Cones in hypersonic flow\n\nPressure on slender cones in hypersonic flow. Heat transfer "
                "was small.\n\nNothing here mentions the other topics at all, only cones and pressure.",
    "indo.txt": "Indo-Pacific notes\n\nThe Indo-Pacific region met in 2023; the G7 summit followed. "
                "Prime Minister Šimonytė spoke about Russia’s war.",
}


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp("ranking")
    for name, text in DOCS.items():
        (root / "docs").mkdir(exist_ok=True)
        (root / "docs" / name).write_text(text, encoding="utf-8")
    build_index([root / "docs"], root / "index", jobs=0)
    with SearchSession(root / "index") as s:
        yield s


def files(result) -> list[str]:
    return [hit.path.rsplit("/", 1)[-1] for hit in result.hits]


def test_files_with_more_and_rarer_query_words_rank_first(session):
    assert files(session.search("wing flutter", per_file=1))[0] == "wing.txt"
    assert files(session.search("heat transfer plate", per_file=1))[0] == "plate.txt"
    ordered = files(session.search("shock wing transonic", per_file=1))
    assert ordered[0] == "shock.txt" and ordered.index("wing.txt") < ordered.index("plate.txt") \
        if "plate.txt" in ordered else ordered[0] == "shock.txt"


def test_per_file_cap_and_passages_inside_a_file(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    # A long report: many passages about wings; a short note: one.
    (docs / "report.txt").write_text("\n\n".join(
        f"Section {i}. The wing of model {i} was tested at transonic speed. " * 6 for i in range(12)),
        encoding="utf-8")
    (docs / "note.txt").write_text("A note on wing flutter.\n", encoding="utf-8")
    build_index([docs], tmp_path / "index", jobs=0)
    with SearchSession(tmp_path / "index") as s:
        uncapped = Counter(files(s.search("wing transonic", per_file=None, limit=50)))
        assert uncapped["report.txt"] > 2 and uncapped["note.txt"] == 1
        for per_file in (1, 2):
            found = Counter(files(s.search("wing transonic", per_file=per_file, limit=50)))
            assert found == Counter({"report.txt": per_file, "note.txt": 1})


def test_keyword_and_phrase_lookups_ignore_expansion(session):
    for query in ("flutter", "heat transfer", '"heat transfer"', "wing AND shock", "title:cones", "cone*",
                  "Indo-Pacific", "2023", "G7"):
        plain = session.search(query, expand=None)
        off = session.search(query, expand=False)
        assert [(h.path, h.start_line) for h in plain.hits] == [(h.path, h.start_line) for h in off.hits], query


def test_questions_are_expanded_by_default_and_keywords_are_not():
    assert not ranking.is_question({"heat": 1.0, "transfer": 1.0})
    assert ranking.is_question({"heat": 1, "transfer": 1, "flat": 1, "plate": 1})


def test_expansion_adds_words_of_the_best_files(session):
    reader = session.searcher.reader()
    terms = {"heat": 1.0, "transfer": 1.0, "flat": 1.0, "plate": 1.0}
    _, _, expanded = rank_expanded(reader, terms, 10, 1, expansion=True, stopwords=session._stopwords())
    assert set(terms) < set(expanded)
    assert not set(expanded) & session._stopwords()


@pytest.mark.parametrize("typed, finds", [
    ("Simonyte", "indo.txt"), ("Šimonytė", "indo.txt"), ("Russia's", "indo.txt"), ("Russia’s", "indo.txt"),
    ("Russia", "indo.txt"), ("indo-pacific", "indo.txt"), ("Indo Pacific", "indo.txt"),
    ('"indo pacific"', "indo.txt"), ("2023", "indo.txt"), ("G7", "indo.txt"),
])
def test_analysis_details_users_notice(session, typed, finds):
    assert files(session.search(typed))[:1] == [finds]


def test_highlights_mark_the_original_words(session):
    hit = session.search("simonyte russia").hits[0]
    marked = {hit.text[start:end] for start, end in hit.spans}
    assert {"Šimonytė", "Russia’s"} <= marked


def _bm25(tf, length, avg, n, df, total):
    norm = ranking.K1 * (1 - ranking.B + ranking.B * length / avg)
    return ranking.idf(n, df) * tf * (ranking.K1 + 1) / (tf + norm)


def _lucene_ineb2(tf, length, avg, n, df, total):
    """One term's I(ne)B2 as Lucene's DFRSimilarity computes it: BasicModelIne, AfterEffectB
    (F = total + 1, n = df + 1), NormalizationH2 with c = 1."""
    tfn = tf * math.log2(1 + avg / length)
    expected = n * (1 - ((n - 1) / n) ** total)
    return tfn * math.log2((n + 1) / (expected + 0.5)) * (total + 1 + 1) / ((df + 1) * (tfn + 1))


def _straightforward(reader, terms, term_score=_bm25):
    """Passage scores by the definition in ranking.py, from stored text, one passage at a time."""
    schema = reader.schema
    passages = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
    fields = {name: {d: Counter(t.text for t in schema[name].analyzer(reader.stored_fields(d)[name]))
                     for d in passages} for name, _ in ranking.FIELDS}
    file_of = {d: passage_path(reader, d) for d in passages}
    files = sorted(set(file_of.values()))
    length = {name: {d: reader.doc_field_length(d, name) for d in passages} for name, _ in ranking.FIELDS}
    scores = {}
    d_score = Counter()
    p_score = Counter()
    for name, weight in ranking.FIELDS:
        avg_p = sum(length[name].values()) / len(passages)
        f_len = Counter()
        for d in passages:
            f = file_of[d]
            if name == "title":
                f_len[f] = length[name][d]
            else:
                f_len[f] += length[name][d]
        avg_f = sum(f_len.values()) / len(files)
        for stem, w in terms.items():
            df = sum(1 for d in passages if fields[name][d][stem])
            if not df:
                continue
            total = sum(fields[name][d][stem] for d in passages)
            tf_file = Counter()
            for d in passages:
                tf = fields[name][d][stem]
                if tf:
                    p_score[d] += w * weight * term_score(tf, length[name][d], avg_p, len(passages), df, total)
                    if name == "title":
                        tf_file[file_of[d]] = tf
                    else:
                        tf_file[file_of[d]] += tf
            file_total = sum(tf_file.values())
            for f, tf in tf_file.items():
                d_score[f] += w * weight * term_score(tf, f_len[f], avg_f, len(files), len(tf_file), file_total)
    for d in p_score:
        scores[d] = d_score[file_of[d]] + ranking.PASSAGE_SHARE * p_score[d]
    return scores


@pytest.mark.parametrize("weighting, term_score", [("bm25", _bm25), ("ineb2", _lucene_ineb2)])
@pytest.mark.parametrize("terms", [{"wing": 1.0}, {"heat": 1.0, "transfer": 2.0, "flow": 1.0},
                                   {"shock": 1.0, "wing": 1.0, "transon": 1.0, "speed": 0.5}])
def test_fast_path_matches_a_straightforward_implementation(session, terms, weighting, term_score, monkeypatch):
    reader = session.searcher.reader()
    monkeypatch.setattr(statistics, "WEIGHTING", weighting)
    monkeypatch.delitem(reader_cache(reader), "statistics", raising=False)  # (its norms are the weighting's)
    expected = _straightforward(reader, terms, term_score)
    ranked, total, _ = ranking.rank(reader, terms, 100, None)
    assert total == len(expected)
    got = {r.docnum: r.score for r in ranked}
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[d], expected[d], rel_tol=1e-6) for d in got)
    assert [r.docnum for r in ranked] == sorted(expected, key=lambda d: (-expected[d], d))


def test_cli_expand_flags(indexed, run):
    question = "how long should cooked rice rest before serving"
    for flag in ("--expand", "--no-expand"):
        result = run("query", "--json", flag, question)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.splitlines()[0])["path"].endswith("cooking.txt")


def test_replaced_passages_are_not_ranked(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Alpha notes\n\nzebra crossing rules", encoding="utf-8")
    (docs / "b.txt").write_text("Beta notes\n\nzebra stripes", encoding="utf-8")
    build_index([docs], tmp_path / "index", jobs=0)
    (docs / "a.txt").write_text("Alpha notes\n\nnothing striped here", encoding="utf-8")
    build_index([docs], tmp_path / "index", jobs=0)
    with SearchSession(tmp_path / "index") as s:
        assert files(s.search("zebra")) == ["b.txt"]
        assert files(s.search("nothing"))[:1] == ["a.txt"]


# ---- fast paths (issue 6): each compared with the straightforward computation


def _capped_top(scores: dict[int, float], file_of, count: int, per_file: int) -> list[int]:
    """The best ``count`` passages, at most ``per_file`` per file, from every passage's score."""
    taken: Counter = Counter()
    best = []
    for d in sorted(scores, key=lambda d: (-scores[d], d)):
        if taken[file_of[d]] < per_file:
            taken[file_of[d]] += 1
            best.append(d)
    return best[:count]


@pytest.mark.parametrize("terms", [{"wing": 1.0}, {"heat": 1.0, "transfer": 2.0, "flow": 1.0},
                                   {"shock": 1.0, "wing": 1.0, "transon": 1.0, "speed": 0.5, "cone": 1.0}])
@pytest.mark.parametrize("count, per_file", [(1, 1), (2, 1), (2, 2), (3, 1)])
def test_pruned_top_passages_match_a_full_sort(session, terms, count, per_file):
    reader = session.searcher.reader()
    expected = _straightforward(reader, terms)
    file_of = {d: passage_path(reader, d) for d in expected}
    ranked, _, _ = ranking.rank(reader, terms, count, per_file)
    assert [r.docnum for r in ranked] == _capped_top(expected, file_of, count, per_file)


def _file_frequency(reader):
    """The exact number of files whose passages hold a term (what _files_with estimates)."""
    def files_with(fieldname, btext, df):
        found = {passage_path(reader, d) for d in reader.postings(fieldname, btext).all_ids()
                 if not reader.is_deleted(d)}
        return len(found)
    return files_with


def _assert_rescoring_matches_scoring_everything(session, terms, candidates):
    reader = session.searcher.reader()
    first = ranking.score_terms(reader, terms)
    mixed = expansion.expand(reader, first, terms, session._stopwords())
    full = ranking.score_terms(reader, mixed)
    rescored = expansion.rescore_expanded(reader, first, terms, mixed, candidates, _file_frequency(reader))
    assert set(rescored.file) == set(ranking.top_files(first, candidates))
    for number, score in rescored.file.items():
        assert math.isclose(score, full.file[number], rel_tol=1e-9)
    for docnum, score in rescored.passage.items():
        assert math.isclose(score, full.passage.get(docnum, 0.0), rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("terms", [{"heat": 1.0, "transfer": 1.0, "plate": 1.0, "flow": 1.0},
                                   {"wing": 1.0, "flutter": 1.0, "transon": 1.0, "speed": 1.0}])
@pytest.mark.parametrize("candidates", [1, 2, 3])
def test_expansion_rescoring_of_candidates_matches_scoring_everything(session, terms, candidates):
    """The second pass over the first pass's best files gives them the scores a full second
    pass gives, once it is told the exact file counts it otherwise estimates."""
    _assert_rescoring_matches_scoring_everything(session, terms, candidates)


def test_questions_on_a_larger_index_rerank_only_the_best_files(session, monkeypatch):
    monkeypatch.setattr(expansion, "EXPANSION_CANDIDATES", 2)
    reader = session.searcher.reader()
    terms = {"heat": 1.0, "transfer": 1.0, "plate": 1.0, "flow": 1.0}
    ranked, total, expanded = rank_expanded(reader, terms, 2, 1, expansion=True, stopwords=session._stopwords())
    first = ranking.score_terms(reader, terms)
    assert total == len(first.passage)
    assert {r.file for r in ranked} <= set(ranking.top_files(first, 2))
    assert set(terms) < set(expanded)


def test_block_decoding_without_positions_matches_whoosh(session):
    reader = session.searcher.reader()
    stats = ranking.statistics(reader)
    for fieldname in ("body", "title"):
        for btext in reader.lexicon(fieldname):
            for seg in stats.segments:
                if (fieldname, btext) not in seg.reader:
                    continue
                m = seg.reader.postings(fieldname, btext)
                pairs = []
                while m.is_active():
                    pairs.append((m.id(), m.weight()))
                    m.next()
                got = [(d, tf) for ids, tfs in ranking._postings(seg, fieldname, btext) for d, tf in zip(ids, tfs)]
                assert got == pairs


def test_passages_of_a_file_and_file_lengths(session):
    reader = session.searcher.reader()
    stats = ranking.statistics(reader)
    by_file: dict[str, list[int]] = {}
    for d in range(reader.doc_count_all()):
        by_file.setdefault(passage_path(reader, d), []).append(d)
    assert stats.file_count == len(by_file)
    for number, key in enumerate(stats.files):
        docnums = by_file[key.decode("utf-8")]
        assert stats.passages_of(number) == docnums
        assert stats.file_lengths["body"][number] == sum(reader.doc_field_length(d, "body") for d in docnums)


def test_many_blocks_deletions_and_mapped_segments(tmp_path, monkeypatch):
    """Postings over several whoosh blocks (128 postings each), with deleted passages, read
    in place (index/storage/whoosh_private.py): the fast paths agree with whoosh's own reading.
    The index is written by whoosh's own writer, as earlier releases' segments hold their
    postings: in whoosh's blocks (tests/test_flatpostings.py compares both kinds of index)."""
    from whoosh.filedb.compound import CompoundStorage

    from searcher.index.storage.fastwrite import FastSegmentWriter

    from searcher.index.storage import whoosh_private
    from searcher.index.storage.whoosh_private import MappedCompoundStorage

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(300):
        words = "alpha beta" if i % 2 else "alpha gamma alpha"
        (docs / f"f{i:03}.txt").write_text(f"Note {i}\n\n{words} number {i}.\n\nSecond part {i % 7} delta.",
                                           encoding="utf-8")
    monkeypatch.setattr(FastSegmentWriter, "supports", staticmethod(lambda schema: False))
    build_index([docs], tmp_path / "index", jobs=0)
    for i in range(0, 300, 5):  # replaced files leave deleted passages behind
        (docs / f"f{i:03}.txt").write_text(f"Note {i}\n\nalpha again {i}", encoding="utf-8")
    build_index([docs], tmp_path / "index", jobs=0)
    with SearchSession(tmp_path / "index") as s:
        reader = s.searcher.reader()
        stats = ranking.statistics(reader)
        for stem in ("alpha", "beta", "delta", "again"):
            for seg in stats.segments:
                m = seg.reader.postings("body", stem.encode()) if ("body", stem.encode()) in seg.reader else None
                pairs = []
                while m is not None and m.is_active():
                    pairs.append((m.id(), m.weight()))
                    m.next()
                got = [(d, tf) for ids, tfs in ranking._postings(seg, "body", stem.encode()) for d, tf in zip(ids, tfs)
                       if d not in seg.deleted]  # whoosh leaves deleted passages out
                assert got == pairs
            expected = _straightforward(reader, {stem: 1.0})
            ranked, total, _ = ranking.rank(reader, {stem: 1.0}, 1000, None)
            assert total == len(expected)
            assert [r.docnum for r in ranked] == sorted(expected, key=lambda d: (-expected[d], d))
        _assert_holding_matches_the_postings(reader, random.Random(3), 40)
        for seg in stats.segments:  # skip_to with a binary search lands where whoosh's does
            for stem in (b"alpha", b"beta", b"delta", b"gamma"):
                if ("body", stem) not in seg.reader:
                    continue
                for target in range(0, seg.count + 3, 7):
                    places = []
                    for skip in (whoosh_private.whoosh_skip_to, whoosh_private._skip_to):
                        m = seg.reader._terms.matcher("body", stem, seg.reader.schema["body"].format)
                        skip(m, target // 2)
                        if m.is_active():
                            skip(m, target)
                        places.append(m.id() if m.is_active() else None)
                    assert places[0] == places[1]
        storage = s.ix.storage
        for segment in s.ix._segments():
            name = segment.make_filename(segment.COMPOUND_EXT)
            plain = CompoundStorage(storage.open_file(name), use_mmap=True)
            mapped = MappedCompoundStorage(storage.open_file(name))
            for inner in plain.list():
                a, b = plain.open_file(inner), mapped.open_file(inner)
                data = a.read()
                assert b.read() == data
                for position in (0, 1, len(data) // 3, len(data) - 1):
                    a.seek(position)
                    b.seek(position)
                    assert (a.tell(), a.read(5)) == (b.tell(), b.read(5))
                    assert a.get(position, 9) == b.get(position, 9)
                a.close()
                b.close()
            plain.close()
            mapped.close()


# ---- query speed (issue 6): each shortcut gives exactly what the plain computation gives

WORDS = "flow heat wing shock plate cone boundary layer pressure transfer speed mach jet".split()


def _larger_index(root, replace: bool):
    """90 files of one to four paragraphs of common words; ``replace``: then some are
    written anew (their old passages stay in the index, deleted)."""
    rng = random.Random(7)
    docs = root / "docs"
    docs.mkdir()

    def write(i):
        paragraphs = [f"{rng.choice(WORDS).title()} and {rng.choice(WORDS)}"]
        for _ in range(rng.randint(1, 4)):
            paragraphs.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 70))) + ".")
        (docs / f"f{i:03}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")

    for i in range(90):
        write(i)
    build_index([docs], root / "index", jobs=0)
    if replace:
        for i in range(0, 90, 9):
            write(i)
        build_index([docs], root / "index", jobs=0)
    return root / "index"


@pytest.fixture(scope="module")
def larger(tmp_path_factory):
    with SearchSession(_larger_index(tmp_path_factory.mktemp("larger"), replace=True)) as s:
        yield s


@pytest.fixture(scope="module")
def larger_unchanged(tmp_path_factory):
    with SearchSession(_larger_index(tmp_path_factory.mktemp("larger"), replace=False)) as s:
        yield s


QUERIES = [{"flow": 1.0}, {"heat": 1.0, "transfer": 2.0}, {"shock": 1.0, "wing": 1.0, "cone": 1.0, "jet": 0.5},
           {"boundari": 1.0, "layer": 1.0, "pressur": 1.0, "speed": 1.0, "mach": 1.0}]


def _ranked(reader, terms, count, per_file, expansion, stopwords, exclude=None):
    ranked, total, used = rank_expanded(reader, terms, count, per_file, expansion=expansion, stopwords=stopwords,
                                       exclude=exclude)
    return [(r.docnum, r.score, r.file) for r in ranked], total, used


@pytest.mark.parametrize("terms", QUERIES)
def test_file_scores_in_a_list_or_a_dict_rank_the_same(larger, monkeypatch, terms):
    reader = larger.searcher.reader()
    stopwords = larger._stopwords()
    monkeypatch.setattr(expansion, "EXPANSION_CANDIDATES", 7)
    for expanded in (False, True):
        for count, per_file in ((1, 1), (5, 1), (10, 3), (1000, None)):
            monkeypatch.setattr(ranking, "DENSE_FILE_SHARE", 100.0)  # dicts only
            expected = _ranked(reader, terms, count, per_file, expanded, stopwords)
            for chunk in (1, 3, 256):  # lists, searched in chunks of several sizes
                monkeypatch.setattr(ranking, "DENSE_FILE_SHARE", 0.0)
                monkeypatch.setattr(ranking._DenseFiles, "CHUNK", chunk)
                assert _ranked(reader, terms, count, per_file, expanded, stopwords) == expected


@pytest.mark.parametrize("terms", QUERIES)
def test_ranking_of_a_larger_index_matches_a_straightforward_implementation(larger, terms):
    reader = larger.searcher.reader()
    expected = _straightforward(reader, terms)
    ranked, total, _ = ranking.rank(reader, terms, 10**6, None)
    assert total == len(expected)
    assert [r.docnum for r in ranked] == sorted(expected, key=lambda d: (-expected[d], d))
    assert all(math.isclose(r.score, expected[r.docnum], rel_tol=1e-9) for r in ranked)


@pytest.mark.parametrize("terms", QUERIES[2:])
@pytest.mark.parametrize("candidates", [3, 10])
def test_rescoring_from_passage_text_matches_scoring_everything(larger_unchanged, terms, candidates):
    """(An index without deleted passages: rescoring takes a word's passage count from
    whoosh's term statistics, which count deleted passages until segments merge.)"""
    _assert_rescoring_matches_scoring_everything(larger_unchanged, terms, candidates)


def test_passage_terms_counted_from_text_equal_the_postings(larger):
    reader = larger.searcher.reader()
    stats = ranking.statistics(reader)
    texts = expansion.PassageTerms(reader)
    for fieldname, _ in ranking.FIELDS:
        from_postings: dict[int, Counter] = {}
        for btext in reader.lexicon(fieldname):
            for seg in stats.segments:
                for ids, tfs in ranking._postings(seg, fieldname, btext):
                    for d, tf in zip(ids, tfs):
                        if d not in seg.deleted:
                            from_postings.setdefault(seg.offset + d, Counter())[btext.decode()] = tf
        live = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
        assert {d: dict(texts.of(d)[fieldname]) for d in live} == {d: dict(from_postings.get(d, {})) for d in live}


def _assert_holding_matches_the_postings(reader, rng, rounds: int):
    """ranking.term_in_runs (two binary searches a run) gives what filtering every posting gives."""
    stats = ranking.statistics(reader)
    live = [g for g in range(reader.doc_count_all()) if not reader.is_deleted(g)]
    for _ in range(rounds):
        wanted = sorted(rng.sample(live, rng.randint(0, len(live))))
        chosen = set(wanted)
        runs = _consecutive(wanted)
        assert sorted(g for first, end in runs for g in range(first, end)) == wanted
        rng.shuffle(runs)  # (in any order, crossing segments)
        for fieldname, _ in ranking.FIELDS:
            for btext in list(reader.lexicon(fieldname))[:12]:
                expected = [(seg.offset + d, tf) for seg in stats.segments
                            for ids, tfs in ranking._postings(seg, fieldname, btext)
                            for d, tf in zip(ids, tfs) if seg.offset + d in chosen]
                holders, df, total = ranking.term_in_runs(stats, fieldname, btext, ranking.Runs(stats, runs))
                assert holders == expected
                assert (df, total) == (reader.doc_frequency(fieldname, btext), reader.frequency(fieldname, btext))


def _consecutive(docnums: list[int]) -> list[tuple[int, int]]:
    """Sorted docnums as runs of consecutive ones, (first, last + 1)."""
    runs: list[tuple[int, int]] = []
    for g in docnums:
        if runs and runs[-1][1] == g:
            runs[-1] = (runs[-1][0], g + 1)
        else:
            runs.append((g, g + 1))
    return runs


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_holding_reads_the_postings_of_chosen_passages(larger, seed):
    _assert_holding_matches_the_postings(larger.searcher.reader(), random.Random(seed), 3)


_ODD_TEXT = st.text(alphabet=st.sampled_from(
    list("aZ09_ -.,;\n\t'’‘ʼ`´\"()/") + ["É", "é", "ß", "ﬁ", "Ø", "ł", "æ", "İ", "ı", "東", "ー", "\u0301", "\u200b",
                                        "Σ", "ς", "ǅ", "½", "²", "٣", "\u00a0"]), max_size=60)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(_ODD_TEXT, st.text(max_size=60)))
def test_fast_terms_equal_the_analyzers_terms(text):
    from searcher.index.text.analysis import fast_terms, make_path_analyzer, make_text_analyzer

    for analyzer in (make_text_analyzer("english"), make_path_analyzer()):
        assert fast_terms(analyzer)(text) == [token.text for token in analyzer(text)]


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(_ODD_TEXT, st.text(max_size=60)))
def test_fast_tokens_equal_the_analyzers_tokens(text):
    """Highlighting's tokens (index.text.analysis.fast_tokens) are the analyzer's own."""
    from whoosh.analysis import StandardAnalyzer

    from searcher.index.text.analysis import WordTokenizer, fast_tokens, make_path_analyzer, make_text_analyzer
    from searcher.present.snippets import _tokens_of

    def analyzers_tokens(analyzer):
        return [(t.pos, t.text, t.startchar, t.endchar)
                for t in analyzer(text, positions=True, chars=True, mode="index")]

    old_tokenizer = WordTokenizer()  # (schema 1: no CJK bigrams)
    for analyzer in (make_text_analyzer("english"), make_text_analyzer("french"), make_path_analyzer(), old_tokenizer):
        assert fast_tokens(analyzer)(text) == analyzers_tokens(analyzer)
    other = StandardAnalyzer()
    assert fast_tokens(other) is None
    assert _tokens_of(other)(text) == analyzers_tokens(other)


def _capped(hits, count, per_file):
    """The first ``count`` of ``hits`` (docnum, score, file), at most ``per_file`` per file."""
    taken: Counter = Counter()
    kept = []
    for hit in hits:
        if taken[hit[2]] < per_file:
            taken[hit[2]] += 1
            kept.append(hit)
    return kept[:count]


def test_excluded_passages_are_neither_returned_nor_counted_and_files_keep_their_scores(larger, monkeypatch):
    reader = larger.searcher.reader()
    stopwords = larger._stopwords()
    for terms in QUERIES:
        for expanded in (False, True):  # (expansion here scores every matching file again)
            everything, total, used = _ranked(reader, terms, 10**6, None, expanded, stopwords)
            exclude = {docnum for i, (docnum, _, _) in enumerate(everything) if i % 3 == 0}
            kept, kept_total, kept_used = _ranked(reader, terms, 10**6, None, expanded, stopwords, exclude)
            assert kept == [hit for hit in everything if hit[0] not in exclude]
            matched = ranking.score_terms(reader, terms).matched()  # (the count is of the question's own words)
            assert kept_total == total - len(exclude & matched) and kept_used == used
            for count, per_file in ((1, 1), (5, 2)):
                capped, _, _ = _ranked(reader, terms, count, per_file, False, stopwords, exclude)
                assert capped == _capped([hit for hit in _ranked(reader, terms, 10**6, None, False, stopwords)[0]
                                          if hit[0] not in exclude], count, per_file)
        # Expansion rescoring the best files only: the same files' scores, and the passages
        # of the rescoring less the excluded ones.
        first = ranking.score_terms(reader, terms)
        mixed = expansion.expand(reader, first, terms, stopwords)
        rescored = expansion.rescore_expanded(reader, first, terms, mixed, 7)
        exclude = set(list(rescored.passage)[::2])
        first_kept = ranking.score_terms(reader, terms, ranking._Scores(ranking.statistics(reader), exclude))
        kept = expansion.rescore_expanded(reader, first_kept, terms, mixed, 7)
        assert kept.file == rescored.file
        assert kept.passage == {g: p for g, p in rescored.passage.items() if g not in exclude}
        stats = ranking.statistics(reader)
        hits = sorted(((g, rescored.file[stats.file_of[g]] + ranking.PASSAGE_SHARE * p, stats.file_of[g])
                       for g, p in kept.passage.items()), key=lambda hit: (-hit[1], hit[0]))
        for count, per_file in ((1, 1), (3, 2)):
            got = [(r.docnum, r.score, r.file) for r in ranking.top_passages(kept, count, per_file, stats)]
            assert got == _capped(hits, count, per_file)


def test_the_number_of_matches_can_be_counted_later(larger):
    reader = larger.searcher.reader()
    for terms in QUERIES:
        ranked, total, _ = ranking.rank(reader, terms, 3, 1)
        lazily, count, _ = ranking.rank(reader, terms, 3, 1, lazy_total=True)
        assert lazily == ranked and count() == total == len(ranking.score_terms(reader, terms).matched())


def test_phrases_are_handed_to_the_postings_as_tuples(larger, monkeypatch):
    reader = larger.searcher.reader()
    asked = []
    postings = ranking._postings

    def recording(seg, fieldname, key, wanted=None, check_ids=True):
        asked.append((fieldname, key))
        return postings(seg, fieldname, key, wanted, check_ids)

    monkeypatch.setattr(ranking, "_postings", recording)
    ranking.score_terms(reader, {("heat", "transfer"): 1.0, "wing": 1.0})
    assert {("body", ("heat", "transfer")), ("title", ("heat", "transfer")), ("body", b"wing")} <= set(asked)


@settings(max_examples=200, deadline=None)
@given(deltas=st.lists(st.integers(1, 70_000), min_size=1, max_size=130),
       weights=st.sampled_from(["ones", "same", "varied"]), positions=st.integers(0, 40),
       compressed=st.booleans(), prefix_bytes=st.sampled_from([0, 1, 14]))
def test_block_decoding_of_whoosh_style_blocks(deltas, weights, positions, compressed, prefix_bytes):
    """Blocks pickled as whoosh3 writes them: (delta-coded ids, weights, positions)."""
    import pickle
    import zlib

    from searcher.index.storage import whoosh_private

    count = len(deltas)
    tfs = {"ones": [1.0] * count, "same": [2.0] * count, "varied": [float(1 + i % 4) for i in range(count)]}[weights]
    pickled_weights = None if weights == "ones" else (tfs[0] if weights == "same" else tuple(tfs))
    values = tuple(pickle.dumps(list(range(positions + i % 3)), 2) for i in range(count))
    raw = pickle.dumps((tuple(deltas), pickled_weights, values), 2)
    raw = zlib.compress(raw, 3) if compressed else raw
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(whoosh_private, "_PREFIX_BYTES", prefix_bytes)  # 0, 1: the ids and weights come in late
        ids, got = whoosh_private.decode_ids_weights(raw, compressed, count)
    assert ids == list(itertools.accumulate(deltas)) and list(got) == tfs


@settings(max_examples=200, deadline=None)
@given(scores=st.lists(st.one_of(st.just(0.0), st.floats(0.01, 50.0)), min_size=1, max_size=300),
       k=st.integers(1, 40), chunk=st.integers(1, 20))
def test_best_files_of_a_list_of_scores(scores, k, chunk):
    files = ranking._DenseFiles(len(scores), {})
    files.scores[:] = scores
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ranking._DenseFiles, "CHUNK", chunk)
        matching = sorted((d for d in scores if d), reverse=True)
        if not matching:
            return
        assert files.kth_largest(k) == matching[min(k, len(matching)) - 1]
        floor = matching[min(k, len(matching)) - 1]
        assert sorted(files.at_least(floor)) == sorted((d, n) for n, d in enumerate(scores) if d and d >= floor)
        assert len(files) == len(matching)


@pytest.mark.parametrize("replaced", [False, True])
def test_a_walk_by_runs_counts_what_a_walk_one_posting_at_a_time_counts(larger, larger_unchanged, monkeypatch,
                                                                         replaced):
    reader = (larger if replaced else larger_unchanged).searcher.reader()
    stats = ranking.statistics(reader)
    assert any(seg.runs() is not None for seg in stats.segments)
    for fieldname, _ in ranking.FIELDS:
        fieldobj = reader.schema[fieldname]
        for word in WORDS:
            key = fieldobj.to_bytes(word[:4]) if word == "boundary" else fieldobj.to_bytes(word)
            monkeypatch.setattr(ranking, "RUN_WALK", 10**9)  # one posting at a time
            blocks, df, file_tf = ranking.term_walk(stats, fieldname, key)
            monkeypatch.setattr(ranking, "RUN_WALK", 0)  # by runs wherever a segment allows
            by_runs = ranking.term_walk(stats, fieldname, key)
            assert by_runs[1] == df
            assert list(by_runs[2].items()) == list(file_tf.items())  # the same counts, in the same order
            assert [type(tf) for tf in by_runs[2].values()] == [type(tf) for tf in file_tf.values()]


@pytest.mark.parametrize("terms", QUERIES)
def test_files_skipped_by_their_own_bound_change_nothing(larger, monkeypatch, terms):
    reader = larger.searcher.reader()
    stopwords = larger._stopwords()
    monkeypatch.setattr(expansion, "EXPANSION_CANDIDATES", 7)
    cases = [(count, per_file, expanded) for expanded in (False, True)
             for count, per_file in ((1, 1), (3, 1), (5, 2), (10, 3))]
    skipped = []
    bound = ranking._Scores.file_bound

    def counted(self, number, runs):
        value = bound(self, number, runs)
        skipped.append(value)
        return value

    monkeypatch.setattr(ranking._Scores, "file_bound", counted)
    found = [_ranked(reader, terms, *case, stopwords) for case in cases]
    monkeypatch.setattr(ranking._Scores, "file_bound", lambda self, number, runs: math.inf)  # never skips
    assert [_ranked(reader, terms, *case, stopwords) for case in cases] == found
    assert skipped
