"""The ranking engine: BM25 over whoosh's posting lists, whole-file evidence, query expansion.

A passage's score is its file's score plus a small share of its own:

    score(passage) = D(file) + PASSAGE_SHARE * P(passage)

``D`` is BM25 over the whole file (its passages taken together: term counts and
lengths summed per file, statistics over files), ``P`` is BM25 over the passage
(statistics over passages). Each is body + TITLE_WEIGHT * title. (DFR's I(ne)B2 can stand in
for BM25 in both: statistics.WEIGHTING, measured in the README's Relevance section.) Files rank by
what they say as a whole; ``P`` picks and orders the passages inside a file.
Both come from the passage postings, so the index needs no whole-file records and a
commit stays one atomic step; a segment's per-file postings (index/storage/filepostings.py,
written beside it after a run, optional) give a common word's file counts without walking
its passage postings, with the same result.

Every query is scored here, term-at-a-time over the postings, no whoosh matcher
tree. Loose words and exact phrases (OR-ed, with ``-word`` exclusions: the common
case) are all there is to it; a structured query (+word, AND, fields, patterns,
proximity) has its passages chosen by its operators (searcher/engine/search.py) and is
scored by its words here (``rank_fields``), so operators never change the scoring.

Questions are expanded with feedback from their first pass (searcher/engine/expansion.py).

Speed (issue 6): postings are read as plain arrays from the segment's flat
postings (index/storage/flatpostings.py); a segment without them has its whoosh blocks
inflated and unpickled only up to their positions, which ranking never reads.
A term's walk gives each file's tf at C speed (map/count) and D exactly, while the
postings are kept so that P is summed only for the passages of files that can
still reach the top. Scoring pauses the cyclic garbage collector, which would
otherwise walk the hundreds of thousands of short-lived lists a question makes,
to find no cycle.
"""

from __future__ import annotations

import gc
import heapq
import math
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate, compress, repeat
from operator import add, ge, mul, ne, not_, sub, truediv

from searcher.index.errors import IndexDamaged
from searcher.index.storage.filepostings import FIELDS as FILE_POSTINGS_FIELDS
from searcher.index.storage.flatpostings import DAMAGED_POSTINGS, FLAT_FIELDS, flat_postings, flat_term
from searcher.index.storage.whoosh_private import (decode_ids_weights, is_block_matcher, leaf_matcher, term_blocks,
                                                   term_info)
from searcher.engine import statistics as _statistics
from searcher.engine.statistics import B, K1, Statistics, _Segment, statistics  # noqa: F401 (B, K1: for tests and callers)

# The title is usually also the body's first line, so it is counted there already:
# the title field only adds a little to that.
TITLE_WEIGHT = 0.3
PASSAGE_SHARE = 0.1
FIELDS = (("body", 1.0), ("title", TITLE_WEIGHT))

# Content words (after stopwords) that make loose words a question rather than keywords.
QUESTION_WORDS = 4


@dataclass
class Ranked:
    docnum: int
    score: float
    file: int  # the file's number in the ranking statistics


# "whoosh": whoosh's BM25F idf, log(n / (df + 1)) + 1; "lucene": BM25's own
# log(1 + (n - df + 0.5) / (df + 0.5)), which gives a word in most files almost nothing.
IDF_FORM = "whoosh"


def idf(n: int, df: int) -> float:
    """A word's inverse document frequency among ``n`` passages (files), ``df`` of which hold it."""
    if IDF_FORM == "lucene":
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    return math.log(n / (df + 1)) + 1.0


def term_factor(n: int, df: int, total: float) -> float:
    """What a term's saturated tf, tf / (tf + norm), is multiplied by: among ``n`` passages
    (files), ``df`` of which hold it ``total`` times in all.

    BM25: idf * (K1 + 1). I(ne)B2 (statistics.WEIGHTING "ineb2"): I(ne)'s informative
    content log2((n + 1) / (ne + 0.5)), ne the files expected to hold a word spread at
    random, times B's after-effect (total + 2) / (df + 1): the tf part, tfn / (1 + tfn),
    is the norm's (index/storage/rankstats.py).
    """
    if _statistics.WEIGHTING == "ineb2":
        expected = n * -math.expm1(total * math.log1p(-1.0 / n)) if n > 1 else 1.0
        return math.log2((n + 1) / (expected + 0.5)) * (total + 2.0) / (df + 1.0)
    return idf(n, df) * (K1 + 1.0)


# ---------------------------------------------------------------- postings

class AnyOf(frozenset):
    """The words a pattern matches (``list*``), scored as one word: a passage's tf is the sum
    of theirs and its df the number of passages holding any (a passage with "list",
    "lists" and "listed" does not count three times what one of them says)."""

    __slots__ = ()


