"""The ranking engine: BM25 over whoosh's posting lists, whole-file evidence, query expansion.

A passage's score is its file's score plus a small share of its own:

    score(passage) = D(file) + PASSAGE_SHARE * P(passage)

``D`` is BM25 over the whole file (its passages taken together: term counts and
lengths summed per file, statistics over files), ``P`` is BM25 over the passage
(statistics over passages). Each is body + TITLE_WEIGHT * title. Files rank by
what they say as a whole; ``P`` picks and orders the passages inside a file.
Both come from one walk over the passage postings, so the index needs no
whole-file records and a commit stays one atomic step.

Loose-word queries (words OR-ed, the common case) take the fast path here:
term-at-a-time accumulation over the raw posting blocks, no whoosh matcher
tree. Anything structured (phrases, AND/NOT, +/-, fields, patterns) is matched
by whoosh in searcher/search.py.

Query expansion (RM3 pseudo-relevance feedback): the top FEEDBACK_FILES files of
a first pass, weighted by exp(score - best score), give a term distribution; its
top FEEDBACK_TERMS terms are mixed into the question (ORIGINAL_WEIGHT for the
question's own words) and the first pass's EXPANSION_CANDIDATES best files are
ranked again. It runs only for natural-language questions (see ``is_question``),
never for keyword lookups.

Speed (issue 6; measurements in the project notes, H6): posting blocks are
decoded without the positions ranking never reads; a term's walk runs at C speed
(dict/zip/map, file tf by counting) and yields D exactly, while P is summed only
for the passages of files that can still reach the top.
"""

from __future__ import annotations

import heapq
import math
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter, _count_elements
from dataclasses import dataclass
from itertools import accumulate, chain, repeat
from operator import add
from pickle import loads

from searcher.statistics import B, K1, Statistics, _Segment, statistics  # noqa: F401 (B, K1: for tests and callers)

# The title is usually also the body's first line, so it is counted there already:
# the title field only adds a little to that.
TITLE_WEIGHT = 0.3
PASSAGE_SHARE = 0.1
FIELDS = (("body", 1.0), ("title", TITLE_WEIGHT))

FEEDBACK_FILES = 5
FEEDBACK_TERMS = 30
ORIGINAL_WEIGHT = 0.4
# Files of the first pass that expansion ranks again (at least as many as are asked for).
EXPANSION_CANDIDATES = 100
# Content words (after stopwords) that make loose words a question rather than keywords.
QUESTION_WORDS = 4


@dataclass
class Ranked:
    docnum: int
    score: float
    file: int  # the file's number in the ranking statistics


def idf(n: int, df: int) -> float:
    """whoosh's BM25F idf, as structured queries get from whoosh: at least 1 - log 2."""
    return math.log(n / (df + 1)) + 1.0


# ---------------------------------------------------------------- postings

# whoosh3 pickles a block as (delta-coded ids, weights, values) with protocol 2, where
# each value (a passage's positions) is a bytes object pickled as a call of
# _codecs.encode. Ranking needs no positions: the block is unpickled up to where the
# values start, which is most of the decoding time. The marker is the values tuple's
# MARK and the first GLOBAL; ids and weights (K/M/J ints, G floats) never hold 17
# bytes in a row that are not opcodes, so it cannot occur before the values.
_VALUES_START = b"(c_codecs\nencode\n"
_NO_VALUES_END = b"N\x87."  # None as the values, TUPLE3, STOP


def _decode_block(raw: bytes, compressed: bool, count: int):
    """(ids, term frequencies) of one posting block's pickled data."""
    if compressed:
        raw = zlib.decompress(raw)
    cut = raw.find(_VALUES_START)
    data = loads(raw[:cut] + _NO_VALUES_END if cut > 0 else raw)
    ids = list(accumulate(data[0]))
    weights = data[1]
    if weights is None:
        weights = [1.0] * count
    elif isinstance(weights, float):
        weights = [weights] * count
    return ids, weights


