"""Relevance benchmark: rank a SMART test collection with each engine and score the runs.

    python benchmarks/relevance.py                      # Cranfield from ../shared/eval/cranfield
    python benchmarks/relevance.py --engines whoosh,whoosh-onefield
    python benchmarks/relevance.py --docs D --queries Q --qrels R [--numbering id] [--grades gain]

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
* ``searcher``: the project's own indexing and query code (hook below).

Every number printed is a mean over the queries that have at least one
relevant document (trec_eval semantics, see ``benchmarks/metrics.py``).
"""

from __future__ import annotations

import argparse
import sys
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
DEFAULT_COLLECTION = REPO_ROOT.parent / "shared" / "eval" / "cranfield"

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


# --- engine: this project -------------------------------------------------------------

def _searcher_run(collection: Collection, expand: Optional[bool]) -> Tuple[metrics.Run, float]:
    """Index the collection with the project's own indexing code and query it like `searcher query`.

    Each document becomes a file (its title line, a blank line, then its text) in
    a temp dir, indexed by ``build_index`` (what ``searcher index`` runs); each query
    runs through ``SearchSession.search`` (what ``searcher query`` runs) with one
    passage per file, so a document ranks by its best passage.
    """
    import tempfile

    from index.writer import build_index
    from searcher.search import SearchSession

    with tempfile.TemporaryDirectory(prefix="searcher-relevance-") as tmp:
        started = time.perf_counter()
        docs_dir = Path(tmp) / "docs"
        docs_dir.mkdir()
        file_ids = {}
        for document in collection.documents:
            path = docs_dir / f"{document.doc_id}.txt"
            title = " ".join(document.title.split())
            path.write_text(f"{title}\n\n{document.abstract}\n" if title else f"{document.abstract}\n",
                            encoding="utf-8")
            file_ids[str(path.resolve())] = document.doc_id
        build_index([docs_dir], Path(tmp) / "index", jobs=0)
        index_seconds = time.perf_counter() - started
        run: Dict[str, List[str]] = {}
        with SearchSession(Path(tmp) / "index") as session:
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
        results.append(EngineResult(name, metrics.evaluate(run, collection.qrels), index_seconds, total - index_seconds))
    return results


def format_table(results: Sequence[EngineResult]) -> str:
    headers = ["engine"] + [metrics.METRIC_LABELS[m] for m in metrics.METRICS] + ["index s", "query s"]
    rows = [
        [result.engine]
        + [f"{result.means[m]:.4f}" for m in metrics.METRICS]
        + [f"{result.index_seconds:.1f}", f"{result.query_seconds:.1f}"]
        for result in results
    ]
    widths = [max(len(row[i]) for row in [headers] + rows) for i in range(len(headers))]

    def line(cells):
        return " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    return "\n".join([line(headers), "-+-".join("-" * width for width in widths)] + [line(row) for row in rows])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Score ranking engines on a SMART test collection.")
    parser.add_argument("--collection", type=Path, help=f"directory of a known collection (default {DEFAULT_COLLECTION})")
    parser.add_argument("--docs", type=Path, help="SMART documents file (.I/.T/.A/.B/.W)")
    parser.add_argument("--queries", type=Path, help="SMART queries file (.I/.W)")
    parser.add_argument("--qrels", type=Path, help="relevance judgements: 'qid docid [rel]' or 'qid 0 docid rel'")
    parser.add_argument("--engines", default="whoosh,searcher-no-expand,searcher", help="comma-separated: " + ", ".join(ENGINES))
    parser.add_argument("--numbering", choices=smart.NUMBERINGS, help="how the qrels number queries (default: detect)")
    parser.add_argument(
        "--grades",
        choices=smart.GRADINGS,
        help="cranfield: codes 1 best..4 minimal, gain = 5 - code; gain: the value is the gain "
        "(default: cranfield for Cranfield, gain otherwise)",
    )
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        engine_names = [name.strip() for name in args.engines.split(",") if name.strip()]
        unknown = [name for name in engine_names if name not in ENGINES]
        if unknown or not engine_names:
            raise BenchmarkError(f"unknown engine {', '.join(unknown)!r}; choose from {', '.join(ENGINES)}")
        explicit = (args.docs, args.queries, args.qrels)
        if any(explicit):
            if not all(explicit):
                raise BenchmarkError("--docs, --queries and --qrels must be given together")
            docs, queries, qrels = explicit
            grading = args.grades or "gain"
        else:
            docs, queries, qrels, grading = collection_files(args.collection or DEFAULT_COLLECTION)
            grading = args.grades or grading
        collection = load_collection(docs, queries, qrels, grading, args.numbering)
        print(
            f"{collection.name}: {len(collection.documents)} documents, {len(collection.queries)} queries "
            f"(numbered by {collection.numbering}), grades: {grading}, "
            f"{len(metrics.evaluated_queries(collection.qrels))} queries with relevant documents"
        )
        results = []
        for name in engine_names:
            try:
                results.extend(benchmark(collection, [name]))
            except EngineNotAvailable as error:
                print(f"skipped: {error}", file=sys.stderr)
        if results:
            print(format_table(results))
        return 0 if len(results) == len(engine_names) else 1
    except (BenchmarkError, smart.CollectionFormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