def term_key(fieldobj, key):
    """What ``_postings`` reads for a stem (its bytes), a phrase (tuple) or an AnyOf (as is)."""
    return key if type(key) is tuple or type(key) is AnyOf else fieldobj.to_bytes(key)


def _any_of_postings(seg: _Segment, fieldname: str, btexts: AnyOf):
    tf_of: dict[int, float] = {}
    get = tf_of.get
    for btext in sorted(btexts):  # (sorted: the same sums in every run)
        for ids, tfs in _postings(seg, fieldname, btext):
            for i, tf in zip(ids, tfs):
                tf_of[i] = get(i, 0) + tf
    if tf_of:
        ids = sorted(tf_of)
        yield ids, list(map(tf_of.__getitem__, ids))


def _postings(seg: _Segment, fieldname: str, btext, wanted=None, check_ids: bool = True):
    """(ids, term frequencies) blocks of a term in one segment, deleted passages included.

    ``btext`` is a term's bytes, or an exact phrase as a tuple of its stems: then
    the blocks give the passages holding the phrase and how often (searcher/engine/phrases.py).
    ``wanted(first, last)`` (optional) says whether a block holding ids in
    first..last is needed; blocks that are not are skipped without decoding.
    ``check_ids=False``: the caller looks every id up in a list of the segment's length,
    which checks them (index/storage/flatpostings.py ``ids_fit``) at no cost.
    """
    if type(btext) is AnyOf:
        yield from _any_of_postings(seg, fieldname, btext)
        return
    if type(btext) is tuple:
        from searcher.engine.phrases import phrase_postings

        yield from phrase_postings(seg.reader, fieldname, btext, wanted)
        return
    flat = flat_term(seg.reader, fieldname, btext, check_ids)
    if flat is not None:  # the same postings as plain arrays (index/storage/flatpostings.py): no decoding
        yield flat.ids, flat.tfs
        return
    reader = seg.reader
    matcher = leaf_matcher(reader, fieldname, btext)
    if matcher is None:
        return
    if is_block_matcher(matcher):
        # whoosh3's blocks, read raw and decoded without the positions.
        blocks = term_blocks(reader, fieldname, btext, matcher)
        get = blocks.postfile.get
        first = 0
        for last, start, length, compressed, count in zip(
                blocks.lasts, blocks.data_starts, blocks.data_lengths, blocks.compressed, blocks.counts):
            if wanted is None or wanted(first, last):
                yield decode_ids_weights(get(start, length), compressed, count)
            first = last + 1
        return
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(float(matcher.weight()))
        matcher.next()
    yield ids, weights


# ---------------------------------------------------------------- scoring

# A term's file-level counts go into a list by file number instead of a dict once more
# than this share of all files match: a list slot is cheaper to add to (most of a
# question's time), a dict cheaper to scan when few files match (keywords).
DENSE_FILE_SHARE = 1 / 3


class _DenseFiles:
    """File scores D in a list by file number, read like a dict of the matching files.

    A matching file's D is a sum of positive terms (weights > 0, idf > 0, tf > 0), so
    0.0 marks the files that do not match.
    """

    __slots__ = ("scores", "_maxima")

    def __init__(self, size: int, files: dict[int, float]):
        self.scores = scores = [0.0] * size
        deque(map(scores.__setitem__, files.keys(), files.values()), 0)  # at C speed
        self._maxima: list[float] | None = None

    def __getitem__(self, number: int) -> float:
        d = self.scores[number]
        if not d:
            raise KeyError(number)
        return d

    def get(self, number: int, default=None):
        return self.scores[number] or default

    def __contains__(self, number: int) -> bool:
        return bool(self.scores[number])

    def __len__(self) -> int:
        return len(self.scores) - self.scores.count(0.0)

    def __bool__(self) -> bool:
        return any(self.scores)

    def values(self):
        return filter(None, self.scores)

    def items(self):
        return compress(enumerate(self.scores), self.scores)

    # The best few of ~100k scores are found from the maximum of each chunk of the list:
    # only the chunks whose maximum reaches the floor are looked into.
    CHUNK = 256

    def changed(self) -> None:
        self._maxima = None

    def _chunk_maxima(self) -> list[float]:
        if self._maxima is None:
            scores, chunk = self.scores, self.CHUNK
            self._maxima = list(map(max, map(scores.__getitem__, map(slice, range(0, len(scores), chunk),
                                                                     range(chunk, len(scores) + chunk, chunk)))))
        return self._maxima

    def at_least(self, floor: float) -> list[tuple[float, int]]:
        """(D, file number) of the files scoring ``floor`` or more (floor > 0)."""
        scores, chunk = self.scores, self.CHUNK
        maxima = self._chunk_maxima()
        found = []
        for i in compress(range(len(maxima)), map(ge, maxima, repeat(floor))):
            start = i * chunk
            part = scores[start:start + chunk]
            found.extend((part[j], start + j) for j in compress(range(len(part)), map(ge, part, repeat(floor))))
        return found

    def kth_largest(self, k: int) -> float:
        """The k-th best D (the lowest D if fewer files match)."""
        maxima = self._chunk_maxima()
        # k chunk maxima are k scores: the k-th best score is at least the k-th best maximum.
        low = heapq.nlargest(k, maxima)[-1] if len(maxima) >= k else 0.0
        if not low:  # fewer than k chunks hold a match
            return heapq.nlargest(k, self.values())[-1]
        return heapq.nlargest(k, (d for d, _ in self.at_least(low)))[-1]


