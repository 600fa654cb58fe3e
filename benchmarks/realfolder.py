"""Real-folder benchmark: index a documentation folder nobody here wrote, ask it questions
whose answering pages are known, and print answer-in-top-3, query times, index time and size,
beside recoll's on the same folder when recoll is installed.

    python benchmarks/realfolder.py                           # the Python 3.11 HTML docs
    python benchmarks/realfolder.py --set benchmarks/realfolder/python-docs.json --folder DIR
    python benchmarks/realfolder.py --engines searcher --reuse   # re-time queries only

A query set is a JSON file: ``folder`` (default folder), ``queries``: a list of
``{"kind": "keywords|phrase|question", "text": ..., "answers": [page, ...]}``, where a page is a
path relative to the folder without its extension. A hit answers when its path, made relative to
the folder, with a leading ``_sources/`` and every extension removed, is one of the pages: so
``library/json.html`` and ``_sources/library/json.rst.txt`` both name ``library/json``.

Every searcher query goes through the installed CLI (``searcher query TEXT --json --limit 3 --per-file 1``: the top 3 files),
a fresh process each time as a user runs it, with the page cache warm ("cold" below means a cold
interpreter); "warm" times run every query again in one process through the library.
recoll: ``recollindex -c CONF`` then ``recollq -c CONF -b -n 0-3 QUERY`` (its query language,
AND of the words; questions with ``-o``, recoll's any-word mode, since AND of a whole question
rarely matches).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

# A user's installed package has its bytecode compiled (pip does it at install): a timed child
# that may not write bytecode (PYTHONDONTWRITEBYTECODE, set on some machines) would compile
# every module on every cold query instead, about a third of its time.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

HERE = Path(__file__).resolve().parent
DEFAULT_SET = HERE / "realfolder" / "python-docs.json"
KINDS = ("keywords", "phrase", "question")


def searcher_command() -> list[str]:
    exe = shutil.which("searcher", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return [exe] if exe else [sys.executable, "-m", "searcher"]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def page_of(path: str, folder: Path) -> str:
    """The page a hit names: relative to the folder, without ``_sources/`` and extensions."""
    try:
        rel = Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        rel = path
    if rel.startswith("_sources/"):
        rel = rel[len("_sources/"):]
    rel = re.sub(r"#.*$", "", rel)
    for ext in (".gz", ".txt", ".rst", ".html", ".htm", ".md", ".pdf"):
        if rel.endswith(ext):
            rel = rel[: -len(ext)]
    return rel


def timed(cmd: list[str], env=None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, errors="replace")
    return time.perf_counter() - start, proc


class Searcher:
    name = "searcher"

    def __init__(self, out: Path):
        self.index_dir = out / "searcher-index"
        self.cmd = searcher_command()

    def index(self, folder: Path) -> dict:
        shutil.rmtree(self.index_dir, ignore_errors=True)
        seconds, proc = timed(self.cmd + ["index", "--index", str(self.index_dir), str(folder)])
        if proc.returncode not in (0, 1):
            raise SystemExit(f"searcher index failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
        return {"seconds": seconds, "bytes": dir_size(self.index_dir)}

    def exists(self) -> bool:
        return self.index_dir.is_dir()

    def query(self, query: dict) -> tuple[float, list[str]]:
        seconds, proc = timed(self.cmd + ["query", "--index", str(self.index_dir), "--json", "--limit", "3", "--per-file", "1",
                                          "--", query["text"]])
        if proc.returncode not in (0, 1):
            return seconds, [f"ERROR: {proc.stderr.strip()[:200]}"]
        paths = []
        for line in proc.stdout.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and "path" in record:
                paths.append(record["path"])
            elif isinstance(record, dict) and "hits" in record:
                paths.extend(hit["path"] for hit in record["hits"])
            elif isinstance(record, list):
                paths.extend(hit["path"] for hit in record if isinstance(hit, dict) and "path" in hit)
        return seconds, paths[:3]

    def warm(self, queries: list[dict]) -> list[float] | None:
        """Each query again, in one process through the library (None: no library API found)."""
        script = r"""
import json, sys, time
texts = json.load(sys.stdin)
try:
    from searcher import Session as _S
except ImportError:
    from searcher.engine.search import SearchSession as _S
session = _S(sys.argv[1])
times = []
for text in texts:
    session.search(text, limit=3)
    start = time.perf_counter(); session.search(text, limit=3); times.append(time.perf_counter() - start)
