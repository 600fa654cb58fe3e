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
question's own words) and the files are ranked again. It runs only for
natural-language questions (see ``is_question``), never for keyword lookups.
"""

from __future__ import annotations

import heapq
import math
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate
from pickle import loads

K1 = 1.2
B = 0.75
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


# ---------------------------------------------------------------- statistics


class _Segment:
    """Per-segment arrays: each passage's file number and BM25 length norms, and deletions."""

    def __init__(self, reader, offset: int, file_numbers: dict[bytes, int], files: list[bytes]):
        self.reader = reader
        self.offset = offset
        self.count = count = reader.doc_count_all()
        self.deleted = (frozenset(d for d in range(count) if reader.is_deleted(d))
                        if reader.has_deletions() else frozenset())
        refs, uniques = _file_column(reader, count)
        local = []
        for key in uniques:
            number = file_numbers.get(key)
            if number is None:
                number = file_numbers[key] = len(files)
                files.append(key)
            local.append(number)
        self.file_of = list(map(local.__getitem__, refs))
        self.length_bytes = {name: _length_bytes(reader, name, count) for name, _ in FIELDS}
        self.norms: dict[str, list[float]] = {}


def _file_column(reader, count: int):
    """(per-passage index into uniques, unique file keys) from the ``file`` column."""
    column = reader.column_reader("file", translate=False)
    try:  # whoosh's RefBytes column: an array of references into a list of unique values
        raw = column._dbfile.get(column._basepos, count * column._itemsize)
        refs = array(column._typecode, raw)
        if array("H", [1]).tobytes() != b"\x00\x01":
            refs.byteswap()  # stored big-endian
        return refs, column._uniques
    except AttributeError:
        values = list(column)
        uniques = list(dict.fromkeys(values))
        position = {value: i for i, value in enumerate(uniques)}
        return [position[value] for value in values], uniques


def _length_bytes(reader, fieldname: str, count: int) -> bytes:
    """Each passage's field length as whoosh stores it: one byte (see byte_to_length)."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
    from whoosh.util.numeric import length_to_byte

    perdoc = getattr(reader, "_perdoc", None)
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) if perdoc is not None else None
    if column is None:
        return bytes(length_to_byte(reader.doc_field_length(d, fieldname) or 0) for d in range(count))
    try:
        raw = column._dbfile.get(column._basepos, min(count, column._count))
    except AttributeError:
        raw = bytes(column)
    return raw + bytes(count - len(raw))


class Statistics:
    """What BM25 needs about an index, at passage level and file level; built once per reader."""

    def __init__(self, reader):
        from whoosh.util.numeric import byte_to_length

        self.files: list[bytes] = []
        numbers: dict[bytes, int] = {}
        leaves = reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]
        self.segments = [_Segment(sub, offset, numbers, self.files) for sub, offset in leaves
                         if sub.doc_count_all()]
        decoded = [byte_to_length(b) for b in range(256)]
        # Every passage's file number, by global docnum (segments are consecutive).
        self.file_of: list[int] = []
        for seg in self.segments:
            self.file_of.extend([-1] * (seg.offset - len(self.file_of)))
            self.file_of.extend(seg.file_of)
        self.file_lengths = {name: [0] * len(self.files) for name, _ in FIELDS}
        live = bytearray(len(self.files))
        self.passages = 0
        totals = dict.fromkeys(self.file_lengths, 0)
        for seg in self.segments:
            deleted = seg.deleted
            file_of = seg.file_of
            if deleted:
                keep = [d for d in range(seg.count) if d not in deleted]
                file_of = [file_of[d] for d in keep]
            self.passages += len(file_of)
            for number in file_of:
                live[number] = 1
            for name, lengths in self.file_lengths.items():
                raw = seg.length_bytes[name]
                passage_lengths = list(map(decoded.__getitem__, raw))
                if deleted:
                    passage_lengths = [passage_lengths[d] for d in keep]
                totals[name] += sum(passage_lengths)
                if name == "title":  # every passage carries the file's title
                    for number, length in zip(file_of, passage_lengths):
                        lengths[number] = length
                else:
                    for number, length in zip(file_of, passage_lengths):
                        lengths[number] += length
        self.file_count = sum(live) or 1
        passages = self.passages or 1
        self.avg_passage_length = {name: (total / passages) or 1.0 for name, total in totals.items()}
        self.avg_file_length = {name: (sum(lengths) / self.file_count) or 1.0
                                for name, lengths in self.file_lengths.items()}
        # K1 * (1 - B + B * length / average): BM25's length normalisation, precomputed.
        self.file_norms = {name: [K1 * (1 - B + B * length / self.avg_file_length[name]) for length in lengths]
                           for name, lengths in self.file_lengths.items()}
        for name, _ in FIELDS:
            # A passage's norm depends only on its length byte: 256 values.
            table = [K1 * (1 - B + B * length / self.avg_passage_length[name]) for length in decoded]
            for seg in self.segments:
                seg.norms[name] = list(map(table.__getitem__, seg.length_bytes[name]))
        self._passages_of = None

    def file_key(self, number: int) -> str:
        return self.files[number].decode("utf-8")

    def passages_of(self, number: int) -> list[int]:
        """Global docnums of a file's live passages, in index order."""
        if self._passages_of is None:
            grouped: dict[int, list[int]] = {}
            for seg in self.segments:
                deleted, offset = seg.deleted, seg.offset
                for docnum, file_number in enumerate(seg.file_of):
                    if docnum not in deleted:
                        grouped.setdefault(file_number, []).append(offset + docnum)
            self._passages_of = grouped
        return self._passages_of.get(number, [])


