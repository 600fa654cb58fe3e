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

Before parsing, ``searcher.parse.reading.read_query`` gives ordinary punctuation
its everyday meaning; brackets are not ranges, only title/body/path are
fields, and ANDNOT/ANDMAYBE/REQUIRE are words, so that no query a person
types fails or silently turns into an operator.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field

from whoosh import qparser, query as wq

from searcher.index.text.analysis import WORD_PATTERN
from searcher.index.text.cjk import has_cjk
from searcher.index.storage.schema import SEARCHABLE_FIELDS
from searcher.errors import QueryError
from searcher.parse.reading import FIELD_NAMES, OPERATORS, read_query

DEFAULT_FIELDS = ("title", "body")
FIELD_BOOSTS = {"title": 1.5, "body": 1.0}
TEXT_FIELDS = ("title", "body")

# An exclusion at the start of the query or of a group ("-china", "NOT rice").
_NEGATION = re.compile(r"(?:^|[\s(])(?:-|NOT\s)")

# Bounds on what one query may cost (issue 13): whatever is typed or pasted, a query
# parses, expands and ranks in well under a second. Past a size bound the query is
# refused with a one-line QueryError; the pattern bounds cut an expansion short and
# --explain says so.
MAX_QUERY_CHARS = 2_000  # a pasted paragraph fits; a pasted page does not
MAX_QUERY_WORDS = 200
# Past those, the query is pasted text, not syntax: it is searched as its distinct words
# (``pasted_words``), at most MAX_QUERY_WORDS of them; only a text longer than this is refused.
MAX_PASTED_CHARS = 100_000
MAX_WORD_LETTERS = 100  # no real word is longer (the index keeps longer runs, no one types them)
MAX_EDIT_DISTANCE = 2  # word~N: past 2 edits most words of a language match
MAX_FUZZY_LETTERS = 30  # word~ on a longer word looks for the word itself
MAX_NESTING = 20  # levels of parentheses
MAX_EXPANSION = 1_000  # words the patterns (word*, w?rd, word~) of a query expand to, at most
EXPANSION_SECONDS = 0.25  # and the time they may take to find them
_CLOCK_EVERY = 128  # candidates between readings of the clock
SCORED_EXPANSION = 32  # a pattern of more words matches them all alike (see _BoundedExpansion.matcher)


class _FieldsPlugin(qparser.FieldsPlugin):
    """Only the index's searchable fields are fields; ``Title:`` works as ``title:``."""

    class FieldnameTagger(qparser.FieldsPlugin.FieldnameTagger):
        def create(self, parser, match):
            from searcher.index.storage.whoosh_private import FieldnameNode

            return FieldnameNode(match.group("text").lower(), match.group(0))

    def __init__(self):
        super().__init__(expr=rf"(?<![\w:])(?P<text>(?i:{FIELD_NAMES})):", remove_unknown=True)


class _PlusMinusPlugin(qparser.PlusMinusPlugin):
    """whoosh sorts +/- words only in the outermost group; ``(-rice) x`` then fails. Sort every group."""

    def do_plusminus(self, parser, group):
        from searcher.index.storage.whoosh_private import GroupNode

        nested = group.empty_copy()
        for node in group:
            nested.append(self.do_plusminus(parser, node) if isinstance(node, GroupNode) else node)
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
        from searcher.index.storage.whoosh_private import NullMatcher, WrappingMatcher

        if self.fieldname not in searcher.schema:
            return NullMatcher()
        fieldobj = searcher.schema[self.fieldname]
        reader = searcher.reader()
        terms = []
        for word in self.words:
            btext = fieldobj.to_bytes(word)
            if (self.fieldname, btext) not in reader:
                return NullMatcher()
            terms.append(wq.Term(self.fieldname, btext))
        m = wq.SpanNear2(terms, slop=self.slop, ordered=False, mindist=1).matcher(searcher, context)
        return WrappingMatcher(m, boost=self.boost) if self.boost != 1.0 else m


class ExpansionBudget:
    """What the patterns of one query may expand to between them: MAX_EXPANSION words
    found within EXPANSION_SECONDS, over all its patterns, fields and segments."""

    def __init__(self):
        self.words = MAX_EXPANSION
        self.deadline = None  # set when the first pattern starts expanding

    def start(self) -> float:
        if self.deadline is None:
            self.deadline = time.monotonic() + EXPANSION_SECONDS
        return self.deadline