def _leaf_matcher(seg: _Segment, fieldname: str, btext: bytes):
    reader = seg.reader
    if (fieldname, btext) not in reader:
        return None
    terms = getattr(reader, "_terms", None)
    return (terms.matcher(fieldname, btext, reader.schema[fieldname].format) if terms is not None
            else reader.postings(fieldname, btext))


def _postings(seg: _Segment, fieldname: str, btext: bytes, wanted=None):
    """(ids, term frequencies) blocks of a term in one segment, deleted passages included.

    ``wanted(first, last)`` (optional) says whether a block holding ids in
    first..last is needed; blocks that are not are skipped without decoding.
    """
    matcher = _leaf_matcher(seg, fieldname, btext)
    if matcher is None:
        return
    if hasattr(matcher, "_goto") and hasattr(matcher, "_nextoffset"):
        # whoosh3's leaf matcher: raw blocks, decoded here without the positions.
        get = matcher._postfile.get
        first = 0
        while True:
            if wanted is None or wanted(first, matcher._maxid):
                raw = get(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset)
                yield _decode_block(raw, matcher._compression, matcher._blocklength)
            if matcher._lastblock:
                return
            first = matcher._maxid + 1
            matcher._goto(matcher._nextoffset)
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(float(matcher.weight()))
        matcher.next()
    yield ids, weights


# ---------------------------------------------------------------- scoring


class _Scores:
    """File scores D, exact; passage scores P, summed when asked for.

    D needs every posting of a term (its tf summed per file), but P is needed only
    for the passages of the few files that can reach the top: a term keeps its
    postings as {global docnum: tf}, built at C speed, and P is summed from them.
    """

    def __init__(self, stats: Statistics):
        self.stats = stats
        self.file: dict[int, float] = {}
        self.fixed: dict[int, float] = {}  # P given outright (the expansion's rescoring)
        # (c, passage norms by global docnum, tf by global docnum) of each term and field
        self.terms: list[tuple[float, list[float], dict[int, float]]] = []
        self._matched: set[int] | None = None

    def matched(self) -> set[int]:
        """Global docnums of the passages that match."""
        if self._matched is None:
            matched = set(self.fixed)
            for _, _, tf_of in self.terms:
                matched.update(tf_of)
            self._matched = matched
        return self._matched

    def passage_score(self, docnum: int) -> float:
        p = self.fixed.get(docnum, 0.0)
        for c, norms, tf_of in self.terms:
            tf = tf_of.get(docnum)
            if tf is not None:
                p += c * tf / (tf + norms[docnum])
        return p

    def passage_bound(self) -> float:
        """No passage's P is above this (tf / (tf + norm) < 1)."""
        return (max(self.fixed.values()) if self.fixed else 0.0) + sum(c for c, _, _ in self.terms)

    @property
    def passage(self) -> dict[int, float]:
        """Every matching passage's P."""
        return {docnum: self.passage_score(docnum) for docnum in self.matched()}


