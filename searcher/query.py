"""Turning what the user typed into a whoosh query.

The language is whoosh's (words, "phrases", "phrase"~N, AND/OR/NOT, -word,
+word, word*, word~, field:word, (groups)), with three changes for ranking
plain questions well:

- loose words are OR-ed, so a passage missing a word can still rank;
- stopwords are dropped from the loose words but kept inside phrases;
- a word repeated in the query weighs more (query term frequency), where
  whoosh's parser would silently drop the repeat.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from whoosh import qparser, query as wq

from searcher.errors import QueryError

DEFAULT_FIELDS = ("title", "body")
FIELD_BOOSTS = {"title": 1.5, "body": 1.0}
TEXT_FIELDS = ("title", "body")


class _Parser(qparser.QueryParser):
    def multitoken_query(self, spec, texts, fieldname, termclass, boost):
        # "Indo-Pacific" or "U.S." typed as one word means the words in that order.
        return self.phraseclass(fieldname, texts, boost=boost)


def make_parser(schema):
    parser = _Parser(None, schema, group=qparser.OrGroup)
    parser.add_plugin(qparser.MultifieldPlugin(list(DEFAULT_FIELDS), fieldboosts=FIELD_BOOSTS))
    # 'single quotes' would turn the apostrophes of "Russia's and Japan's" into a quoted term.
    parser.remove_plugin_class(qparser.SingleQuotePlugin)
    parser.add_plugin(qparser.FuzzyTermPlugin())
    # + and - only mark a word at its start: "Indo-Pacific" is not "Indo NOT Pacific".
    parser.add_plugin(qparser.PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+", minusexpr=r"(?<![^\s(])-"))
    return parser


@dataclass
class ParsedQuery:
    text: str
    query: wq.Query
    # Phrases as (fieldname, analysed words, slop) for highlighting.
    phrases: list[tuple[str, tuple[str, ...], int]] = field(default_factory=list)


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


def _exclude_negations(q):
    """In an OR group, ``NOT x`` means "without x", not "anything without x"."""
    if isinstance(q, wq.CompoundQuery):
        q.subqueries = [_exclude_negations(s) for s in q.subqueries]
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
        counts = Counter(q.subqueries)
        merged, seen = [], set()
        for sub in q.subqueries:
            if sub in seen:
                continue
            seen.add(sub)
            merged.append(_scale_boost(_count_repeats(sub), counts[sub]) if counts[sub] > 1 else _count_repeats(sub))
        q.subqueries = merged
    return q


def _fold_patterns(q):
    """Wildcards and fuzzy terms are not analysed by whoosh: fold them like the index."""
    from index.analysis import fold

    for node in leaves(q):
        if isinstance(node, (wq.Wildcard, wq.Prefix)) and node.fieldname in ("title", "body", "path"):
            node.text = fold(node.text)
    return q


def _stem_fuzzy(q, schema):
    for node in leaves(q):
        if isinstance(node, wq.FuzzyTerm) and node.fieldname in schema.names():
            tokens = [t.text for t in schema[node.fieldname].analyzer(node.text)]
            if tokens:
                node.text = tokens[0]
    return q


def _phrases(q) -> list[tuple[str, tuple[str, ...], int]]:
    found = []
    for node in leaves(q):
        if isinstance(node, wq.Phrase):
            found.append((node.fieldname, tuple(node.words), node.slop))
    return found


def parse_query(text: str, schema, language: str = "english") -> ParsedQuery:
    """Parse ``text`` against ``schema``; raises QueryError with a one-line reason."""
    if not text.strip():
        raise QueryError("empty query")
    parser = make_parser(schema)
    try:
        q = parser.parse(text, normalize=False)
    except Exception as exc:  # whoosh raises assorted errors on odd input
        raise QueryError(f"cannot parse query {text!r}: {exc}") from None
    q = _fold_patterns(q)
    q = _stem_fuzzy(q, schema)
    q = _drop_stopwords(q, _stemmed_stopwords(schema, language))
    if q is None:
        raise QueryError(f"{text!r} has only common words (stopwords); quote it to look up a phrase")
    q = _exclude_negations(_count_repeats(q)).normalize()
    if q is wq.NullQuery:
        raise QueryError(f"nothing to search for in {text!r}")
    return ParsedQuery(text, q, _phrases(q))