class _BoundedExpansion:
    """A pattern's words, within its query's ExpansionBudget.

    The expansion is kept per reader, so matching, highlighting and --explain
    read the same words and pay for them once. ``truncated`` tells --explain
    that the pattern matches more words than were searched.
    """

    truncated = False
    budget: ExpansionBudget | None = None

    def _candidates(self, ixreader):
        return super()._btexts(ixreader)

    def expand_over(self, ixreader) -> None:
        """Find the pattern's words once over the whole index (``ixreader``: the top-level
        reader). whoosh matches segment by segment: without this, each segment would
        expand the pattern again, from what the budget has left, and a segment after the
        first could find no word at all."""
        self._btexts(ixreader)
        self._whole = self._expanded

    def _btexts(self, ixreader):
        cached = self.__dict__.get("_expanded")
        if cached is not None and cached[0] is ixreader:
            return iter(cached[1])
        whole = self.__dict__.get("_whole")
        if whole is not None:  # a segment of the index: its share of the words found over all of it
            fieldname = self.fieldname
            return iter([btext for btext in whole[1] if (fieldname, btext) in ixreader])
        budget = self.budget if self.budget is not None else ExpansionBudget()
        found = []
        deadline = budget.start()
        if budget.words <= 0 or time.monotonic() > deadline:
            self.truncated = True
        else:
            for n, btext in enumerate(self._candidates(ixreader), 1):
                if btext is not None:
                    if budget.words <= 0:
                        self.truncated = True
                        break
                    found.append(btext)
                    budget.words -= 1
                # Candidates include the words a filter rejected (None): a pattern that
                # matches little still stops on time while it scans the word list.
                if n % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
                    self.truncated = True
                    break
        self._expanded = (ixreader, found)
        return iter(found)

    def matcher(self, searcher, context=None):
        # whoosh ORs the words' matchers, a cost that grows with words x postings; past
        # a few dozen words, one list of the passages holding any of them, scored alike.
        reader = searcher.reader()
        btexts = list(self._btexts(reader))
        if len(btexts) <= SCORED_EXPANSION:
            return super().matcher(searcher, context)
        from searcher.index.storage.whoosh_private import ListMatcher, NullMatcher

        docs = set()
        for btext in btexts:
            if (self.fieldname, btext) in reader:
                docs.update(reader.postings(self.fieldname, btext).all_ids())
        if not docs:
            return NullMatcher()
        return ListMatcher(sorted(docs), all_weights=self.boost)


class BoundedPrefix(_BoundedExpansion, wq.Prefix):
    pass


class BoundedWildcard(_BoundedExpansion, wq.Wildcard):
    def _candidates(self, ixreader):
        # whoosh's own filter runs inside its generator, out of reach of the deadline.
        match = re.compile(self._get_pattern()).match
        fieldobj = ixreader.schema[self.fieldname]
        for btext in ixreader.expand_prefix(self.fieldname, self._find_prefix(self.text)):
            yield btext if match(fieldobj.from_bytes(btext)) else None


class BoundedFuzzy(_BoundedExpansion, wq.FuzzyTerm):
    def _candidates(self, ixreader):
        # A scan of the words sharing the first letters, with a cheap length test first:
        # whoosh's automaton grows with the word and the distance (1.5 GB for a 12-letter
        # word at a huge distance).
        from searcher.index.storage.whoosh_private import edit_distance as distance

        text, maxdist = self.text, self.maxdist
        shortest, longest = len(text) - maxdist, len(text) + maxdist
        fieldobj = ixreader.schema[self.fieldname]
        for btext in ixreader.expand_prefix(self.fieldname, text[:self.prefixlength]):
            word = fieldobj.from_bytes(btext)
            ok = shortest <= len(word) <= longest and distance(word, text, limit=maxdist) <= maxdist
            yield btext if ok else None


# Endings whose stems a prefix also matches: the index holds stems, and
# "cooperat*" should find "cooperation" although its stem is "cooper".
_PREFIX_ENDINGS = ("", "e", "s", "es", "ed", "ing", "ion", "ions", "ation", "ations", "ive", "al",
                   "ally", "ly", "ity", "ities", "ment", "ments", "ness", "er", "ers", "ies", "y")


