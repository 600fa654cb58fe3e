"""Speed benchmark: searcher against stock whoosh, on the same corpus, in one invocation.

For each engine it measures indexing wall time, throughput (MB/s, passages/s), peak
RSS, index size on disk, warm query latency (p50/p95 at limit 10) for three query sets
(1-3 keywords, quoted phrases, 10-20 word questions), the cold wall time of one query
in a fresh process (the installed `searcher query` command; for whoosh a minimal
`python -c` script doing the same), and, for searcher, the time of a second
`searcher index` on the unchanged corpus.

Every phase runs in its own child process, so peak RSS is per phase: it is the larger
of the child's ru_maxrss (os.wait4) and the polled RSS sum of the child's process tree
(which counts worker processes running at the same time). The corpus is read once
before indexing so both engines start with a warm page cache; "cold" means a new
Python process, not an empty page cache.

Usage:
    python benchmarks/speed.py --docs 5000           # quick run on a built corpus
    python benchmarks/speed.py                       # 100,000 documents, ~85 MB
    python benchmarks/speed.py --corpus /work/shared/corpus/seeds --engines searcher
    python benchmarks/speed.py --collections --index-only  # the test collections, 114,270 files
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
OUT_DIR = HERE / "out"
QUERY_SETS = ("keywords", "phrases", "questions")
COLLECTION_NAMES = ("cranfield", "med", "npl", "scifact")  # benchmarks/corpus.py's COLLECTIONS
LIMIT = 10


class NotAvailable(Exception):
    """A measurement that this engine cannot make (yet); shown as n/a with the reason."""


# ---------------------------------------------------------------------------
# Measuring child processes


def _children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            # the command name may contain spaces; ppid is the 2nd field after ')'
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def _tree_rss_kb(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
        todo.extend(_children_of(p))
    return total


def run_measured(cmd: list[str], env=None, cwd=None) -> dict:
    """Run cmd; return wall seconds, peak RSS (MB), exit code, stdout and stderr."""
    out_path = OUT_DIR / f".child-{os.getpid()}.out"
    err_path = OUT_DIR / f".child-{os.getpid()}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        peak_tree = 0
        done = threading.Event()

        def poll():
            nonlocal peak_tree
            while not done.is_set():
                peak_tree = max(peak_tree, _tree_rss_kb(proc.pid))
                done.wait(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    out_path.unlink()
    err_path.unlink()
    return {
        "seconds": wall,
        # Linux reports a child's CPU time with that of the children it waited for
        # (worker processes): the whole tree's work, whatever the machine's load.
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": max(usage.ru_maxrss, peak_tree) / 1024,
        "returncode": proc.returncode,
        "stdout": stdout,
        "stderr": stderr,
    }


def run_child_phase(engine: str, phase: str, params: dict) -> dict:
    """Run one phase of an engine in a fresh interpreter (this script, `_child` mode)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "_child", engine, phase, json.dumps(params)]
    run = run_measured(cmd)
    if run["returncode"] != 0:
        lines = run["stderr"].strip().splitlines() or ["(no output)"]
        raise NotAvailable(lines[-1])
    result = json.loads(run["stdout"].strip().splitlines()[-1])
    result.update(seconds=run["seconds"], cpu_s=run["cpu_s"], peak_rss_mb=run["peak_rss_mb"])
    return result


def dir_size_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# ---------------------------------------------------------------------------
# Stock whoosh: what a user would write with whoosh's documented defaults


def _stock_schema():
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, NUMERIC, TEXT, Schema

    return Schema(
        path=ID(stored=True),
        title=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        content=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        start_line=NUMERIC(stored=True),
        end_line=NUMERIC(stored=True),
    )


def paragraphs_with_lines(text: str):
    """Blank-line separated paragraphs with 1-based (start, end) line numbers."""
    start, block = None, []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            if start is None:
                start = number
            block.append(line)
        elif block:
            yield start, number - 1, "\n".join(block)
            start, block = None, []
    if block:
        yield start, start + len(block) - 1, "\n".join(block)


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in {".txt", ".md"})


