"""Query expansion for questions: feedback from the first pass, and the second pass.

RM3 pseudo-relevance feedback: the top FEEDBACK_FILES files of
a first pass, weighted by exp(score - best score), give a term distribution; its
top FEEDBACK_TERMS terms are mixed into the question (ORIGINAL_WEIGHT for the
question's own words) and the first pass's EXPANSION_CANDIDATES best files are
ranked again. It runs only for natural-language questions (see ``ranking.is_question``),
never for keyword lookups.

Feedback needs the counts of every word in a few files' best passages: it counts the
words of their stored text (``PassageTerms``), with the analysis the index was built
with. The second pass needs thirty words' counts in about a hundred files: it looks
their postings up in those files' passages by range, without walking them.
"""

from __future__ import annotations

import math
from collections import Counter

from searcher.engine import ranking
from searcher.engine.ranking import FIELDS, _Scores, score_terms, term_factor, top_files
from searcher.engine.statistics import Statistics, statistics

FEEDBACK_FILES = 5
FEEDBACK_TERMS = 30
ORIGINAL_WEIGHT = 0.4
# Files of the first pass that expansion ranks again (at least as many as are asked for).
EXPANSION_CANDIDATES = 100
# A long feedback file gives the words of its best passages only (by the passage score).
FEEDBACK_PASSAGES = 10
# The second pass counts the words of at most this many passages (but always of the files
# asked for): this bounds a question's time on folders of long files.
RESCORE_PASSAGES = 1500
# How the feedback files' term distributions are weighted: "exp" (exp(score - best)),
# "share" (score / sum of scores) or "uniform".
FEEDBACK_WEIGHTING = "exp"


# Analyzers' term-counting functions, by id (see index.text.analysis.kept_for).
_fast_terms: dict[int, tuple] = {}


def _term_counter(analyzer):
    """A function text -> Counter of the terms ``analyzer`` makes of it."""
    from searcher.index.text.analysis import kept_for

    return kept_for(_fast_terms, analyzer, _make_counter)


def _make_counter(analyzer):
    from searcher.index.text.analysis import fast_terms

    terms = fast_terms(analyzer)
    if terms is None:
        return lambda text: Counter(token.text for token in analyzer(text))
    return lambda text: Counter(terms(text))


class PassageTerms:
    """Term counts of passages' title and body, counted from their stored text.

    Feedback and rescoring need the counts of every word in about a hundred files:
    counting their text (the same analysis as at indexing, so the same counts as the
    postings; tests/test_ranking.py checks it) is much cheaper than walking the posting
    lists of thirty mostly frequent words to find those files in them.
    """

    def __init__(self, reader):
        self.reader = reader
        schema = reader.schema
        self._counters = {name: _term_counter(schema[name].analyzer) for name, _ in FIELDS if name in schema}
        self._counts: dict[int, dict[str, Counter]] = {}
        self._titles: dict[str, Counter] = {}  # a file's passages all store its title

    def of(self, docnum: int) -> dict[str, Counter]:
        """{field: Counter of terms} of a passage."""
        counts = self._counts.get(docnum)
        if counts is None:
            stored = self.reader.stored_fields(docnum)
            counts = {}
            for name, counter in self._counters.items():
                text = stored.get(name) or ""
                if name == "title":
                    found = self._titles.get(text)
                    if found is None:
                        found = self._titles[text] = counter(text)
                    counts[name] = found
                else:
                    counts[name] = counter(text)
            self._counts[docnum] = counts
        return counts


def _feedback_passages(scores: _Scores, passages: list[int]) -> list[int]:
    """The passages of a feedback file that give its words: all of a short file, the
    FEEDBACK_PASSAGES best (by their own score) of a long one, so that a long page
    gives the words of the parts that match rather than of everything it holds."""
    if len(passages) <= FEEDBACK_PASSAGES:
        return passages
    own = scores.passage_scores(passages)
    return sorted(sorted(own, key=lambda g: (-own[g], g))[:FEEDBACK_PASSAGES])


def candidate_count(stats: Statistics, best: list[int], wanted: int) -> int:
    """How many of the first pass's ``best`` files (best first) the second pass ranks:
    as many as hold at most RESCORE_PASSAGES passages, and never fewer than ``wanted``
    (the files asked for). Counting every word of those passages is the second pass's
    cost: long files would otherwise make a question slow."""
    total = 0
    for count, number in enumerate(best):
        total += len(stats.passages_of(number))
        if total > RESCORE_PASSAGES and count >= wanted:
            return count
    return len(best)


