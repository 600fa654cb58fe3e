"""Ranking metrics with trec_eval semantics.

A *run* maps a query id to its ranked list of document ids (best first).
*Qrels* map a query id to ``{doc id: gain}`` where gain > 0 means relevant
(see ``benchmarks/smart.py`` for how grades become gains).

Conventions, matching trec_eval 9.x:

* ``map``: average precision over the top 1000 results (trec_eval's default
  cutoff), divided by the number of relevant documents in the qrels.
* ``ndcg_cut_10``: graded; the gain is the qrels value, the discount is
  ``log2(rank + 1)``; the ideal ranking sorts *all* judged gains.
* ``P_10``: relevant in the top 10 divided by 10, even if fewer were returned.
* ``recall_100``: relevant in the top 100 divided by the number relevant.
* ``recip_rank`` (MRR): 1 / rank of the first relevant document, 0 if none.

Queries without any relevant document are left out of every mean.  A judged
query missing from the run counts as an empty ranking (zero on every metric),
like ``trec_eval -c``, so an engine cannot improve its mean by failing a query.
Queries in the run but not in the qrels are ignored.  Repeated document ids in
a ranking count once, at their first rank.  Ties must be broken before the
metrics see the ranking; :func:`rank_by_score` breaks them the way trec_eval
does (score descending, then document id descending).
"""

from __future__ import annotations

import math
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

MAP_CUTOFF = 1000

METRICS = ("map", "ndcg_cut_10", "P_10", "recall_100", "recip_rank")

# Column titles for printed tables.
METRIC_LABELS = {
    "map": "MAP",
    "ndcg_cut_10": "nDCG@10",
    "P_10": "P@10",
    "recall_100": "R@100",
    "recip_rank": "MRR",
}

Run = Mapping[str, Sequence[str]]
Qrels = Mapping[str, Mapping[str, int]]


def rank_by_score(scored: Iterable[Tuple[str, float]]) -> List[str]:
    """Document ids ordered as trec_eval orders them: score descending, then id descending."""
    return [doc_id for doc_id, _ in sorted(scored, key=lambda pair: (pair[1], pair[0]), reverse=True)]


def _unique(ranking: Sequence[str]) -> List[str]:
    seen = set()
    unique = []
    for doc_id in ranking:
        if doc_id not in seen:
            seen.add(doc_id)
            unique.append(doc_id)
    return unique


def _relevant(judged: Mapping[str, int]) -> set:
    return {doc_id for doc_id, gain in judged.items() if gain > 0}


def average_precision(ranking: Sequence[str], judged: Mapping[str, int], cutoff: int = MAP_CUTOFF) -> float:
    relevant = _relevant(judged)
    if not relevant:
        return 0.0
    found = 0
    precision_sum = 0.0
    for rank, doc_id in enumerate(_unique(ranking)[:cutoff], start=1):
        if doc_id in relevant:
            found += 1
            precision_sum += found / rank
    return precision_sum / len(relevant)


def _dcg(gains: Iterable[float]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def ndcg_at(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    ideal = _dcg(sorted((gain for gain in judged.values() if gain > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    actual = _dcg(max(judged.get(doc_id, 0), 0) for doc_id in _unique(ranking)[:k])
    return actual / ideal


def precision_at(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    relevant = _relevant(judged)
    return sum(1 for doc_id in _unique(ranking)[:k] if doc_id in relevant) / k


def recall_at(ranking: Sequence[str], judged: Mapping[str, int], k: int = 100) -> float:
    relevant = _relevant(judged)
    if not relevant:
        return 0.0
    return sum(1 for doc_id in _unique(ranking)[:k] if doc_id in relevant) / len(relevant)


def reciprocal_rank(ranking: Sequence[str], judged: Mapping[str, int]) -> float:
    relevant = _relevant(judged)
    for rank, doc_id in enumerate(_unique(ranking), start=1):
        if doc_id in relevant:
            return 1.0 / rank
    return 0.0


def query_metrics(ranking: Sequence[str], judged: Mapping[str, int]) -> Dict[str, float]:
    """Every metric of :data:`METRICS` for one query."""
    return {
        "map": average_precision(ranking, judged),
        "ndcg_cut_10": ndcg_at(ranking, judged, 10),
        "P_10": precision_at(ranking, judged, 10),
        "recall_100": recall_at(ranking, judged, 100),
        "recip_rank": reciprocal_rank(ranking, judged),
    }


def evaluated_queries(qrels: Qrels) -> List[str]:
    """Query ids that count towards the means: those with at least one relevant document."""
    return sorted((query_id for query_id, judged in qrels.items() if _relevant(judged)), key=_id_order)


def _id_order(query_id: str):
    return (0, int(query_id), "") if query_id.isdigit() else (1, 0, query_id)


def per_query(run: Run, qrels: Qrels) -> Dict[str, Dict[str, float]]:
    return {query_id: query_metrics(run.get(query_id, ()), qrels[query_id]) for query_id in evaluated_queries(qrels)}


def evaluate(run: Run, qrels: Qrels) -> Dict[str, float]:
    """Mean of every metric over the evaluated queries (plus ``num_q``, their count)."""
    scores = per_query(run, qrels)
    count = len(scores)
    means: Dict[str, float] = {"num_q": float(count)}
    for metric in METRICS:
        means[metric] = sum(values[metric] for values in scores.values()) / count if count else 0.0
    return means
