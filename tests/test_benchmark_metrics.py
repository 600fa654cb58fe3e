"""The relevance benchmark's building blocks: SMART readers, trec_eval-style metrics, the CLI."""

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import metrics, relevance, smart

CRANFIELD = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "cranfield"


# --- metrics: hand-computed values --------------------------------------------------------

# Gains: a=3, c=1, d=2 are relevant; b is judged not relevant.
JUDGED = {"a": 3, "b": 0, "c": 1, "d": 2}
RANKING = ["b", "a", "x", "c"]  # relevant at ranks 2 and 4; d never retrieved


def test_average_precision_divides_by_all_relevant():
    assert metrics.average_precision(RANKING, JUDGED) == pytest.approx((1 / 2 + 2 / 4) / 3)


def test_precision_at_10_counts_missing_ranks_as_misses():
    assert metrics.precision_at(RANKING, JUDGED, 10) == pytest.approx(2 / 10)


def test_recall_at_100():
    assert metrics.recall_at(RANKING, JUDGED, 100) == pytest.approx(2 / 3)


def test_reciprocal_rank_of_first_relevant():
    assert metrics.reciprocal_rank(RANKING, JUDGED) == pytest.approx(1 / 2)
    assert metrics.reciprocal_rank(["b", "x"], JUDGED) == 0.0


def test_ndcg_uses_graded_gains_and_log2_discount():
    dcg = 3 / math.log2(3) + 1 / math.log2(5)
    ideal = 3 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    assert metrics.ndcg_at(RANKING, JUDGED, 10) == pytest.approx(dcg / ideal)


def test_ndcg_is_cut_at_k():
    judged = {"r": 1}
    assert metrics.ndcg_at([f"n{i}" for i in range(10)] + ["r"], judged, 10) == 0.0
    assert metrics.ndcg_at([f"n{i}" for i in range(9)] + ["r"], judged, 10) == pytest.approx(1 / math.log2(11))


def test_average_precision_is_cut_at_1000():
    judged = {"r": 1}
    late = [f"n{i}" for i in range(1000)] + ["r"]
    assert metrics.average_precision(late, judged) == 0.0
    assert metrics.average_precision(late[1:], judged) == pytest.approx(1 / 1000)


def test_repeated_documents_count_once_at_first_rank():
    assert metrics.precision_at(["a", "a", "a"], JUDGED, 10) == pytest.approx(1 / 10)
    assert metrics.average_precision(["a", "a", "c"], JUDGED) == pytest.approx((1 / 1 + 2 / 2) / 3)


def test_queries_without_relevant_documents_are_left_out_of_means():
    qrels = {"1": {"a": 1}, "2": {"b": 0}}
    means = metrics.evaluate({"1": ["a"], "2": ["b"]}, qrels)
    assert means["num_q"] == 1
    assert means["map"] == 1.0


def test_judged_query_missing_from_run_scores_zero():
    qrels = {"1": {"a": 1}, "2": {"b": 1}}
    means = metrics.evaluate({"1": ["a"]}, qrels)
    assert means["num_q"] == 2
    assert means["map"] == pytest.approx(0.5)
    assert means["recip_rank"] == pytest.approx(0.5)


def test_queries_only_in_the_run_are_ignored():
    means = metrics.evaluate({"1": ["a"], "9": ["z"]}, {"1": {"a": 1}})
    assert means["num_q"] == 1


def test_rank_by_score_breaks_ties_like_trec_eval():
    # Score descending, then document id descending (as strings, like strcmp).
    scored = [("10", 1.0), ("9", 1.0), ("2", 3.0), ("11", 1.0)]
    assert metrics.rank_by_score(scored) == ["2", "9", "11", "10"]


doc_ids = st.sampled_from([f"d{i}" for i in range(15)])


@given(
    judged=st.dictionaries(doc_ids, st.integers(min_value=0, max_value=4), min_size=1),
    ranking=st.lists(doc_ids, max_size=20),
)
def test_every_metric_lies_between_zero_and_one(judged, ranking):
    for value in metrics.query_metrics(ranking, judged).values():
        assert 0.0 <= value <= 1.0 + 1e-12


@given(judged=st.dictionaries(doc_ids, st.integers(min_value=1, max_value=4), min_size=1))
def test_ideal_ranking_scores_one(judged):
    ideal = sorted(judged, key=lambda doc_id: judged[doc_id], reverse=True)
    scores = metrics.query_metrics(ideal, judged)
    assert scores["map"] == pytest.approx(1.0)
    assert scores["ndcg_cut_10"] == pytest.approx(1.0)
    assert scores["recip_rank"] == 1.0


# --- SMART readers ------------------------------------------------------------------------

DOCS = (
    ".I 1\r\n.T\r\nwing in a slipstream .\r\n.A\r\nbrenckman,m.\r\n.B\r\nj. ae. scs. 25\r\n"
    ".W\r\nwing in a slipstream .\r\n  lift increase due to slipstream .\r\n"
    ".I 2\r\n.T\r\n.A\r\n.B\r\n.W\r\n"
    ".I 3\r\n.T\r\nshear flow past a flat plate .\r\n.W\r\nshear flow past a plate .\r\n.W\r\nmore text .\r\n"
)

