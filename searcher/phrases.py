"""Exact phrases matched over a segment's postings: which passages hold a phrase, how often.

The semantics are whoosh's ``Phrase`` with slop 1 (``SpanNear2``, ordered,
mindist 1): the phrase's words at consecutive positions of the field. A
passage's phrase frequency is the number of positions where the phrase starts,
overlapping occurrences included ("a a" in "a a a" twice), which is the number
of spans whoosh's matcher reports for it (tests/test_phrases.py compares the two).

whoosh matches a phrase with a tree of matchers that unpickles every posting
block of every word with all its positions. Here, in each segment, the words
are taken rarest first, from the segment's flat postings (index/flatpostings.py:
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
the last candidate in it (``_values_up_to``).
"""

from __future__ import annotations

import weakref
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from itertools import accumulate, chain, repeat
from operator import add, getitem, lshift, rshift
from pickle import dumps
from struct import Struct

from searcher.index.flatpostings import FlatTerm, flat_term
from searcher.index.safepickle import loads

_BLOCK_LENGTH = Struct("!i")  # a block's byte length; negative for a term's last block
# Enough bytes for a block's length and its pickled info tuple
# (count, last id, max weight, compression, min length, max length).
_HEAD_BYTES = 64

# In a block's pickled (ids, weights, values): the end of the ids (TUPLE, BINPUT 0) and
# the start of the values (MARK, GLOBAL _codecs.encode).
_IDS_END = b"tq\x00"
_VALUES_START = b"(c_codecs\nencode\n"

# A pickled list (protocol 2: PROTO 2, EMPTY_LIST), as positions are stored.
_LIST_PICKLE = b"\x80\x02]"
# A phrase start as one number: docnum << _SHIFT | position (see match_phrase).
_SHIFT = 40

# Block directories of the terms read most recently, per segment reader.
_DIRECTORY_CACHE_SIZE = 512
_directories: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def phrase_postings(reader, fieldname: str, words, wanted=None):
    """(ids, phrase frequencies) of the passages of one segment's ``reader`` that hold
    ``words`` (analysed words, str or bytes) as an exact phrase in ``fieldname``.

    Deleted passages are included (as in searcher/ranking.py's ``_postings``);
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
    candidates = rarest.ids(wanted)
    starts: set[int] | None = None
    for _, postings, places in terms[1:]:
        candidates = postings.intersect(candidates)
        if not candidates:
            return {}
        if starts is None:
            starts = rarest.start_keys(candidates, [len(words) - place for place in rarest_places])
        starts.intersection_update(postings.start_keys(candidates, [len(words) - place for place in places]))
        if not starts:
            return {}
        candidates = sorted(set(map(rshift, starts, repeat(_SHIFT))))
    if starts is None:  # a phrase of one word
        starts = rarest.start_keys(candidates, [len(words) - place for place in rarest_places])
    counts = Counter(map(rshift, starts, repeat(_SHIFT)))
    return {docnum: counts[docnum] for docnum in sorted(counts)}


def _term_postings(reader, fieldname: str, btext: bytes, fmt):
    if (fieldname, btext) not in reader:
        return None
    flat = flat_term(reader, fieldname, btext)
    if flat is not None:
        return _FlatPostings(flat)
    terms = getattr(reader, "_terms", None)
    if terms is not None:
        info = terms.term_info(fieldname, btext)
        matcher = terms._codec.postings_reader(terms._postfile, info, fmt)
        if hasattr(matcher, "_goto") and hasattr(matcher, "_nextoffset"):
            return _BlockPostings(reader, fieldname, btext, matcher, info.doc_frequency())
        return _ListPostings(matcher, info.doc_frequency())
    return _ListPostings(reader.postings(fieldname, btext), reader.doc_frequency(fieldname, btext))


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

    def ids(self, wanted) -> list[int]:
        return [docnum for docnum in self.positions if wanted is None or wanted(docnum, docnum)]

    def intersect(self, candidates: list[int]) -> list[int]:
        return [docnum for docnum in candidates if docnum in self.positions]

    def start_keys(self, candidates: list[int], offsets) -> set[int]:
        return _start_keys(candidates, [self.positions[docnum] for docnum in candidates], offsets)


class _FlatPostings:
    """A term's flat postings (index/flatpostings.py): ids and positions as arrays."""

    def __init__(self, term: FlatTerm):
        self.term = term
        self.df = len(term.ids)

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
        indexes = list(map(bisect_left, repeat(term.ids), candidates))
        return _start_keys(candidates, term.position_lists(indexes), offsets)