def _files_at_least(files, floor: float) -> list[tuple[float, int]]:
    """(D, file number) of the files scoring ``floor`` or more."""
    if type(files) is _DenseFiles and floor > 0:
        return files.at_least(floor)
    return [(d, number) for number, d in files.items() if d >= floor]


def _kth_largest(files, k: int) -> float:
    """The k-th best D (the lowest D if fewer files match)."""
    if type(files) is _DenseFiles:
        return files.kth_largest(k)
    return heapq.nlargest(k, files.values())[-1]


class _Term:
    """A scored term of one field: its passage-level factor and its live postings.

    The postings (global docnum = offset + id) are kept so that P can be summed for
    the few passages that need it, instead of a {docnum: tf} dict built for all of them.
    """

    __slots__ = ("c", "norms", "blocks", "_starts", "df", "_tf_of", "file_tf")

    def __init__(self, c: float, norms, blocks: list[tuple[int, list[int], list[float]]], df: int,
                 file_tf: dict | None = None):
        self.c = c
        self.norms = norms  # passage norms by global docnum
        self.blocks = blocks  # (offset, ids, tfs), in docnum order (a list, or _LazyBlocks: read when used)
        self._starts: list[int] | None = None
        self.df = df
        self._tf_of: dict[int, float] | None = None
        # {file number: tf} (a passage's tf is at most its file's; a file without the term has
        # none): what bounds the P of a file's passages (``_Scores.file_bound``). None: unknown.
        self.file_tf = file_tf

    @property
    def starts(self) -> list[int]:
        """Each block's first global docnum."""
        if self._starts is None:
            self._starts = [offset + ids[0] for offset, ids, _ in self.blocks]
        return self._starts

    def in_range(self, start: int, end: int) -> list[tuple[int, float]]:
        """(docnum, tf) of the passages start..end - 1 (global docnums) that hold the term:
        two binary searches per block instead of one per passage (a file's passages are
        consecutive, so asking for them as a range is the cheap way)."""
        blocks, starts = self.blocks, self.starts
        i = bisect_right(starts, start) - 1
        if i < 0:
            i = 0
        found = []
        for offset, ids, tfs in blocks[i:]:
            if offset + ids[0] >= end:
                break
            j = bisect_left(ids, start - offset)
            stop = bisect_left(ids, end - offset, j)
            if j < stop:
                found.extend(zip(map(add, ids[j:stop], repeat(offset)) if offset else ids[j:stop], tfs[j:stop]))
        return found

    def tfs(self, docnums: list[int]) -> list[tuple[int, float]]:
        """(docnum, tf) of those of ``docnums`` (global, ascending) that hold the term."""
        if len(docnums) * 16 > self.df:  # a good part of the postings: look them all up at once
            if self._tf_of is None:
                self._tf_of = tf_of = {}
                for offset, ids, tfs in self.blocks:
                    tf_of.update(zip(map(add, ids, repeat(offset)) if offset else ids, tfs))
            get = self._tf_of.get
            return [(g, tf) for g, tf in zip(docnums, map(get, docnums)) if tf is not None]
        found = []
        blocks, starts = self.blocks, self.starts
        for g in docnums:
            i = bisect_right(starts, g) - 1
            if i >= 0:
                offset, ids, tfs = blocks[i]
                j = bisect_left(ids, g - offset)
                if j < len(ids) and ids[j] == g - offset:
                    found.append((g, tfs[j]))
        return found


