""""Did you mean": a corrected query built from the index's own vocabulary.

The index holds word stems, so candidates are found among the stems near
the typed word's stem (whoosh's Levenshtein automaton over the lexicon); each
candidate's surface form is then recovered from a stored passage that
contains it ("kamikawa", not the stem), and candidates are ranked by edit
distance between the folded typed word and that surface form first, by
document frequency second. (whoosh's own corrector ranks by frequency only.)
The query is never rewritten silently: the CLI prints the suggestion, and
runs it only when asked (``--fix``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from searcher.index.text.analysis import WORD_PATTERN, fold, stopwords_for
from searcher.parse.query import ParsedQuery
from searcher.parse.reading import OPERATORS

# At most this many hits counts as "very few": then even words that are in
# the index, but rare, may be corrected to a much more frequent neighbour.
FEW_HITS = 2
# How much more frequent a neighbour of a word that *is* in the index must be.
RARE_RATIO = 10
# Candidates whose surface form is recovered from stored passages (the nearest by stem first).
MAX_CANDIDATES = 8
# Passages read per candidate for its spellings: a stem has several ("manager",
# "managed", "management"), and the one nearest to what was typed must be among them.
SURFACE_SAMPLES = 12


@dataclass(frozen=True)
class Correction:
    typed: str
    suggested: str
    distance: int
    frequency: int  # passages containing the suggested word
    unknown: bool = True  # the typed word is in no passage of the index


@dataclass(frozen=True)
class Suggestion:
    text: str  # the corrected query, ready to run
    corrections: tuple[Correction, ...]

    def changes(self) -> str:
        """``kamikava → kamikawa, ukrane → ukraine``."""
        return ", ".join(f"{c.typed} → {c.suggested}" for c in self.corrections)


# Shorter words are one edit away from too many others to guess which was meant.
MIN_LENGTH = 3
# Distinct words a suggestion tries to correct, those the index lacks first, then the
# rarest: each costs a walk of the term dictionary, and a pasted paragraph would
# otherwise make a query that found little take seconds more to say so.
MAX_CORRECTED = 8


def max_edits(word: str) -> int:
    return 1 if len(word) <= 4 else 2


def query_words(parsed: ParsedQuery, reader=None) -> dict[str, set[str]]:
    """Analysed words the query looks up as words (not patterns), with their fields."""
    from searcher.engine.plan import plan_of

    return plan_of(parsed, reader).looked_up()


def _frequency(reader, fields, stem: str) -> int:
    return sum(reader.doc_frequency(f, stem) for f in fields if f in reader.schema.names())


def _ordered(fields) -> list[str]:
    """Fields in a fixed order, the body first: a set's order changes with the hash seed,
    and the body's text has more spellings of a word than titles do."""
    return sorted(fields, key=lambda f: (f != "body", f))


def _surface_forms(reader, fields, stem: str) -> Counter[str]:
    """Spellings of ``stem`` in the first stored passages that hold it, with their counts."""
    seen: Counter[str] = Counter()
    for fieldname in _ordered(fields):
        if (fieldname, stem) not in reader or not reader.schema[fieldname].stored:
            continue
        analyzer = reader.schema[fieldname].analyzer
        docnums = reader.postings(fieldname, stem).all_ids()
        for _, docnum in zip(range(SURFACE_SAMPLES), docnums):
            text = reader.stored_fields(docnum).get(fieldname) or ""
            for token in analyzer(text, keeporiginal=True, mode="index"):
                if token.text == stem:
                    seen[token.original] += 1
    return seen


def _with_case_of(typed: str, word: str) -> str:
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return word.lower()


def edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away from ``word``."""
    letters = set("abcdefghijklmnopqrstuvwxyz") | set(word)
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return (deletes | transposes | replaces | inserts) - {word}


def _near_stems(reader, fieldname: str, probe: str, limit: int) -> set[str]:
    """Stems in the lexicon of ``fieldname`` within ``limit`` edits of ``probe``.

    whoosh's Levenshtein automaton is fast on one segment (its MultiReader
    falls back to scanning the lexicon), and counts a transposition as two
    edits: transpositions are looked up directly. Two-edit neighbours must
    keep the first letter, which few misspellings change and which keeps the
    automaton quick.
    """
    found: set[str] = set()
    for leaf, _ in reader.leaf_readers():
        if fieldname not in leaf.indexed_field_names():
            continue
        found.update(leaf.terms_within(fieldname, probe, 1))
        if limit > 1:
            found.update(leaf.terms_within(fieldname, probe, limit, prefix=1))
    swaps = {probe[:i] + probe[i + 1] + probe[i] + probe[i + 2:] for i in range(len(probe) - 1)}
    found.update(word for word in swaps if (fieldname, word) in reader)
    return found


def _stems_of_variants(reader, fieldname: str, word: str, stem) -> set[str]:
    """Stems in the index of the strings one edit from ``word``.

    Catches what stem-to-stem distance misses: "secrity" is one edit from
    "security", whose stem "secur" is three edits from "secriti". Costly (the
    stemmer runs on every variant), so only used when nothing closer is found.
    """
    found: set[str] = set()
    for variant in edits1(word):
        variant_stem = stem(variant)
        if variant_stem not in found and (fieldname, variant_stem) in reader:
            found.add(variant_stem)
    return found


def _stemmer(analyzer):
    def stem(word: str) -> str:
        stems = [t.text for t in analyzer(word)]
        return stems[0] if len(stems) == 1 else word

    return stem


def correct_word(reader, typed: str, stem: str, fields, frequency: int,
                 stopwords=frozenset()) -> Correction | None:
    """The best replacement for one typed word, or None."""
    from searcher.index.storage.whoosh_private import damerau_levenshtein

    text_fields = [f for f in _ordered(fields) if f in reader.schema.names()]
    if not text_fields:
        return None
    folded = fold(typed)
    limit = max_edits(folded)
    if frequency and any(not form.isascii() and fold(form) == folded
                         for form in _surface_forms(reader, text_fields, stem)):
        # The documents write it with accents ("café" for "cafe"): the word was found as
        # meant, and a typo in a document seldom gains an accent.
        return None
    # Title words are nearly always body words too: one lexicon is enough to find candidates.
    lexicon = "body" if "body" in text_fields else text_fields[0]
    analyzer = reader.schema[lexicon].analyzer

    def best_of(candidates: set[str]) -> Correction | None:
        frequencies = {word: _frequency(reader, text_fields, word) for word in candidates}
        distances = {word: damerau_levenshtein(word, stem) for word in candidates}
        ranked = sorted(candidates, key=lambda w: (distances[w], -frequencies[w], w))
        best = None
        for word in ranked[:MAX_CANDIDATES]:
            forms = _surface_forms(reader, text_fields, word)
            if not forms:
                continue
            # The spelling nearest to what was typed ("layer", not the commoner "layers" for
            # "layr"), always one the documents use: never a stem ("manag") nor a made-up
            # one-edit variant of the typed word.
            surface = min(forms, key=lambda w: (damerau_levenshtein(folded, fold(w)), -forms[w], not w.islower(), w))
            distance = damerau_levenshtein(folded, fold(surface))
            if distance > limit or fold(surface) == folded or fold(surface) in stopwords:
                continue
            correction = Correction(typed, _with_case_of(typed, surface), distance, frequencies[word])
            if best is None or (correction.distance, -correction.frequency) < (best.distance, -best.frequency):
                best = correction
        return best

    near = _near_stems(reader, lexicon, stem, limit)
    if folded != stem:
        near |= _near_stems(reader, lexicon, folded, limit)
    best = best_of(near - {stem})
    # The costly pass only for words the index lacks: a rare word that is in the index
    # is corrected only to a far more frequent neighbour one edit away, found above.
    if not frequency and (best is None or best.distance > 1):
        variants = _stems_of_variants(reader, lexicon, folded, _stemmer(analyzer))
        best = best_of((near | variants) - {stem}) or best
    if best is None:
        return None
    if frequency and (best.distance > 1 or best.frequency < RARE_RATIO * frequency):
        return None
    return replace(best, unknown=not frequency)


def suggest(session, parsed: ParsedQuery, hits: int) -> Suggestion | None:
    """A corrected query when a word is not in the index, or when there are very few ``hits``
    (``session``: the open index, a searcher.engine.search.SearchSession)."""
    from searcher.engine.plan import plan_of

    if parsed.pasted:  # hundreds of words: a hint would repeat them all to change one
        return None
    plan = plan_of(parsed, session.searcher.reader())
    # (Words under NOT/-: correcting them would not find anything more.)
    words, excluded = plan.looked_up(), plan.excluded_words()
    stopwords = stopwords_for(session.meta.language)
    analyzer = session.schema["body"].analyzer
    reader = session.searcher.reader()
    tried: dict[str, tuple] = {}  # typed word -> (frequency, first place, stem, fields)
    for place, match in enumerate(WORD_PATTERN.finditer(parsed.text)):
        typed = match.group()
        if (typed in OPERATORS or fold(typed) in stopwords or typed in tried
                or len(fold(typed)) < MIN_LENGTH):
            continue
        stems = [t.text for t in analyzer(typed)]
        if len(stems) != 1 or stems[0] not in words or stems[0] in excluded:
            continue
        fields = words[stems[0]]
        frequency = _frequency(reader, fields, stems[0])
        if frequency and hits > FEW_HITS:
            continue
        tried[typed] = (frequency, place, stems[0], fields)
    corrections: dict[str, Correction] = {}
    for typed, (frequency, _, stem, fields) in sorted(tried.items(), key=lambda item: item[1][:2])[:MAX_CORRECTED]:
        correction = correct_word(reader, typed, stem, fields, frequency, stopwords)
        if correction is not None:
            corrections[typed] = correction
    corrections = {typed: corrections[typed] for typed in tried if typed in corrections}  # in the query's order
    if not corrections:
        return None
    text = WORD_PATTERN.sub(
        lambda m: corrections[m.group()].suggested if m.group() in corrections else m.group(), parsed.text)
    return Suggestion(text, tuple(corrections.values()))


def did_you_mean(session, parsed: ParsedQuery, hits: int, per_file: int | None = None) -> Suggestion | None:
    """``suggest``, kept only when the corrected query finds more than the ``hits`` passages shown.

    Replacing a word the index lacks is worth showing even when, the other
    words being OR-ed, it finds no more passages; replacing a rare word must.
    """
    from searcher.errors import QueryError

    suggestion = suggest(session, parsed, hits)
    if suggestion is None:
        return None
    try:
        found = len(session.search(suggestion.text, limit=hits + 1, per_file=per_file, highlight=False).hits)
    except QueryError:
        return None
    if found == 0 or (found <= hits and not all(c.unknown for c in suggestion.corrections)):
        return None
    return suggestion


def has_unknown_words(reader, parsed: ParsedQuery) -> bool:
    """True when a word the query looks up is in no passage of the index (``reader``: an open whoosh reader)."""
    words = query_words(parsed, reader)
    return any(_frequency(reader, fields, word) == 0 for word, fields in words.items())