def statistics(reader) -> Statistics:
    """The reader's Statistics, built on first use and kept with the reader."""
    stats = getattr(reader, "_searcher_statistics", None)
    if stats is None:
        stats = Statistics(reader)
        reader._searcher_statistics = stats
    return stats


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
        weights.append(matcher.weight())
        matcher.next()
    yield ids, weights


# ---------------------------------------------------------------- scoring


class _Scores:
    """Passage scores P and file scores D, accumulated term by term."""

    def __init__(self):
        self.passage: dict[int, float] = {}
        self.file: dict[int, float] = {}

    def scaled(self, factor: float) -> "_Scores":
        scores = _Scores()
        scores.passage = {d: factor * p for d, p in self.passage.items()}
        scores.file = {n: factor * f for n, f in self.file.items()}
        return scores


def _add_term(stats: Statistics, scores: _Scores, fieldname: str, field_weight: float,
              btext: bytes, weight: float) -> None:
    hits = []  # (segment, ids, tfs) blocks of live passages
    file_tf: dict[int, float] = {}
    df = 0
    title = fieldname == "title"
    for seg in stats.segments:
        file_of, deleted = seg.file_of, seg.deleted
        for ids, tfs in _postings(seg, fieldname, btext):
            if deleted:
                keep = [i for i, d in enumerate(ids) if d not in deleted]
                ids = [ids[i] for i in keep]
                tfs = [tfs[i] for i in keep]
            df += len(ids)
            hits.append((seg, ids, tfs))
            if title:  # the same title in every passage of a file: count it once
                file_tf.update(zip(map(file_of.__getitem__, ids), tfs))
            else:
                get = file_tf.get
                for number, tf in zip(map(file_of.__getitem__, ids), tfs):
                    file_tf[number] = get(number, 0.0) + tf
    if not df:
        return
    k1_plus_1 = K1 + 1.0
    c = weight * field_weight * idf(stats.passages, df) * k1_plus_1
    passage = scores.passage
    get = passage.get
    for seg, ids, tfs in hits:
        norm, offset = seg.norms[fieldname], seg.offset
        for d, tf in zip(ids, tfs):
            g = offset + d
            passage[g] = get(g, 0.0) + c * tf / (tf + norm[d])
    c = weight * field_weight * idf(stats.file_count, len(file_tf)) * k1_plus_1
    fnorm = stats.file_norms[fieldname]
    files = scores.file
    fget = files.get
    for number, tf in file_tf.items():
        files[number] = fget(number, 0.0) + c * tf / (tf + fnorm[number])