class StemPrefix(_BoundedExpansion, wq.Prefix):
    """Words starting with ``text``, matched on stems: also the stems of ``text`` + common endings."""

    def __init__(self, fieldname, text, boost=1.0, stems=()):
        super().__init__(fieldname, text, boost=boost)
        self.stems = tuple(stem for stem in stems if not stem.startswith(text))

    def _candidates(self, ixreader):
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


def expand_patterns(q, ixreader) -> None:
    """Expand the patterns of a parsed query over the whole index (see ``expand_over``)."""
    for node in leaves(q):
        if isinstance(node, _BoundedExpansion) and node.fieldname in ixreader.schema:
            node.expand_over(ixreader)


def _bound_patterns(q, notes: list[str]):
    """Every pattern as its bounded kind, sharing one budget; edit distances capped (with a note)."""
    budget = ExpansionBudget()

    def convert(node):
        node = _bounded(node)
        if isinstance(node, _BoundedExpansion):
            node.budget = budget
        return node

    def _bounded(node):
        if type(node) is wq.FuzzyTerm:
            maxdist, text = node.maxdist, node.text
            if maxdist > MAX_EDIT_DISTANCE:
                notes.append(f"{text}~{maxdist:g}: more than {MAX_EDIT_DISTANCE} edits matches "
                             f"almost any word: searched within {MAX_EDIT_DISTANCE}")
                maxdist = MAX_EDIT_DISTANCE
            if len(text) > MAX_FUZZY_LETTERS:
                notes.append(f"{text[:20]}…~: a word of more than {MAX_FUZZY_LETTERS} letters "
                             "is looked up as it is, not by edits")
                return wq.Term(node.fieldname, text, boost=node.boost)
            return BoundedFuzzy(node.fieldname, text, boost=node.boost, maxdist=int(maxdist),
                                prefixlength=node.prefixlength, constantscore=node.constantscore)
        if type(node) is wq.Wildcard:
            return BoundedWildcard(node.fieldname, node.text, boost=node.boost)
        if type(node) is wq.Prefix:
            return BoundedPrefix(node.fieldname, node.text, boost=node.boost)
        return node

    return q.accept(convert)


def _is_pasted(text: str) -> bool:
    """Past the size bounds of a typed query: operators, quotes and fields of a text this
    long were not typed as syntax (no one writes a 300-word boolean query)."""
    return len(text) > MAX_QUERY_CHARS or len(text.split()) > MAX_QUERY_WORDS


def pasted_words(text: str, schema, language: str = "english") -> tuple[str, str]:
    """(query text, note) for a pasted text: its words once each (by stem), stopwords left
    out, at most MAX_QUERY_WORDS in the order they first come, punctuation and operators
    read as nothing. Its cost is then that of a long question, whatever was pasted."""
    if len(text) > MAX_PASTED_CHARS:
        raise QueryError(f"the query is too long: {len(text):,} characters, at most {MAX_PASTED_CHARS:,}")
    analyzer = schema["body"].analyzer
    stopwords = _stemmed_stopwords(schema, language)
    content: dict[tuple, str] = {}
    common: dict[tuple, str] = {}
    total = 0
    for word in WORD_PATTERN.findall(text):
        if len(word) > MAX_WORD_LETTERS:
            continue
        total += 1
        stems = tuple(token.text for token in analyzer(word))
        if not stems:
            continue
        kept = common if all(stem in stopwords for stem in stems) else content
        kept.setdefault(stems, word.lower())
    chosen = list(content.values() or common.values())
    note = (f"{total:,} words pasted: searched as plain words, each once"
            + (", stopwords left out" if content and common else ""))
    if len(chosen) > MAX_QUERY_WORDS:
        note += f"; the first {MAX_QUERY_WORDS} of {len(chosen):,} distinct words"
        chosen = chosen[:MAX_QUERY_WORDS]
    return " ".join(chosen), note


