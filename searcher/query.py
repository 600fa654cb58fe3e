"""Turning what the user typed into a whoosh query.

The language is whoosh's (words, "phrases", "phrase"~N, AND/OR/NOT, -word,
+word, word*, word~, field:word, (groups)), with changes for ranking plain
questions well:

- loose words are OR-ed, so a passage missing a word can still rank;
- stopwords are dropped from the loose words but kept inside phrases;
- a word repeated in the query weighs more (query term frequency), where
  whoosh's parser would silently drop the repeat;
- ``"a b"~N`` finds the words within N positions of each other in any order
  (whoosh's own slop phrase keeps the order).

Before parsing, ``searcher.reading.read_query`` gives ordinary punctuation
its everyday meaning; brackets are not ranges, only title/body/path are
fields, and ANDNOT/ANDMAYBE/REQUIRE are words, so that no query a person
types fails or silently turns into an operator.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from whoosh import qparser, query as wq

from index.analysis import WORD_PATTERN
from index.cjk import has_cjk
from index.schema import SEARCHABLE_FIELDS
from searcher.errors import QueryError
from searcher.reading import FIELD_NAMES, OPERATORS, read_query

DEFAULT_FIELDS = ("title", "body")
FIELD_BOOSTS = {"title": 1.5, "body": 1.0}
TEXT_FIELDS = ("title", "body")

# An exclusion at the start of the query or of a group ("-china", "NOT rice").
_NEGATION = re.compile(r"(?:^|[\s(])(?:-|NOT\s)")


class _FieldsPlugin(qparser.FieldsPlugin):
    """Only the index's searchable fields are fields; ``Title:`` works as ``title:``."""

    class FieldnameTagger(qparser.FieldsPlugin.FieldnameTagger):
        def create(self, parser, match):
            from whoosh.qparser import syntax

            return syntax.FieldnameNode(match.group("text").lower(), match.group(0))

    def __init__(self):
        super().__init__(expr=rf"(?<![\w:])(?P<text>(?i:{FIELD_NAMES})):", remove_unknown=True)


class _PlusMinusPlugin(qparser.PlusMinusPlugin):
    """whoosh sorts +/- words only in the outermost group; ``(-rice) x`` then fails. Sort every group."""

    def do_plusminus(self, parser, group):
        from whoosh.qparser import syntax

        nested = group.empty_copy()
        for node in group:
            nested.append(self.do_plusminus(parser, node) if isinstance(node, syntax.GroupNode) else node)
        return super().do_plusminus(parser, nested)


class _Parser(qparser.QueryParser):
    def multitoken_query(self, spec, texts, fieldname, termclass, boost):
        # "Indo-Pacific" or "U.S." typed as one word means the words in that order.
        return self.phraseclass(fieldname, texts, boost=boost)


def make_parser(schema):
    parser = _Parser(None, schema, group=qparser.OrGroup)
    parser.add_plugin(qparser.MultifieldPlugin(list(DEFAULT_FIELDS), fieldboosts=FIELD_BOOSTS))
    # 'single quotes' would turn the apostrophes of "Russia's and Japan's" into a quoted term.
    parser.remove_plugin_class(qparser.SingleQuotePlugin)
    # Brackets and braces are punctuation ("[1]", "{draft}"), not term ranges.
    parser.remove_plugin_class(qparser.RangePlugin)
    parser.remove_plugin_class(qparser.FieldsPlugin)
    parser.add_plugin(_FieldsPlugin())
    # Only the documented operators: ANDNOT, ANDMAYBE and REQUIRE are plain words.
    parser.remove_plugin_class(qparser.OperatorsPlugin)
    parser.add_plugin(qparser.OperatorsPlugin(AndNot=None, AndMaybe=None, Require=None))
    parser.add_plugin(qparser.FuzzyTermPlugin())
    # + and - only mark a word at its start ("Indo-Pacific" is not "Indo NOT Pacific"),
    # and a lone dash is a dash ("rice - cooking").
    parser.add_plugin(_PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+(?=[^\s)+])",
                                       minusexpr=r"(?<![^\s(])-(?=[^\s)\-])"))
    return parser


class NearPhrase(wq.Phrase):
    """``"a b"~N``: the words within N positions of each other, in any order."""

    ordered = False

    def matcher(self, searcher, context=None):
        from whoosh import matching
        from whoosh.query.spans import SpanNear2

        if self.fieldname not in searcher.schema:
            return matching.NullMatcher()
        fieldobj = searcher.schema[self.fieldname]
        reader = searcher.reader()
        terms = []
        for word in self.words:
            btext = fieldobj.to_bytes(word)
            if (self.fieldname, btext) not in reader:
                return matching.NullMatcher()
            terms.append(wq.Term(self.fieldname, btext))
        m = SpanNear2(terms, slop=self.slop, ordered=False, mindist=1).matcher(searcher, context)
        return matching.WrappingMatcher(m, boost=self.boost) if self.boost != 1.0 else m


