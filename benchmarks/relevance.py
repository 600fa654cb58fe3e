"""Relevance benchmark: rank test collections with each engine and score the runs.

    python benchmarks/relevance.py                      # every collection in ../shared/eval
    python benchmarks/relevance.py --collection ../shared/eval/med --engines whoosh,searcher
    python benchmarks/relevance.py --docs D --queries Q --qrels R [--numbering id] [--grades gain]
    python benchmarks/relevance.py --keep-indexes benchmarks/out/relevance   # reuse searcher's indexes

By default it runs cranfield, med, npl and scifact from ../shared/eval (a missing
folder is skipped with a note; loaders in benchmarks/smart.py and
benchmarks/testsets.py) and prints, per collection, MAP, nDCG@10, P@10 and R@100
of each engine with its ratio to the best baseline (the better of ``whoosh`` and
``bm25``), then the ratios of every engine on every collection and their mean, and
the ratios to the best of the six engines of issue 16's table.

Engines:

* ``whoosh``: the baseline of issue 3 -- stock whoosh 2.7.4, one index with
  ``title`` (.T), ``author`` (.A) and ``abstract`` (.W) fields, each
  ``TEXT(StemmingAnalyzer())``; the query is taken as plain text by a
  ``MultifieldParser`` over the three fields with ``OrGroup`` and its syntax
  plugins removed; default ``BM25F`` scoring; top 1000.  This reproduces the
  issue's numbers to within 0.002.
* ``whoosh-syntax``: the same with the parser's default syntax left on.  It
  scores lower because Cranfield queries such as "(the ?slip? effect)" turn
  into wildcard queries.
* ``whoosh-onefield``: plain text again, with title, authors and abstract
  concatenated into a single field.
* ``bm25``: plain BM25 as Lucene scores it (k1 1.2, b 0.75), written out in
  ``run_bm25`` so that the baseline has no hidden choices.
* ``searcher``, ``searcher-no-expand``: the project's own indexing and query code, as
  ``searcher query TEXT --limit 1000`` (and ``--no-expand``) ranks files: one index per
  collection, each document its own file (title line, blank line, text).

Every number printed is a mean over the queries that have at least one
relevant document (trec_eval semantics, see ``benchmarks/metrics.py``).
"""

from __future__ import annotations

import argparse
import heapq
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

if __package__ in (None, ""):
    # Run as a script: make the repository root importable so "benchmarks" resolves.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import metrics, smart  # noqa: E402

RESULTS_PER_QUERY = 1000
REPO_ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = REPO_ROOT.parent / "shared" / "eval"
DEFAULT_COLLECTION = EVAL_DIR / "cranfield"
# The collections run by default, in this order; a missing one is skipped with a note.
EVAL_COLLECTIONS = ("cranfield", "med", "npl", "scifact")
# Engines a searcher run is compared with ("the best baseline" is the better of them).
BASELINES = ("whoosh", "bm25")
# Issue 16's table: the best MAP / nDCG@10 of six stock engines (whoosh, Lucene, bm25s,
# SQLite FTS5, tantivy, Xapian) on each collection, measured outside this repository.
REFERENCE_BEST = {
    "cranfield": (0.316, 0.383),
    "med": (0.535, 0.705),
    "npl": (0.287, 0.439),
    "scifact": (0.644, 0.686),
}

# File names of the known SMART collections, probed in a --collection directory.
_KNOWN_LAYOUTS = (
    ("cran.all.1400", "cran.qry", "cranqrel", "cranfield"),
    ("CACM.ALL", "query.text", "qrels.text", "gain"),
    ("CISI.ALL", "CISI.QRY", "CISI.REL", "gain"),
    ("MED.ALL", "MED.QRY", "MED.REL", "gain"),
)


class BenchmarkError(Exception):
    """Something the user must fix (missing files, unknown engine); printed as one line."""


class EngineNotAvailable(BenchmarkError):
    """The engine exists in name but cannot run yet."""