def whoosh_index(params: dict) -> dict:
    from whoosh.index import create_in

    index_dir = Path(params["index"])
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = create_in(str(index_dir), _stock_schema())
    writer = ix.writer()  # stock defaults: one process, limitmb=128
    passages = 0
    for path in corpus_files(Path(params["corpus"])):
        text = path.read_text(encoding="utf-8", errors="replace")
        title = text.split("\n", 1)[0]
        for start, end, passage in paragraphs_with_lines(text):
            writer.add_document(path=str(path), title=title, content=passage, start_line=start, end_line=end)
            passages += 1
    writer.commit()
    return {"passages": passages}


def _whoosh_parsers(schema):
    from whoosh.qparser import MultifieldParser, OrGroup

    fields = ["title", "content"]
    return {
        "keywords": MultifieldParser(fields, schema),  # AND, as a user types keywords
        "phrases": MultifieldParser(fields, schema),  # "quoted" -> phrase query
        "questions": MultifieldParser(fields, schema, group=OrGroup),
    }


def time_query_sets(queries: dict, run_query, runs: int) -> dict:
    """One untimed warm-up pass, then `runs` timed passes over each query set.

    run_query(kind, text) returns the number of hits; an exception counts the query
    as rejected (a clear error to the user is a legitimate answer, but it is no hit).
    """
    latencies, cpu, hit_rate, rejected = {}, {}, {}, {}
    for kind in QUERY_SETS:
        errors = {}
        for text in queries[kind]:
            try:
                run_query(kind, text)
            except Exception as exc:  # noqa: BLE001 - reported per query, not fatal
                errors[text] = f"{type(exc).__name__}: {exc}"
        times, cpu_times, found = [], [], 0
        for _ in range(runs):
            for text in queries[kind]:
                c, t = time.process_time(), time.perf_counter()
                try:
                    found += run_query(kind, text) > 0
                except Exception:  # noqa: BLE001
                    pass
                times.append((time.perf_counter() - t) * 1000)
                # on a shared machine the wall time includes waiting for a core
                cpu_times.append((time.process_time() - c) * 1000)
        latencies[kind] = times
        cpu[kind] = cpu_times
        hit_rate[kind] = found / max(1, len(times))
        rejected[kind] = errors
    return {"latencies_ms": latencies, "cpu_ms": cpu, "hit_rate": hit_rate, "rejected": rejected}


def whoosh_warm_queries(params: dict) -> dict:
    from whoosh.index import open_dir

    ix = open_dir(params["index"])
    parsers = _whoosh_parsers(ix.schema)
    with ix.searcher() as searcher:

        def run(kind, text):
            results = searcher.search(parsers[kind].parse(text), limit=LIMIT)
            rows = [(hit["path"], hit["start_line"], hit["title"]) for hit in results]
            if params.get("snippets"):
                rows = [hit.highlights("content") for hit in results]
            return len(rows)

        return time_query_sets(params["queries"], run, params.get("runs", 1))


WHOOSH_COLD_SCRIPT = """
import sys
from whoosh.index import open_dir
from whoosh.qparser import MultifieldParser
ix = open_dir(sys.argv[1])
with ix.searcher() as s:
    for hit in s.search(MultifieldParser(["title", "content"], ix.schema).parse(sys.argv[2]), limit=int(sys.argv[3])):
        print(f"{hit['path']}:{hit['start_line']}: {hit.highlights('content')}")
"""


# ---------------------------------------------------------------------------
# Engines


class Engine:
    name = ""

    def index(self, corpus: Path, index_dir: Path) -> dict:
        raise NotImplementedError

    def reindex(self, corpus: Path, index_dir: Path) -> dict:
        raise NotAvailable("no incremental indexing")

    def warm_queries(self, index_dir: Path, queries: dict, runs: int, snippets: bool) -> dict:
        raise NotImplementedError

    def cold_query_cmd(self, index_dir: Path, query: str) -> list[str]:
        raise NotImplementedError


