"""Text analysis shared by indexing and querying.

whoosh pickles the schema, and with it the analyzer objects defined here, into
every index, by module path and class name. Indexes are unpickled through
index/storage/safepickle.py, whose allow-list maps the names indexes were written with
(``index.analysis.WordTokenizer``, ``index.analysis.SnowballStemFilter``) to
these classes: moving this module means keeping that table's old names; change
behaviour only together with ``index.schema.SCHEMA_VERSION``.
"""

from __future__ import annotations

import re
from itertools import count
import unicodedata

from whoosh.analysis import Filter, Token, Tokenizer

from searcher.index.text.cjk import fold_cjk, has_cjk, index_words, is_cjk, pieces

# Words are runs of letters/digits; apostrophes inside a word keep it whole
# (so "Russia's" stays one token for the stemmer) while hyphens split, which
# makes "Indo-Pacific", "Indo Pacific" and "indo-pacific" the same two tokens
# at consecutive positions: they match each other as words and as phrases.
WORD_PATTERN = re.compile(r"\w+(?:['\u2019\u2018\u02bc`\u00b4]\w+)*")

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
# Letters that Unicode does not decompose into base letter + accent.
_UNDECOMPOSABLE = str.maketrans({
    "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "ŧ": "t",
    "æ": "ae", "œ": "oe", "þ": "th", "ð": "d",
})

SNOWBALL_LANGUAGES = (
    "arabic", "danish", "dutch", "english", "finnish", "french", "german",
    "hungarian", "italian", "norwegian", "porter", "portuguese", "romanian",
    "russian", "spanish", "swedish",
)


def fold(word: str) -> str:
    """Case-fold, unify apostrophes and strip accents: the normal form of a token."""
    word = word.casefold()
    if word.isascii():
        return word.replace("`", "'")
    word = word.translate(_APOSTROPHES).translate(_UNDECOMPOSABLE)
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_term(word: str) -> str:
    """``fold``, except for CJK terms (index/text/cjk.py), which keep their voicing marks and syllables."""
    if not word.isascii() and is_cjk(word):
        return fold_cjk(word)
    return fold(word)


class WordTokenizer(Tokenizer):
    """Splits text into folded words, keeping character offsets of the original text.

    ``cjk``: runs of Han, Kana and Hangul become bigrams (index/text/cjk.py). Schemas made
    since schema 2 set it; the tokenizers pickled into older indexes have no such
    attribute, read the class's False, and keep one token per run, as they were built.
    """

    cjk = False

    def __init__(self, cjk: bool = False):
        self.cjk = cjk

    def __eq__(self, other):
        return type(other) is type(self) and other.cjk == self.cjk

    def __hash__(self):
        return hash((type(self), self.cjk))

    def word_functions(self):
        """(text -> its words, word -> its term before stemming), as this tokenizer indexes."""
        if self.cjk:
            return index_words(WORD_PATTERN.findall, WORD_PATTERN), fold_term
        return WORD_PATTERN.findall, fold

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        cjk = self.cjk
        if not tokenize:
            token.original = token.text = fold_term(value) if cjk else fold(value)
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in WORD_PATTERN.finditer(value):
            word = match.group()
            if cjk and not word.isascii() and has_cjk(word):
                for piece, start, end in pieces(word, match.start(), mode == "query", WORD_PATTERN):
                    token.text = fold_term(piece)
                    token.boost = 1.0
                    token.stopped = False
                    if keeporiginal:
                        token.original = piece
                    if positions:
                        token.pos = pos
                        pos += 1
                    if chars:
                        token.startchar = start_char + start
                        token.endchar = start_char + end
                    yield token
                continue
            token.text = fold(word)
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = pos
                pos += 1
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token


