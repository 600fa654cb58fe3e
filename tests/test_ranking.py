"""The ranking engine (searcher/ranking.py): orderings on tiny corpora, never float scores."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from index.writer import build_index
from searcher import ranking
from searcher.search import SearchSession

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


def test_per_file_cap_and_passages_inside_a_file(session):
    for per_file in (1, 2):
        found = Counter(files(session.search("wing transonic speed flow heat", per_file=per_file, limit=50)))
        assert max(found.values()) <= per_file
    uncapped = files(session.search("wing transonic speed flow heat", per_file=None, limit=50))
    assert len(uncapped) >= len(set(uncapped))


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
    _, _, expanded = ranking.rank(reader, terms, 10, 1, expansion=True, stopwords=session._stopwords())
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


def _straightforward(reader, terms):
    """Passage scores by the definition in ranking.py, from stored text, one passage at a time."""
    schema = reader.schema
    passages = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
    fields = {name: {d: Counter(t.text for t in schema[name].analyzer(reader.stored_fields(d)[name]))
                     for d in passages} for name, _ in ranking.FIELDS}
    file_of = {d: reader.stored_fields(d)["file"] for d in passages}
    files = sorted(set(file_of.values()))
    length = {name: {d: reader.doc_field_length(d, name) for d in passages} for name, _ in ranking.FIELDS}
    scores = {}
    d_score = Counter()
    p_score = Counter()
    for name, weight in ranking.FIELDS:
        avg_p = sum(length[name].values()) / len(passages)
        f_tf, f_len = {}, Counter()
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
            tf_file = Counter()
            for d in passages:
                tf = fields[name][d][stem]
                if tf:
                    norm = ranking.K1 * (1 - ranking.B + ranking.B * length[name][d] / avg_p)
                    p_score[d] += w * weight * ranking.idf(len(passages), df) * tf * (ranking.K1 + 1) / (tf + norm)
                    if name == "title":
                        tf_file[file_of[d]] = tf
                    else:
                        tf_file[file_of[d]] += tf
            for f, tf in tf_file.items():
                norm = ranking.K1 * (1 - ranking.B + ranking.B * f_len[f] / avg_f)
                d_score[f] += w * weight * ranking.idf(len(files), len(tf_file)) * tf * (ranking.K1 + 1) / (tf + norm)
    for d in p_score:
        scores[d] = d_score[file_of[d]] + ranking.PASSAGE_SHARE * p_score[d]
    return scores


@pytest.mark.parametrize("terms", [{"wing": 1.0}, {"heat": 1.0, "transfer": 2.0, "flow": 1.0},
                                   {"shock": 1.0, "wing": 1.0, "transon": 1.0, "speed": 0.5}])
def test_fast_path_matches_a_straightforward_implementation(session, terms):
    reader = session.searcher.reader()
    expected = _straightforward(reader, terms)
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
    file_of = {d: reader.stored_fields(d)["file"] for d in expected}
    ranked, _, _ = ranking.rank(reader, terms, count, per_file)
    assert [r.docnum for r in ranked] == _capped_top(expected, file_of, count, per_file)


def _file_frequency(reader):
    """The exact number of files whose passages hold a term (what _files_with estimates)."""
    def files_with(fieldname, btext, df):
        found = {reader.stored_fields(d)["file"] for d in reader.postings(fieldname, btext).all_ids()
                 if not reader.is_deleted(d)}
        return len(found)
    return files_with


@pytest.mark.parametrize("terms", [{"heat": 1.0, "transfer": 1.0, "plate": 1.0, "flow": 1.0},
                                   {"wing": 1.0, "flutter": 1.0, "transon": 1.0, "speed": 1.0}])
@pytest.mark.parametrize("candidates", [1, 2, 3])
def test_expansion_rescoring_of_candidates_matches_scoring_everything(session, terms, candidates):
    """The second pass over the first pass's best files gives them the scores a full second
    pass gives, once it is told the exact file counts it otherwise estimates."""
    reader = session.searcher.reader()
    first = ranking.score_terms(reader, terms)
    mixed = ranking.expand(reader, first, terms, session._stopwords())
    full = ranking.score_terms(reader, mixed)
    rescored = ranking._rescore_expanded(reader, first, terms, mixed, candidates, _file_frequency(reader))
    assert set(rescored.file) == set(ranking.top_files(first, candidates))
    for number, score in rescored.file.items():
        assert math.isclose(score, full.file[number], rel_tol=1e-9)
    for docnum, score in rescored.passage.items():
        assert math.isclose(score, full.passage.get(docnum, 0.0), rel_tol=1e-9, abs_tol=1e-12)


def test_questions_on_a_larger_index_rerank_only_the_best_files(session, monkeypatch):
    monkeypatch.setattr(ranking, "EXPANSION_CANDIDATES", 2)
    reader = session.searcher.reader()
    terms = {"heat": 1.0, "transfer": 1.0, "plate": 1.0, "flow": 1.0}
    ranked, total, expanded = ranking.rank(reader, terms, 2, 1, expansion=True, stopwords=session._stopwords())
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
        by_file.setdefault(reader.stored_fields(d)["file"], []).append(d)
    assert stats.file_count == len(by_file)
    for number, key in enumerate(stats.files):
        docnums = by_file[key.decode("utf-8")]
        assert stats.passages_of(number) == docnums
        assert stats.file_lengths["body"][number] == sum(reader.doc_field_length(d, "body") for d in docnums)


def test_many_blocks_deletions_and_mapped_segments(tmp_path):
    """Postings over several whoosh blocks (128 postings each), with deleted passages, read
    through index/mapped.py: the fast paths agree with whoosh's own reading."""
    from whoosh.filedb.compound import CompoundStorage

    from index.mapped import MappedCompoundStorage

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(300):
        words = "alpha beta" if i % 2 else "alpha gamma alpha"
        (docs / f"f{i:03}.txt").write_text(f"Note {i}\n\n{words} number {i}.\n\nSecond part {i % 7} delta.",
                                           encoding="utf-8")
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
        from index import mapped

        for seg in stats.segments:  # skip_to with a binary search lands where whoosh's does
            for stem in (b"alpha", b"beta", b"delta", b"gamma"):
                if ("body", stem) not in seg.reader:
                    continue
                for target in range(0, seg.count + 3, 7):
                    places = []
                    for skip in (mapped.whoosh_skip_to, mapped._skip_to):
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