def expand(reader, scores: _Scores, terms: dict[str, float], stopwords: frozenset[str],
           texts: PassageTerms | None = None) -> dict[str, float]:
    """RM3: ``terms`` mixed with the term distribution of the first pass's best files."""
    stats = statistics(reader)
    best = top_files(scores, FEEDBACK_FILES)
    if not best:
        return terms
    texts = texts or PassageTerms(reader)
    top = scores.file[best[0]]
    feedback: Counter = Counter()
    if FEEDBACK_WEIGHTING == "uniform":
        weights = [1.0] * len(best)
    elif FEEDBACK_WEIGHTING == "share":
        weights = [scores.file[number] / top for number in best]
    else:
        weights = [math.exp(scores.file[number] - top) for number in best]
    total = sum(weights)
    for number, weight in zip(best, weights):
        counts: Counter = Counter()
        for d in _feedback_passages(scores, stats.passages_of(number)):
            counts.update(texts.of(d)["body"])
        length = sum(counts.values()) or 1
        share = weight / total / length
        for stem, count in counts.items():
            if stem not in stopwords:
                feedback[stem] += count * share
    chosen = sorted(feedback.items(), key=lambda kv: (-kv[1], kv[0]))[:FEEDBACK_TERMS]
    chosen_total = sum(w for _, w in chosen) or 1.0
    original_total = sum(terms.values()) or 1.0
    mixed: dict = {}
    for stem, weight in terms.items():
        mixed[stem] = ORIGINAL_WEIGHT * weight / original_total
    for stem, weight in chosen:
        mixed[stem] = mixed.get(stem, 0.0) + (1 - ORIGINAL_WEIGHT) * weight / chosen_total
    return mixed


def rescore_expanded(reader, scores: _Scores, terms: dict, mixed: dict[str, float],
                     candidates: int, files_with=None) -> _Scores:
    """Scores of the ``mixed`` terms, for the ``candidates`` best files of the first pass.

    Scores are linear in the term weights, so the question's own words are the first
    pass scaled; only what expansion adds is scored, and only in the first pass's best
    files: each expansion word's postings are looked up in those files' passages by range
    (two binary searches per file, ``ranking.term_in_runs``), never walked. A file outside
    keeps its first-pass score scaled, which cannot put it above a candidate. How many files
    an expansion word is in is estimated from how many passages it is in (the count of
    files would need all its postings).
    """
    stats = statistics(reader)
    factor = ORIGINAL_WEIGHT / (sum(terms.values()) or 1.0)
    extra = {stem: weight - factor * terms.get(stem, 0.0) for stem, weight in mixed.items()}
    # Only feedback words (stems, str) get weight beyond the scaled first pass; a
    # question's own phrase (a tuple) differs by rounding at most.
    extra = {stem: weight for stem, weight in extra.items() if weight > 1e-12 and type(stem) is str}
    best = top_files(scores, candidates)
    rescored = _Scores(stats, scores.exclude)
    rescored.file = {number: factor * scores.file[number] for number in best}
    passage = rescored.fixed
    # Files keep their whole D (excluded passages included); excluded passages get no P.
    runs = [run for number in best for run in stats.runs_of(number)]
    exclude = scores.exclude
    for g, p in scores.file_passage_scores(runs).items():
        passage[g] = factor * p
    schema = reader.schema
    file_of = stats.file_of
    files = rescored.file
    wanted = ranking.Runs(stats, runs)
    for fieldname, field_weight in FIELDS:
        if fieldname not in schema:
            continue
        fieldobj = schema[fieldname]
        fnorm, norms = stats.file_norms[fieldname], stats.norms[fieldname]
        title = fieldname == "title"
        for stem, weight in extra.items():
            btext = fieldobj.to_bytes(stem)
            holders, df, total = ranking.term_in_runs(stats, fieldname, btext, wanted)  # holders: (passage, tf)
            if not holders:
                continue
            c = weight * field_weight * term_factor(stats.passages, df, total)
            file_tf: dict[int, float] = {}
            for g, tf in holders:
                if g not in exclude:
                    passage[g] = passage.get(g, 0.0) + c * tf / (tf + norms[g])
                number = file_of[g]
                file_tf[number] = tf if title else file_tf.get(number, 0) + tf
            fdf = files_with(fieldname, btext, df) if files_with else _files_with(df, stats)
            # (a title is counted once per file, a body word each time)
            c = weight * field_weight * term_factor(stats.file_count, fdf, total * fdf / df if title else total)
            for number, tf in file_tf.items():
                files[number] += c * tf / (tf + fnorm[number])
    return rescored


def _files_with(df: int, stats: Statistics) -> float:
    """The expected number of files holding a word that is in ``df`` passages, had it
    been put in passages at random (files of the average number of passages)."""
    per_file = stats.passages / stats.file_count
    share = min(1.0, df / stats.passages)
    return max(1.0, min(df, stats.file_count * (1.0 - (1.0 - share) ** per_file)))


def rank(reader, terms: dict, count: int, per_file: int | None, *, expansion: bool = False,
         stopwords: frozenset[str] = frozenset(), exclude=None, lazy_total: bool = False):
    """``ranking.rank``, expanded with feedback from the first pass when ``expansion``
    (``stopwords``: stems never added)."""

    def feedback(reader, scores, terms, count, exclude):
        candidates = max(count, EXPANSION_CANDIDATES)
        candidates = candidate_count(statistics(reader), top_files(scores, candidates), count)
        mixed = expand(reader, scores, terms, stopwords)
        if len(scores.file) > candidates:
            scores = rescore_expanded(reader, scores, terms, mixed, candidates)
        else:  # few files match: score them all
            scores = score_terms(reader, mixed, _Scores(statistics(reader), exclude))
        return scores, mixed

    return ranking.rank(reader, terms, count, per_file, exclude=exclude, lazy_total=lazy_total,
                        feedback=feedback if expansion else None)
