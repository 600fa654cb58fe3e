"""The query plan: what a parsed query asks for, read once from whoosh's query tree.

whoosh's parser (searcher/parse/query.py) gives a tree of its query objects. ``plan`` reads
it into plain frozen data, and everything that needs to know what a query asks for
reads the plan, not whoosh's tree:

- matching (searcher/engine/search.py ``_matching_passages``): the boolean tree ``root`` of
  words, phrases and patterns, as set algebra over the engine's postings;
- ranking: ``loose_words`` (the common case: words and exact phrases OR-ed over title
  and body), ``exclusions`` (``-word``, ``NOT "a phrase"`` left out of them) and
  ``scored_terms`` (the words any other query is scored by, with their fields and
  weights; a pattern's words are one word to the engine);
- highlighting (searcher/present/snippets.py): the words the query looks for, not those it excludes;
- suggestions (searcher/engine/suggest.py): the words looked up, and the excluded ones;
- ``--explain`` (searcher/present/explain.py): the tree, the patterns' words, the reading notes.

A word is under a negation ("excluded") when it sits below a NOT (``-word``, ``NOT word``)
or on the right of an AND NOT; every other leaf is "positive": matched, scored and
highlighted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from searcher.index.storage.schema import SEARCHABLE_FIELDS

# Kinds of pattern: word* (prefix), w?rd (wildcard), word~ (fuzzy), and one CJK character
# (the bigrams it starts: searcher/parse/cjk.py).
PREFIX, WILDCARD, FUZZY, CHARACTER = "prefix", "wildcard", "fuzzy", "character"


# ---------------------------------------------------------------- leaves


@dataclass(frozen=True)
class Word:
    """An analysed word (a stem) in one field; ``boost``: its weight (``^N``, repeats)."""

    field: str
    text: str
    boost: float = 1.0
    # Whether the index holds it (highlights mark only what the index holds); True without a reader.
    indexed: bool = True


@dataclass(frozen=True)
class Phrase:
    """Analysed words in order (``"a b"``: slop 1, ordered), or within ``slop`` positions of
    each other in any order (``"a b"~N``)."""

    field: str
    words: tuple[str, ...]
    slop: int = 1
    ordered: bool = True
    boost: float = 1.0
    source: object = field(default=None, compare=False, repr=False)  # whoosh's query, for what the engine lacks

    @property
    def exact(self) -> bool:
        return self.ordered and self.slop == 1


@dataclass(frozen=True)
class Pattern:
    """A pattern (``kind``: PREFIX, WILDCARD, FUZZY or CHARACTER) and the words of the
    index it matches, found within the query's expansion budget (searcher/parse/query.py)."""

    field: str
    text: str
    kind: str
    boost: float = 1.0
    maxdist: int | None = None  # a fuzzy pattern's edits
    stemmed: bool = False  # a prefix that also matches the stems of its word + endings
    # Its words in the index (as stored: bytes); None when not expanded (no reader, or whoosh could not).
    words: tuple[bytes, ...] | None = None
    truncated: bool = False  # the budget ran out before every word it matches was found
    source: object = field(default=None, compare=False, repr=False)

    @property
    def marks(self) -> tuple[str, ...]:
        """The words a highlight marks: a CJK character marks itself, not its bigrams."""
        if self.kind == CHARACTER:
            return (self.text,)
        return tuple(word.decode("utf-8") for word in self.words or ())


@dataclass(frozen=True)
class Other:
    """A leaf the plan has no kind for (every passage, nothing): whoosh matches it, and a
    query holding one is scored by whoosh."""

    field: str | None
    text: str
    description: str
    boost: float = 1.0
    marks: tuple[str, ...] = ()
    source: object = field(default=None, compare=False, repr=False)


# ---------------------------------------------------------------- the boolean tree


@dataclass(frozen=True)
class Or:
    children: tuple
    boost: float = 1.0


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class _Pair:
    a: object
    b: object

    @property
    def children(self) -> tuple:
        return (self.a, self.b)


@dataclass(frozen=True)
class AndNot(_Pair):
    """``a`` without the passages ``b`` matches."""


@dataclass(frozen=True)
class Not:
    """Every passage but those ``child`` matches (searcher/parse/query.py makes ``x OR NOT y`` an AndNot)."""

    child: object

    @property
    def children(self) -> tuple:
        return (self.child,)