def _add_term(stats: Statistics, scores: _Scores, fieldname: str, field_weight: float,
              btext: bytes, weight: float) -> None:
    tf_of: dict[int, float] = {}  # live passages' tf, by global docnum
    file_tf: dict[int, float] = {}
    fget = file_tf.get
    title = fieldname == "title"
    for seg in stats.segments:
        offset, file_of, deleted = seg.offset, seg.file_of, seg.deleted
        for ids, tfs in _postings(seg, fieldname, btext):
            if deleted:
                keep = [i for i, d in enumerate(ids) if d not in deleted]
                ids = [ids[i] for i in keep]
                tfs = [tfs[i] for i in keep]
            tf_of.update(zip(map(add, ids, repeat(offset)) if offset else ids, tfs))
            numbers = map(file_of.__getitem__, ids)
            if title:  # the same title in every passage of a file: count it once
                file_tf.update(zip(numbers, tfs))
            elif all(map(float.is_integer, tfs)):  # term counts: add each file's number tf times
                _count_elements(file_tf, chain.from_iterable(map(repeat, numbers, map(int, tfs))))
            else:
                for number, tf in zip(numbers, tfs):
                    file_tf[number] = fget(number, 0.0) + tf
    if not tf_of:
        return
    k1_plus_1 = K1 + 1.0
    c = weight * field_weight * idf(stats.passages, len(tf_of)) * k1_plus_1
    scores.terms.append((c, stats.norms[fieldname], tf_of))
    scores._matched = None
    c = weight * field_weight * idf(stats.file_count, len(file_tf)) * k1_plus_1
    fnorm = stats.file_norms[fieldname]
    files = scores.file
    get = files.get
    for number, tf in file_tf.items():
        files[number] = get(number, 0.0) + c * tf / (tf + fnorm[number])


def score_terms(reader, terms: dict[str, float], scores: _Scores | None = None) -> _Scores:
    """Passage and file scores of weighted stems (OR semantics), added to ``scores``."""
    stats = statistics(reader)
    scores = _Scores(stats) if scores is None else scores
    schema = reader.schema
    for fieldname, field_weight in FIELDS:
        if fieldname not in schema:
            continue
        fieldobj = schema[fieldname]
        for stem, weight in terms.items():
            if weight > 0:
                _add_term(stats, scores, fieldname, field_weight, fieldobj.to_bytes(stem), weight)
    return scores


def top_passages(scores: _Scores, count: int, per_file: int | None, stats: Statistics) -> list[Ranked]:
    """The best ``count`` passages, at most ``per_file`` from one file; ties by index order."""
    matched = scores.matched()
    if count <= 0 or not matched:
        return []
    files, share, score = scores.file, PASSAGE_SHARE, scores.passage_score
    by_file: dict[int, list[tuple[float, int]]] = {}
    if per_file and len(files) > count:
        # A file's best passage scores at least its D (every file here has a matching
        # passage) and at most D + share * (a bound of P). Files are taken by D, best
        # first, until no later one can beat the count-th best file found so far.
        margin = share * scores.passage_bound()
        floor = heapq.nlargest(count, files.values())[-1] - margin
        best: list[tuple[float, int]] = []  # heap of the count best files' best passages
        for d, number in sorted(((d, number) for number, d in files.items() if d >= floor), reverse=True):
            if len(best) == count and d + margin < best[0][0]:
                break
            ranked = [(d + share * score(g), -g) for g in stats.passages_of(number) if g in matched]
            if ranked:
                by_file[number] = ranked
                top = max(ranked)
                if len(best) < count:
                    heapq.heappush(best, top)
                elif top > best[0]:
                    heapq.heapreplace(best, top)
    else:
        file_of = stats.file_of
        for g in matched:
            number = file_of[g]
            by_file.setdefault(number, []).append((files.get(number, 0.0) + share * score(g), -g))
    if per_file:
        # The top passages under a per-file cap all come from the files with the best passages.
        best_files = heapq.nlargest(count, by_file.items(), key=lambda item: max(item[1]))
        candidates = [(score, neg, number) for number, passages in best_files
                      for score, neg in heapq.nlargest(per_file, passages)]
    else:
        candidates = [(score, neg, number) for number, passages in by_file.items() for score, neg in passages]
    return [Ranked(-neg, score, number) for score, neg, number in heapq.nlargest(count, candidates)]


def top_files(scores: _Scores, count: int) -> list[int]:
    """The ``count`` best files by D; ties by file number."""
    files = scores.file
    if count <= 0 or not files:
        return []
    floor = heapq.nlargest(count, files.values())[-1]
    best = sorted((-d, number) for number, d in files.items() if d >= floor)
    return [number for _, number in best[:count]]


