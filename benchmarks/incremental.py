"""Incremental indexing benchmark: a second `searcher index` of an unchanged folder.

Builds (or reuses) a corpus of N generated documents with benchmarks/corpus.py, then
times, each as a fresh `searcher index` process on a new index:

1. the first run;
2. a second run with nothing changed;
3. a run after 1% of the files were modified, 1% deleted and 1% added.

and prints the times and the ratio second/first.

Usage:
    python benchmarks/incremental.py                 # 1,000 documents
    python benchmarks/incremental.py --docs 100000 --corpus benchmarks/data/cranfield-100000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def searcher_command() -> list[str]:
    found = shutil.which("searcher", path=os.path.dirname(sys.executable))
    return [found] if found else [sys.executable, "-m", "searcher"]


def timed_index(corpus: Path, index_dir: Path, *extra: str) -> tuple[float, str]:
    env = dict(os.environ, NLTK_DATA=os.environ.get("NLTK_DATA", "/nonexistent"))
    started = time.perf_counter()
    done = subprocess.run(searcher_command() + ["index", "--index", str(index_dir), str(corpus), *extra],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"searcher index failed: {done.stderr.strip()}")
    summary = [line for line in done.stderr.splitlines() if line.startswith("indexed ")]
    return seconds, summary[-1] if summary else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--corpus", type=Path, default=None,
                        help="a corpus folder built by benchmarks/corpus.py (default: build one in a temp folder)")
    parser.add_argument("--jobs", default=None, help="passed to searcher index -j")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="searcher-incremental-") as tmp:
        tmp = Path(tmp)
        source = args.corpus
        if source is None:
            source = tmp / "corpus"
            subprocess.run([sys.executable, str(HERE / "corpus.py"), "build", str(source), "--docs", str(args.docs)],
                           check=True, capture_output=True)
        # A private copy: the benchmark modifies files.
        docs = tmp / "docs"
        shutil.copytree(source / "docs" if (source / "docs").is_dir() else source, docs)
        files = sorted(p for p in docs.rglob("*.txt"))
        index_dir = tmp / "index"
        extra = ["-j", args.jobs] if args.jobs else []
        first, first_summary = timed_index(docs, index_dir, *extra)
        second, second_summary = timed_index(docs, index_dir, *extra)
        for path in files[0::100]:
            path.write_text(path.read_text(encoding="utf-8") + "\nAn added closing sentence.\n", encoding="utf-8")
        for path in files[1::100]:
            path.unlink()
        for number, path in enumerate(files[2::100]):
            shutil.copy(path, path.with_name(f"new-{number}.txt"))
        third, third_summary = timed_index(docs, index_dir, *extra)
    print(f"corpus: {len(files)} files")
    print(f"first run:           {first:7.2f} s   {first_summary}")
    print(f"unchanged re-run:    {second:7.2f} s   {second_summary}")
    print(f"after ~1% changes:   {third:7.2f} s   {third_summary}")
    print(f"unchanged / first:   {100 * second / first:6.1f} %")


if __name__ == "__main__":
    main()
