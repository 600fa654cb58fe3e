"""Choosing ranking parameters on all collections at once, with leave-one-collection-out.

    python benchmarks/tune_relevance.py --keep-indexes benchmarks/out/relevance \\
        --grid 'expansion.FEEDBACK_WEIGHTING=exp,share,uniform' --grid 'expansion.FEEDBACK_FILES=5,10'

Each configuration (one value per --grid axis; their product is tried) is run on every
collection of ../shared/eval through the ranking engine the CLI uses (the query as
``SearchSession`` parses and plans it, ``expansion.rank`` with one passage per file).
It prints, per configuration, MAP and nDCG@10 per collection and the mean over
collections of the ratio to the best baseline (``benchmarks/relevance.py``'s
whoosh and bm25, measured in the same run). Then leave-one-collection-out: for each
collection, the configuration with the best mean ratio on the *other* collections,
and what it scores on the one left out, beside the current defaults there.

``--depth`` (default 100) is how many files each query ranks: MAP at 100 instead of
1000 changes the means by well under 0.01 and runs several times faster; the final
figures come from benchmarks/relevance.py, which ranks 1000.
Settings are module attributes: ``ranking.TITLE_WEIGHT``, ``statistics.K1``,
``statistics.B``, ``statistics.WEIGHTING``, ``expansion.FEEDBACK_FILES``, ``expansion.FEEDBACK_TERMS``,
``expansion.ORIGINAL_WEIGHT``, ``expansion.FEEDBACK_WEIGHTING``,
``ranking.QUESTION_REPEATS``, ``ranking.PASSAGE_SHARE``, ...
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import metrics, relevance  # noqa: E402


def _modules():
    from searcher.engine import expansion, ranking, statistics

    return {"ranking": ranking, "expansion": expansion, "statistics": statistics}


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def apply(setting: Dict[str, object]) -> Dict[str, object]:
    """Set the module attributes of ``setting``; returns the values they had."""
    modules = _modules()
    before = {}
    for name, value in setting.items():
        module, attribute = name.split(".", 1)
        before[name] = getattr(modules[module], attribute)
        setattr(modules[module], attribute, value)
    ranking, expansion, statistics = modules["ranking"], modules["expansion"], modules["statistics"]
    # Names other modules copied at import time.
    ranking.K1, ranking.B = statistics.K1, statistics.B
    ranking.FIELDS = expansion.FIELDS = (("body", 1.0), ("title", ranking.TITLE_WEIGHT))
    return before


class Prepared:
    """A collection's index, its queries as the CLI plans them, and its baselines."""

    def __init__(self, collection: relevance.Collection):
        from searcher.engine.search import SearchSession

        self.collection = collection
        index_dir, file_ids, _ = relevance.searcher_index(collection)
        self.session = SearchSession(index_dir)
        self.file_ids = file_ids
        self.plans = []
        for query_id, text in collection.queries:
            parsed = self.session.parse(" ".join(text.split()))
            plan = self.session._plan(parsed)
            # (plan None: whoosh matches it, as the CLI does; e.g. Cranfield's "?transverse")
            self.plans.append((query_id, plan if plan is not None else " ".join(text.split())))
        self.best = _baseline(collection)

    def run(self, depth: int, expand: bool = True) -> Dict[str, float]:
        from pathlib import Path as P

        from searcher.engine import expansion, ranking
        from searcher.index.storage.whoosh_private import reader_cache

        reader = self.session.searcher.reader()
        reader_cache(reader).pop("statistics", None)  # K1 / B / WEIGHTING may have changed
        stats = ranking.statistics(reader)
        run = {}
        for query_id, plan in self.plans:
            if type(plan) is str:
                hits = self.session.search(plan, limit=depth, per_file=1, highlight=False).hits
                run[query_id] = metrics.rank_by_score(
                    (self.file_ids[str(P(hit.path).resolve())], hit.score) for hit in hits)
                continue
            loose = ranking.question_terms(plan.terms) if plan.question else plan.terms
            ranked, _, _ = expansion.rank(reader, loose, depth, 1, expansion=plan.question and expand,
                                        stopwords=self.session._stopwords() if plan.question else frozenset(),
                                        exclude=self.session._excluded_passages(reader, plan.excluded))
            run[query_id] = metrics.rank_by_score(
                (self.file_ids[str(P(stats.file_key(r.file)).resolve())], r.score) for r in ranked)
        means = metrics.evaluate(run, self.collection.qrels)
        return {"map": means["map"], "ndcg": means["ndcg_cut_10"],
                "map_ratio": means["map"] / self.best[0], "ndcg_ratio": means["ndcg_cut_10"] / self.best[1]}


