"""Profile one of the speed benchmark's query sets: where warm query time goes.

Usage (from the repository root, after benchmarks/speed.py has built its index):
    python benchmarks/profile_queries.py phrases
    python benchmarks/profile_queries.py questions --index DIR --queries FILE --count 60 --top 25

Runs the first ``--count`` queries of the set through ``SearchSession.search`` at
limit 10, after a few warm-up queries, under cProfile, and prints the functions
with the most time of their own.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # profile this checkout, not an installed copy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", choices=("keywords", "phrases", "questions"))
    parser.add_argument("--index", type=Path, default=ROOT / "benchmarks" / "out" / "index-cranfield-100000-searcher")
    parser.add_argument("--queries", type=Path, default=ROOT / "benchmarks" / "data" / "cranfield-100000" / "queries.json")
    parser.add_argument("--count", type=int, default=60, help="queries profiled (default 60)")
    parser.add_argument("--top", type=int, default=25, help="functions printed (default 25)")
    args = parser.parse_args()

    from searcher.engine.search import SearchSession

    queries = json.loads(args.queries.read_text())[args.set][:args.count]
    with SearchSession(args.index) as session:
        for text in queries[:5]:
            session.search(text, limit=10)
        profile = cProfile.Profile()
        profile.enable()
        for text in queries:
            session.search(text, limit=10)
        profile.disable()
    print(f"{len(queries)} {args.set} queries on {args.index}")
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
