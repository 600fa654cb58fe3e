"""Run the speed benchmark's query sets through two versions of searcher and compare the hits.

Usage (from the repository root):
    git worktree add /tmp/base eff4c81        # the version to compare against
    python benchmarks/compare_results.py --old /tmp/base [--mode search|engine|both] [--sets keywords ...]

``search`` mode: each version runs in a subprocess of its own (PYTHONPATH pointing at
its checkout), warm, through ``SearchSession.search`` at ``--limit`` hits, and records
every hit (path, position, score) and the CPU time of each query. Everything a user
sees is compared, so a change of any module (query reading, phrases) shows.

``engine`` mode (old checkouts from before searcher/engine/expansion.py, such as eff4c81):
one process, one index reader; the old checkout's
``searcher/ranking.py`` is loaded beside the current one, and each query the current
planner gives to the ranking engine (``SearchSession._plan``) is ranked by both, old
and new alternately, with the same arguments as ``SearchSession.search`` uses. This
isolates the ranking engine: the old one gets only what the engine's interface has
gained since (a phrase passed on as a tuple to the current ``_postings``, excluded
passages left out of what it returns and counts).

The report gives, per set, how many hit lists differ (same passages in the same
order, scores equal to 1e-9 relative), the CPU p50/p95 of both versions from the same
invocation, and the first differences in full (with whether they are exact ties).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INDEX = ROOT / "benchmarks" / "out" / "index-cranfield-100000-searcher"
DEFAULT_QUERIES = ROOT / "benchmarks" / "data" / "cranfield-100000" / "queries.json"
SETS = ("keywords", "phrases", "questions")


def dump(index: str, queries: str, sets: list[str], limit: int, out: str) -> None:
    """Worker: run the queries with whatever searcher is importable; write hits and times."""
    from searcher.engine.search import SearchSession

    query_sets = json.loads(Path(queries).read_text())
    found: dict = {"code": str(Path(sys.modules["searcher"].__file__).resolve().parents[1])}
    with SearchSession(index) as session:
        for name in sets:
            texts = query_sets[name]
            for text in texts[:10]:  # warm up
                session.search(text, limit=limit)
            results = []
            for text in texts:
                started = time.process_time()
                result = session.search(text, limit=limit)
                spent = time.process_time() - started
                results.append({"query": text, "cpu": spent,
                                "hits": [(h.path, h.position, h.score) for h in result.hits]})
            found[name] = results
    Path(out).write_text(json.dumps(found))


def _old_engine(old_checkout: Path):
    """The old checkout's ranking module, on the current statistics and postings."""
    import importlib.util

    from searcher.engine import ranking

    spec = importlib.util.spec_from_file_location("_old_ranking", old_checkout / "searcher" / "ranking.py")
    old = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = old  # dataclasses look their module up
    spec.loader.exec_module(old)
    old._postings = ranking._postings  # reads phrases (tuples) too

    def score_terms(reader, terms, scores=None):  # the old one, passing phrases on as tuples
        stats = old.statistics(reader)
        scores = old._Scores(stats) if scores is None else scores
        for fieldname, field_weight in old.FIELDS:
            if fieldname in reader.schema:
                fieldobj = reader.schema[fieldname]
                for stem, weight in terms.items():
                    if weight > 0:
                        key = stem if type(stem) is tuple else fieldobj.to_bytes(stem)
                        old._add_term(stats, scores, fieldname, field_weight, key, weight)
        return scores

    def rank(reader, terms, count, per_file, *, expansion=False, stopwords=frozenset(), exclude=None):
        """The old rank, with excluded passages neither returned nor counted."""
        exclude = exclude or set()

        def without_excluded(scores):
            scores._matched = scores.matched() - exclude
            for g in exclude:
                scores.fixed.pop(g, None)
            return scores

        scores = without_excluded(score_terms(reader, terms))
        matched = len(scores.matched())
        if expansion and scores.file:
            mixed = old.expand(reader, scores, terms, stopwords)
            candidates = max(count, old.EXPANSION_CANDIDATES)
            if len(scores.file) > candidates:
                scores = old._rescore_expanded(reader, scores, terms, mixed, candidates)
            else:
                scores = score_terms(reader, mixed)
            scores = without_excluded(scores)
            terms = mixed
        return old.top_passages(scores, count, per_file, old.statistics(reader)), matched, terms

    return rank