@dataclass
class Collection:
    name: str
    documents: List[smart.SmartDocument]
    queries: List[Tuple[str, str]]
    """``(query id as the qrels know it, query text)`` in file order."""
    qrels: smart.Qrels
    numbering: str


@dataclass
class EngineResult:
    engine: str
    means: Dict[str, float]
    index_seconds: float
    query_seconds: float


# An engine indexes the collection and returns (run, seconds spent indexing).
# The caller times the whole call, so query time = total - indexing.
Engine = Callable[[Collection], Tuple[metrics.Run, float]]


def load_collection(
    docs: Path, queries: Path, qrels: Path, grading: str = "cranfield", numbering: Optional[str] = None
) -> Collection:
    for path in (docs, queries, qrels):
        if not Path(path).is_file():
            raise BenchmarkError(f"collection file not found: {path}")
    judgements = smart.read_qrels(qrels, grading)
    parsed_queries = smart.read_queries(queries)
    numbering = numbering or smart.detect_numbering(parsed_queries, judgements)
    return Collection(
        name=Path(docs).name,
        documents=smart.read_documents(docs),
        queries=smart.keyed_queries(parsed_queries, numbering),
        qrels=judgements,
        numbering=numbering,
    )


def load_directory(directory: Path) -> Collection:
    """The collection in a folder: a known SMART layout, NPL (doc-text) or SciFact (scifact.zip)."""
    from benchmarks import testsets

    directory = Path(directory)
    name = directory.name
    if (directory / "doc-text").is_file():
        documents, queries, qrels = testsets.read_npl(directory)
    elif (directory / "scifact.zip").is_file():
        documents, queries, qrels = testsets.read_scifact(directory)
    else:
        collection = load_collection(*collection_files(directory))
        collection.name = name
        return collection
    return Collection(name=name, documents=documents, queries=queries, qrels=qrels, numbering="id")


