"""A faster whoosh segment writer: whoosh's segment files, the text fields' postings flat.

Profiling `searcher index` showed that most of
whoosh's indexing time is spent per posting in pure Python: the analyzer's token
generator, the posting pool's size accounting, and, when the segment is written,
one method call, four type checks and one column read (the field length) per
posting. This writer keeps the same codec and, for the fields not held flat, produces
byte-identical files (tests/test_fastwrite.py checks it against whoosh's SegmentWriter), but:

- analyses a field with one ``findall`` and a cache of word -> term, when the
  field's analyzer is one of index/text/analysis.py's (and checks at start-up that
  this gives the same terms as the analyzer itself; otherwise it uses the
  analyzer);
- keeps postings per term in memory (document numbers only grow, so each list
  is already sorted) instead of a pool of tuples sorted at the end; for the fields
  held flat, a document's words are looked up and appended to their terms' arrays
  by ``map`` calls, with no Python code run per word (``_index_flat``);
- remembers field lengths instead of reading them back from the column file;
- fills the codec's posting blocks a block at a time instead of a posting at a time;
- writes the postings of the text fields (``FLAT_FIELDS``) once, to the segment's flat
  file (index/storage/flatpostings.py), with whoosh's term infos pointing there: no posting
  blocks, no encoded positions for them.

Memory grows with the segment: the caller finishes the segment when
``memory_estimate()`` passes its budget (index/runs/builder.py).
"""

from __future__ import annotations

from array import array
from itertools import chain, compress, islice, repeat
from operator import is_, sub
from pickle import dumps

from searcher.index.storage.flatpostings import FLAT_EXT, FlatWriter, held_flat_field
from searcher.index.storage.whoosh_private import (Positions, UnlockedSegmentWriter, add_block, block_limit, byte_to_length,
                                           flat_term_info, length_to_byte, pack_uint, postings_output, start_term,
                                           writing_column)

# Rough bytes of memory per posting kept (array slots, a small bytes object, its
# positions for the flat postings) and per distinct term (key, four containers).
_POSTING_BYTES = 80
_TERM_BYTES = 400
# ... and per distinct word (a key and a dict slot) of a field held flat: each points to its term.
_WORD_BYTES = 120
# The word -> term cache is cleared when it holds this many words.
_CACHE_WORDS = 500_000

# Text that exercises what the fast analysis must agree on with the analyzer.
_SELF_CHECK_TEXT = (
    "Japan's Foreign Minister Kamikawa met Šimonytė in Tokyo. Indo-Pacific, indo pacific! "
    "Russia’s invasion; the rules-based international order (e.g. U.S. policy) 3.14 x2 "
    "ﬁnancial Straße ÆON Ø 東京 タワー a_b rock'n'roll don`t l'été ΣΊΣΥΦΟΣ cooperation cooperating"
)


