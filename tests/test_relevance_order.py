"""A frozen ordering test of the ranking on every visible test collection (issue 16).

For each collection in ../shared/eval (cranfield, med, npl, scifact) the first
QUERIES queries that have relevant documents are run, through the same path as
``searcher query TEXT --per-file 1 --json``, on a small index made once per session:
the relevant documents of those queries plus every k-th other document (POOL files
in all; chosen from the collection's files alone, so the pool does not depend on
the ranking). The top-3 files of each query are compared with those frozen in
tests/data/relevance_order.json.

Tolerance: ranking changes on purpose now and then, and ties of equal scores may
fall either way, so a collection passes when, over its queries, at least
TOP1_SHARE of the first files and TOP3_SHARE of the top-3 files (as sets) are the
frozen ones. A change that moves more than that must be looked at and re-frozen:

    python tests/test_relevance_order.py      # writes tests/data/relevance_order.json

Skipped when ../shared/eval is not there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
FROZEN = Path(__file__).resolve().parent / "data" / "relevance_order.json"
COLLECTIONS = ("cranfield", "med", "npl", "scifact")
QUERIES = 20
POOL = 400
TOP1_SHARE = 0.85
TOP3_SHARE = 0.80


def _pool(collection):
    """The documents indexed: the chosen queries' relevant ones, then every k-th other one."""
    from benchmarks import metrics

    judged = set(metrics.evaluated_queries(collection.qrels))
    queries = [(query_id, text) for query_id, text in collection.queries if query_id in judged][:QUERIES]
    wanted = {doc_id for query_id, _ in queries for doc_id, gain in collection.qrels[query_id].items() if gain > 0}
    others = [document for document in collection.documents if document.doc_id not in wanted]
    step = max(1, len(others) // max(1, POOL - len(wanted)))
    kept = wanted | {document.doc_id for document in others[::step][:max(0, POOL - len(wanted))]}
    return queries, [document for document in collection.documents if document.doc_id in kept]


def rankings(base: Path) -> dict[str, dict[str, list[str]]]:
    """{collection: {query id: its top-3 doc ids}}, each collection indexed under ``base``."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import relevance
    from searcher.index.runs.writer import build_index
    from searcher.engine.search import SearchSession

    found = {}
    for name in COLLECTIONS:
        directory = EVAL / name
        if not directory.is_dir():
            continue
        collection = relevance.load_directory(directory)
        queries, documents = _pool(collection)
        docs = base / name / "docs"
        docs.mkdir(parents=True)
        for document in documents:
            title = " ".join(document.title.split())
            (docs / f"{document.doc_id}.txt").write_text(
                f"{title}\n\n{document.abstract}\n" if title else f"{document.abstract}\n", encoding="utf-8")
        build_index([docs], base / name / "index", jobs=0)
        with SearchSession(base / name / "index") as session:
            found[name] = {
                query_id: [Path(hit.path).stem for hit in
                           session.search(" ".join(text.split()), limit=3, per_file=1, highlight=False).hits]
                for query_id, text in queries}
    return found


@pytest.fixture(scope="session")
def measured(tmp_path_factory):
    if not EVAL.is_dir():
        pytest.skip("../shared/eval is not present")
    if not FROZEN.is_file():
        pytest.fail(f"{FROZEN} is missing: write it with 'python tests/test_relevance_order.py'")
    return rankings(tmp_path_factory.mktemp("relevance-order"))


@pytest.mark.parametrize("name", COLLECTIONS)
def test_top_files_stay_as_frozen(measured, name):
    frozen = json.loads(FROZEN.read_text(encoding="utf-8"))
    if name not in measured:
        pytest.skip(f"../shared/eval/{name} is not present")
    assert set(measured[name]) == set(frozen[name]), "the queries chosen changed: re-freeze"
    queries = sorted(frozen[name])
    same_first = sum(measured[name][q][:1] == frozen[name][q][:1] for q in queries)
    same_top3 = sum(len(set(measured[name][q]) & set(frozen[name][q])) for q in queries)
    total_top3 = sum(len(frozen[name][q]) for q in queries)
    assert same_first >= TOP1_SHARE * len(queries), (name, same_first, len(queries))
    assert same_top3 >= TOP3_SHARE * total_top3, (name, same_top3, total_top3)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = rankings(Path(tmp))
    FROZEN.parent.mkdir(exist_ok=True)
    FROZEN.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {FROZEN}: " + ", ".join(f"{name} {len(queries)} queries" for name, queries in result.items()))