def collection_files(directory: Path) -> Tuple[Path, Path, Path, str]:
    """``(docs, queries, qrels, grading)`` for a directory holding a known SMART collection."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BenchmarkError(
            f"collection directory not found: {directory} "
            "(pass --collection DIR, or --docs/--queries/--qrels)"
        )
    for docs, queries, qrels, grading in _KNOWN_LAYOUTS:
        if (directory / docs).is_file():
            return directory / docs, directory / queries, directory / qrels, grading
    known = ", ".join(layout[0] for layout in _KNOWN_LAYOUTS)
    raise BenchmarkError(f"no known collection in {directory} (looked for {known}); use --docs/--queries/--qrels")


# --- engine: stock whoosh -------------------------------------------------------------

def _plain_text_parser(field_names: List[str], schema, syntax: bool):
    from whoosh import qparser

    parser = qparser.MultifieldParser(field_names, schema=schema, group=qparser.OrGroup)
    if not syntax:
        # Benchmark queries are natural-language text: '?', '*', quotes, brackets,
        # "field:" and the like must not act as query operators.
        for plugin in (
            qparser.WildcardPlugin,
            qparser.PhrasePlugin,
            qparser.SingleQuotePlugin,
            qparser.GroupPlugin,
            qparser.OperatorsPlugin,
            qparser.BoostPlugin,
            qparser.RangePlugin,
            qparser.FieldsPlugin,
        ):
            parser.remove_plugin_class(plugin)
    return parser


def _whoosh_run(collection: Collection, one_field: bool, syntax: bool = False) -> Tuple[metrics.Run, float]:
    from whoosh import fields
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.filedb.filestore import RamStorage

    started = time.perf_counter()
    if one_field:
        schema = fields.Schema(doc_id=fields.ID(stored=True), text=fields.TEXT(analyzer=StemmingAnalyzer()))
        field_names = ["text"]
    else:
        schema = fields.Schema(
            doc_id=fields.ID(stored=True),
            title=fields.TEXT(analyzer=StemmingAnalyzer()),
            author=fields.TEXT(analyzer=StemmingAnalyzer()),
            abstract=fields.TEXT(analyzer=StemmingAnalyzer()),
        )
        field_names = ["title", "author", "abstract"]
    import shutil
    import tempfile

    # whoosh puts an in-memory index's scratch folder at <tempdir>/MAIN.tmp, a fixed name
    # that two runs on one machine would share: give this run a private tempdir.
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, tempfile.mkdtemp(prefix="relevance-")
    index = RamStorage().create_index(schema)
    writer = index.writer()
    for document in collection.documents:
        if one_field:
            writer.add_document(
                doc_id=document.doc_id,
                text="\n".join((document.title, document.authors, document.abstract)),
            )
        else:
            writer.add_document(
                doc_id=document.doc_id,
                title=document.title,
                author=document.authors,
                abstract=document.abstract,
            )
    writer.commit()
    shutil.rmtree(tempfile.tempdir, ignore_errors=True)
    tempfile.tempdir = saved_tempdir
    index_seconds = time.perf_counter() - started

    parser = _plain_text_parser(field_names, index.schema, syntax)
    run: Dict[str, List[str]] = {}
    with index.searcher() as searcher:  # default weighting: BM25F(B=0.75, K1=1.2)
        for query_id, text in collection.queries:
            hits = searcher.search(parser.parse(text), limit=RESULTS_PER_QUERY)
            run[query_id] = metrics.rank_by_score((hit["doc_id"], hit.score) for hit in hits)
    return run, index_seconds


def run_whoosh(collection: Collection) -> Tuple[metrics.Run, float]:
    return _whoosh_run(collection, one_field=False)


def run_whoosh_syntax(collection: Collection) -> Tuple[metrics.Run, float]:
    return _whoosh_run(collection, one_field=False, syntax=True)


def run_whoosh_one_field(collection: Collection) -> Tuple[metrics.Run, float]:
    return _whoosh_run(collection, one_field=True)


# --- engine: plain BM25 --------------------------------------------------------------

BM25_K1 = 1.2
BM25_B = 0.75


def run_bm25(collection: Collection) -> Tuple[metrics.Run, float]:
    """Plain BM25 as Lucene scores it (k1 1.2, b 0.75), written out here so that the
    baseline has no hidden choices: one field (title, authors and text), whoosh's
    ``StemmingAnalyzer`` (lower case, English stopwords, Porter stems), idf
    ``ln(1 + (N - df + 0.5) / (df + 0.5))``, a document's length in terms after
    stopwords, and a query word repeated counted as often as it is typed (Lucene
    adds one clause per word). Ties by document id, as trec_eval breaks them."""
    from collections import Counter

    from whoosh.analysis import StemmingAnalyzer

    analyzer = StemmingAnalyzer()
    started = time.perf_counter()
    postings: Dict[str, List[Tuple[int, int]]] = {}
    lengths: List[int] = []
    ids: List[str] = []
    for number, document in enumerate(collection.documents):
        text = "\n".join((document.title, document.authors, document.abstract))
        counts = Counter(token.text for token in analyzer(text))
        for term, tf in counts.items():
            postings.setdefault(term, []).append((number, tf))
        lengths.append(sum(counts.values()))
        ids.append(document.doc_id)
    count = len(lengths)
    average = sum(lengths) / count if count else 1.0
    norms = [BM25_K1 * (1 - BM25_B + BM25_B * length / average) for length in lengths]
    index_seconds = time.perf_counter() - started
    run: Dict[str, List[str]] = {}
    for query_id, text in collection.queries:
        scores: Dict[int, float] = {}
        for term, repeats in Counter(token.text for token in analyzer(text)).items():
            found = postings.get(term, ())
            if not found:
                continue
            weight = repeats * math.log(1 + (count - len(found) + 0.5) / (len(found) + 0.5))
            for number, tf in found:
                scores[number] = scores.get(number, 0.0) + weight * tf * (BM25_K1 + 1) / (tf + norms[number])
        best = heapq.nlargest(RESULTS_PER_QUERY, scores.items(), key=lambda item: (item[1], ids[item[0]]))
        run[query_id] = metrics.rank_by_score((ids[number], score) for number, score in best)
    return run, index_seconds


# --- engine: this project -------------------------------------------------------------

# Indexes built for the searcher engines, by collection name: the default and
# --no-expand runs query one index. Set by main() to a directory to keep them there.
KEEP_INDEXES: Optional[Path] = None
_indexes: Dict[str, Tuple[Path, Dict[str, str], float]] = {}
_scratch: Optional[tempfile.TemporaryDirectory] = None


def searcher_index(collection: Collection) -> Tuple[Path, Dict[str, str], float]:
    """(index folder, {file path: doc id}, seconds) of the collection indexed as `searcher index` does.

    Each document becomes a file (its title line, a blank line, then its text) indexed
    by ``build_index`` (what ``searcher index`` runs). Built once per collection and
    process; with KEEP_INDEXES, kept there and reused by later runs.
    """
    global _scratch
    from searcher.index.runs.writer import build_index

    key = collection.name
    if key in _indexes:
        return _indexes[key]
    if KEEP_INDEXES is not None:
        base = Path(KEEP_INDEXES) / key
    else:
        if _scratch is None:
            _scratch = tempfile.TemporaryDirectory(prefix="searcher-relevance-")
        base = Path(_scratch.name) / key
    docs_dir, index_dir = base / "docs", base / "index"
    started = time.perf_counter()
    file_ids = {}
    docs_dir.mkdir(parents=True, exist_ok=True)
    for document in collection.documents:
        path = docs_dir / f"{document.doc_id}.txt"
        file_ids[str(path.resolve())] = document.doc_id
        title = " ".join(document.title.split())
        text = f"{title}\n\n{document.abstract}\n" if title else f"{document.abstract}\n"
        # (rewritten only when it differs: a kept index then has nothing to redo)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    build_index([docs_dir], index_dir, jobs=0)  # (a kept index: nothing to do when nothing changed)
    _indexes[key] = (index_dir, file_ids, time.perf_counter() - started)
    return _indexes[key]


def _searcher_run(collection: Collection, expand: Optional[bool]) -> Tuple[metrics.Run, float]:
    """Query the collection's index like `searcher query TEXT --limit 1000`: each query
    through ``SearchSession.search`` (what ``searcher query`` runs) with one passage per
    file, so a document ranks by its best passage."""
    from searcher.engine.search import SearchSession

    built = collection.name not in _indexes
    index_dir, file_ids, index_seconds = searcher_index(collection)
    index_seconds = index_seconds if built else 0.0  # (the second engine queries the same index)
    run: Dict[str, List[str]] = {}
    with SearchSession(index_dir) as session:
        for query_id, text in collection.queries:
            result = session.search(" ".join(text.split()), limit=RESULTS_PER_QUERY, per_file=1,
                                    highlight=False, expand=expand)
            run[query_id] = metrics.rank_by_score(
                (file_ids[str(Path(hit.path).resolve())], hit.score) for hit in result.hits)
    return run, index_seconds


def run_searcher(collection: Collection) -> Tuple[metrics.Run, float]:
    """`searcher query` as it ranks by default: query expansion for questions."""
    return _searcher_run(collection, expand=None)


def run_searcher_no_expand(collection: Collection) -> Tuple[metrics.Run, float]:
    """`searcher query --no-expand`."""
    return _searcher_run(collection, expand=False)


ENGINES: Dict[str, Engine] = {
    "whoosh": run_whoosh,
    "whoosh-syntax": run_whoosh_syntax,
    "whoosh-onefield": run_whoosh_one_field,
    "bm25": run_bm25,
    "searcher": run_searcher,
    "searcher-no-expand": run_searcher_no_expand,
}


def benchmark(collection: Collection, engine_names: Sequence[str]) -> List[EngineResult]:
    results = []
    for name in engine_names:
        if name not in ENGINES:
            raise BenchmarkError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
        started = time.perf_counter()
        run, index_seconds = ENGINES[name](collection)
        total = time.perf_counter() - started
        results.append(EngineResult(name, metrics.evaluate(run, collection.qrels), index_seconds,
                                    total - index_seconds))
    return results


TABLE_METRICS = ("map", "ndcg_cut_10", "P_10", "recall_100")


def _best_baseline(results: Sequence[EngineResult]) -> Optional[Tuple[float, float]]:
    """(MAP, nDCG@10) of the best of the baselines run (each metric on its own)."""
    found = [result.means for result in results if result.engine in BASELINES]
    if not found:
        return None
    return max(means["map"] for means in found), max(means["ndcg_cut_10"] for means in found)


def ratios(results: Sequence[EngineResult]) -> Dict[str, Tuple[float, float]]:
    """{engine: (MAP ratio, nDCG@10 ratio)} to the best baseline run."""
    best = _best_baseline(results)
    if best is None:
        return {}
    return {result.engine: (result.means["map"] / best[0] if best[0] else 0.0,
                            result.means["ndcg_cut_10"] / best[1] if best[1] else 0.0) for result in results}


def _format(headers: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(row[i]) for row in [headers] + rows) for i in range(len(headers))]

    def line(cells):
        return " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    return "\n".join([line(headers), "-+-".join("-" * width for width in widths)] + [line(row) for row in rows])


def format_table(results: Sequence[EngineResult]) -> str:
    """One collection: the metrics of each engine, its ratio to the best baseline and times."""
    ratio = ratios(results)
    headers = (["engine"] + [metrics.METRIC_LABELS[m] for m in TABLE_METRICS]
               + (["MAP/base", "nDCG/base"] if ratio else []) + ["index s", "query s"])
    rows = [
        [result.engine]
        + [f"{result.means[m]:.4f}" for m in TABLE_METRICS]
        + ([f"{ratio[result.engine][0]:.3f}", f"{ratio[result.engine][1]:.3f}"] if ratio else [])
        + [f"{result.index_seconds:.1f}", f"{result.query_seconds:.1f}"]
        for result in results
    ]
    return _format(headers, rows)


def format_summary(per_collection: Dict[str, List[EngineResult]]) -> str:
    """Every engine's MAP / nDCG@10 ratio to the best baseline per collection, their mean,
    and the ratio to issue 16's best of six engines where the collection is in it."""
    names = list(per_collection)
    engines = list(dict.fromkeys(result.engine for results in per_collection.values() for result in results))
    table = {name: ratios(results) for name, results in per_collection.items()}
    headers = ["ratio to best baseline (MAP / nDCG@10)"] + names + ["mean"]
    rows = []
    for engine in engines:
        cells, found = [engine], []
        for name in names:
            pair = table[name].get(engine)
            cells.append(f"{pair[0]:.3f} / {pair[1]:.3f}" if pair else "-")
            if pair:
                found.append(pair)
        if found:
            cells.append(f"{sum(p[0] for p in found) / len(found):.3f} / {sum(p[1] for p in found) / len(found):.3f}")
        else:
            cells.append("-")
        rows.append(cells)
    out = [_format(headers, rows)]
    referenced = [name for name in names if name in REFERENCE_BEST]
    if referenced:
        headers = ["ratio to issue 16's best engine"] + referenced + ["mean"]
        rows = []
        for engine in engines:
            cells, found = [engine], []
            for name in referenced:
                means = next((r.means for r in per_collection[name] if r.engine == engine), None)
                if means is None:
                    cells.append("-")
                    continue
                best_map, best_ndcg = REFERENCE_BEST[name]
                pair = (means["map"] / best_map, means["ndcg_cut_10"] / best_ndcg)
                found.append(pair)
                cells.append(f"{pair[0]:.3f} / {pair[1]:.3f}")
            cells.append(f"{sum(p[0] for p in found) / len(found):.3f} / {sum(p[1] for p in found) / len(found):.3f}"
                         if found else "-")
            rows.append(cells)
        out.append(_format(headers, rows))
    return "\n\n".join(out)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Score ranking engines on test collections (all of "
                                     f"{EVAL_DIR} by default).")
    parser.add_argument("--collection", type=Path, action="append",
                        help=f"folder of one collection (repeatable; default: {', '.join(EVAL_COLLECTIONS)} "
                        f"under --eval)")
    parser.add_argument("--eval", type=Path, default=EVAL_DIR, help=f"folder of the collections (default {EVAL_DIR})")
    parser.add_argument("--docs", type=Path, help="SMART documents file (.I/.T/.A/.B/.W)")
    parser.add_argument("--queries", type=Path, help="SMART queries file (.I/.W)")
    parser.add_argument("--qrels", type=Path, help="relevance judgements: 'qid docid [rel]' or 'qid 0 docid rel'")
    parser.add_argument("--engines", default="whoosh,bm25,searcher-no-expand,searcher",
                        help="comma-separated: " + ", ".join(ENGINES))
    parser.add_argument("--numbering", choices=smart.NUMBERINGS, help="how the qrels number queries (default: detect)")
    parser.add_argument(
        "--grades",
        choices=smart.GRADINGS,
        help="cranfield: codes 1 best..4 minimal, gain = 5 - code; gain: the value is the gain "
        "(default: cranfield for Cranfield, gain otherwise)",
    )
    parser.add_argument("--keep-indexes", type=Path,
                        help="keep searcher's indexes of the collections in this folder and reuse them")
    return parser.parse_args(argv)