# Endings whose stems a prefix also matches: the index holds stems, and
# "cooperat*" should find "cooperation" although its stem is "cooper".
_PREFIX_ENDINGS = ("", "e", "s", "es", "ed", "ing", "ion", "ions", "ation", "ations", "ive", "al",
                   "ally", "ly", "ity", "ities", "ment", "ments", "ness", "er", "ers", "ies", "y")


class StemPrefix(wq.Prefix):
    """Words starting with ``text``, matched on stems: also the stems of ``text`` + common endings."""

    def __init__(self, fieldname, text, boost=1.0, stems=()):
        super().__init__(fieldname, text, boost=boost)
        self.stems = tuple(stem for stem in stems if not stem.startswith(text))

    def _btexts(self, ixreader):
        seen = set()
        for btext in ixreader.expand_prefix(self.fieldname, self.text):
            seen.add(btext)
            yield btext
        fieldobj = ixreader.schema[self.fieldname]
        for stem in self.stems:
            btext = fieldobj.to_bytes(stem)
            if btext not in seen and (self.fieldname, btext) in ixreader:
                seen.add(btext)
                yield btext


@dataclass
class ParsedQuery:
    text: str  # as typed
    query: wq.Query
    # Phrases as (fieldname, analysed words, slop) for highlighting.
    phrases: list[tuple[str, tuple[str, ...], int]] = field(default_factory=list)
    # The text whoosh parsed, after read_query gave punctuation its plain meaning.
    read_as: str = ""
    # How the query was read where that is not obvious, for --explain.
    notes: list[str] = field(default_factory=list)
    # Loose words dropped as stopwords, as typed.
    stopwords: list[str] = field(default_factory=list)
    # Filters on the files' metadata, taken out of the text before parsing (searcher/filters.py).
    filters: tuple = ()


# ---------------------------------------------------------------- rewriting the query


def _stemmed_stopwords(schema, language: str) -> frozenset[str]:
    from index.analysis import stopwords_for

    words = stopwords_for(language)
    if not words:
        return frozenset()
    analyzer = schema["body"].analyzer
    return frozenset(token.text for token in analyzer(" ".join(sorted(words))))


def leaves(q) -> list:
    return [q] if q.is_leaf() else list(q.leaves())


def _is_loose_term(q) -> bool:
    return type(q) is wq.Term and q.fieldname in TEXT_FIELDS


def _drop_stopwords(q, stopwords: frozenset[str]):
    """Remove loose stopword terms; returns None when nothing is left of ``q``."""
    if _is_loose_term(q):
        return None if q.text in stopwords else q
    if isinstance(q, wq.Not):
        return q
    if isinstance(q, wq.CompoundQuery):
        kept = [s for s in (_drop_stopwords(s, stopwords) for s in q.subqueries) if s is not None]
        if not kept:
            return None
        q.subqueries = kept
        return q
    if isinstance(q, (wq.AndMaybe, wq.AndNot, wq.Require)):
        a = _drop_stopwords(q.a, stopwords)
        b = _drop_stopwords(q.b, stopwords)
        if a is None:
            return None
        if b is None:
            return a if not isinstance(q, wq.AndNot) else q.__class__(a, q.b)
        q.a, q.b = a, b
        return q
    return q


def _is_empty(q) -> bool:
    return q is wq.NullQuery or (isinstance(q, wq.CompoundQuery) and all(_is_empty(s) for s in q.subqueries))


def _exclude_negations(q):
    """In an OR group, ``NOT x`` means "without x", not "anything without x"."""
    if isinstance(q, wq.CompoundQuery):
        q.subqueries = [_exclude_negations(s) for s in q.subqueries]
        # "(-x)" alone in a group is an exclusion too.
        q.subqueries = [wq.Not(s.b) if isinstance(s, wq.AndNot) and _is_empty(s.a) else s
                        for s in q.subqueries]
        if isinstance(q, wq.Or):
            negated = [s.query for s in q.subqueries if isinstance(s, wq.Not)]
            positive = [s for s in q.subqueries if not isinstance(s, wq.Not)]
            if negated and positive:
                kept = positive[0] if len(positive) == 1 else wq.Or(positive, boost=q.boost)
                return wq.AndNot(kept, negated[0] if len(negated) == 1 else wq.Or(negated))
    elif isinstance(q, (wq.AndMaybe, wq.AndNot, wq.Require)):
        q.a, q.b = _exclude_negations(q.a), _exclude_negations(q.b)
    return q


def _scale_boost(q, factor: float):
    if isinstance(q, wq.CompoundQuery):
        for sub in q.subqueries:
            _scale_boost(sub, factor)
    elif hasattr(q, "boost"):
        q.boost *= factor
    return q


def _count_repeats(q):
    """Merge repeated subqueries of a group into one that weighs as many times."""
    if isinstance(q, wq.CompoundQuery):
        # Counted before any boost changes, which change the subqueries' hashes.
        counts = Counter(q.subqueries)
        q.subqueries = [_scale_boost(_count_repeats(sub), n) if n > 1 else _count_repeats(sub)
                        for sub, n in counts.items()]
    return q