def _check_size(text: str) -> None:
    longest = max(map(len, WORD_PATTERN.findall(text)), default=0)
    if longest > MAX_WORD_LETTERS:
        raise QueryError(f"the query has a word of {longest:,} letters, at most {MAX_WORD_LETTERS}")
    depth = deepest = 0
    for char in re.sub(r'"[^"]*"?', " ", text):
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(0, depth - 1)
    if deepest > MAX_NESTING:
        raise QueryError(f"the query nests parentheses {deepest} deep, at most {MAX_NESTING}")


@dataclass
class ParsedQuery:
    text: str  # as typed
    query: wq.Query
    # The text whoosh parsed, after read_query gave punctuation its plain meaning.
    read_as: str = ""
    # How the query was read where that is not obvious, for --explain.
    notes: list[str] = field(default_factory=list)
    # Loose words dropped as stopwords, as typed.
    stopwords: list[str] = field(default_factory=list)
    # Filters on the files' metadata, taken out of the text before parsing (searcher/parse/filters.py).
    filters: tuple = ()
    # What the query asks for, against the open index (searcher/engine/plan.py; set by SearchSession.parse).
    plan: object = None
    # A pasted text searched as its distinct words (``pasted_words``): no spelling hints for it.
    pasted: bool = False

    @property
    def phrases(self) -> list[tuple[str, tuple[str, ...], int]]:
        """Every phrase of the query as (fieldname, analysed words, slop), excluded ones too."""
        from searcher.engine.plan import plan_of

        return [(p.field, p.words, p.slop) for p in plan_of(self).all_phrases]


# ---------------------------------------------------------------- rewriting the query


def _stemmed_stopwords(schema, language: str) -> frozenset[str]:
    from searcher.index.text.analysis import stopwords_for

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
    from searcher.index.text.analysis import fold_term as fold  # (CJK patterns keep their voicing marks, as indexed)

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


# Loose words (stopwords included) up to which a query is a lookup whose stopwords count.
SHORT_QUERY_WORDS = 3


def _loose_word_count(text: str) -> int:
    """Words typed outside quotes, operators and field names left out."""
    count = 0
    text = re.sub(rf"(?i)(?<![\w:])(?:{FIELD_NAMES}):", " ", re.sub(r'"[^"]*"', " ", text))
    for chunk in text.split():
        count += sum(1 for word in WORD_PATTERN.findall(chunk) if word not in OPERATORS)
    return count


def parse_query(text: str, schema, language: str = "english") -> ParsedQuery:
    """Parse ``text`` against ``schema``; raises QueryError with a one-line reason."""
    if not text.strip():
        raise QueryError("empty query: give some words to search for")
    typed = text
    pasted = None
    if _is_pasted(text):
        text, pasted = pasted_words(text, schema, language)
        filters = ()
        if not text:
            raise QueryError("nothing to search for: the pasted text has no words")
    else:
        _check_size(text)
        text, filters = _split_filters(text)
    if not text.strip():
        raise QueryError(f"nothing to search for: {typed!r} has only filters; add a word to look for")
    read_as, notes = read_query(text)
    if pasted:
        notes.insert(0, pasted)
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
    dropped_words = True
    if _loose_word_count(read_as) <= SHORT_QUERY_WORDS:
        # In a lookup of a few words each is chosen ("with statement", "the who"): keep them.
        dropped_words = False
    else:
        kept = _drop_stopwords(q, stopwords)
        if kept is None:  # "to be or not to be": only common words, all of them meant
            notes.append("only common words: all of them searched")
            dropped_words = False
        else:
            q = kept
    q = _exclude_negations(_count_repeats(q)).normalize()
    if _only_excludes(q) or (q is wq.NullQuery and _NEGATION.search(read_as)):
        raise QueryError(f"nothing to search for: {text!r} only excludes words; add a word to look for")
    if q is wq.NullQuery:
        raise QueryError(f"nothing to search for in {text!r}")
    q = _bound_patterns(_stem_prefixes(_near_phrases(q), schema), notes)
    q = _one_character_queries(q)
    dropped = _typed_stopwords(read_as, schema, stopwords) if stopwords and dropped_words else []
    return ParsedQuery(typed, q, read_as=read_as, notes=notes, stopwords=dropped, filters=filters,
                       pasted=pasted is not None)


def _one_character_queries(q):
    from searcher.parse.cjk import one_character_queries

    return one_character_queries(q)


def _split_filters(text: str):
    from searcher.parse.filters import split_filters

    return split_filters(text)
