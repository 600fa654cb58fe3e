"""Exact phrases matched over a segment's postings: which passages hold a phrase, how often.

The semantics are whoosh's ``Phrase`` with slop 1 (``SpanNear2``, ordered,
mindist 1): the phrase's words at consecutive positions of the field. A
passage's phrase frequency is the number of positions where the phrase starts,
overlapping occurrences included ("a a" in "a a a" twice), which is the number
of spans whoosh's matcher reports for it (tests/test_phrases.py compares the two).

whoosh matches a phrase with a tree of matchers that unpickles every posting
block of every word with all its positions. Here, in each segment, the words
are taken rarest first, from the segment's flat postings (index/storage/flatpostings.py:
ids and positions as arrays, ``_FlatPostings``), else from whoosh's raw blocks
(``_BlockPostings``). The rarest word's passages are the candidates. In whoosh's
blocks, a more common word's blocks are read only where their id range holds a candidate (a
block's header gives its last id and length, so the blocks in between are
skipped unread), and of those only the ids at first (the start of the block:
a fraction of its inflating and unpickling). Positions are read for the
passages holding the two rarest words, and a candidate keeps the phrase starts
its words allow so far: it is dropped as soon as none is left, so the common
words of a phrase ("the", "of") are read only where the rarer words stand in
the right places. Of a block's positions, only as many are unpickled as reach
the last candidate in it (index/storage/whoosh_private.py's ``decode_values``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from itertools import chain, repeat
from operator import add, lshift, rshift

from searcher.index.errors import IndexDamaged
from searcher.index.storage.flatpostings import DAMAGED_POSTINGS, FlatTerm, flat_term, ids_fit
from searcher.index.storage.whoosh_private import (block_matcher, decode_ids, decode_values, is_block_matcher,
                                           position_lists, term_blocks)

# A phrase start as one number: docnum << _SHIFT | position (see match_phrase).
_SHIFT = 40


def phrase_postings(reader, fieldname: str, words, wanted=None):
    """(ids, phrase frequencies) of the passages of one segment's ``reader`` that hold
    ``words`` (analysed words, str or bytes) as an exact phrase in ``fieldname``.

    Deleted passages are included (as in searcher/engine/ranking.py's ``_postings``);
    ``wanted(first, last)`` (optional) says whether ids in first..last are needed.
    """
    found = match_phrase(reader, fieldname, words, wanted)
    if found:
        yield list(found), [float(n) for n in found.values()]


def match_phrase(reader, fieldname: str, words, wanted=None) -> dict[int, int]:
    """{docnum: phrase frequency}, in docnum order, for one segment's ``reader``."""
    if not words or fieldname not in reader.schema:
        return {}
    field = reader.schema[fieldname]
    if not field.format or not field.format.supports("positions"):
        return {}
    offsets: dict[bytes, list[int]] = {}  # each distinct word's places in the phrase
    for i, word in enumerate(words):
        try:
            btext = word if isinstance(word, bytes) else field.to_bytes(word)
        except ValueError:
            return {}
        offsets.setdefault(btext, []).append(i)
    terms = []
    for btext, places in offsets.items():
        postings = _term_postings(reader, fieldname, btext, field.format)
        if postings is None:  # a word not in this segment: no phrase here
            return {}
        terms.append((postings.df, postings, places))
    terms.sort(key=lambda term: term[0])

    # A phrase start is kept as one number, docnum << _SHIFT | (start + len(words)), so that
    # the starts each word allows, for all candidates at once, intersect as sets at C speed.
    # Words are read rarest first, each where the phrase may still be: first which
    # candidates hold the word (ids only), then where (positions). The rarest word's
    # positions wait for the second word's ids, which usually rule out most passages.
    _, rarest, rarest_places = terms[0]
    rarest.check_ids(reader)
    candidates = rarest.ids(wanted)
    found: dict[int, int] = {}
    for part in _parts(candidates, rarest):
        found.update(_match_part(part, terms, len(words)))
    return found


# Positions of the rarest word matched at once. The sets of phrase starts hold a big int
# per position (about 100 bytes each): a word repeated through a 100 MB file made one
# phrase query take 1.3 GB (0.2 GB in parts). Past this, the candidates are matched a slice at a time (the
# same answer, in docnum order); below it, all at once as before.
PART_POSITIONS = 1 << 18


def _parts(candidates: list[int], rarest):
    total = getattr(rarest, "positions_total", 0)
    if total <= PART_POSITIONS or len(candidates) < 2:
        yield candidates
        return
    size = max(1, len(candidates) * PART_POSITIONS // total)
    for start in range(0, len(candidates), size):
        yield candidates[start:start + size]


def _match_part(candidates: list[int], terms, length: int) -> dict[int, int]:
    _, rarest, rarest_places = terms[0]
    starts: set[int] | None = None
    for _, postings, places in terms[1:]:
        candidates = postings.intersect(candidates)
        if not candidates:
            return {}
        if starts is None:
            starts = rarest.start_keys(candidates, [length - place for place in rarest_places])
        starts.intersection_update(postings.start_keys(candidates, [length - place for place in places]))
        if not starts:
            return {}
        candidates = sorted(set(map(rshift, starts, repeat(_SHIFT))))
    if starts is None:  # a phrase of one word
        starts = rarest.start_keys(candidates, [length - place for place in rarest_places])
    counts = Counter(map(rshift, starts, repeat(_SHIFT)))
    return {docnum: counts[docnum] for docnum in sorted(counts)}


def match_near(reader, fieldname: str, words, slop: int, ordered: bool = False) -> list[int]:
    """Docnums of one segment's ``reader`` whose ``fieldname`` holds ``words`` within ``slop``
    positions of each other (``"a b"~N``), as whoosh's SpanNear2 matches them
    (searcher.present.snippets.near_match): the passages holding every word, rarest first, then
    their positions. whoosh's span matchers do the same in a tree of Python objects per
    passage, several times slower on common words."""
    if not words or fieldname not in reader.schema:
        return []
    field = reader.schema[fieldname]
    if not field.format or not field.format.supports("positions"):
        return []
    from searcher.present.snippets import near_match

    terms = {}
    for word in words:
        btext = word if isinstance(word, bytes) else field.to_bytes(word)
        if btext not in terms:
            postings = _term_postings(reader, fieldname, btext, field.format)
            if postings is None:
                return []
            terms[btext] = postings
    ordered_terms = sorted(terms.items(), key=lambda item: item[1].df)
    ordered_terms[0][1].check_ids(reader)
    candidates = ordered_terms[0][1].ids(None)
    for _, postings in ordered_terms[1:]:
        candidates = postings.intersect(candidates)
        if not candidates:
            return []
    where = {btext: postings.position_lists(candidates) for btext, postings in ordered_terms}
    keys = [word if isinstance(word, bytes) else field.to_bytes(word) for word in words]
    return [docnum for i, docnum in enumerate(candidates)
            if near_match({btext: lists[i] for btext, lists in where.items()}, keys, slop, ordered)]


def _term_postings(reader, fieldname: str, btext: bytes, fmt):
    if (fieldname, btext) not in reader:
        return None
    # The ids are checked for the rarest word only (``check_ids``): the phrase's passages
    # are among its ids, while the other words' ids are only compared with them.
    flat = flat_term(reader, fieldname, btext, check_ids=False)
    if flat is not None:
        return _FlatPostings(flat)
    matcher, df = block_matcher(reader, fieldname, btext, fmt)
    if is_block_matcher(matcher):
        return _BlockPostings(reader, fieldname, btext, matcher, df)
    return _ListPostings(matcher, df)


def _start_keys(docnums, position_lists, offsets) -> set[int]:
    """docnum << _SHIFT | (start + len(phrase)) of the starts that each docnum's positions
    allow: ``offsets`` are len(phrase) - the places of the word in the phrase."""
    return _starts(_position_keys(docnums, map(len, position_lists), chain.from_iterable(position_lists)),
                   offsets)


def _position_keys(docnums, counts, positions) -> set[int]:
    """docnum << _SHIFT | position of each position; ``counts``: how many each docnum has."""
    bases = map(lshift, docnums, repeat(_SHIFT))
    return set(map(add, positions, chain.from_iterable(map(repeat, bases, counts))))


def _starts(keys: set[int], offsets) -> set[int]:
    # A word twice in the phrase must be at each of its places from the start.
    found = set(map(add, keys, repeat(offsets[0])))
    for offset in offsets[1:]:
        found.intersection_update(map(add, keys, repeat(offset)))
    return found


class _ListPostings:
    """A term's postings read through the matcher interface (any codec): one block."""

    def __init__(self, matcher, df: int):
        self.df = df
        self.positions = {}
        while matcher.is_active():
            self.positions[matcher.id()] = list(matcher.value_as("positions"))
            matcher.next()

    def check_ids(self, reader) -> None:
        """(whoosh's own reading: nothing flat to check)"""

    def ids(self, wanted) -> list[int]:
        return [docnum for docnum in self.positions if wanted is None or wanted(docnum, docnum)]

    def intersect(self, candidates: list[int]) -> list[int]:
        return [docnum for docnum in candidates if docnum in self.positions]

    def start_keys(self, candidates: list[int], offsets) -> set[int]:
        return _start_keys(candidates, self.position_lists(candidates), offsets)

    def position_lists(self, candidates: list[int]) -> list[list[int]]:
        return [self.positions[docnum] for docnum in candidates]


class _FlatPostings:
    """A term's flat postings (index/storage/flatpostings.py): ids and positions as arrays."""

    def __init__(self, term: FlatTerm):
        self.term = term
        self.df = len(term.ids)
        self.positions_total = len(term.positions)

    def check_ids(self, reader) -> None:
        if not ids_fit(self.term.ids, reader.doc_count_all()):
            raise IndexDamaged(DAMAGED_POSTINGS)

    def ids(self, wanted) -> list[int]:
        ids = self.term.ids
        if wanted is None:
            return ids.tolist()
        return [docnum for docnum in ids if wanted(docnum, docnum)]

    def intersect(self, candidates: list[int]) -> list[int]:
        ids = self.term.ids
        if len(candidates) * 8 < len(ids):
            end = len(ids)
            found, lo = [], 0
            for docnum in candidates:
                lo = bisect_left(ids, docnum, lo)
                if lo == end:
                    break
                if ids[lo] == docnum:
                    found.append(docnum)
            return found
        return sorted(set(candidates).intersection(ids))

    def start_keys(self, candidates: list[int], offsets) -> set[int]:
        term = self.term
        if len(candidates) * 2 > len(term.ids):
            # Most of the postings: all of them, without looking each candidate up. The keys
            # of other passages go too when intersected with the keys of the phrase's other
            # words, which are at those passages only where the phrase is.
            return _starts(_position_keys(term.ids, term.tfs, term.positions), offsets)
        return _start_keys(candidates, self.position_lists(candidates), offsets)

    def position_lists(self, candidates: list[int]) -> list[list[int]]:
        return self.term.position_lists(list(map(bisect_left, repeat(self.term.ids), candidates)))


class _BlockPostings:
    """A term's postings in whoosh3's block format, read block by block
    (index/storage/whoosh_private.py decodes them)."""

    def __init__(self, reader, fieldname: str, btext: bytes, matcher, df: int):
        self.df = df
        self.blocks = term_blocks(reader, fieldname, btext, matcher)
        self.lasts = self.blocks.lasts
        self.read: dict[int, list] = {}  # block -> what decode_ids left for decode_values

    def check_ids(self, reader) -> None:
        """(whoosh's blocks: nothing flat to check)"""

    def _ids(self, block: int) -> list[int]:
        """A block's ids; the rest of the block (weights, positions) is decoded when asked for."""
        found = self.read.get(block)
        if found is not None:
            return found[0]
        blocks = self.blocks
        ids, self.read[block] = decode_ids(blocks.data(block), blocks.compressed[block], blocks.counts[block])
        return ids

    def _values(self, block: int, last: int) -> tuple:
        """A block's encoded positions, at least up to index ``last`` (after ``_ids``)."""
        return decode_values(self.read[block], last)

    def _blocks_holding(self, candidates: list[int]):
        """(block, the candidates in its id range), for the blocks whose range holds any."""
        lasts = self.lasts
        j, block, end = 0, 0, len(candidates)
        while j < end:
            block = bisect_left(lasts, candidates[j], block)
            if block == len(lasts):
                return
            k = bisect_right(candidates, lasts[block], j)
            yield block, candidates[j:k]
            j = k

    def ids(self, wanted) -> list[int]:
        found: list[int] = []
        first = 0
        for block, last in enumerate(self.lasts):
            if wanted is None or wanted(first, last):
                found.extend(self._ids(block))
            first = last + 1
        return found

    def intersect(self, candidates: list[int]) -> list[int]:
        found: list[int] = []
        for block, inside in self._blocks_holding(candidates):
            ids = self._ids(block)
            if len(inside) < 8:
                found.extend(d for d in inside if _contains(ids, d))
            else:
                found.extend(sorted(set(inside).intersection(ids)))
        return found

    def start_keys(self, candidates: list[int], offsets) -> set[int]:
        return _start_keys(candidates, self.position_lists(candidates), offsets)

    def position_lists(self, candidates: list[int]) -> list[list[int]]:
        chosen: list[bytes] = []
        for block, inside in self._blocks_holding(candidates):
            ids = self._ids(block)
            where = list(map(bisect_left, repeat(ids), inside))
            chosen.extend(map(self._values(block, where[-1]).__getitem__, where))
        return position_lists(chosen)


def _contains(ids: list[int], docnum: int) -> bool:
    i = bisect_left(ids, docnum)
    return i < len(ids) and ids[i] == docnum
