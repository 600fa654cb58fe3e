"""What filters, --sort and several indexes cost a warm query, on an index of your choice.

    NLTK_DATA=/nonexistent .venv/bin/python benchmarks/features.py --index IDX --queries QUERIES.json

QUERIES.json is benchmarks/corpus.py's (its "keywords", "phrases" and "questions" lists).
Each variant runs every query of a kind once to warm up, then ``--rounds`` times; the
table gives the median and 95th percentile in milliseconds. "two indexes" searches the
index with itself through a second path (a symlink), so it measures the cost of sharing
statistics and merging, not of a second collection.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(run, queries, rounds):
    for query in queries:  # warm
        run(query)
    times = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter()
            run(query)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--kinds", default="keywords,phrases")
    parser.add_argument("--count", type=int, default=30, help="queries of each kind")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from searcher.parse.filters import changed_within
    from searcher.engine.multi import MultiSession
    from searcher.engine.search import SearchSession

    session = SearchSession(args.index)
    twin_dir = tempfile.mkdtemp()
    twin = os.path.join(twin_dir, "twin")
    os.symlink(os.path.abspath(args.index), twin)
    multi = MultiSession([("a", args.index), ("b", twin)])
    queries = json.loads(Path(args.queries).read_text(encoding="utf-8"))
    variants = {
        "plain": lambda q: session.search(q),
        "ext:txt": lambda q: session.search(q + " ext:txt"),
        "modified:>1y": lambda q: session.search(q + " modified:>1y"),
        "--changed-within 1y": lambda q: session.search(q, filters=(changed_within("1y"),)),
        "--sort modified": lambda q: session.search(q, sort="modified"),
        "--sort path": lambda q: session.search(q, sort="path"),
        "two indexes (-I)": lambda q: multi.search(q),
    }
    print(f"index: {args.index}, {args.count} queries of each kind, {args.rounds} rounds (warm, in-process)")
    print()
    print("| variant | " + " | ".join(f"{kind} p50 / p95 ms" for kind in args.kinds.split(",")) + " |")
    print("|---|" + "---|" * len(args.kinds.split(",")))
    for name, run in variants.items():
        cells = []
        for kind in args.kinds.split(","):
            p50, p95 = timed(run, queries[kind][:args.count], args.rounds)
            cells.append(f"{p50:.1f} / {p95:.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    os.unlink(twin)
    os.rmdir(twin_dir)


if __name__ == "__main__":
    main()
