"""Finding what to highlight in a passage, and cutting it into short fragments.

Highlights are computed by running the index's own analyzer over the stored
passage text, so the original surface words are marked ("Šimonytė" for a
query "simonyte", "Russia’s" for "russia") with their exact character offsets.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass

Span = tuple[int, int]


@dataclass
class MatchTerms:
    """What a query asks to highlight: loose terms per field, and phrases.

    A phrase is (fieldname, analysed words, slop, ordered): an exact phrase
    has slop 1 and is ordered; ``"a b"~N`` has slop N and any order.
    """

    loose: dict[str, set[str]]
    phrases: list[tuple[str, tuple[str, ...], int, bool]]


@dataclass(frozen=True)
class Fragment:
    start: int
    end: int
    spans: tuple[Span, ...]  # offsets into the passage text


def match_terms(plan) -> MatchTerms:
    """What ``plan`` (a searcher.engine.plan.QueryPlan) asks to highlight: never the words it excludes."""
    loose, phrases = plan.highlights()
    return MatchTerms(loose, phrases)


def highlight_spans(text: str, fieldname: str, analyzer, terms: MatchTerms) -> list[Span]:
    """Character spans of ``text`` matching the loose terms or the phrases of ``terms``.

    A phrase marks only its words where they occur as the phrase (or within
    the proximity window), not every occurrence of them in the passage.
    """
    tokens = _tokens_of(analyzer)(text)
    loose = terms.loose.get(fieldname, set())
    spans = {(start, end) for _, word, start, end in tokens if word in loose}
    if loose and not text.isascii():  # a one-character CJK query marks its character in bigrams
        from searcher.parse.cjk import character_spans

        spans.update(character_spans(tokens, loose))
    chars = {pos: (start, end) for pos, _, start, end in tokens}
    for phrase_field, words, slop, ordered in terms.phrases:
        if phrase_field == fieldname and words:
            spans.update(chars[pos] for pos in phrase_positions(tokens, words, slop, ordered))
    return _merge_adjacent(sorted(spans), text)


# Analyzers' token functions, by id (see index.text.analysis.kept_for).
_fast_tokens: dict[int, tuple] = {}


def _tokens_of(analyzer):
    """A function text -> (position, term, start, end) of the tokens ``analyzer`` makes."""
    from searcher.index.text.analysis import kept_for

    return kept_for(_fast_tokens, analyzer, _make_tokens)


def _make_tokens(analyzer):
    from searcher.index.text.analysis import fast_tokens

    tokens = fast_tokens(analyzer)
    if tokens is None:  # another analyzer: its own tokens
        def tokens(text):
            return [(t.pos, t.text, t.startchar, t.endchar)
                    for t in analyzer(text, positions=True, chars=True, mode="index")]
    return tokens


# Proximity matching is combinatorial; a passage is a few sentences, but a
# pathological one (the same word hundreds of times) must not stall output.
_MAX_PARTIAL_MATCHES = 2000


def phrase_positions(tokens, words, slop: int, ordered: bool = True) -> set[int]:
    """Token positions that take part in a match of the phrase ``words``.

    Mirrors whoosh's SpanNear2: a match grows word by word, each next word
    1..``slop`` positions outside the span matched so far (after it, if
    ``ordered``). ``tokens`` are (position, word, start, end).
    """
    where: dict[str, list[int]] = defaultdict(list)
    for pos, word, _, _ in tokens:
        where[word].append(pos)
    partial = {(pos, pos, frozenset((pos,))) for pos in where.get(words[0], ())}
    for word in words[1:]:
        grown = set()
        for start, end, used in partial:
            for pos in where.get(word, ()):
                if pos > end:
                    distance = pos - end
                elif pos < start and not ordered:
                    distance = start - pos
                else:
                    continue
                if distance <= slop:
                    grown.add((min(start, pos), max(end, pos), used | {pos}))
        partial = set(list(grown)[:_MAX_PARTIAL_MATCHES])
        if not partial:
            return set()
    return set().union(*(used for _, _, used in partial))


def near_match(where: dict, words, slop: int, ordered: bool = False) -> bool:
    """Whether the positions ``where`` ({word: its positions, ascending}) hold a match of
    ``words``, grown as in ``phrase_positions`` (searcher/engine/phrases.py's ``match_near``).

    Depth first, stopping at the first whole match: a passage holding a common word many
    times matches at once where growing every partial match word by word made thousands
    of them (``"the the the"~1000`` took seconds). A partial match already seen is not
    grown again, so a passage with no match costs no more than growing them all did,
    and at most _MAX_PARTIAL_MATCHES per word are grown.
    """
    lists = [where.get(word, ()) for word in words]
    if not all(lists):
        return False
    last = len(lists)
    seen: set[tuple[int, int, int]] = set()
    budget = _MAX_PARTIAL_MATCHES * last
    stack = [(1, pos, pos) for pos in reversed(lists[0])]
    while stack:
        k, start, end = stack.pop()
        if k == last:
            return True
        if (k, start, end) in seen:
            continue
        seen.add((k, start, end))
        budget -= 1
        if budget < 0:
            return False
        positions = lists[k]
        # after the span: end < pos <= end + slop
        after = positions[bisect_right(positions, end):bisect_right(positions, end + slop)]
        # before it (unordered): start - slop <= pos < start
        before = positions[bisect_left(positions, start - slop):bisect_left(positions, start)] if not ordered else ()
        stack.extend((k + 1, pos, end) for pos in reversed(before))
        stack.extend((k + 1, start, pos) for pos in reversed(after))
    return False


def _merge_adjacent(spans: list[Span], text: str) -> list[Span]:
    """Join spans separated only by spaces or hyphens, so a phrase shows as one mark."""
    merged: list[Span] = []
    for start, end in spans:
        if merged and text[merged[-1][1]:start].strip(" -\u2010\u2011") == "" and start - merged[-1][1] <= 2:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))  # (CJK bigrams overlap)
        else:
            merged.append((start, end))
    return merged


def fragments(text: str, spans: list[Span], width: int = 220, most: int = 2) -> list[Fragment]:
    """The ``most`` windows of about ``width`` characters that show the most distinct matches."""
    if not spans:
        end = _word_end(text, min(len(text), width))
        return [Fragment(0, end, ())]
    candidates = []
    for first, _ in spans:
        start = _word_start(text, max(0, first - width // 4))
        end = _word_end(text, min(len(text), start + width))
        inside = tuple(s for s in spans if s[0] >= start and s[1] <= end)
        distinct = len({text[s:e].casefold() for s, e in inside})
        candidates.append((-distinct, -len(inside), start, end, inside))
    candidates.sort()
    chosen: list[Fragment] = []
    for _, _, start, end, inside in candidates:
        if any(start < f.end and f.start < end for f in chosen):
            continue
        chosen.append(Fragment(start, end, inside))
        if len(chosen) == most:
            break
    return sorted(chosen, key=lambda f: f.start)


def _word_start(text: str, i: int) -> int:
    if i <= 0:
        return 0
    space = text.rfind(" ", 0, i)
    return space + 1 if space >= 0 and i - space < 20 else i


def _word_end(text: str, i: int) -> int:
    if i >= len(text):
        return len(text)
    space = text.find(" ", i)
    return space if 0 <= space and space - i < 20 else i