class _BlockPostings:
    """A term's postings in whoosh3's block format, read block by block."""

    def __init__(self, reader, fieldname: str, btext: bytes, matcher, df: int):
        self.df = df
        self.postfile = matcher._postfile
        self.blocks = _directory(reader, fieldname, btext, matcher)
        self.lasts = self.blocks.lasts
        self.read: dict[int, list] = {}  # block -> [ids, pickled data so far, inflater or None]

    def _ids(self, block: int) -> list[int]:
        """A block's ids. They come first in its pickled data, a tuple of at most 5 bytes
        an id, closed by TUPLE, BINPUT 0: only that much of a compressed block is
        inflated and unpickled, the rest (weights, positions) when asked for."""
        found = self.read.get(block)
        if found is not None:
            return found[0]
        blocks = self.blocks
        count = blocks.counts[block]
        data = self.postfile.get(blocks.data_starts[block], blocks.data_lengths[block])
        inflate = None
        if blocks.compressed[block]:
            inflate = zlib.decompressobj()
            data = inflate.decompress(data, 5 * count + 16)
        end = data.find(_IDS_END, 2)
        ids = None
        if end > 0:
            try:
                ids = loads(data[:end + len(_IDS_END)] + b".")
            except Exception:
                pass
        if type(ids) is not tuple or len(ids) != count:  # not as expected: unpickle it all
            if inflate is not None:
                data += inflate.decompress(inflate.unconsumed_tail) + inflate.flush()
                inflate = None
            ids = loads(data)[0]
        ids = list(accumulate(ids))
        self.read[block] = [ids, data, inflate]
        return ids

    def _values(self, block: int, last: int) -> tuple:
        """A block's encoded positions, at least up to index ``last`` (after ``_ids``)."""
        entry = self.read[block]
        ids, data, inflate = entry
        if inflate is not None:
            data = entry[1] = data + inflate.decompress(inflate.unconsumed_tail) + inflate.flush()
            entry[2] = None
        if last < len(ids) * 3 // 4:
            values = _values_up_to(data, last)
            if values is not None:
                return values
        return loads(data)[2]

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
        chosen: list[bytes] = []
        for block, inside in self._blocks_holding(candidates):
            ids = self._ids(block)
            where = list(map(bisect_left, repeat(ids), inside))
            chosen.extend(map(self._values(block, where[-1]).__getitem__, where))
        return _start_keys(candidates, _position_lists(chosen), offsets)


def _contains(ids: list[int], docnum: int) -> bool:
    i = bisect_left(ids, docnum)
    return i < len(ids) and ids[i] == docnum


def _values_up_to(data: bytes, last: int) -> tuple | None:
    """The encoded positions of a block's pickled data up to index ``last`` at least, or None.

    Only as much of the pickle is unpickled as holds them: whoosh pickles each value
    (bytes) as a call of _codecs.encode, memoised after the first as BINGET <memo>,
    BINUNICODE, so every value not seen before in the block starts with those 3 bytes.
    The data is cut before the (last + 1)-th of them, after which no value up to
    ``last`` can be, and closed (TUPLE, TUPLE3, STOP). A cut anywhere else (were the
    3 bytes ever inside a value) fails to unpickle, or does not give bytes: None then.
    """
    start = data.find(_VALUES_START)
    memo = start + len(_VALUES_START)
    if start < 0 or data[memo:memo + 1] != b"q":
        return None
    pieces = data.split(b"h" + data[memo + 1:memo + 2] + b"X", last + 1)
    if len(pieces) <= last + 1:
        return None
    try:
        values = loads(data[:len(data) - len(pieces[-1]) - 3] + b"t\x87.")[2]
    except Exception:
        return None
    if type(values) is not tuple or len(values) <= last or set(map(type, values)) != {bytes}:
        return None
    return values