class FastSegmentWriter(UnlockedSegmentWriter):
    def __init__(self, ix, limitmb: int = 128, follows: "FastSegmentWriter | None" = None):
        """``follows``: the previous writer of the same worker, whose analyzers (and
        their caches of stems) this one reuses instead of unpickling new ones."""
        super().__init__(ix, limitmb=limitmb)
        if follows is not None:
            self.schema = follows.schema
        # fieldname -> btext -> [docnums, weights, values] (fields not held flat)
        self._postings: dict[str, dict[bytes, list]] = {}
        # fieldname -> _FlatField: the postings of the fields held flat
        self._flat: dict[str, _FlatField] = {}
        # fieldname -> array of quantised lengths (as whoosh reads them back), by docnum
        self._lengths: dict[str, array] = {}
        self._estimate = 0
        self._layouts: dict[tuple, list] = {}  # field names as given -> (name, field, ...) sorted
        self._last: dict[str, tuple] = {}  # fieldname -> (last value, its encoded postings)
        if follows is not None:
            self._plans = follows._plans
        else:
            self._plans = {name: _field_plan(name, field, flat=held_flat_field(name, field))
                           for name, field in self.schema.items()}

    @staticmethod
    def supports(schema) -> bool:
        """False for schemas using features this writer does not implement (vectors, spelling)."""
        return all(not field.vector and not field.separate_spelling() for _, field in schema.items())

    def memory_estimate(self) -> int:
        return self._estimate

    def add_document(self, **fields):
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        # Every document of a run names the same fields: check and sort them once.
        layout = self._layouts.get(tuple(fields))
        if layout is None:
            if any(name.startswith("_") for name in fields):
                raise ValueError("FastSegmentWriter does not support boosts or custom stored values")
            fieldnames = sorted(fields)
            self._check_fields(schema, fieldnames)
            layout = self._layouts[tuple(fields)] = [
                (name, schema[name], schema[name].indexed, schema[name].stored,
                 schema[name].column_type and writing_column(schema[name].column_type))
                for name in fieldnames]

        perdocwriter.start_doc(docnum)
        for fieldname, field, indexed, stored, column in layout:
            value = fields[fieldname]
            if value is None:
                continue
            length = self._index_value(fieldname, field, value, docnum) if indexed else 0
            perdocwriter.add_field(fieldname, field, value if stored else None, length)
            if column:
                perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _index_value(self, fieldname, field, value, docnum) -> int:
        plan = self._plans[fieldname]
        if plan is not None and plan.flat:
            return self._index_flat(fieldname, plan, value, docnum)
        terms = self._postings.get(fieldname)
        if terms is None:
            terms = self._postings[fieldname] = {}
        length = 0
        added_terms = 0
        if plan is not None:
            # Positions of each term, weight = frequency times the field's boost.
            # Every passage of a file repeats its title and path: analyse them once.
            last = self._last.get(fieldname)
            if last is not None and last[0] == value:
                items = last[1]
            else:
                items = plan(value)
                self._last[fieldname] = (value, items)
            for term, freq, weight, vbytes, poslist in items:
                length += freq
                entry = terms.get(term)
                if entry is None:
                    entry = terms[term] = [array("I"), array("d"), []]
                    added_terms += 1
                entry[0].append(docnum)
                entry[1].append(weight)
                entry[2].append(vbytes)
            postings = len(items)
        else:
            scorable = field.scorable
            postings = 0
            for tbytes, freq, weight, vbytes in field.index(value):
                if scorable:
                    length += freq
                entry = terms.get(tbytes)
                if entry is None:
                    entry = terms[tbytes] = [array("I"), array("d"), []]
                    added_terms += 1
                entry[0].append(docnum)
                entry[1].append(weight)
                entry[2].append(vbytes)
                postings += 1
        if not field.scorable:
            length = 0
        if length:
            self._add_length(fieldname, docnum, length)
        self._estimate += postings * _POSTING_BYTES + added_terms * _TERM_BYTES
        return length

    def _index_flat(self, fieldname, plan, value, docnum) -> int:
        """Adds the postings of a field held flat straight to its terms' arrays, with no
        Python code run per word or per posting once the segment has seen the words.

        Each word of the text is looked up in the segment's word -> term number table with
        one ``map``; ``dict.fromkeys`` of those numbers gives the document's terms in order
        of first occurrence; then ``map(array.append, ...)`` appends to each term's arrays:
        this document's number and where its positions start (the tf follows at flush from
        the next start), then each word's position to its term's positions, in order.
        """
        state = self._flat.get(fieldname)
        if state is None:
            state = self._flat[fieldname] = _FlatField()
        if state.last_value == value:
            # Every passage of a file repeats its title and path: its words are known.
            numbers, distinct = state.last_numbers, state.last_distinct
        else:
            words = plan.findall(value)
            numbers = list(map(state.numbers.get, words))
            if None in numbers:  # words new to the segment
                for i in compress(range(len(numbers)), map(is_, numbers, repeat(None))):
                    numbers[i] = state.number(words[i], plan)
            distinct = list(dict.fromkeys(numbers))
            state.last_value, state.last_numbers, state.last_distinct = value, numbers, distinct
        positions = state.positions.__getitem__
        append = array.append
        any(map(append, map(state.docs.__getitem__, distinct), repeat(docnum)))
        any(map(append, map(state.starts.__getitem__, distinct), map(len, map(positions, distinct))))
        any(map(append, map(positions, numbers), range(len(numbers))))
        length = len(numbers)
        if length:
            self._add_length(fieldname, docnum, length)
        self._estimate += len(distinct) * _POSTING_BYTES + state.take_new_bytes()
        return length

    def _add_length(self, fieldname, docnum, length):
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            lengths = self._lengths[fieldname] = array("I")
        if len(lengths) < docnum:
            lengths.extend([0] * (docnum - len(lengths)))
        lengths.append(byte_to_length(length_to_byte(length)))

    def _flush_segment(self):
        self.perdocwriter.close()
        flat = FlatWriter(self.newsegment.create_file(self.storage, FLAT_EXT), self.docnum)
        _write_postings(self.fieldwriter, self.schema, self._postings, self._flat, self._lengths, flat)
        self.fieldwriter.close()
        flat.close()
        self._postings = {}
        self._flat = {}
        self._lengths = {}