def score_terms(reader, terms: dict[str, float], scores: _Scores | None = None) -> _Scores:
    """Passage and file scores of weighted stems (OR semantics), added to ``scores``."""
    stats = statistics(reader)
    scores = _Scores() if scores is None else scores
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
    if count <= 0 or not scores.passage:
        return []
    files, share, passage = scores.file, PASSAGE_SHARE, scores.passage
    by_file: dict[int, list[tuple[float, int]]] = {}
    if per_file and len(files) > count:
        # A file's best passage scores at least its D and at most D + share * (best P):
        # only files within that margin of the count-th best D can hold a top passage.
        floor = heapq.nlargest(count, files.values())[-1] - share * max(passage.values())
        for number, d in files.items():
            if d >= floor:
                ranked = [(d + share * passage[g], -g) for g in stats.passages_of(number) if g in passage]
                if ranked:
                    by_file[number] = ranked
    else:
        file_of = stats.file_of
        for docnum, p in passage.items():
            number = file_of[docnum]
            by_file.setdefault(number, []).append((files.get(number, 0.0) + share * p, -docnum))
    if per_file:
        # The top passages under a per-file cap all come from the files with the best passages.
        best = heapq.nlargest(count, by_file.items(), key=lambda item: max(item[1]))
        candidates = [(score, neg, number) for number, passages in best
                      for score, neg in heapq.nlargest(per_file, passages)]
    else:
        candidates = [(score, neg, number) for number, passages in by_file.items() for score, neg in passages]
    return [Ranked(-neg, score, number) for score, neg, number in heapq.nlargest(count, candidates)]


def top_files(scores: _Scores, count: int) -> list[int]:
    return [number for number, _ in heapq.nlargest(count, scores.file.items(), key=lambda kv: (kv[1], -kv[0]))]


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
                      candidates: int) -> _Scores:
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
    rescored = _Scores()
    rescored.file = {number: factor * scores.file[number] for number in best}
    passage = rescored.passage
    local: dict[int, list[int]] = {}  # segment index -> candidate docnums in it, sorted
    bounds = [seg.offset for seg in stats.segments]
    for number in best:
        for g in stats.passages_of(number):
            p = scores.passage.get(g)
            passage[g] = factor * p if p is not None else 0.0
            i = bisect_right(bounds, g) - 1
            local.setdefault(i, []).append(g - bounds[i])
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
            for i, docnums in local.items():
                seg = stats.segments[i]
                docnums.sort()
                wanted_set = frozenset(docnums)

                def wanted(first, last, docnums=docnums):
                    j = bisect_left(docnums, first)
                    return j < len(docnums) and docnums[j] <= last

                norm, offset, file_of = seg.norms[fieldname], seg.offset, seg.file_of
                for ids, tfs in _postings(seg, fieldname, btext, wanted):
                    for d, tf in zip(ids, tfs):
                        if d in wanted_set:
                            g = offset + d
                            passage[g] += c * tf / (tf + norm[d])
                            number = file_of[d]
                            file_tf[number] = tf if title else file_tf.get(number, 0.0) + tf
            files_with = max(1.0, df * stats.file_count / stats.passages)
            c = weight * field_weight * (math.log(stats.file_count / (files_with + 1)) + 1.0) * k1_plus_1
            files = rescored.file
            for number, tf in file_tf.items():
                files[number] += c * tf / (tf + fnorm[number])
    return rescored


def rank(reader, terms: dict[str, float], count: int, per_file: int | None, *,
         expansion: bool = False, stopwords: frozenset[str] = frozenset()):
    """(best passages, number of matching passages, the terms used) for loose words."""
    scores = score_terms(reader, terms)
    matched = len(scores.passage)
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