print(json.dumps(times))
"""
        proc = subprocess.run([sys.executable, "-c", script, str(self.index_dir)], input=json.dumps(
            [q["text"] for q in queries]), capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"warm timing unavailable: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return None
        return json.loads(proc.stdout)


class Recoll:
    name = "recoll"

    def __init__(self, out: Path):
        self.conf = out / "recoll-conf"

    @staticmethod
    def available() -> bool:
        return bool(shutil.which("recollindex") and shutil.which("recollq"))

    def exists(self) -> bool:
        return (self.conf / "xapiandb").is_dir()

    def index(self, folder: Path) -> dict:
        shutil.rmtree(self.conf, ignore_errors=True)
        self.conf.mkdir(parents=True)
        (self.conf / "recoll.conf").write_text(f"topdirs = {folder}\n")
        seconds, proc = timed(["recollindex", "-c", str(self.conf)])
        if proc.returncode != 0:
            raise SystemExit(f"recollindex failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
        return {"seconds": seconds, "bytes": dir_size(self.conf / "xapiandb")}

    def query(self, query: dict) -> tuple[float, list[str]]:
        mode = ["-o"] if query["kind"] == "question" else []
        seconds, proc = timed(["recollq", "-c", str(self.conf), "-b", "-n", "0-3", *mode, query["text"]])
        paths = [unquote(line.strip()[len("file://"):]) for line in proc.stdout.splitlines()
                 if line.strip().startswith("file://")]
        return seconds, paths[:3]

    def warm(self, queries):
        return None


def fmt_ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values) * 1000:.0f} / {max(values) * 1000:.0f}"


def run_engine(engine, folder: Path, queries: list[dict], reuse: bool) -> dict:
    if reuse and engine.exists():
        built = None
    else:
        print(f"{engine.name}: indexing {folder} ...", file=sys.stderr)
        built = engine.index(folder)
    engine.query(queries[0])  # untimed: loads the index into the page cache
    rows = []
    for query in queries:
        seconds, paths = engine.query(query)
        pages = [page_of(p, folder) for p in paths]
        rows.append({**query, "seconds": seconds, "top": pages,
                     "answered": any(p in query["answers"] for p in pages)})
    warm = engine.warm(queries)
    return {"index": built, "rows": rows, "warm": warm}


def print_table(results: dict, queries: list[dict]) -> None:
    engines = list(results)
    print(f"\n{'':34}" + "".join(f"{name:>22}" for name in engines))

    def line(label, cells):
        print(f"{label:34}" + "".join(f"{c:>22}" for c in cells))

    for kind in KINDS + ("all",):
        chosen = [i for i, q in enumerate(queries) if kind == "all" or q["kind"] == kind]
        if not chosen:
            continue
        cells = []
        for name in engines:
            rows = [results[name]["rows"][i] for i in chosen]
            cells.append(f"{sum(r['answered'] for r in rows)}/{len(rows)}")
        line(f"answer in top 3: {kind}", cells)
    for kind in KINDS + ("all",):
        chosen = [i for i, q in enumerate(queries) if kind == "all" or q["kind"] == kind]
        if not chosen:
            continue
        line(f"cold ms median / worst: {kind}",
             [fmt_ms([results[n]["rows"][i]["seconds"] for i in chosen]) for n in engines])
    for kind in KINDS + ("all",):
        chosen = [i for i, q in enumerate(queries) if kind == "all" or q["kind"] == kind]
        if not chosen:
            continue
        line(f"warm ms median / worst: {kind}",
             [fmt_ms([results[n]["warm"][i] for i in chosen]) if results[n]["warm"] else "-" for n in engines])
    line("index time s", [f"{results[n]['index']['seconds']:.1f}" if results[n]["index"] else "(reused)"
                          for n in engines])
    line("index size MiB", [f"{results[n]['index']['bytes'] / 2**20:.1f}" if results[n]["index"] else "(reused)"
                            for n in engines])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="query set (JSON)")
    parser.add_argument("--folder", type=Path, help="the folder to index (default: the set's)")
    parser.add_argument("--out", type=Path, help="where indexes go (default benchmarks/out/realfolder-NAME)")
    parser.add_argument("--engines", default="searcher,recoll", help="comma-separated: searcher, recoll")
    parser.add_argument("--reuse", action="store_true", help="keep existing indexes; time queries only")
    parser.add_argument("--misses", action="store_true", help="list the queries not answered in the top 3")
    args = parser.parse_args(argv)

    spec = json.loads(args.set.read_text())
    folder = (args.folder or Path(spec["folder"])).resolve()
    if not folder.is_dir():
        print(f"no folder {folder}: {spec.get('install', 'give one with --folder')}", file=sys.stderr)
        return 2
    queries = spec["queries"]
    out = args.out or HERE / "out" / f"realfolder-{args.set.stem}"
    out.mkdir(parents=True, exist_ok=True)

    results = {}
    for name in args.engines.split(","):
        engine = {"searcher": Searcher, "recoll": Recoll}[name.strip()](out)
        if isinstance(engine, Recoll) and not Recoll.available():
            print("recoll not installed (apt-get install recoll): its column is skipped", file=sys.stderr)
            continue
        results[engine.name] = run_engine(engine, folder, queries, args.reuse)

    print(f"folder: {folder} ({len(queries)} queries from {args.set.name})")
    print_table(results, queries)
    if args.misses:
        for name, result in results.items():
            for row in result["rows"]:
                if not row["answered"]:
                    print(f"{name} missed [{row['kind']}] {row['text']!r}: top {row['top']}")
    (out / "results.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
