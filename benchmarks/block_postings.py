"""Warm query CPU time through whoosh's posting blocks and through the flat postings.

Indexes searcher builds hold each segment's postings twice: as whoosh's pickled
blocks and as flat arrays (index/storage/flatpostings.py). Queries read the flat ones;
a segment without them (an old index, a segment whoosh's own writer made) is
read from the blocks, decoded by index/whoosh_internals.py. ``--blocks`` hides
the flat postings so that every query kind decodes blocks: the figure to watch
when that decoder changes. Times are CPU seconds (time.process_time) for the
whole set, best of ``--repeat`` runs, after one warm-up pass.

Usage (an index and a query file from benchmarks/corpus.py):
    python benchmarks/corpus.py build /tmp/bench --docs 20000
    searcher index --index /tmp/bench/index /tmp/bench/docs
    python benchmarks/block_postings.py --index /tmp/bench/index --queries /tmp/bench/queries.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure this checkout, not an installed copy


def _hide_flat_postings() -> None:
    """Every module's ``flat_term`` answers None: the blocks are read instead."""
    from searcher.index.storage import flatpostings

    original = flatpostings.flat_term
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("searcher") and getattr(module, "flat_term", None) is original:
            module.flat_term = lambda *args, **kwargs: None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--count", type=int, default=100, help="queries of each set (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each set; the best is shown (default 3)")
    parser.add_argument("--postings", choices=("flat", "blocks", "both"), default="both",
                        help="which postings to read (default both, flat first)")
    args = parser.parse_args()

    from searcher.engine.search import SearchSession

    sets = json.loads(args.queries.read_text())
    print("| postings | set | queries | CPU s (best) | ms/query |")
    print("|---|---|---|---|---|")
    for mode in ("flat", "blocks") if args.postings == "both" else (args.postings,):
        if mode == "blocks":
            _hide_flat_postings()
        with SearchSession(args.index) as session:
            for name in ("keywords", "phrases", "questions"):
                queries = sets[name][:args.count]
                for text in queries:
                    session.search(text, limit=10)
                best = float("inf")
                for _ in range(args.repeat):
                    start = time.process_time()
                    for text in queries:
                        session.search(text, limit=10)
                    best = min(best, time.process_time() - start)
                print(f"| {mode} | {name} | {len(queries)} | {best:.3f} | {1000 * best / len(queries):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