# ---------------------------------------------------------------- expansion


def is_question(terms: dict[str, float]) -> bool:
    """Loose words with enough content words to read as a question, not a keyword lookup."""
    return len(terms) >= QUESTION_WORDS


def question_terms(terms: dict[str, float]) -> dict[str, float]:
    """In a question a word repeated is style, not emphasis: each distinct word counts once."""
    return dict.fromkeys(terms, 1.0)


def expand(reader, scores: _Scores, terms: dict[str, float], stopwords: frozenset[str]) -> dict[str, float]:
    """RM3: ``terms`` mixed with the term distribution of the first pass's best files."""
    stats = statistics(reader)
    best = top_files(scores, FEEDBACK_FILES)
    if not best:
        return terms
    analyzer = reader.schema["body"].analyzer
    top = scores.file[best[0]]
    feedback: Counter = Counter()
    weights = [math.exp(scores.file[number] - top) for number in best]
    total = sum(weights)
    for number, weight in zip(best, weights):
        text = "\n".join(reader.stored_fields(d).get("body") or "" for d in stats.passages_of(number))
        counts = Counter(token.text for token in analyzer(text))
        length = sum(counts.values()) or 1
        share = weight / total / length
        for stem, count in counts.items():
            if stem not in stopwords:
                feedback[stem] += count * share
    chosen = sorted(feedback.items(), key=lambda kv: (-kv[1], kv[0]))[:FEEDBACK_TERMS]
    chosen_total = sum(w for _, w in chosen) or 1.0
    original_total = sum(terms.values()) or 1.0
    mixed: dict[str, float] = {}
    for stem, weight in terms.items():
        mixed[stem] = ORIGINAL_WEIGHT * weight / original_total
    for stem, weight in chosen:
        mixed[stem] = mixed.get(stem, 0.0) + (1 - ORIGINAL_WEIGHT) * weight / chosen_total
    return mixed


def _rescore_expanded(reader, scores: _Scores, terms: dict[str, float], mixed: dict[str, float],
                      candidates: int, files_with=None) -> _Scores:
    """Scores of the ``mixed`` terms, for the ``candidates`` best files of the first pass.

    Scores are linear in the term weights, so the question's own words are the first
    pass scaled; only what expansion adds is scored, and only in the first pass's best
    files: the postings of the (mostly frequent) expansion words are skipped block by
    block outside them. A file outside keeps its first-pass score scaled, which cannot
    put it above a candidate. How many files an expansion word is in is estimated
    from how many passages it is in (the count of files would need all its postings).
    """
    stats = statistics(reader)
    factor = ORIGINAL_WEIGHT / (sum(terms.values()) or 1.0)
    extra = {stem: weight - factor * terms.get(stem, 0.0) for stem, weight in mixed.items()}
    extra = {stem: weight for stem, weight in extra.items() if weight > 1e-12}
    best = top_files(scores, candidates)
    rescored = _Scores(stats)
    rescored.file = {number: factor * scores.file[number] for number in best}
    passage = rescored.fixed
    matched = scores.matched()
    local: dict = {}  # segment index -> candidate docnums in it (sorted, and as a set)
    bounds = [seg.offset for seg in stats.segments]
    for number in best:
        for g in stats.passages_of(number):
            if g in matched:
                passage[g] = factor * scores.passage_score(g)
            i = bisect_right(bounds, g) - 1
            local.setdefault(i, []).append(g - bounds[i])
    local = {i: (sorted(docnums), frozenset(docnums)) for i, docnums in local.items()}
    schema = reader.schema
    k1_plus_1 = K1 + 1.0
    for fieldname, field_weight in FIELDS:
        if fieldname not in schema:
            continue
        fieldobj = schema[fieldname]
        fnorm = stats.file_norms[fieldname]
        title = fieldname == "title"
        for stem, weight in extra.items():
            btext = fieldobj.to_bytes(stem)
            df = reader.doc_frequency(fieldname, btext)
            if not df:
                continue
            c = weight * field_weight * idf(stats.passages, df) * k1_plus_1
            file_tf: dict[int, float] = {}
            for i, (docnums, wanted_set) in local.items():
                seg = stats.segments[i]

                def wanted(first, last, docnums=docnums):
                    j = bisect_left(docnums, first)
                    return j < len(docnums) and docnums[j] <= last

                norm, offset, file_of = seg.norms[fieldname], seg.offset, seg.file_of
                for ids, tfs in _postings(seg, fieldname, btext, wanted):
                    found = wanted_set.intersection(ids)
                    if not found:
                        continue
                    block_tf = dict(zip(ids, tfs))
                    for d in sorted(found):
                        tf = block_tf[d]
                        g = offset + d
                        passage[g] = passage.get(g, 0.0) + c * tf / (tf + norm[d])
                        number = file_of[d]
                        file_tf[number] = tf if title else file_tf.get(number, 0.0) + tf
            fdf = files_with(fieldname, btext, df) if files_with else _files_with(df, stats)
            c = weight * field_weight * idf(stats.file_count, fdf) * k1_plus_1
            files = rescored.file
            for number, tf in file_tf.items():
                files[number] += c * tf / (tf + fnorm[number])
    return rescored


