"""CPU cost of the damage checks on flat postings (index/storage/flatpostings.py ``ids_fit``,
``checkpoints_fit``) on warm queries: one open session, the checks on and off in
alternation, query set by query set, in one process (so load and caches hit both alike).

    NLTK_DATA=/nonexistent .venv/bin/python benchmarks/speed.py --docs 20000 --engines searcher --index-only --no-reindex
    NLTK_DATA=/nonexistent .venv/bin/python benchmarks/flat_checks_cost.py \
        --index benchmarks/out/index-cranfield-20000-searcher \
        --queries benchmarks/data/cranfield-20000/queries.json --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from searcher.engine.search import SearchSession  # noqa: E402
from searcher.engine import phrases  # noqa: E402
from searcher.index.storage import flatpostings  # noqa: E402

CHECKS = ("ids_fit", "checkpoints_fit")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    queries = json.loads(args.queries.read_text())
    real = {name: getattr(flatpostings, name) for name in CHECKS}
    off = {name: (lambda *a: True) for name in CHECKS}
    session = SearchSession(str(args.index))
    cpu = {(kind, mode): [] for kind in ("keywords", "phrases", "questions") for mode in ("on", "off")}
    try:
        for kind in ("keywords", "phrases", "questions"):
            for text in queries[kind]:  # warm-up
                session.search(text, limit=10)
        for round_ in range(args.rounds):
            for kind in ("keywords", "phrases", "questions"):
                spent = {"on": 0.0, "off": 0.0}
                for i, text in enumerate(queries[kind]):
                    # Query by query, the two modes in turn (and in turns of order).
                    modes = (("on", real), ("off", off)) if (i + round_) % 2 else (("off", off), ("on", real))
                    for mode, functions in modes:
                        for name, function in functions.items():
                            setattr(flatpostings, name, function)
                            setattr(phrases, name, function) if hasattr(phrases, name) else None
                        start = time.process_time()
                        session.search(text, limit=10)
                        spent[mode] += time.process_time() - start
                for mode in ("on", "off"):
                    cpu[kind, mode].append(spent[mode] * 1000 / len(queries[kind]))
    finally:
        for name, function in real.items():
            setattr(flatpostings, name, function)
            setattr(phrases, name, function) if hasattr(phrases, name) else None
        session.close()
    for kind in ("keywords", "phrases", "questions"):
        on, off_ = statistics.median(cpu[kind, "on"]), statistics.median(cpu[kind, "off"])
        print(f"{kind:10} CPU ms/query, median of {args.rounds} rounds: checks on {on:.2f}, off {off_:.2f}, "
              f"ratio {on / off_:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