def _collections(args) -> List[Collection]:
    explicit = (args.docs, args.queries, args.qrels)
    if any(explicit):
        if not all(explicit):
            raise BenchmarkError("--docs, --queries and --qrels must be given together")
        docs, queries, qrels = explicit
        return [load_collection(docs, queries, qrels, args.grades or "gain", args.numbering)]
    if args.collection:
        found = []
        for directory in args.collection:
            if args.grades or args.numbering:
                docs, queries, qrels, grading = collection_files(directory)
                collection = load_collection(docs, queries, qrels, args.grades or grading, args.numbering)
                collection.name = Path(directory).name
            else:
                collection = load_directory(directory)
            found.append(collection)
        return found
    found = []
    for name in EVAL_COLLECTIONS:
        directory = Path(args.eval) / name
        if not directory.is_dir():
            print(f"note: {name} skipped: no folder {directory}", file=sys.stderr)
            continue
        found.append(load_directory(directory))
    if not found:
        raise BenchmarkError(f"no collection found under {args.eval} (looked for {', '.join(EVAL_COLLECTIONS)})")
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    global KEEP_INDEXES
    args = parse_args(argv)
    try:
        from benchmarks import testsets

        engine_names = [name.strip() for name in args.engines.split(",") if name.strip()]
        unknown = [name for name in engine_names if name not in ENGINES]
        if unknown or not engine_names:
            raise BenchmarkError(f"unknown engine {', '.join(unknown)!r}; choose from {', '.join(ENGINES)}")
        KEEP_INDEXES = args.keep_indexes
        per_collection: Dict[str, List[EngineResult]] = {}
        failed = False
        for collection in _collections(args):
            print(
                f"{collection.name}: {len(collection.documents)} documents, {len(collection.queries)} queries "
                f"(numbered by {collection.numbering}), "
                f"{len(metrics.evaluated_queries(collection.qrels))} queries with relevant documents"
            )
            results = []
            for name in engine_names:
                try:
                    results.extend(benchmark(collection, [name]))
                except EngineNotAvailable as error:
                    print(f"skipped: {error}", file=sys.stderr)
                    failed = True
            if results:
                print(format_table(results))
                print()
                per_collection[collection.name] = results
        if len(per_collection) > 1 or any(name in REFERENCE_BEST for name in per_collection):
            print(format_summary(per_collection))
        return 1 if failed else 0
    except (BenchmarkError, smart.CollectionFormatError, testsets.TestsetFormatError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