class _Scores:
    """File scores D, exact; passage scores P, summed when asked for.

    D needs every posting of a term (its tf summed per file), but P is needed only
    for the passages of the few files that can reach the top: each term keeps its
    postings, and P is summed from them for the passages asked for.
    ``exclude``: global docnums never returned (nor counted as matching); their files
    keep their D.
    """

    def __init__(self, stats: Statistics, exclude=None, include=None):
        self.stats = stats
        self.include = include  # None, or the only global docnums that may be returned
        self.file: dict[int, float] | _DenseFiles = {}
        self.fixed: dict[int, float] = {}  # P given outright (the expansion's rescoring)
        self.terms: list[_Term] = []
        self.exclude = exclude or frozenset()
        self._passage: dict[int, float | None] = {}  # P summed so far; None: no term in it
        self._matched: set[int] | None = None
        self._top_files: list[int] = []  # the best files by D found so far (see top_files)
        self._top_count = 0

    def matched(self) -> set[int]:
        """Global docnums of the passages that match."""
        if self._matched is None:
            matched = set(self.fixed)
            for term in self.terms:
                for offset, ids, _ in term.blocks:
                    matched.update(map(add, ids, repeat(offset)) if offset else ids)
            matched.difference_update(self.exclude)
            if self.include is not None:
                matched.intersection_update(self.include)
            self._matched = matched
        return self._matched

    def match_count(self) -> int:
        """len(self.matched()), without making the set of global docnums when it can."""
        if self._matched is not None or self.exclude or self.fixed or self.include is not None:
            return len(self.matched())
        if len(self.terms) == 1:
            return self.terms[0].df
        local: dict[int, set[int]] = {}  # segment offset -> ids
        for term in self.terms:
            for offset, ids, _ in term.blocks:
                found = local.get(offset)
                if found is None:
                    local[offset] = set(ids)
                else:
                    found.update(ids)
        return sum(map(len, local.values()))

    def passage_scores(self, docnums) -> dict[int, float]:
        """{docnum: P} of those of ``docnums`` (global) that match and are not excluded."""
        known = self._passage
        wanted = sorted(g for g in set(docnums) if g not in known)
        if wanted:
            fixed = self.fixed
            found = {g: fixed[g] for g in wanted if g in fixed}
            get = found.get
            for term in self.terms:  # terms in the order they were added, as P always sums them
                c, norms = term.c, term.norms
                for g, tf in term.tfs(wanted):
                    found[g] = get(g, 0.0) + c * tf / (tf + norms[g])
            for g in wanted:
                known[g] = get(g)
        exclude, include = self.exclude, self.include
        if include is not None:
            return {g: known[g] for g in docnums if known[g] is not None and g in include and g not in exclude}
        return {g: known[g] for g in docnums if known[g] is not None and g not in exclude}

    def file_passage_scores(self, runs) -> dict[int, float]:
        """``passage_scores`` of the passages of ``runs`` ((start, end) ranges of global
        docnums, end excluded: a file's live passages), each term's postings in them found
        by range; the same sums, added in the same order (fixed P first, then the terms in
        the order they were added)."""
        known = self._passage
        fixed = self.fixed
        found: dict[int, float] = {}
        if fixed:
            for start, end in runs:
                for g in range(start, end):
                    p = fixed.get(g)
                    if p is not None:
                        found[g] = p
        get = found.get
        for term in self.terms:
            c, norms = term.c, term.norms
            for start, end in runs:
                for g, tf in term.in_range(start, end):
                    found[g] = get(g, 0.0) + c * tf / (tf + norms[g])
        exclude, include = self.exclude, self.include
        ordered = {}  # in the order of ``runs``, as passage_scores gives its docnums
        for start, end in runs:
            for g in range(start, end):
                p = get(g)
                known[g] = p
                if p is not None and g not in exclude and (include is None or g in include):
                    ordered[g] = p
        return ordered

    def file_bound(self, number: int, runs) -> float:
        """No passage of file ``number`` (its live passages: ``runs``) has a P above this:
        a term adds c * tf / (tf + norm) <= c * ftf / (ftf + least norm), ftf the file's
        tf (at least any of its passages'), the least norm among the file's passages;
        nothing if the file lacks it. Loose terms of a query mostly miss most files."""
        bound = max(self.fixed.values()) if self.fixed else 0.0
        least: dict = {}
        for term in self.terms:
            file_tf = term.file_tf
            if file_tf is None:
                bound += term.c
                continue
            ftf = file_tf.get(number)
            if ftf is None:
                continue
            norms = term.norms
            low = least.get(id(norms))
            if low is None:
                low = least[id(norms)] = min(min(norms[start:end]) for start, end in runs)
            bound += term.c * ftf / (ftf + low)
        return bound

    def passage_bound(self) -> float:
        """No passage's P is above this (tf / (tf + norm) < 1)."""
        return (max(self.fixed.values()) if self.fixed else 0.0) + sum(term.c for term in self.terms)

    @property
    def passage(self) -> dict[int, float]:
        """Every matching passage's P."""
        return self.passage_scores(sorted(self.matched()))