class _FlatField:
    """A segment's postings of one field held flat, as FastSegmentWriter._index_flat adds
    them: term number -> its docnums, the start of each posting's positions, and its positions."""

    __slots__ = ("terms", "numbers", "docs", "starts", "positions",
                 "last_value", "last_numbers", "last_distinct", "new_bytes")

    def __init__(self):
        self.terms: dict[bytes, int] = {}  # term -> its number
        self.numbers: dict[str, int] = {}  # word as found in the text -> its term's number
        self.docs: list[array] = []
        self.starts: list[array] = []
        self.positions: list[array] = []
        self.last_value = None  # the value of the field in the last document that had it
        self.last_numbers: list[int] = []  # its words' term numbers
        self.last_distinct: list[int] = []  # the same, each once, in order of first occurrence
        self.new_bytes = 0  # memory taken by words and terms since take_new_bytes

    def number(self, word: str, plan) -> int:
        """The number of the term of a word the segment had not seen before this text."""
        number = self.numbers.get(word)
        if number is not None:  # (twice in the text)
            return number
        term = plan.term(word)
        number = self.terms.get(term)
        if number is None:
            number = self.terms[term] = len(self.docs)
            self.docs.append(array("I"))
            self.starts.append(array("I"))
            self.positions.append(array("I"))
            self.new_bytes += _TERM_BYTES
        self.numbers[word] = number
        self.new_bytes += _WORD_BYTES
        return number

    def take_new_bytes(self) -> int:
        taken, self.new_bytes = self.new_bytes, 0
        return taken

    def postings(self):
        """(term, docnums, tfs, positions) of each term, terms in order."""
        for term, number in sorted(self.terms.items()):
            starts, positions = self.starts[number], self.positions[number]
            tfs = array("I", map(sub, chain(islice(starts, 1, None), (len(positions),)), starts))
            yield term, self.docs[number], tfs, positions


_ONE = pack_uint(1)
# The encoded value of a term that occurs once, by position: most postings are these.
_SINGLE = [_ONE + dumps([pos], 2) for pos in range(4096)]


def _write_postings(fieldwriter, schema, postings, flat_fields, lengths, flat: FlatWriter):
    """What whoosh's FieldWriter.add_postings does, a block at a time; the postings of the
    fields held flat (``flat_fields``) go to the flat file (index/storage/flatpostings.py)
    instead, whoosh's term info pointing there."""
    add_term = postings_output(fieldwriter)[1]
    for fieldname in sorted(postings.keys() | flat_fields.keys()):
        fieldobj = schema[fieldname]
        fieldlengths = lengths.get(fieldname, ())
        if fieldname in flat_fields:
            if not flat_fields[fieldname].terms:
                continue
            # Every document with a posting in the field has a length there (its number of
            # words, at least 1): the bounds are over all of a term's documents.
            length_of = fieldlengths.__getitem__
            fieldwriter.start_field(fieldname, fieldobj)
            for btext, docs, tfs, positions in flat_fields[fieldname].postings():
                key = flat.add(docs, tfs, positions)
                add_term(btext, flat_term_info(key, docs, tfs, min(map(length_of, docs)),
                                               max(map(length_of, docs))))
            fieldwriter.finish_field()
            continue
        terms = postings[fieldname]
        if not terms:
            continue
        known = len(fieldlengths)
        fieldwriter.start_field(fieldname, fieldobj)
        for btext in sorted(terms):
            docs, weights, values = terms[btext]
            start_term(fieldwriter, btext)
            limit = block_limit(fieldwriter)
            count = len(docs)
            for start in range(0, count, limit):
                end = start + limit
                block_docs = docs[start:end]
                block_weights = weights[start:end]
                top = max(block_weights)
                block_lengths = [fieldlengths[d] for d in block_docs if d < known and fieldlengths[d]]
                add_block(fieldwriter, block_docs, array("f", block_weights), [v for v in values[start:end] if v],
                          top if top > 0 else 0, min(block_lengths) if block_lengths else None,
                          max(block_lengths) if block_lengths else 0)
            fieldwriter.finish_term()
        fieldwriter.finish_field()