class SnowballStemFilter(Filter):
    """Stems tokens with nltk's Snowball stemmer, caching results.

    The nltk stemmer is created on first use and never pickled, so loading a
    schema does not import nltk. Before nltk, a word is looked up in ``table``,
    the index's stem table (index/text/stemtable.py), when the opener of the index
    set one: then a query whose words the corpus has never imports nltk.
    ``new_stems`` records what nltk stemmed, for the indexer to add to the table.
    Neither is pickled.
    """

    def __init__(self, language: str = "english", cachesize: int = 100_000):
        self.language = language
        self.cachesize = cachesize
        self._cache: dict[str, str] = {}
        self._stem = None
        self.table = None
        self.new_stems: dict[str, str] = {}

    def __getstate__(self):
        return {"language": self.language, "cachesize": self.cachesize}

    def __setstate__(self, state):
        self.__init__(state["language"], state.get("cachesize", 100_000))

    def __eq__(self, other):
        return type(other) is type(self) and other.language == self.language

    def __hash__(self):
        return hash((type(self), self.language))

    def stem(self, word: str) -> str:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        stemmed = self.table.get(word) if self.table is not None else None
        if stemmed is None:
            if self._stem is None:
                from searcher.index.text.lean_nltk import snowball_stem  # (H3) nltk's stemmer, not all of nltk

                self._stem = snowball_stem(self.language)
            stemmed = self._stem(word)
            if len(self.new_stems) < self.cachesize:
                self.new_stems[word] = stemmed
        if len(self._cache) >= self.cachesize:
            self._cache.clear()
        self._cache[word] = stemmed
        return stemmed

    def __call__(self, tokens):
        stem = self.stem
        for token in tokens:
            if not token.stopped:
                token.text = stem(token.text)
            yield token


# ASCII text: every character that is neither a word character (\w: letters, digits,
# "_") nor an ASCII apostrophe becomes a space, so that split() gives WORD_PATTERN's
# words, except runs holding apostrophes, which the pattern splits (see fast_terms).
_ASCII_SEPARATORS = str.maketrans({chr(i): " " for i in range(128)
                                   if not (chr(i).isalnum() or chr(i) in "_'`")})


def _words(text: str) -> list[str]:
    """WORD_PATTERN.findall(text), about three times faster on ASCII text."""
    if not text.isascii():
        return WORD_PATTERN.findall(text)
    words = text.translate(_ASCII_SEPARATORS).split()
    if "'" in text or "`" in text:  # a run such as "don't" or "'quoted'": the pattern decides
        findall = WORD_PATTERN.findall
        words = [part for word in words
                 for part in (findall(word) if "'" in word or "`" in word else (word,))]
    return words


def _our_parts(analyzer):
    """(tokenizer, stem function or None) of one of this module's analyzers, else None."""
    from whoosh.analysis import CompositeAnalyzer

    if type(analyzer) is WordTokenizer:
        return analyzer, None
    if (type(analyzer) is CompositeAnalyzer and len(analyzer.items) == 2
            and type(analyzer.items[0]) is WordTokenizer and type(analyzer.items[1]) is SnowballStemFilter):
        return analyzer.items[0], analyzer.items[1].stem  # the analyzer's own stemmer: same stem table and cache
    return None


def _cached_terms(normal, stem, cachesize: int):
    """A function words -> their terms (``normal``, then ``stem``), with a cache of
    surface word -> term."""
    cache: dict[str, str] = {}

    def terms_of(words: list[str]) -> list[str]:
        found = list(map(cache.get, words))
        if None in found:  # words not seen before
            if len(cache) >= cachesize:
                cache.clear()
            for i, term in enumerate(found):
                if term is None:
                    word = words[i]
                    term = cache.get(word)
                    if term is None:
                        term = normal(word)
                        if stem is not None:
                            term = stem(term)
                        cache[word] = term
                    found[i] = term
        return found

    return terms_of


def fast_terms(analyzer, cachesize: int = 200_000):
    """A function text -> the terms ``analyzer`` makes of it (its tokens' texts, in order),
    or None when ``analyzer`` is not one of this module's.

    Why: the query side counts the terms of stored passages (query expansion, rescoring);
    whoosh's token generator costs a Python call per token, while splitting the text at
    C speed (``_words``) and a cache of surface word -> term give the same terms several
    times faster. tests/test_ranking.py checks the equality on arbitrary text.
    """
    parts = _our_parts(analyzer)
    if parts is None:
        return None
    tokenizer, stem = parts
    split, normal = (index_words(_words, WORD_PATTERN), fold_term) if tokenizer.cjk else (_words, fold)
    terms_of = _cached_terms(normal, stem, cachesize)
    return lambda text: terms_of(split(text))