def _add_term(stats: Statistics, scores: _Scores, fieldname: str, field_weight: float,
              key, weight: float) -> None:
    """Add a term (a term's bytes, or a phrase as a tuple of stems) of one field."""
    blocks, df, file_tf = term_walk(stats, fieldname, key)
    if not df:
        return
    # Several indexes ranked as one (searcher/engine/multi.py) give the term's counts over all of them.
    shared = getattr(stats, "shared_counts", None)
    counts = (df, len(file_tf), *term_totals(blocks, file_tf))
    if shared is not None:
        counts = shared.get((fieldname, key), counts)
    idf_df, file_df, total, file_total = counts
    c = weight * field_weight * term_factor(stats.passages, idf_df, total)
    scores.terms.append(_Term(c, stats.norms[fieldname], blocks, df, file_tf))
    scores._matched = None
    scores._top_count = 0
    c = weight * field_weight * term_factor(stats.file_count, file_df, file_total)
    fnorm = stats.file_norms[fieldname]
    files = scores.file
    if type(files) is dict and len(files) + len(file_tf) > len(fnorm) * DENSE_FILE_SHARE:
        files = scores.file = _DenseFiles(len(fnorm), files)
    # D += c * tf / (tf + norm) for each file, at C speed: the same operations in the same
    # order as the expression (c * tf first), so the same floats.
    numbers = list(file_tf.keys())
    tfs = list(file_tf.values())
    parts = map(truediv, map(mul, repeat(c), tfs), map(add, tfs, map(fnorm.__getitem__, numbers)))
    if type(files) is dict:
        files.update(zip(numbers, map(add, map(files.get, numbers, repeat(0.0)), parts)))
    else:
        dense = files.scores
        deque(map(dense.__setitem__, numbers, map(add, map(dense.__getitem__, numbers), parts)), 0)
        files.changed()


class Runs:
    """Ranges of live passages ((start, end) global docnums) to look terms up in, grouped
    by segment once for all the terms (``term_in_runs``): sorted, and cut where a segment
    ends."""

    def __init__(self, stats: Statistics, runs):
        offsets = [seg.offset for seg in stats.segments]
        ends = [seg.offset + seg.count for seg in stats.segments]
        by_segment: dict[int, list[tuple[int, int]]] = {}
        for start, end in sorted(runs):
            i = bisect_right(offsets, start) - 1
            while start < end and 0 <= i < len(offsets):
                stop = min(end, ends[i])
                by_segment.setdefault(offsets[i], []).append((start - offsets[i], stop - offsets[i]))
                start, i = stop, i + 1
        self.parts = by_segment  # segment offset -> its runs, local docnums


def term_in_runs(stats: Statistics, fieldname: str, btext: bytes, runs: Runs):
    """(holders, df, total) of a term: holders, the (global docnum, tf) of the passages in
    ``runs`` that hold it, ascending; df and total, the passages holding it and its
    occurrences in all, deleted passages included, as whoosh's reader.doc_frequency and
    reader.frequency count them. Each segment's term info is looked up once for both; the
    postings of the segments holding a run are read (flat ones are plain arrays, one copy
    each) and searched by range, two binary searches per run, never walked."""
    found = []
    extend = found.extend
    df = total = 0
    wanted = runs.parts
    for seg in stats.segments:
        reader = seg.reader
        info = term_info(reader, fieldname, btext)
        if info is None:  # not in this segment (or a codec without term infos: ask the reader)
            held = reader.doc_frequency(fieldname, btext)
            df += held
            total += reader.frequency(fieldname, btext)
        else:
            held = info.doc_frequency()
            df += held
            total += info.weight()
        local = wanted.get(seg.offset)
        if local is None or not held:
            continue
        flat = flat_postings(reader) if info is not None and fieldname in FLAT_FIELDS else None
        # (ids unchecked: those found in a run are checked below, not all of a common word's)
        term = flat.term(info, check_ids=False) if flat is not None else None
        if term is not None:
            blocks = ((term.ids, term.tfs),)
        else:  # whoosh's blocks: only those that can hold a run are decoded
            firsts = [start for start, _ in local]

            def overlaps(first: int, last: int, local=local, firsts=firsts) -> bool:
                i = bisect_right(firsts, last)  # (runs do not overlap: the last to start by ``last`` ends last)
                return i > 0 and local[i - 1][1] > first

            blocks = _postings(seg, fieldname, btext, overlaps, check_ids=False)
        offset, count = seg.offset, seg.count
        for ids, tfs in blocks:
            if not len(ids):
                continue
            first, last = ids[0], ids[-1]
            j = 0
            for start, end in local:
                if end <= first or start > last:
                    continue
                j = bisect_left(ids, start, j)
                stop = bisect_left(ids, end, j)
                if j < stop:
                    kept = ids[j:stop]
                    if max(kept) >= count:  # an id past the segment: damaged postings
                        raise IndexDamaged(DAMAGED_POSTINGS)
                    extend(zip(map(add, kept, repeat(offset)) if offset else kept, tfs[j:stop]))
                j = stop
    return found, df, total


def term_totals(blocks, file_tf: dict[int, float]) -> tuple[float, float]:
    """How often a term occurs in all (passages, files), from ``term_walk``'s postings;
    (0, 0) under BM25, which does not use them."""
    if _statistics.WEIGHTING == "bm25":
        return 0.0, 0.0
    return float(sum(map(sum, (tfs for _, _, tfs in blocks)))), float(sum(file_tf.values()))