class StockWhoosh(Engine):
    name = "whoosh"

    def index(self, corpus, index_dir):
        return run_child_phase("whoosh", "index", {"corpus": str(corpus), "index": str(index_dir)})

    def warm_queries(self, index_dir, queries, runs, snippets):
        params = {"index": str(index_dir), "queries": queries, "runs": runs, "snippets": snippets}
        return run_child_phase("whoosh", "warm", params)

    def cold_query_cmd(self, index_dir, query):
        return [sys.executable, "-c", WHOOSH_COLD_SCRIPT, str(index_dir), query, str(LIMIT)]


def searcher_command() -> str:
    found = shutil.which("searcher") or str(Path(sys.executable).parent / "searcher")
    if not Path(found).exists():
        raise NotAvailable("the `searcher` command is not installed (pip install -e .)")
    return found


class Searcher(Engine):
    """The project's own CLI and Python API."""

    name = "searcher"

    def _index_cli(self, corpus, index_dir):
        run = run_measured([searcher_command(), "index", str(corpus), "--index", str(index_dir)])
        if run["returncode"] != 0:
            lines = (run["stderr"] or run["stdout"]).strip().splitlines() or ["(no output)"]
            raise NotAvailable(f"searcher index failed: {lines[-1]}")
        result = {"seconds": run["seconds"], "cpu_s": run["cpu_s"], "peak_rss_mb": run["peak_rss_mb"]}
        try:
            counted = run_child_phase("searcher", "count", {"index": str(index_dir)})
            result.update(passages=counted["passages"], segments=counted["segments"])
        except NotAvailable:
            pass
        return result

    def index(self, corpus, index_dir):
        return self._index_cli(corpus, index_dir)

    def reindex(self, corpus, index_dir):
        return self._index_cli(corpus, index_dir)

    def warm_queries(self, index_dir, queries, runs, snippets):
        params = {"index": str(index_dir), "queries": queries, "runs": runs, "snippets": snippets}
        return run_child_phase("searcher", "warm", params)

    def cold_query_cmd(self, index_dir, query):
        return [searcher_command(), "query", query, "--index", str(index_dir), "--limit", str(LIMIT)]


def searcher_warm_queries(params: dict) -> dict:
    """Warm latency through the project's query API, timed like whoosh_warm_queries.

    One SearchSession answers every query, as stock whoosh keeps one searcher open;
    each query is parsed, ranked and highlighted, without an exact total count.
    """
    try:
        from searcher.engine.search import SearchSession
    except ImportError as exc:
        raise NotAvailable(f"searcher query API not available yet ({exc})") from exc

    session = SearchSession(params["index"])

    def run(kind, text):
        return len(session.search(text, limit=LIMIT).hits)

    try:
        return time_query_sets(params["queries"], run, params.get("runs", 1))
    finally:
        session.close()


def searcher_count(params: dict) -> dict:
    """Passages and segments of a searcher index: the whoosh index its metadata names
    (after a --rebuild that is not whoosh's default name)."""
    from searcher.index.storage.store import open_index

    ix = open_index(params["index"])
    return {"passages": ix.doc_count(), "segments": len(ix._segments())}


CHILD_PHASES = {
    ("whoosh", "index"): whoosh_index,
    ("whoosh", "warm"): whoosh_warm_queries,
    ("searcher", "warm"): searcher_warm_queries,
    ("searcher", "count"): searcher_count,
}
ENGINES = {"whoosh": StockWhoosh, "searcher": Searcher}


# ---------------------------------------------------------------------------
# The benchmark