def fast_tokens(analyzer, cachesize: int = 200_000):
    """A function text -> (position, term, start char, end char) of each token ``analyzer``
    makes of it in "index" mode (what highlighting marks), or None when ``analyzer`` is not
    one of this module's.

    Why: highlighting runs the analyzer over every hit's text; whoosh's token generators
    cost a few Python calls and attribute writes per token, a quarter of a keyword query.
    Here the words and their spans come from the pattern, and a cache gives their terms.
    Text holding CJK characters, which the tokenizer cuts into bigrams, goes through the
    analyzer itself. tests/test_snippets.py checks the equality on arbitrary text.
    """
    parts = _our_parts(analyzer)
    if parts is None:
        return None
    tokenizer, stem = parts
    terms_of = _cached_terms(fold, stem, cachesize)
    finditer = WORD_PATTERN.finditer

    def tokens(text: str) -> list[tuple[int, str, int, int]]:
        if tokenizer.cjk and has_cjk(text):
            return [(t.pos, t.text, t.startchar, t.endchar)
                    for t in analyzer(text, positions=True, chars=True, mode="index")]
        spans = [match.span() for match in finditer(text)]
        words = list(map(text.__getitem__, map(slice, *zip(*spans)))) if spans else []
        return list(zip(count(), terms_of(words), *zip(*spans))) if spans else []

    return tokens


def kept_for(cache: dict, analyzer, make):
    """``make(analyzer)``, made once per analyzer and kept in ``cache`` by its id (analyzers
    unpickled from a schema do not hash by value). The analyzer is kept in the entry, so that
    its id is not reused while the entry lives; a cache of many analyzers starts over."""
    entry = cache.get(id(analyzer))
    if entry is None or entry[0] is not analyzer:
        if len(cache) > 16:
            cache.clear()
        entry = cache[id(analyzer)] = (analyzer, make(analyzer))
    return entry[1]


def make_text_analyzer(language: str = "english"):
    """The analyzer of the title and body fields."""
    return WordTokenizer(cjk=True) | SnowballStemFilter(language)


def make_path_analyzer():
    """Path components are matched as folded words, without stemming."""
    return WordTokenizer(cjk=True)


# English stopwords (the Snowball project's list). They are indexed, so that
# phrases such as "the rule of law" match exactly, and dropped from the loose
# words of a query, where they only add noise to the ranking.
ENGLISH_STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be
because been before being below between both but by can't cannot could
couldn't did didn't do does doesn't doing don't down during each few for from
further had hadn't has hasn't have haven't having he he'd he'll he's her here
here's hers herself him himself his how how's i i'd i'll i'm i've if in into
is isn't it it's its itself let's me more most mustn't my myself no nor not
of off on once only or other ought our ours ourselves out over own same shan't
she she'd she'll she's should shouldn't so some such than that that's the
their theirs them themselves then there there's these they they'd they'll
they're they've this those through to too under until up very was wasn't we
we'd we'll we're we've were weren't what what's when when's where where's
which while who who's whom why why's with won't would wouldn't you you'd
you'll you're you've your yours yourself yourselves
""".split())


_stopwords: dict[str, frozenset[str]] = {}


def stopwords_for(language: str) -> frozenset[str]:
    """Folded stopwords of a language (empty for a language without a list).

    English keeps the Snowball list above: the ``stop-words`` package's English list
    (1,333 words) holds content words such as "computer", "area" and "effect", which a
    question must not lose. The other Snowball languages take the package's lists
    (French 336 words, German 259), imported only when a query in such a language is read.
    """
    if language in ("english", "porter"):
        return ENGLISH_STOPWORDS
    found = _stopwords.get(language)
    if found is None:
        try:
            from stop_words import StopWordError, get_stop_words
        except ImportError:  # (a dependency: only a broken install lacks it)
            return frozenset()
        try:
            words = get_stop_words(language)
        except StopWordError:
            words = []
        found = _stopwords[language] = frozenset(fold(word) for word in words)
    return found