def _position_lists(values: list[bytes]) -> list[list[int]]:
    """Positions from whoosh's Positions encoding (see Positions.decode_positions):
    4 bytes of frequency, then the position deltas as a protocol 2 pickle of a list.

    The lists' pickles are unpickled in one go, as one tuple (the memo entry each list
    puts is overwritten by the next, and read by none).
    """
    if (all(map(bytes.startswith, values, repeat(_LIST_PICKLE), repeat(4)))
            and all(map(bytes.endswith, values, repeat(b".")))):
        lists = loads(b"".join((b"\x80\x02(", *map(getitem, values, repeat(slice(6, -1))), b"t.")))
        if len(lists) == len(values):
            return list(map(list, map(accumulate, lists)))
    return [list(accumulate(loads(value[4:] if value.endswith(b".") else value[4:] + b"."))) for value in values]


class _Directory:
    """Where a term's posting blocks are and what they hold, from the blocks' headers."""

    __slots__ = ("lasts", "data_starts", "data_lengths", "compressed", "counts")

    def __init__(self):
        self.lasts: list[int] = []  # the last id in each block
        self.data_starts: list[int] = []  # where its pickled data starts, and how long it is
        self.data_lengths: list[int] = []
        self.compressed: list[int] = []
        self.counts: list[int] = []  # postings in it

    def add(self, info: tuple, data_start: int, data_length: int) -> None:
        count, last, _, compression = info[:4]
        self.lasts.append(last)
        self.data_starts.append(data_start)
        self.data_lengths.append(data_length)
        self.compressed.append(compression)
        self.counts.append(count)


def _directory(reader, fieldname: str, btext: bytes, matcher) -> _Directory:
    """A term's block directory, kept for the terms read most recently: a phrase's
    common words ("the", "of") come back in query after query."""
    cache = _directories.get(reader)
    if cache is None:
        cache = _directories[reader] = {}
    key = (fieldname, btext)
    found = cache.pop(key, None)
    if found is None:
        found = _walk_blocks(matcher)
    cache[key] = found  # the most recent last
    if len(cache) > _DIRECTORY_CACHE_SIZE:
        del cache[next(iter(cache))]
    return found


def _walk_blocks(matcher) -> _Directory:
    """Each block starts with its byte length and its pickled info (count, last id, ...,
    compression): read those, not the blocks. The info is pickled by whoosh with
    ``dumps(info, 2)``, which gives its length; checked, else whoosh reads the headers."""
    directory = _Directory()
    get = matcher._postfile.get
    unpack = _BLOCK_LENGTH.unpack_from
    position = matcher._baseoffset
    try:
        while True:
            head = get(position, _HEAD_BYTES)
            length = unpack(head)[0]
            info = loads(head[4:])
            pickled = dumps(info, 2)
            if not head.startswith(pickled, 4):
                raise ValueError("not whoosh's block header")
            data_start = position + 4 + len(pickled)
            directory.add(info, data_start, abs(length) - len(pickled))
            if length < 0:
                return directory
            position += 4 + length
    except Exception:  # not the layout expected: let whoosh read the headers
        directory = _Directory()
        position = matcher._baseoffset
        while True:
            matcher._goto(position)
            info = (matcher._blocklength, matcher._maxid, None, matcher._compression)
            directory.add(info, matcher._dataoffset, matcher._nextoffset - matcher._dataoffset)
            if matcher._lastblock:
                return directory
            position = matcher._nextoffset