# A segment's postings of a term are counted by file from its runs of passages (two binary
# searches per run, at C speed) when it has more than this many postings per run; else one by one.
RUN_WALK = 4


def _walk_by_runs(file_tf: dict, ids, tfs, runs, title: bool) -> None:
    """Add a segment's postings (``ids`` ascending, ``tfs`` ints) to ``file_tf`` by file:
    each run of a file's passages (``runs``: local starts, ends, file numbers, each file
    in one run) is found in ``ids`` by binary search, so the cost is per run, not per
    posting. The same counts as one by one, in the same order (runs ascend)."""
    starts, ends, numbers = runs
    lo = list(map(bisect_left, repeat(ids), starts))
    hi = list(map(bisect_left, repeat(ids), ends))
    counts = list(map(sub, hi, lo))
    keys = list(compress(numbers, counts))
    if title:  # each file's tf (every passage's, the same title): the last passage's, as one by one
        dict.update(file_tf, zip(keys, map(tfs.__getitem__, map(sub, compress(hi, counts), repeat(1)))))
        return
    if tfs.count(1) == len(tfs):
        sums = compress(counts, counts)
    else:
        prefix = list(accumulate(tfs, initial=0))
        sums = map(sub, map(prefix.__getitem__, compress(hi, counts)), map(prefix.__getitem__, compress(lo, counts)))
    dict.update(file_tf, zip(keys, map(add, map(file_tf.get, keys, repeat(0)), sums)))


class _LazyBlocks:
    """A term's live postings as ``term_walk`` gives them ((offset, ids, tfs) blocks in docnum
    order), read on first use: where a segment's per-file postings gave the file counts,
    the passage postings are needed only for the passage scores of the few files that can
    reach the top and for an exact total, often not at all."""

    __slots__ = ("_parts", "_load", "_blocks")

    def __init__(self, parts: list, load):
        self._parts = parts  # (offset, ids, tfs) read already, or (segment, term info) to read
        self._load = load
        self._blocks: list | None = None

    def _list(self) -> list:
        if self._blocks is None:
            blocks = []
            for part in self._parts:
                if len(part) == 3:
                    blocks.append(part)
                else:
                    blocks.extend(self._load(*part))
            self._blocks = blocks
            self._parts = None
        return self._blocks

    def __iter__(self):
        return iter(self._list())

    def __getitem__(self, index):
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())

    def __bool__(self) -> bool:
        return bool(self._list())


def _segment_postings(seg: _Segment, fieldname: str, key, info) -> list:
    """A segment's postings of a term whose per-file postings were used, as (offset, ids, tfs)
    blocks (no deletions: the segment has none); read as the walk reads them."""
    flat = flat_postings(seg.reader)
    term = flat.term(info, check_ids=False) if flat is not None else None
    parts = ((term.ids, term.tfs),) if term is not None else _postings(seg, fieldname, key, check_ids=False)
    blocks = []
    for ids, tfs in parts:
        if len(ids):
            if max(ids) >= seg.count:  # an id past the segment: damaged postings
                raise IndexDamaged(DAMAGED_POSTINGS)
            blocks.append((seg.offset, ids, tfs))
    return blocks


def _file_counts(seg: _Segment, fieldname: str, key):
    """A term in a segment with per-file postings (index/storage/filepostings.py): None
    when the segment has none usable (walk); else (term info, its (run numbers, counts) or
    None if the file does not hold the term). The term info is None when the term is not
    in the segment (a segment with flat postings has term infos)."""
    if type(key) is not bytes or fieldname not in FILE_POSTINGS_FIELDS:
        return None
    held = seg.file_entries()
    if held is None:
        return None
    info = term_info(seg.reader, fieldname, key)
    return info, (held[0].term(info) if info is not None else None)