@dataclass(frozen=True)
class Require(_Pair):
    """Both ``a`` and ``b`` (``+word`` beside loose words)."""


@dataclass(frozen=True)
class AndMaybe(_Pair):
    """``a``, ranked higher with ``b``."""


LEAVES = (Word, Phrase, Pattern, Other)


def is_leaf(node) -> bool:
    return type(node) in LEAVES


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class QueryPlan:
    """A query as what it asks for. ``words``, ``phrases``, ``patterns`` and ``others``
    are the leaves it looks for (each as often as the tree holds it, in the query's
    order), ``excluded`` those under a negation; ``root`` joins them all."""

    root: object  # the boolean tree: what passages match
    words: tuple[Word, ...] = ()
    phrases: tuple[Phrase, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    others: tuple[Other, ...] = ()
    excluded: tuple = ()  # the leaves under a negation
    filters: tuple = ()  # on the files' metadata (searcher/parse/filters.py)
    notes: tuple[str, ...] = ()  # how the query was read, for --explain (capped edits, ...)
    quoted: bool = False  # a phrase was typed in quotes (not only words joined by punctuation)

    @property
    def loose(self) -> bool:
        """Only words and exact phrases OR-ed over title and body, less exclusions: the
        ranking engine's own case (``loose_words``)."""
        positive, excluded = self.exclusions()
        return excluded is not None and loose_words(positive) is not None

    @property
    def all_phrases(self) -> tuple[Phrase, ...]:
        """Every phrase of the query, excluded ones too."""
        return tuple(leaf for leaf in _leaves(self.root) if type(leaf) is Phrase)

    def exclusions(self) -> tuple[object, list | None]:
        """(what the query looks for, [(fieldname, stem or tuple of stems)] of the words and
        exact phrases it leaves out): a query ``x -y`` as (x, [y]). The list is None when
        what is left out is anything else than words and exact phrases OR-ed."""
        root = self.root
        if type(root) is not AndNot:
            return root, []
        found = []
        stack = [root.b]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is Or:
                stack.extend(node.children)
            elif kind is Word and node.field in SEARCHABLE_FIELDS:
                found.append((node.field, node.text))
            elif kind is Phrase and node.exact and node.field in SEARCHABLE_FIELDS and node.words:
                found.append((node.field, node.words if len(node.words) > 1 else node.words[0]))
            else:
                return root.a, None
        return root.a, found

    def scored_terms(self) -> dict | None:
        """{fieldname: {stem, tuple of stems (an exact phrase) or AnyOf (a pattern): weight}}
        of the words the query looks for, for the ranking engine to score as it scores
        loose words; None when it holds something the engine cannot score.

        A title word's boost is relative to the parser's title boost, so that ``+word``
        weighs as ``word`` does, and ``title:x^5`` five times a plain ``title:x``.
        """
        from searcher.parse.query import FIELD_BOOSTS
        from searcher.engine.ranking import AnyOf

        fields: dict[str, dict] = {"body": {}, "title": {}}
        scale = {"body": 1.0 / FIELD_BOOSTS["body"], "title": 1.0 / FIELD_BOOSTS["title"]}
        for leaf in _positive_leaves(self.root):
            fieldname = leaf.field
            if fieldname not in fields:
                return None
            words, boost = fields[fieldname], leaf.boost * scale[fieldname]
            kind = type(leaf)
            if kind is Phrase:
                if leaf.exact and len(leaf.words) > 1:
                    keys = [leaf.words]
                else:  # proximity: its words
                    keys = list(leaf.words)
            elif kind is Word:
                keys = [leaf.text]
            elif kind is Pattern:
                if leaf.words is None:
                    return None
                if len(leaf.words) == 1:
                    keys = [leaf.words[0].decode("utf-8")]
                else:  # the pattern's words are one word to the engine
                    keys = [AnyOf(leaf.words)] if leaf.words else []
            else:
                return None
            for key in keys:
                words[key] = words.get(key, 0.0) + boost
        return {name: words for name, words in fields.items() if words}

    def highlights(self) -> tuple[dict[str, set[str]], list[tuple[str, tuple[str, ...], int, bool]]]:
        """({fieldname: words to mark}, [(fieldname, words, slop, ordered) of the phrases]):
        what the query looks for; words it excludes are never marked."""
        loose: dict[str, set[str]] = {}
        phrases = []
        for leaf in _positive_leaves(self.root):
            kind = type(leaf)
            if kind is Phrase:
                phrases.append((leaf.field, leaf.words, leaf.slop, leaf.ordered))
                continue
            if kind is Word:
                marks = (leaf.text,) if leaf.indexed else ()
            else:
                marks = leaf.marks
            if marks:
                loose.setdefault(leaf.field, set()).update(marks)
        return loose, phrases

    def looked_up(self) -> dict[str, set[str]]:
        """{analysed word: its fields} of the words the query looks up as words (in
        phrases too; not patterns), excluded ones included."""
        words: dict[str, set[str]] = {}
        for leaf in _leaves(self.root):
            if type(leaf) is Word:
                words.setdefault(leaf.text, set()).add(leaf.field)
            elif type(leaf) is Phrase:
                for word in leaf.words:
                    words.setdefault(word, set()).add(leaf.field)
        return words

    def excluded_words(self) -> set[str]:
        """The analysed words (a pattern's text) under a negation."""
        found: set[str] = set()
        for leaf in self.excluded:
            found.update(leaf.words if type(leaf) is Phrase and leaf.words else [getattr(leaf, "text", "")])
        return found


def loose_words(node, phrase_stopwords: frozenset[str] | None = None, *,
                phrases: bool = False) -> dict[str | tuple[str, ...], float] | None:
    """{stem: weight} when ``node`` (a plan's tree) is only loose words OR-ed over title and
    body; else None.

    A word's weight is its body word's boost (repeats and ``^`` boosts); the title's
    share is the engine's own TITLE_WEIGHT. With ``phrase_stopwords``, exact phrases
    (from words joined by punctuation, such as "two-dimensional") count as their words
    without those stopwords. With ``phrases``, an exact phrase over title and body is a
    term of its own: the tuple of its stems (matched by searcher/engine/phrases.py, scored like
    a word).
    """
    fields: dict[str, dict] = {"title": {}, "body": {}}
    stack = [node]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is Or:
            if node.boost != 1.0:
                return None
            stack.extend(node.children)
        elif kind is Word and node.field in fields:
            words = fields[node.field]
            if node.field == "title" and node.text in words:
                return None  # a word's title term typed apart from it ("x title:x^5"): a field query
            words[node.text] = words.get(node.text, 0.0) + node.boost
        elif kind is Phrase and node.exact and node.field in fields:
            words = fields[node.field]
            if phrase_stopwords is not None:
                for word in node.words:
                    if word not in phrase_stopwords:
                        words[word] = words.get(word, 0.0) + node.boost
            elif phrases and node.words:
                key = node.words if len(node.words) > 1 else node.words[0]
                words[key] = words.get(key, 0.0) + node.boost
            else:
                return None
        else:
            return None
    # A loose word searches both fields (the parser gives its title word the title's boost,
    # or none for a quoted word): a word in one of them only, or with a boost of its own in
    # one (title:x^5 body:x), is a field query.
    from searcher.parse.query import FIELD_BOOSTS

    boosts = (FIELD_BOOSTS["title"] / FIELD_BOOSTS["body"], 1.0)
    body = fields["body"]
    if not body or fields["title"].keys() != body.keys() or any(
            not any(math.isclose(weight, ratio * body[key]) for ratio in boosts)
            for key, weight in fields["title"].items()):
        return None
    return {stem: weight for stem, weight in body.items() if weight > 0} or None


def _positive_leaves(root):
    """The leaves not under a negation, depth first from the last child (the order the
    engine adds their terms in, which fixes the order of its float sums)."""
    stack = [root]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is Not:
            continue
        if kind is AndNot:
            stack.append(node.a)
        elif kind in LEAVES:
            yield node
        else:
            stack.extend(node.children)


def _leaves(root):
    """Every leaf, in the query's order."""
    if type(root) in LEAVES:
        yield root
        return
    for child in root.children:
        yield from _leaves(child)


def _negated_leaves(root, negated: bool = False, want: bool = True):
    """The leaves under a negation (``want``: else the others), in the query's order."""
    kind = type(root)
    if kind is Not:
        yield from _negated_leaves(root.child, True, want)
    elif kind is AndNot:
        yield from _negated_leaves(root.a, negated, want)
        yield from _negated_leaves(root.b, True, want)
    elif kind in LEAVES:
        if negated == want:
            yield root
    else:
        for child in root.children:
            yield from _negated_leaves(child, negated, want)


# ---------------------------------------------------------------- reading whoosh's tree


def plan(parsed, reader=None) -> QueryPlan:
    """The plan of ``parsed`` (a searcher.parse.query.ParsedQuery, or a bare whoosh query).

    With ``reader`` (the index's top-level reader, after searcher.parse.query.expand_patterns),
    patterns list the words they match and words say whether the index holds them; without
    it the plan is the query's alone.
    """
    query = getattr(parsed, "query", parsed)
    root = _node(query, reader)
    positive = list(_negated_leaves(root, want=False))
    return QueryPlan(
        root=root,
        words=tuple(leaf for leaf in positive if type(leaf) is Word),
        phrases=tuple(leaf for leaf in positive if type(leaf) is Phrase),
        patterns=tuple(leaf for leaf in positive if type(leaf) is Pattern),
        others=tuple(leaf for leaf in positive if type(leaf) is Other),
        excluded=tuple(_negated_leaves(root)),
        filters=tuple(getattr(parsed, "filters", ()) or ()),
        notes=tuple(dict.fromkeys(getattr(parsed, "notes", ()) or ())),  # (one per field the parser made)
        quoted='"' in (getattr(parsed, "read_as", "") or ""),
    )


def plan_of(parsed, reader=None) -> QueryPlan:
    """``parsed.plan`` when the session made it (searcher.engine.search.SearchSession.parse), else
    the plan of ``parsed`` against ``reader``."""
    made = getattr(parsed, "plan", None)
    return made if made is not None else plan(parsed, reader)


def _node(q, reader):
    from whoosh import query as wq

    kind = type(q)
    if kind is wq.Or:
        return Or(tuple(_node(sub, reader) for sub in q.subqueries), q.boost)
    if kind is wq.And:
        return And(tuple(_node(sub, reader) for sub in q.subqueries))
    if kind is wq.AndNot:
        return AndNot(_node(q.a, reader), _node(q.b, reader))
    if kind is wq.Require:
        return Require(_node(q.a, reader), _node(q.b, reader))
    if kind is wq.AndMaybe:
        return AndMaybe(_node(q.a, reader), _node(q.b, reader))
    if kind is wq.Not:
        return Not(_node(q.query, reader))
    if kind is wq.Term:
        indexed = True
        if reader is not None:
            schema = reader.schema
            try:
                indexed = q.fieldname in schema and (q.fieldname, schema[q.fieldname].to_bytes(q.text)) in reader
            except ValueError:
                indexed = False
        return Word(q.fieldname, q.text, q.boost, indexed)
    if isinstance(q, wq.Phrase):
        return Phrase(q.fieldname, tuple(q.words), q.slop, getattr(q, "ordered", True), q.boost, source=q)
    if isinstance(q, wq.MultiTerm) and getattr(q, "fieldname", None) is not None:
        return _pattern(q, reader)
    return _other(q, reader)


def _pattern(q, reader) -> Pattern:
    from whoosh import query as wq

    from searcher.parse.cjk import CJKChar

    if isinstance(q, CJKChar):
        kind = CHARACTER
    elif isinstance(q, wq.FuzzyTerm):
        kind = FUZZY
    elif isinstance(q, wq.Wildcard):
        kind = WILDCARD
    else:
        kind = PREFIX
    words = None
    if reader is not None:
        try:  # (_btexts: the words a pattern matches, whoosh's hook for its subclasses)
            words = tuple(text if isinstance(text, bytes) else text.encode("utf-8") for text in q._btexts(reader))
        except Exception:  # a pattern whoosh cannot expand here
            words = None
    return Pattern(q.fieldname, q.text, kind, q.boost, getattr(q, "maxdist", None) if kind == FUZZY else None,
                   stemmed=hasattr(q, "stems"), words=words, truncated=bool(getattr(q, "truncated", False)),
                   source=q)


def _other(q, reader) -> Other:
    from whoosh import query as wq

    every = isinstance(q, wq.Every)
    marks: tuple[str, ...] = ()
    if reader is not None and q.is_leaf():
        try:
            marks = tuple(sorted(text.decode("utf-8") if isinstance(text, bytes) else text
                                 for _, text in q.existing_terms(reader, expand=True)))
        except Exception:  # nothing to mark
            marks = ()
    return Other(None if every or not q.is_leaf() else getattr(q, "fieldname", None), getattr(q, "text", ""),
                 "every passage" if every else str(q), getattr(q, "boost", 1.0), marks, source=q)
