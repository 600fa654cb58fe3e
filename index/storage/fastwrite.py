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
  is already sorted) instead of a pool of tuples sorted at the end;
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
from pickle import dumps

from searcher.index.storage.flatpostings import FLAT_EXT, FlatWriter, held_flat_field
from searcher.index.storage.whoosh_private import (Positions, UnlockedSegmentWriter, add_block, block_limit, byte_to_length,
                                           flat_term_info, length_to_byte, pack_uint, postings_output, start_term)

# Rough bytes of memory per posting kept (array slots, a small bytes object, its
# positions for the flat postings) and per distinct term (key, four containers).
_POSTING_BYTES = 80
_TERM_BYTES = 400
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
        # fieldname -> btext -> [docnums, weights, values]
        self._postings: dict[str, dict[bytes, list]] = {}
        # fieldname -> array of quantised lengths (as whoosh reads them back), by docnum
        self._lengths: dict[str, array] = {}
        self._estimate = 0
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
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        if any(name.startswith("_") for name in fields):
            raise ValueError("FastSegmentWriter does not support boosts or custom stored values")

        perdocwriter.start_doc(docnum)
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                length = self._index_value(fieldname, field, value, docnum)
            sv = value if field.stored else None
            perdocwriter.add_field(fieldname, field, sv, length)
            column = field.column_type
            if column:
                perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _index_value(self, fieldname, field, value, docnum) -> int:
        terms = self._postings.get(fieldname)
        if terms is None:
            terms = self._postings[fieldname] = {}
        plan = self._plans[fieldname]
        length = 0
        added_terms = 0
        if plan is not None:
            # The common case: positions of each term, weight = frequency.
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
                    entry = terms[term] = [array("I"), array("d"), [], array("I")]
                    added_terms += 1
                entry[0].append(docnum)
                entry[1].append(weight)
                if vbytes is not None:
                    entry[2].append(vbytes)
                entry[3].extend(poslist)
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
            lengths = self._lengths.get(fieldname)
            if lengths is None:
                lengths = self._lengths[fieldname] = array("I")
            if len(lengths) < docnum:
                lengths.extend([0] * (docnum - len(lengths)))
            lengths.append(byte_to_length(length_to_byte(length)))
        self._estimate += postings * _POSTING_BYTES + added_terms * _TERM_BYTES
        return length

    def _flush_segment(self):
        self.perdocwriter.close()
        flat = FlatWriter(self.newsegment.create_file(self.storage, FLAT_EXT), self.docnum)
        _write_postings(self.fieldwriter, self.schema, self._postings, self._lengths, flat)
        self.fieldwriter.close()
        flat.close()
        self._postings = {}
        self._lengths = {}


_ONE = pack_uint(1)
# The encoded value of a term that occurs once, by position: most postings are these.
_SINGLE = [_ONE + dumps([pos], 2) for pos in range(4096)]


def _write_postings(fieldwriter, schema, postings, lengths, flat: FlatWriter):
    """What whoosh's FieldWriter.add_postings does, a block at a time; the postings of the
    fields held flat go to the flat file (index/storage/flatpostings.py) instead, whoosh's term
    info pointing there."""
    add_term = postings_output(fieldwriter)[1]
    for fieldname in sorted(postings):
        terms = postings[fieldname]
        if not terms:
            continue
        fieldobj = schema[fieldname]
        # Terms analysed by the fast path carry their positions.
        flat_field = held_flat_field(fieldname, fieldobj) and all(len(entry) == 4 for entry in terms.values())
        fieldlengths = lengths.get(fieldname, ())
        known = len(fieldlengths)
        fieldwriter.start_field(fieldname, fieldobj)
        if flat_field:
            for btext in sorted(terms):
                docs, weights, _, positions = terms[btext]
                tfs = array("I", map(int, weights))
                key = flat.add(docs, tfs, positions)
                present = [fieldlengths[d] for d in docs if d < known and fieldlengths[d]]
                add_term(btext, flat_term_info(key, docs, tfs, min(present) if present else None,
                                               max(present) if present else 0))
            fieldwriter.finish_field()
            continue
        for btext in sorted(terms):
            docs, weights, values = terms[btext][:3]
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


def _field_plan(fieldname, field, flat: bool = False):
    """A fast function text -> [(btext, freq, weight, vbytes, positions)] for this field,
    the postings ``field.index(text)`` gives, or None to use whoosh's path. ``flat``: the
    field is held flat, so its postings need no whoosh-encoded values (vbytes None)."""
    if not field.indexed or type(field.format) is not Positions:
        return None
    words_and_stem = _analyzer_parts(field.analyzer)
    if words_and_stem is None:
        return None
    findall, fold, stem = words_and_stem
    boost = field.format.field_boost
    cache: dict[str, bytes] = {}
    single = _SINGLE

    def postings(value: str, values: bool = True) -> list[tuple]:
        found: dict[bytes, list[int]] = {}
        get = cache.get
        for pos, word in enumerate(findall(value)):
            term = get(word)
            if term is None:
                if len(cache) >= _CACHE_WORDS:
                    cache.clear()
                text = fold(word)
                if stem is not None:
                    text = stem(text)
                term = cache[word] = text.encode("utf-8")
            poslist = found.get(term)
            if poslist is None:
                found[term] = [pos]
            else:
                poslist.append(pos)
        if not values:
            return [(term, len(poslist), len(poslist) * boost, None, poslist) for term, poslist in found.items()]
        items = []
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

    # Trust the shortcut only if it agrees with whoosh's own analysis on tricky text.
    if sorted(item[:4] for item in postings(_SELF_CHECK_TEXT)) != sorted(field.index(_SELF_CHECK_TEXT)):
        return None
    cache.clear()
    if flat:
        return lambda value: postings(value, False)
    return postings


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