def term_walk(stats: Statistics, fieldname: str, key):
    """(live postings as (offset, ids, tfs) blocks, passage df, {file number: tf}) of a term;
    kept in ``stats.walks`` when the caller set that dict (searcher/engine/multi.py counts first).

    A segment with per-file postings for the term gives the file counts from them (one entry
    per run of a file's passages: the same sums, in the same order, as the walk over passage
    postings), its df from the term info, and its passage postings only when read."""
    walks = getattr(stats, "walks", None)
    if walks is not None and (fieldname, key) in walks:
        return walks[(fieldname, key)]
    blocks = []  # live postings: (offset, ids, tfs), or (segment, term info) to read later
    lazy = False
    df = 0
    title = fieldname == "title"
    # Counter.update(iterable) counts at C speed; the title's dict takes each file's tf once.
    file_tf: dict[int, float] = {} if title else Counter()
    for seg in stats.segments:
        offset, deleted = seg.offset, seg.deleted
        entries = _file_counts(seg, fieldname, key)
        postings = None
        if entries is not None:
            info, found = entries
            if info is None:
                continue
            if found is None:  # a word the file does not hold: its flat postings, as _postings reads them
                flat = flat_postings(seg.reader)
                term = flat.term(info, check_ids=False) if flat is not None else None
                if term is not None:
                    postings = ((term.ids, term.tfs),)
        if entries is not None and found is not None:
            runs, counts = found
            _, numbers, dead = seg.file_entries()
            if dead:
                keep = list(map(dead.__contains__, runs))
                if any(keep):
                    keep = list(map(not_, keep))
                    runs, counts = list(compress(runs, keep)), list(compress(counts, keep))
            try:
                keys = list(map(numbers.__getitem__, runs))
            except IndexError:  # a run number past the runs: not to be trusted, walk instead
                pass
            else:
                if title:
                    dict.update(file_tf, zip(keys, counts))
                else:
                    dict.update(file_tf, zip(keys, map(add, map(file_tf.get, keys, repeat(0)), counts)))
                if not deleted:
                    blocks.append((seg, info))
                    df += info.doc_frequency()
                    lazy = True
                    continue
                # Deleted passages: their postings are dropped as the walk drops them.
                for ids, tfs in _postings(seg, fieldname, key, check_ids=False):
                    dead_ids = list(map(deleted.__contains__, ids))
                    if any(dead_ids):
                        keep = list(map(not_, dead_ids))
                        ids, tfs = list(compress(ids, keep)), list(compress(tfs, keep))
                    if len(ids):
                        if max(ids) >= seg.count:
                            raise IndexDamaged(DAMAGED_POSTINGS)
                        blocks.append((offset, ids, tfs))
                        df += len(ids)
                continue
        number_of = seg.file_of.__getitem__  # (one number per passage of the segment)
        if postings is None:
            postings = _postings(seg, fieldname, key, check_ids=False)
        for ids, tfs in postings:
            whole = type(tfs) is array and tfs.typecode in "BHIL"  # a flat term's counts: ints
            if deleted:
                dead = list(map(deleted.__contains__, ids))
                if any(dead):
                    keep = list(map(not_, dead))
                    ids = list(compress(ids, keep))
                    tfs = list(compress(tfs, keep))
            if not len(ids):
                continue
            blocks.append((offset, ids, tfs))
            df += len(ids)
            runs = seg.runs() if whole and len(ids) > RUN_WALK * seg.run_count else None
            if runs is not None:  # many postings per file: count them by file, not one by one
                if max(ids) >= seg.count:  # an id past the segment: unchecked flat postings, damaged
                    raise IndexDamaged(DAMAGED_POSTINGS)
                _walk_by_runs(file_tf, ids, tfs, runs, title)
                continue
            try:
                numbers = list(map(number_of, ids))
            except IndexError:  # an id past the segment: unchecked flat postings, damaged
                raise IndexDamaged(DAMAGED_POSTINGS) from None
            if title:  # the same title in every passage of a file: count it once
                file_tf.update(zip(numbers, tfs))
                continue
            if tfs.count(1) == len(tfs):  # the common case: count each file's passages
                file_tf.update(numbers)
            elif whole or type(tfs[0]) is int or all(map(float.is_integer, tfs)):  # count, then add what is above 1
                file_tf.update(numbers)
                for number, tf in compress(zip(numbers, tfs), map(ne, tfs, repeat(1))):
                    file_tf[number] += int(tf) - 1  # (ints throughout: the same values, one type)
            else:  # fractional weights (not made by searcher's indexer): sum them as they come
                get = file_tf.get
                for number, tf in zip(numbers, tfs):
                    file_tf[number] = get(number, 0.0) + tf
    if lazy:
        blocks = _LazyBlocks(blocks, lambda seg, info: _segment_postings(seg, fieldname, key, info))
    if walks is not None:
        walks[(fieldname, key)] = (blocks, df, file_tf)
    return blocks, df, file_tf


def score_terms(reader, terms: dict, scores: _Scores | None = None) -> _Scores:
    """Passage and file scores of weighted stems and phrases (OR semantics), added to ``scores``."""
    return score_fields(reader, {fieldname: (field_weight, terms) for fieldname, field_weight in FIELDS}, scores)


def score_fields(reader, fields: dict, scores: _Scores | None = None) -> _Scores:
    """``score_terms`` with each field's own terms: {fieldname: (field weight, {key: weight})}."""
    stats = statistics(reader)
    scores = _Scores(stats) if scores is None else scores
    schema = reader.schema
    for fieldname, (field_weight, terms) in fields.items():
        if fieldname not in schema:
            continue
        fieldobj = schema[fieldname]
        for key, weight in terms.items():
            if weight > 0:  # a phrase (tuple of stems) or an AnyOf goes to _postings as it is
                _add_term(stats, scores, fieldname, field_weight, fieldobj.to_bytes(key) if type(key) is str else key,
                          weight)
    return scores