QUERIES = ".I 001\n.W\nlift of a wing\nin a slipstream .\n.I 004\n.W\nshear flow .\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_documents_are_read_with_crlf_and_empty_or_missing_fields(tmp_path):
    documents = smart.read_documents(write(tmp_path, "docs", DOCS))
    assert [d.doc_id for d in documents] == ["1", "2", "3"]
    first = documents[0]
    assert first.title == "wing in a slipstream ."
    assert first.authors == "brenckman,m."
    assert first.bibliography == "j. ae. scs. 25"
    assert first.abstract.splitlines()[-1].strip() == "lift increase due to slipstream ."
    assert "\r" not in first.abstract
    assert documents[1] == smart.SmartDocument(doc_id="2")
    assert documents[2].authors == ""


def test_repeated_marker_appends_to_the_field(tmp_path):
    third = smart.read_documents(write(tmp_path, "docs", DOCS))[2]
    assert third.abstract == "shear flow past a plate .\nmore text ."


def test_queries_keep_file_order_and_both_numberings(tmp_path):
    queries = smart.read_queries(write(tmp_path, "qry", QUERIES))
    assert [(q.number, q.smart_id) for q in queries] == [(1, "001"), (2, "004")]
    assert queries[0].text == "lift of a wing in a slipstream ."
    assert smart.keyed_queries(queries, "position") == [("1", queries[0].text), ("2", "shear flow .")]
    assert smart.keyed_queries(queries, "id") == [("1", queries[0].text), ("4", "shear flow .")]


def test_numbering_is_detected_from_the_qrels(tmp_path):
    queries = smart.read_queries(write(tmp_path, "qry", QUERIES))
    assert smart.detect_numbering(queries, {"1": {"1": 4}, "2": {"3": 4}}) == "position"
    assert smart.detect_numbering(queries, {"1": {"1": 4}, "4": {"3": 4}}) == "id"


def test_cranfield_codes_become_gains_five_minus_code(tmp_path):
    qrels = smart.read_qrels(write(tmp_path, "qrels", "1 184 1\r\n1 29 2 \r\n1 31 3\n1 12 4\n1 486 -1\n"))
    assert qrels == {"1": {"184": 4, "29": 3, "31": 2, "12": 1, "486": 0}}


def test_qrels_layouts(tmp_path):
    pairs = smart.read_qrels(write(tmp_path, "pairs", "01 1410\n01 1572\n"), grading="gain")
    assert pairs == {"1": {"1410": 1, "1572": 1}}
    smart_four = smart.read_qrels(write(tmp_path, "smart4", "01 1410 0 0\n02 1572 0 0\n"), grading="gain")
    assert smart_four == {"1": {"1410": 1}, "2": {"1572": 1}}
    trec = smart.read_qrels(write(tmp_path, "trec", "1 0 d1 2\n1 0 d2 0\n2 0 d3 -1\n"), grading="gain")
    assert trec == {"1": {"d1": 2, "d2": 0}, "2": {"d3": 0}}


def test_bad_qrels_line_names_file_and_line(tmp_path):
    path = write(tmp_path, "qrels", "1 2 3\n1 2 three\n")
    with pytest.raises(smart.CollectionFormatError, match=r"qrels:2"):
        smart.read_qrels(path)


def test_text_before_first_record_is_rejected(tmp_path):
    with pytest.raises(smart.CollectionFormatError, match="not a SMART file"):
        smart.read_documents(write(tmp_path, "docs", "hello\n.I 1\n.W\nx\n"))


# --- relevance CLI ------------------------------------------------------------------------


@pytest.fixture
def tiny_collection(tmp_path):
    return [
        "--docs", str(write(tmp_path, "docs", DOCS)),
        "--queries", str(write(tmp_path, "qry", QUERIES)),
        "--qrels", str(write(tmp_path, "qrels", "1 1 1\n2 3 2\n")),
        "--grades", "cranfield",
    ]  # fmt: skip


def test_whoosh_engine_ranks_the_tiny_collection(tiny_collection):
    collection = relevance.load_collection(*[Path(a) for a in tiny_collection[1:6:2]])
    run, _ = relevance.run_whoosh(collection)
    assert run["1"][0] == "1"
    assert run["2"][0] == "3"


def test_cli_prints_a_table(tiny_collection, capsys):
    assert relevance.main(tiny_collection + ["--engines", "whoosh"]) == 0
    out = capsys.readouterr().out
    assert "engine" in out and "nDCG@10" in out
    row = next(line for line in out.splitlines() if line.startswith("whoosh"))
    assert row.split("|")[1].strip() == "1.0000"  # MAP: each query's only relevant doc ranks first


def test_searcher_engine_indexes_and_ranks_through_the_project_code(tiny_collection, capsys):
    assert relevance.main(tiny_collection + ["--engines", "searcher,searcher-no-expand"]) == 0
    table = capsys.readouterr().out
    assert "searcher-no-expand" in table and "\nsearcher " in table


def test_cli_rejects_unknown_engine_and_missing_collection(tmp_path, capsys):
    assert relevance.main(["--engines", "nope", "--collection", str(tmp_path)]) == 2
    assert relevance.main(["--collection", str(tmp_path / "absent")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert all(line.startswith("error: ") for line in errors) and len(errors) == 2


# --- the real collection, when shared/ is there -------------------------------------------


@pytest.mark.skipif(not CRANFIELD.is_dir(), reason="shared Cranfield collection not present")
def test_cranfield_reads_completely():
    collection = relevance.load_collection(
        CRANFIELD / "cran.all.1400", CRANFIELD / "cran.qry", CRANFIELD / "cranqrel"
    )
    assert len(collection.documents) == 1400
    assert len(collection.queries) == 225
    assert collection.numbering == "position"
    assert len(metrics.evaluated_queries(collection.qrels)) == 225
    gains = [gain for judged in collection.qrels.values() for gain in judged.values()]
    assert set(gains) == {0, 1, 2, 3, 4}