class _Plan:
    """A field's fast analysis: ``plan(text)`` is [(btext, freq, weight, vbytes, positions)],
    the postings ``field.index(text)`` gives; ``findall(text)`` its words and ``term(word)``
    a word's term, for FastSegmentWriter._index_flat. ``flat``: the field is held flat, so
    its postings need no whoosh-encoded values (vbytes None)."""

    def __init__(self, findall, fold, stem, boost: float, flat: bool):
        self.findall = findall
        self.fold = fold
        self.stem = stem
        self.boost = boost
        self.flat = flat
        self.cache: dict[str, bytes] = {}

    def term(self, word: str) -> bytes:
        term = self.cache.get(word)
        if term is None:
            if len(self.cache) >= _CACHE_WORDS:
                self.cache.clear()
            text = self.fold(word)
            if self.stem is not None:
                text = self.stem(text)
            term = self.cache[word] = text.encode("utf-8")
        return term

    def __call__(self, value: str) -> list[tuple]:
        found: dict[bytes, list[int]] = {}
        get = self.cache.get
        for pos, word in enumerate(self.findall(value)):
            term = get(word)
            if term is None:
                term = self.term(word)
            poslist = found.get(term)
            if poslist is None:
                found[term] = [pos]
            else:
                poslist.append(pos)
        boost = self.boost
        if self.flat:
            return [(term, len(poslist), len(poslist) * boost, None, poslist) for term, poslist in found.items()]
        items = []
        single = _SINGLE
        for term, poslist in found.items():
            freq = len(poslist)
            if freq == 1:
                pos = poslist[0]
                vbytes = single[pos] if pos < 4096 else _ONE + dumps(poslist, 2)
            else:
                deltas = [poslist[0]]
                deltas.extend([b - a for a, b in zip(poslist, poslist[1:])])
                vbytes = pack_uint(freq) + dumps(deltas, 2)
            items.append((term, freq, freq * boost, vbytes, poslist))
        return items


def _field_plan(fieldname, field, flat: bool = False) -> _Plan | None:
    """The field's fast analysis (``_Plan``), or None to use whoosh's path. ``flat``: the
    field is held flat."""
    if not field.indexed or type(field.format) is not Positions:
        return None
    words_and_stem = _analyzer_parts(field.analyzer)
    if words_and_stem is None:
        return None
    findall, fold, stem = words_and_stem
    checked = _Plan(findall, fold, stem, field.format.field_boost, False)
    # Trust the shortcut only if it agrees with whoosh's own analysis on tricky text.
    if sorted(item[:4] for item in checked(_SELF_CHECK_TEXT)) != sorted(field.index(_SELF_CHECK_TEXT)):
        return None
    return _Plan(findall, fold, stem, field.format.field_boost, flat)


def _analyzer_parts(analyzer):
    """(findall, fold, stem or None) if ``analyzer`` is one of index/text/analysis.py's, else None."""
    from whoosh.analysis import CompositeAnalyzer

    from searcher.index.text.analysis import SnowballStemFilter, WordTokenizer

    if type(analyzer) is WordTokenizer:
        return (*analyzer.word_functions(), None)
    if (type(analyzer) is CompositeAnalyzer and len(analyzer.items) == 2
            and type(analyzer.items[0]) is WordTokenizer and type(analyzer.items[1]) is SnowballStemFilter):
        return (*analyzer.items[0].word_functions(), analyzer.items[1].stem)
    return None