def _fold_patterns(q):
    """Wildcards and fuzzy terms are not analysed by whoosh: fold them like the index."""
    from index.analysis import fold_term as fold  # (CJK patterns keep their voicing marks, as indexed)

    for node in leaves(q):
        if isinstance(node, (wq.Wildcard, wq.Prefix)) and node.fieldname in SEARCHABLE_FIELDS:
            node.text = fold(node.text)
    return q


def _stem_prefixes(q, schema):
    stemmed = {}

    def convert(node):
        # (Not CJK: the stems of its bigrams plus English endings would be other words.)
        if type(node) is wq.Prefix and node.fieldname in TEXT_FIELDS and node.text and not has_cjk(node.text):
            analyzer = schema[node.fieldname].analyzer
            if node.text not in stemmed:
                stemmed[node.text] = sorted({t.text for ending in _PREFIX_ENDINGS
                                             for t in analyzer(node.text + ending)})
            return StemPrefix(node.fieldname, node.text, boost=node.boost, stems=stemmed[node.text])
        return node

    return q.accept(convert)


def _stem_fuzzy(q, schema):
    for node in leaves(q):
        if isinstance(node, wq.FuzzyTerm) and node.fieldname in schema.names():
            tokens = [t.text for t in schema[node.fieldname].analyzer(node.text)]
            if tokens:
                node.text = tokens[0]
    return q


def _near_phrases(q):
    """Phrases with a slop of 2 or more become unordered proximity queries."""

    def convert(node):
        if type(node) is wq.Phrase and node.slop > 1:
            return NearPhrase(node.fieldname, node.words, slop=node.slop, boost=node.boost)
        return node

    return q.accept(convert)


def _phrases(q) -> list[tuple[str, tuple[str, ...], int]]:
    found = []
    for node in leaves(q):
        if isinstance(node, wq.Phrase):
            found.append((node.fieldname, tuple(node.words), node.slop))
    return found


def _only_excludes(q) -> bool:
    return isinstance(q, wq.Not) or (isinstance(q, wq.AndNot) and q.a is wq.NullQuery)


def _typed_stopwords(text: str, schema, stopwords: frozenset[str]) -> list[str]:
    """The loose words of ``text`` (not in a phrase, not joined by punctuation) that are stopwords."""
    analyzer = schema["body"].analyzer
    found = []
    for chunk in re.sub(r'"[^"]*"', " ", text).split():
        words = WORD_PATTERN.findall(chunk)
        if len(words) != 1 or words[0] in OPERATORS:
            continue
        stems = [t.text for t in analyzer(words[0])]
        if stems and all(stem in stopwords for stem in stems):
            found.append(words[0])
    return list(dict.fromkeys(found))


def parse_query(text: str, schema, language: str = "english") -> ParsedQuery:
    """Parse ``text`` against ``schema``; raises QueryError with a one-line reason."""
    if not text.strip():
        raise QueryError("empty query: give some words to search for")
    typed = text
    text, filters = _split_filters(text)
    if not text.strip():
        raise QueryError(f"nothing to search for: {typed!r} has only filters; add a word to look for")
    read_as, notes = read_query(text)
    if not WORD_PATTERN.search(text):
        raise QueryError(f"nothing to search for: {text!r} has no words, only punctuation")
    if not WORD_PATTERN.search(read_as):
        raise QueryError(f"nothing to search for: {text!r} has only operators")
    parser = make_parser(schema)
    try:
        q = parser.parse(read_as, normalize=False)
    except Exception as exc:  # whoosh raises assorted errors on odd input
        raise QueryError(f"cannot parse query {text!r}: {exc}") from None
    q = _fold_patterns(q)
    q = _stem_fuzzy(q, schema)
    stopwords = _stemmed_stopwords(schema, language)
    q = _drop_stopwords(q, stopwords)
    if q is None:
        raise QueryError(
            f"{text!r} has only common words (stopwords), which are ignored outside phrases: "
            f"quote it to look up the exact phrase, e.g. '\"{' '.join(text.split())}\"'")
    q = _exclude_negations(_count_repeats(q)).normalize()
    if _only_excludes(q) or (q is wq.NullQuery and _NEGATION.search(read_as)):
        raise QueryError(f"nothing to search for: {text!r} only excludes words; add a word to look for")
    if q is wq.NullQuery:
        raise QueryError(f"nothing to search for in {text!r}")
    q = _stem_prefixes(_near_phrases(q), schema)
    q = _one_character_queries(q)
    dropped = _typed_stopwords(read_as, schema, stopwords) if stopwords else []
    return ParsedQuery(typed, q, _phrases(q), read_as=read_as, notes=notes, stopwords=dropped, filters=filters)


def _one_character_queries(q):
    from searcher.cjk import one_character_queries

    return one_character_queries(q)


def _split_filters(text: str):
    from searcher.filters import split_filters

    return split_filters(text)