def engine(args) -> int:
    """Rank every engine query with the old and the new ranking module, alternately."""
    from searcher.engine import expansion, ranking
    from searcher.engine.search import SearchSession

    old_rank = _old_engine(args.old.resolve())
    query_sets = json.loads(Path(args.queries).read_text())
    differing = 0
    with SearchSession(args.index) as session:
        reader = session.searcher.reader()
        print(f"old engine: {args.old}/searcher/ranking.py\nnew engine: {ranking.__file__}\nindex: {args.index}")
        for name in args.sets:
            cpu: dict[str, list[float]] = {"old": [], "new": []}
            diffs, whoosh = [], 0
            for i, text in enumerate(query_sets[name]):
                plan = session._plan(session.parse(text))
                if plan is None:
                    whoosh += 1
                    continue
                terms = ranking.question_terms(plan.terms) if plan.question else plan.terms
                kwargs = dict(expansion=plan.question, stopwords=session._stopwords() if plan.question else frozenset(),
                              exclude=session._excluded_passages(reader, plan.excluded))
                found = {}
                for label in (("old", "new") if i % 2 else ("new", "old")):
                    function = old_rank if label == "old" else expansion.rank
                    started = time.process_time()
                    ranked, total, used = function(reader, terms, args.limit, 3, **kwargs)
                    cpu[label].append((time.process_time() - started) * 1000)
                    found[label] = ([(r.docnum, r.docnum, r.score) for r in ranked], total, used)
                (o, o_total, o_terms), (n, n_total, n_terms) = found["old"], found["new"]
                same_terms = o_terms.keys() == n_terms.keys() and all(
                    math.isclose(o_terms[k], n_terms[k], rel_tol=args.rel) for k in o_terms)
                if not (same_hits(o, n, args.rel) and o_total == n_total and same_terms):
                    diffs.append((text, o, n, o_total, n_total, same_terms))
            differing += len(diffs)
            ranked_count = len(cpu["new"])
            print(f"{name:10s} {ranked_count} ranked by the engine ({whoosh} by whoosh), {len(diffs)} differ "
                  f"(hits, total or expanded terms) | rank() CPU ms old p50 {statistics.median(cpu['old']):.1f} "
                  f"p95 {percentile(cpu['old'], .95):.1f} | new p50 {statistics.median(cpu['new']):.1f} "
                  f"p95 {percentile(cpu['new'], .95):.1f}" if ranked_count else f"{name:10s} none ranked by the engine")
            for text, o, n, o_total, n_total, same_terms in diffs[:args.show]:
                print(f"  {text!r}: {tie_note(o, n)}; totals {o_total} / {n_total}; same expanded terms: {same_terms}")
                print(f"    old: {o}\n    new: {n}")
    return 1 if differing else 0


def run_version(code: Path, args, out: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code), NLTK_DATA=os.environ.get("NLTK_DATA", "/nonexistent"))
    subprocess.run([sys.executable, __file__, "--dump", out, "--index", str(args.index),
                    "--queries", str(args.queries), "--limit", str(args.limit), "--sets", *args.sets],
                   env=env, check=True, cwd=tempfile.gettempdir())
    return json.loads(Path(out).read_text())


def same_hits(a: list, b: list, rel: float) -> bool:
    return len(a) == len(b) and all(
        (pa, qa) == (pb, qb) and math.isclose(sa, sb, rel_tol=rel, abs_tol=0.0)
        for (pa, qa, sa), (pb, qb, sb) in zip(a, b))


def tie_note(a: list, b: list) -> str:
    """Whether the first differing places hold equal scores (an exact tie ordered differently)."""
    for i, (x, y) in enumerate(zip(a, b)):
        if (x[0], x[1]) != (y[0], y[1]):
            return (f"first difference at rank {i + 1}: old score {x[2]!r}, new score {y[2]!r}"
                    f"{' (equal: a tie)' if x[2] == y[2] else ''}")
    return f"lengths {len(a)} vs {len(b)}" if len(a) != len(b) else "scores differ beyond tolerance"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, help="checkout of the version to compare against")
    parser.add_argument("--new", type=Path, default=ROOT, help="checkout of the new version (default: this one)")
    parser.add_argument("--index", default=DEFAULT_INDEX)
    parser.add_argument("--queries", default=DEFAULT_QUERIES)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--rel", type=float, default=1e-9, help="relative score tolerance")
    parser.add_argument("--show", type=int, default=5, help="differences printed in full per set")
    parser.add_argument("--mode", choices=("search", "engine", "both"), default="both")
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump:
        dump(str(args.index), str(args.queries), args.sets, args.limit, args.dump)
        return 0
    if args.old is None:
        parser.error("--old is required")
    differing = engine(args) if args.mode in ("engine", "both") else 0
    if args.mode == "engine":
        return differing
    with tempfile.TemporaryDirectory() as scratch:
        old = run_version(args.old.resolve(), args, os.path.join(scratch, "old.json"))
        new = run_version(args.new.resolve(), args, os.path.join(scratch, "new.json"))
    print(f"old: {old['code']}\nnew: {new['code']}\nindex: {args.index}")
    for name in args.sets:
        pairs = list(zip(old[name], new[name]))
        diffs = [(o, n) for o, n in pairs if not same_hits(o["hits"], n["hits"], args.rel)]
        differing += len(diffs)
        cpu = {label: [r["cpu"] * 1000 for r in results] for label, results in (("old", old[name]), ("new", new[name]))}
        print(f"{name:10s} {len(pairs)} queries, {len(diffs)} hit lists differ | CPU ms "
              f"old p50 {statistics.median(cpu['old']):.1f} p95 {percentile(cpu['old'], .95):.1f} | "
              f"new p50 {statistics.median(cpu['new']):.1f} p95 {percentile(cpu['new'], .95):.1f}")
        for o, n in diffs[:args.show]:
            print(f"  {o['query']!r}: {tie_note(o['hits'], n['hits'])}")
            print(f"    old: {[(p.rsplit('/', 1)[-1], q, s) for p, q, s in o['hits']]}")
            print(f"    new: {[(p.rsplit('/', 1)[-1], q, s) for p, q, s in n['hits']]}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