def _baseline(collection: relevance.Collection) -> Tuple[float, float]:
    """The best baseline's (MAP, nDCG@10), kept beside the kept indexes (they do not change)."""
    import json

    cache = (Path(relevance.KEEP_INDEXES) / collection.name / f"baselines-{len(collection.queries)}.json"
             if relevance.KEEP_INDEXES else None)
    if cache is not None and cache.is_file():
        return tuple(json.loads(cache.read_text()))
    best = relevance._best_baseline(relevance.benchmark(collection, list(relevance.BASELINES)))
    if cache is not None:
        cache.write_text(json.dumps(best))
    return best


def objective(result: Dict[str, float]) -> float:
    """What a configuration is judged by on one collection: MAP and nDCG@10 ratios, equally."""
    return (result["map_ratio"] + result["ndcg_ratio"]) / 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="append", default=[], help="module.NAME=v1,v2,... (repeatable)")
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--keep-indexes", type=Path)
    parser.add_argument("--queries", type=int, default=0,
                        help="at most this many queries per collection (every k-th, in file order; "
                        "0: all): a quick look, to be confirmed on all")
    parser.add_argument("--no-expand", action="store_true", help="no query expansion (as searcher --no-expand)")
    parser.add_argument("--eval", type=Path, default=relevance.EVAL_DIR)
    args = parser.parse_args(argv)
    relevance.KEEP_INDEXES = args.keep_indexes
    axes = []
    for spec in args.grid:
        name, _, values = spec.partition("=")
        axes.append([(name.strip(), _value(v.strip())) for v in values.split(",")])
    configs = [dict(choice) for choice in itertools.product(*axes)] if axes else [{}]
    prepared = []
    for name in relevance.EVAL_COLLECTIONS:
        directory = Path(args.eval) / name
        if directory.is_dir():
            collection = relevance.load_directory(directory)
            if args.queries and len(collection.queries) > args.queries:
                step = -(-len(collection.queries) // args.queries)
                collection.queries = collection.queries[::step]
                kept = {query_id for query_id, _ in collection.queries}
                collection.qrels = {q: judged for q, judged in collection.qrels.items() if q in kept}
            prepared.append(Prepared(collection))
        else:
            print(f"note: {name} skipped: no folder {directory}", file=sys.stderr)
    names = [p.collection.name for p in prepared]
    table: List[Tuple[Dict[str, object], Dict[str, Dict[str, float]]]] = []
    for config in configs:
        before = apply(config)
        try:
            results = {p.collection.name: p.run(args.depth, not args.no_expand) for p in prepared}
        finally:
            apply(before)
        table.append((config, results))
        mean = sum(objective(r) for r in results.values()) / len(results)
        cells = "  ".join(f"{n} {r['map']:.4f}/{r['ndcg']:.4f}" for n, r in results.items())
        label = " ".join(f"{k.split('.')[-1]}={v}" for k, v in config.items()) or "defaults"
        print(f"{label:60s} mean ratio {mean:.4f}  {cells}", flush=True)
    if len(table) > 1 and len(names) > 1:
        print("\nleave one collection out (chosen on the others by mean ratio, measured on the one left out):")
        for held in names:
            def others(entry):
                return sum(objective(r) for n, r in entry[1].items() if n != held) / (len(names) - 1)

            config, results = max(table, key=others)
            label = " ".join(f"{k.split('.')[-1]}={v}" for k, v in config.items())
            r = results[held]
            print(f"  {held:10s} chose {label}: MAP {r['map']:.4f} nDCG@10 {r['ndcg']:.4f} "
                  f"(ratio {r['map_ratio']:.3f} / {r['ndcg_ratio']:.3f}); best there: "
                  f"{max(objective(e[1][held]) for e in table):.4f}, chosen: {objective(r):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