def measure_engine(engine: Engine, corpus: Path, corpus_mb: float, queries: dict, args) -> dict:
    index_dir = args.out / f"index-{corpus_label(corpus)}-{engine.name}"
    m, errors = {}, {}

    def attempt(label, fn):
        # the machine may be shared: each phase's 1-minute load average before and after it
        before = os.getloadavg()[0]
        try:
            return fn()
        except NotAvailable as exc:
            errors[label] = str(exc)
            return None
        finally:
            loads[label] = [round(before, 2), round(os.getloadavg()[0], 2)]

    loads = {}

    if args.queries_only:
        if not index_dir.exists():
            raise SystemExit(f"error: --queries-only needs an index from an earlier run at {index_dir}")
        first = {}
    else:
        shutil.rmtree(index_dir, ignore_errors=True)
        say(f"[{engine.name}] indexing {corpus} ...")
        first = attempt("index", lambda: engine.index(corpus, index_dir))
    if first:
        m["index_s"] = first["seconds"]
        m["index_cpu_s"] = first["cpu_s"]
        m["index_mb_per_s"] = corpus_mb / first["seconds"]
        m["index_peak_rss_mb"] = first["peak_rss_mb"]
        m["index_size_mb"] = dir_size_bytes(index_dir) / 1e6
        if "passages" in first:
            m["passages"] = first["passages"]
            m["index_passages_per_s"] = first["passages"] / first["seconds"]
        if "segments" in first:
            m["segments"] = first["segments"]
        again = None
        if not args.no_reindex:
            say(f"[{engine.name}] re-indexing the unchanged corpus ...")
            again = attempt("reindex", lambda: engine.reindex(corpus, index_dir))
        if again:
            m["reindex_s"] = again["seconds"]
            m["reindex_cpu_s"] = again["cpu_s"]
            m["reindex_pct_of_first"] = 100 * again["seconds"] / first["seconds"]
            m["reindex_peak_rss_mb"] = again["peak_rss_mb"]
    if first is not None and not args.index_only:
        say(f"[{engine.name}] warm queries ...")
        warm = attempt("warm", lambda: engine.warm_queries(index_dir, queries, args.runs, args.snippets))
        if warm:
            m["warm_peak_rss_mb"] = warm["peak_rss_mb"]
            for kind, times in warm["latencies_ms"].items():
                m[f"{kind}_p50_ms"] = percentile(times, 50)
                m[f"{kind}_p95_ms"] = percentile(times, 95)
                if kind in warm.get("cpu_ms", {}):
                    m[f"{kind}_cpu_p50_ms"] = percentile(warm["cpu_ms"][kind], 50)
                    m[f"{kind}_cpu_p95_ms"] = percentile(warm["cpu_ms"][kind], 95)
                m[f"{kind}_hit_rate"] = warm["hit_rate"][kind]
                m[f"{kind}_rejected"] = len(warm["rejected"][kind])
            m["rejected_examples"] = {k: dict(list(v.items())[:3]) for k, v in warm["rejected"].items() if v}
        cold = None
        if args.cold > 0:
            say(f"[{engine.name}] cold queries ...")
            cold = attempt("cold", lambda: cold_queries(engine, index_dir, queries, args.cold))
        if cold:
            m["cold_median_ms"] = statistics.median(cold)
            m["cold_max_ms"] = max(cold)
    return {"metrics": m, "errors": errors, "load_averages": loads}


def corpus_label(corpus: Path) -> str:
    return corpus.parent.name if corpus.name == "docs" else corpus.name