# A file is skipped when its bound times this is below the count-th best passage: more than
# the rounding of two sums of a few dozen positive terms in different orders.
BOUND_SLACK = 1.0 + 1e-9


def top_passages(scores: _Scores, count: int, per_file: int | None, stats: Statistics) -> list[Ranked]:
    """The best ``count`` passages, at most ``per_file`` from one file; ties by index order."""
    files, share = scores.file, PASSAGE_SHARE
    if count <= 0 or not files:
        return []
    by_file: dict[int, list[tuple[float, int]]] = {}
    if per_file and len(files) > count:
        # A file's best passage scores at least its D (if it has a passage left to show)
        # and at most D + share * (a bound of P). Files are taken by D, best first, until
        # no later one can beat the count-th best file found so far.
        margin = share * scores.passage_bound()
        floor = _kth_largest(files, count) - margin
        best: list[tuple[float, int]] = []  # heap of the count best files' best passages
        runs_of = stats.runs_of
        for d, number in sorted(_files_at_least(files, floor), reverse=True):
            runs = runs_of(number)
            if len(best) == count:
                if d + margin < best[0][0]:
                    break
                # This file's own bound: it can skip a file the common margin cannot
                # (BOUND_SLACK: the bound and the score are sums in different orders).
                if (d + share * scores.file_bound(number, runs)) * BOUND_SLACK < best[0][0]:
                    continue
            ranked = [(d + share * p, -g) for g, p in scores.file_passage_scores(runs).items()]
            if ranked:
                by_file[number] = ranked
                top = max(ranked)
                if len(best) < count:
                    heapq.heappush(best, top)
                elif top > best[0]:
                    heapq.heapreplace(best, top)
    else:
        file_of = stats.file_of
        for g, p in scores.passage_scores(sorted(scores.matched())).items():
            number = file_of[g]
            by_file.setdefault(number, []).append((files.get(number, 0.0) + share * p, -g))
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
    if count > scores._top_count:  # the best n files begin the best m >= n: keep the longest list
        floor = _kth_largest(files, count)
        best = sorted((-d, number) for d, number in _files_at_least(files, floor))
        scores._top_files = [number for _, number in best[:count]]
        scores._top_count = count
    return scores._top_files[:count]


# ---------------------------------------------------------------- expansion


def is_question(terms: dict[str, float]) -> bool:
    """Loose words with enough content words to read as a question, not a keyword lookup."""
    return len(terms) >= QUESTION_WORDS


# How a question counts a word typed more than once: "once", or "count" (as typed).
QUESTION_REPEATS = "once"


def question_terms(terms: dict[str, float]) -> dict[str, float]:
    """In a question a word repeated is style, not emphasis: each distinct word counts once."""
    if QUESTION_REPEATS == "count":
        return dict(terms)
    return dict.fromkeys(terms, 1.0)


def rank(reader, terms: dict, count: int, per_file: int | None, *, exclude=None, lazy_total: bool = False,
         feedback=None):
    """(best passages, number of matching passages, the terms used) for loose words.

    ``exclude``: global docnums never returned nor counted (their files keep their scores).
    ``lazy_total``: give the number of matching passages as a function that counts them
    (a question's union of postings costs a tenth of its time, and is often not read).
    ``feedback(reader, scores, terms, count, exclude)``: a second pass after the first, giving
    (scores, terms) again (query expansion: searcher/engine/expansion.py's ``rank``).
    """
    with _gc_paused():  # (what _rank made and does not return is freed before the collector is back)
        scores = score_terms(reader, terms, _Scores(statistics(reader), exclude))
        matched = scores.match_count if lazy_total else scores.match_count()
        if feedback is not None and scores.file:
            scores, terms = feedback(reader, scores, terms, count, exclude)
        return top_passages(scores, count, per_file, statistics(reader)), matched, terms


def rank_fields(reader, fields: dict, count: int, per_file: int | None, *, include: set[int],
                exclude=None):
    """(best passages, number of matching passages) of a structured query: ``include``
    (global docnums) are the passages its operators let through (whoosh matched them),
    scored like loose words by their ``fields`` (see ``score_fields``), so that an operator
    changes which passages are shown, not how they are scored."""
    with _gc_paused():
        stats = statistics(reader)
        scores = score_fields(reader, fields, _Scores(stats, exclude, include))
        if scores.file:  # only the files with a passage let through can be ranked
            file_of = stats.file_of
            allowed = set(map(file_of.__getitem__, scores.matched()))
            scores.file = {number: d for number, d in scores.file.items() if number in allowed}
            scores._top_count = 0
        return top_passages(scores, count, per_file, stats), len(scores.matched())


@contextmanager
def _gc_paused():
    """Scoring makes hundreds of thousands of short-lived lists and no reference cycles:
    without the pause, the cyclic collector walks the growing heap many times a query
    (about a fifth of a question's time), to find nothing."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
