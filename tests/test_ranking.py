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