def cold_queries(engine: Engine, index_dir: Path, queries: dict, count: int) -> list[float]:
    # one of each kind in turn, so the cold number is not tied to one query shape
    picks = [queries[QUERY_SETS[i % 3]][i // 3] for i in range(count) if i // 3 < len(queries[QUERY_SETS[i % 3]])]
    times = []
    for query in picks:
        run = run_measured(engine.cold_query_cmd(index_dir, query))
        if run["returncode"] != 0:
            lines = (run["stderr"] or run["stdout"]).strip().splitlines() or ["(no output)"]
            raise NotAvailable(f"query failed: {lines[-1]}")
        times.append(run["seconds"] * 1000)
    return times


# Issue 14: at least 5x stock whoosh on the many small files of --collections, 3x elsewhere.
TARGETS = {"index_speedup": 3}

ROWS = [
    # key, label, format, target for searcher (text), check(searcher, whoosh) -> bool
    ("passages", "passages indexed", "{:.0f}", "", None),
    ("index_s", "index wall time (s)", "{:.2f}", "<= whoosh/N",
     lambda s, w: w is not None and s <= w / TARGETS["index_speedup"]),
    ("index_cpu_s", "index CPU time, all processes (s)", "{:.1f}", "", None),
    ("index_mb_per_s", "index throughput (MB/s)", "{:.2f}", "", None),
    ("index_passages_per_s", "index throughput (passages/s)", "{:.0f}", "", None),
    ("index_peak_rss_mb", "index peak RSS (MB)", "{:.0f}", "< 1024", lambda s, w: s < 1024),
    ("index_size_mb", "index size on disk (MB)", "{:.1f}", "", None),
    ("segments", "index segments", "{:.0f}", "", None),
    ("reindex_s", "re-index unchanged corpus (s)", "{:.2f}", "", None),
    ("reindex_cpu_s", "re-index CPU time (s)", "{:.2f}", "", None),
    ("reindex_pct_of_first", "re-index as % of first run", "{:.1f}", "< 5", lambda s, w: s < 5),
    ("reindex_peak_rss_mb", "re-index peak RSS (MB)", "{:.0f}", "", None),
    # issue 14's targets at 100k passages (at 10M: p50 <= 100 ms, and 500 ms for questions)
    ("keywords_p50_ms", "warm 1-3 keywords p50 (ms)", "{:.1f}", "<= 10", lambda s, w: s <= 10),
    ("keywords_p95_ms", "warm 1-3 keywords p95 (ms)", "{:.1f}", "<= 40", lambda s, w: s <= 40),
    ("phrases_p50_ms", "warm phrases p50 (ms)", "{:.1f}", "<= 10", lambda s, w: s <= 10),
    ("phrases_p95_ms", "warm phrases p95 (ms)", "{:.1f}", "<= 40", lambda s, w: s <= 40),
    ("questions_p50_ms", "warm questions p50 (ms)", "{:.1f}", "<= 60", lambda s, w: s <= 60),
    ("questions_p95_ms", "warm questions p95 (ms)", "{:.1f}", "<= 150", lambda s, w: s <= 150),
    ("keywords_cpu_p50_ms", "warm keywords CPU p50 (ms)", "{:.1f}", "", None),
    ("keywords_cpu_p95_ms", "warm keywords CPU p95 (ms)", "{:.1f}", "", None),
    ("phrases_cpu_p50_ms", "warm phrases CPU p50 (ms)", "{:.1f}", "", None),
    ("phrases_cpu_p95_ms", "warm phrases CPU p95 (ms)", "{:.1f}", "", None),
    ("questions_cpu_p50_ms", "warm questions CPU p50 (ms)", "{:.1f}", "", None),
    ("questions_cpu_p95_ms", "warm questions CPU p95 (ms)", "{:.1f}", "", None),
    ("keywords_hit_rate", "keyword queries with hits (%)", "{:.0%}", "", None),
    ("phrases_hit_rate", "phrase queries with hits (%)", "{:.0%}", "", None),
    ("questions_hit_rate", "questions with hits (%)", "{:.0%}", "", None),
    ("keywords_rejected", "keyword queries rejected", "{:.0f}", "", None),
    ("phrases_rejected", "phrase queries rejected", "{:.0f}", "", None),
    ("questions_rejected", "questions rejected", "{:.0f}", "", None),
    ("warm_peak_rss_mb", "query process peak RSS (MB)", "{:.0f}", "", None),
    ("cold_median_ms", "cold query median (ms)", "{:.0f}", "<= 250 seed / 400 100k", None),
    ("cold_max_ms", "cold query max (ms)", "{:.0f}", "", None),
]


def format_table(results: dict) -> str:
    w = results.get("whoosh", {}).get("metrics", {})
    s = results.get("searcher", {}).get("metrics", {})
    header = f"{'metric':34s} {'whoosh':>10s} {'searcher':>10s} {'s/w':>7s}  target"
    lines = [header, "-" * len(header)]
    for key, label, fmt, target, check in ROWS:
        if key not in w and key not in s:
            continue
        wv, sv = w.get(key), s.get(key)
        if key.endswith("_rejected") and not (wv or sv):
            continue
        ratio = f"{sv / wv:.2f}" if wv and sv is not None else ""
        mark = ""
        if check and sv is not None:
            mark = " ok" if check(sv, wv) else " MISS"
        target = target.replace("N", f"{TARGETS['index_speedup']:g}")
        lines.append(
            f"{label:34s} {fmt.format(wv) if wv is not None else 'n/a':>10s} "
            f"{fmt.format(sv) if sv is not None else 'n/a':>10s} {ratio:>7s}  {target}{mark}"
        )
    for engine, result in results.items():
        loads = result.get("load_averages", {})
        if loads:
            lines.append(f"load average (1 min) before/after, {engine}: "
                         + ", ".join(f"{phase} {a:.1f}/{b:.1f}" for phase, (a, b) in loads.items()))
        for phase, reason in result.get("errors", {}).items():
            lines.append(f"n/a {engine} {phase}: {reason}")
        for kind, examples in result.get("metrics", {}).get("rejected_examples", {}).items():
            for text, error in examples.items():
                lines.append(f"rejected by {engine} ({kind}): {text!r}: {error}")
    return "\n".join(lines)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare_corpus(args) -> tuple[Path, dict]:
    sys.path.insert(0, str(HERE))
    import corpus as corpus_builder

    if args.collections:
        names = [n.strip() for n in args.collections.split(",") if n.strip()]
        unknown = [n for n in names if n not in corpus_builder.COLLECTIONS]
        if unknown:
            raise SystemExit(f"error: unknown collection(s) {', '.join(unknown)}: "
                             f"choose from {', '.join(corpus_builder.COLLECTIONS)}")
        if args.replicas < 1:
            raise SystemExit("error: --replicas must be at least 1")
        missing = [n for n in names if not (corpus_builder.EVAL_DIR / n).is_dir()]
        if missing:
            raise SystemExit(f"error: {corpus_builder.EVAL_DIR / missing[0]} not found (the shared test collections)")
        tag = "" if names == list(corpus_builder.COLLECTIONS) else "-" + "-".join(names)
        root = OUT_DIR / f"collections{tag}-x{args.replicas}"
        say(f"building {root} (skipped if already built) ...")
        corpus_builder.build_collections(root, args.replicas, names, progress=say)
        return root / "docs", json.loads((args.queries or root / "queries.json").read_text())
    if args.corpus:
        corpus = args.corpus.resolve()
        query_file = args.queries or next(
            (p for p in (corpus / "queries.json", corpus.parent / "queries.json",
                       DATA_DIR / f"queries-{corpus.name}.json") if p.exists()), None
        )
        if query_file is None:
            queries = corpus_builder.queries_for_directory(corpus)
        else:
            queries = json.loads(query_file.read_text())
        return corpus, queries
    packed = f"-p{args.docs_per_file}" if args.docs_per_file > 1 else ""
    root = args.data / f"cranfield-{args.docs}{packed}"
    say(f"building {root} (skipped if already built) ...")
    corpus_builder.build(root, args.docs, progress=say, docs_per_file=args.docs_per_file, jobs=args.jobs)
    queries = json.loads((args.queries or root / "queries.json").read_text())
    return root / "docs", queries


def warm_page_cache(files: list[Path]) -> int:
    total = 0
    for path in files:
        total += len(path.read_bytes())
    return total


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "_child":
        _, _, engine, phase, params = sys.argv
        try:
            result = CHILD_PHASES[(engine, phase)](json.loads(params))
        except NotAvailable as exc:
            print(f"not available: {exc}", file=sys.stderr)
            return 3
        print(json.dumps(result))
        return 0

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000, help="build/use a synthetic corpus of N documents")
    parser.add_argument("--corpus", "--folder", dest="corpus", type=Path, metavar="PATH",
                        help="benchmark this folder instead of a synthetic corpus (stock whoosh reads its .txt and .md files)")
    parser.add_argument("--collections", nargs="?", const=",".join(COLLECTION_NAMES), metavar="NAMES",
                        help="benchmark the test collections of ../shared/eval (default: all of them; or a "
                             "comma-separated list), one file per document, replicated --replicas times")
    parser.add_argument("--replicas", type=int, default=6,
                        help="copies of each collection for --collections (default 6: 114,270 files, 81 MB)")
    parser.add_argument("--docs-per-file", type=int, default=1, metavar="N",
                        help="synthetic corpus: N documents one after another in each file (default 1)")
    parser.add_argument("--data", type=Path, default=DATA_DIR,
                        help="where synthetic corpora are built (default benchmarks/data)")
    parser.add_argument("--jobs", type=int, default=1, help="processes building a synthetic corpus")
    parser.add_argument("--index-only", action="store_true", help="measure indexing only (no queries)")
    parser.add_argument("--no-reindex", action="store_true", help="skip the re-index of the unchanged corpus")
    parser.add_argument("--query-count", type=int, metavar="N",
                        help="time only the first N queries of each set (default all)")
    parser.add_argument("--queries", type=Path, help="query set JSON (default: next to the corpus)")
    parser.add_argument("--engines", default="whoosh,searcher", help="comma-separated: whoosh, searcher")
    parser.add_argument("--runs", type=int, default=1, help="timed passes over each query set (after one warm-up)")
    parser.add_argument("--cold", type=int, default=6, help="cold queries to run (one of each kind in turn; 0: none)")
    parser.add_argument("--snippets", action="store_true", help="whoosh warm queries also build highlights")
    parser.add_argument("--queries-only", action="store_true", help="reuse the indexes of an earlier run; time queries only")
    parser.add_argument("--json", type=Path, help="also write raw numbers here (default benchmarks/out/...)")
    parser.add_argument("--out", type=Path, default=OUT_DIR,
                        help="where the indexes are built (default benchmarks/out; replaced on each run)")
    args = parser.parse_args(argv)
    if args.collections and args.corpus:
        parser.error("--collections and --corpus/--folder are two different corpora: give one")
    for name in ("docs_per_file", "jobs", "query_count"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.cold < 0:
        parser.error("--cold must be 0 or more")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(unknown)}")

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.collections:
        TARGETS["index_speedup"] = 5
    corpus, queries = prepare_corpus(args)
    if args.query_count:
        queries = {kind: texts[: args.query_count] for kind, texts in queries.items()}
    files = corpus_files(corpus)
    if not files:
        parser.error(f"no .txt or .md files under {corpus}")
    corpus_bytes = warm_page_cache(files)
    corpus_mb = corpus_bytes / 1e6
    say(f"corpus {corpus}: {len(files)} files, {corpus_mb:.1f} MB; load average {os.getloadavg()[0]:.2f}")

    suffix = "-queries" if args.queries_only else ""
    json_path = args.json or OUT_DIR / f"speed-{corpus_label(corpus)}{suffix}.json"
    results = {}
    for name in engines:
        results[name] = measure_engine(ENGINES[name](), corpus, corpus_mb, queries, args)
        report = {
            "corpus": str(corpus),
            "files": len(files),
            "corpus_mb": corpus_mb,
            "queries": {k: len(v) for k, v in queries.items()},
            "load_average_1min": os.getloadavg()[0],
            "cpus": os.cpu_count(),
            "results": results,
        }
        # after each engine, so a long run stopped in a later engine keeps the earlier ones' figures
        json_path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"corpus: {corpus} ({len(files)} files, {corpus_mb:.1f} MB); queries: "
          + ", ".join(f"{len(v)} {k}" for k, v in queries.items()) + f"; limit {LIMIT}; load average {report['load_average_1min']:.2f} on {os.cpu_count()} CPUs")
    print(format_table(results))
    print(f"raw numbers: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