def _files_with(df: int, stats: Statistics) -> float:
    """The expected number of files holding a word that is in ``df`` passages, had it
    been put in passages at random (files of the average number of passages)."""
    per_file = stats.passages / stats.file_count
    share = min(1.0, df / stats.passages)
    return max(1.0, min(df, stats.file_count * (1.0 - (1.0 - share) ** per_file)))


def rank(reader, terms: dict[str, float], count: int, per_file: int | None, *,
         expansion: bool = False, stopwords: frozenset[str] = frozenset()):
    """(best passages, number of matching passages, the terms used) for loose words."""
    scores = score_terms(reader, terms)
    matched = len(scores.matched())
    if expansion and scores.file:
        mixed = expand(reader, scores, terms, stopwords)
        candidates = max(count, EXPANSION_CANDIDATES)
        if len(scores.file) > candidates:
            scores = _rescore_expanded(reader, scores, terms, mixed, candidates)
        else:  # few files match: score them all
            scores = score_terms(reader, mixed)
        terms = mixed
    return top_passages(scores, count, per_file, statistics(reader)), matched, terms


def loose_terms(q, phrase_stopwords: frozenset[str] | None = None) -> dict[str, float] | None:
    """{stem: weight} when ``q`` is only loose words OR-ed over title and body; else None.

    A word's weight is its body term's boost (repeats and ``^`` boosts); the
    title's share is the engine's own TITLE_WEIGHT. With ``phrase_stopwords``,
    exact phrases (from words joined by punctuation, such as "two-dimensional")
    count as their words without those stopwords.
    """
    from whoosh import query as wq

    fields: dict[str, dict[str, float]] = {"title": {}, "body": {}}
    stack = [q]
    while stack:
        node = stack.pop()
        if type(node) is wq.Or:
            if node.boost != 1.0:
                return None
            stack.extend(node.subqueries)
        elif type(node) is wq.Term and node.fieldname in fields:
            words = fields[node.fieldname]
            words[node.text] = words.get(node.text, 0.0) + node.boost
        elif (phrase_stopwords is not None and type(node) is wq.Phrase and node.slop == 1
              and node.fieldname in fields):
            words = fields[node.fieldname]
            for word in node.words:
                if word not in phrase_stopwords:
                    words[word] = words.get(word, 0.0) + node.boost
        else:
            return None
    # A loose word searches both fields; a word in one of them only is a field filter.
    if not fields["body"] or fields["title"].keys() != fields["body"].keys():
        return None
    return {stem: weight for stem, weight in fields["body"].items() if weight > 0} or None
