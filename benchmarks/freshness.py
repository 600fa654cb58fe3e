"""What the freshness checks cost (searcher/engine/freshness.py), on an existing index.

- the query-time check of a page of hits (``check_hits``): pages of N hits drawn from the
  index's files, each file's size and mtime compared with the manifest;
- the same inside a real query: a warm ``SearchSession.search`` with and without it;
- `searcher status`'s count of changed files (``pending_changes``): a walk of the roots.

Usage:
    python benchmarks/freshness.py --index /tmp/idx100k [--pages 300] [--page-size 10]

Build an index of 100,000 files first, e.g.
    python benchmarks/corpus.py build benchmarks/data/cranfield-100000 --docs 100000
    searcher index --index /tmp/idx100k benchmarks/data/cranfield-100000/docs
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from searcher.index.storage.manifest import manifest_name  # noqa: E402
from searcher.index.storage.store import read_meta  # noqa: E402
from searcher.engine.freshness import check_hits, pending_changes  # noqa: E402
from searcher.engine.search import Hit, SearchSession  # noqa: E402

WORDS = ["boundary", "layer", "pressure", "flow", "heat", "transfer", "shock", "wing", "supersonic",
         "laminar", "turbulent", "jet", "nozzle", "cylinder", "plate", "velocity", "mach", "drag"]


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def row(label, times_ms, cpu_ms):
    print(f"| {label} | {statistics.median(times_ms):.3f} | {percentile(times_ms, 0.95):.3f} | "
          f"{statistics.median(cpu_ms):.3f} | {percentile(cpu_ms, 0.95):.3f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    meta = read_meta(args.index)
    db = sqlite3.connect(os.path.join(args.index, manifest_name(meta.indexname)))
    paths = [p for (p,) in db.execute("SELECT path FROM files WHERE skip_reason IS NULL")]
    db.close()
    rng = random.Random(args.seed)
    print(f"index: {args.index} ({len(paths)} files)\n")
    # CPU time too: on a busy machine wall times mostly measure waiting for a core.
    print("| what | wall median ms | wall p95 ms | CPU median ms | CPU p95 ms |")
    print("|---|---|---|---|---|")

    pages = [[Hit(path=p, title="", start_line=1, end_line=1, position=0, page=None, score=1.0, text="",
                  spans=[], title_spans=[]) for p in rng.sample(paths, args.page_size)]
             for _ in range(args.pages)]
    times, cpu = [], []
    for hits in pages:
        started, c0 = time.perf_counter(), time.process_time()
        check_hits(args.index, meta.indexname, hits)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    row(f"check_hits, a page of {args.page_size} random files", times, cpu)

    session = SearchSession(args.index)
    queries = [" ".join(rng.sample(WORDS, 2)) for _ in range(min(args.pages, 100))]
    for q in queries[:5]:
        session.search(q)  # warm up
    plain, plain_cpu, checked, checked_cpu = [], [], [], []
    for q in queries:
        started, c0 = time.perf_counter(), time.process_time()
        result = session.search(q, limit=args.page_size)
        plain.append((time.perf_counter() - started) * 1000)
        plain_cpu.append((time.process_time() - c0) * 1000)
        started, c0 = time.perf_counter(), time.process_time()
        check_hits(args.index, meta.indexname, result.hits)
        checked.append((time.perf_counter() - started) * 1000)
        checked_cpu.append((time.process_time() - c0) * 1000)
    row("warm query (2 words), without the check", plain, plain_cpu)
    row("the check of that query's page", checked, checked_cpu)

    started, c0 = time.perf_counter(), time.process_time()
    pending = pending_changes(args.index, meta)
    print(f"| `searcher status` change count (walk of {len(meta.roots)} root(s)), once | "
          f"{(time.perf_counter() - started) * 1000:.0f} | | {(time.process_time() - c0) * 1000:.0f} | |")
    print(f"\npending: {pending}")


if __name__ == "__main__":
    main()
