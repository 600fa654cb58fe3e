"""Finding what to highlight in a passage, and cutting it into short fragments.

Highlights are computed by running the index's own analyzer over the stored
passage text, so the original surface words are marked ("Šimonytė" for a
query "simonyte", "Russia’s" for "russia") with their exact character offsets.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from whoosh import query as wq

Span = tuple[int, int]


@dataclass
class MatchTerms:
    """What a query asks to highlight: loose terms per field, and phrases."""

    loose: dict[str, set[str]]
    phrases: list[tuple[str, tuple[str, ...], int]]


@dataclass(frozen=True)
class Fragment:
    start: int
    end: int
    spans: tuple[Span, ...]  # offsets into the passage text


def _text(term) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def match_terms(q, reader) -> MatchTerms:
    loose: dict[str, set[str]] = defaultdict(set)
    phrases: list[tuple[str, tuple[str, ...], int]] = []

    def collect(node):
        if isinstance(node, wq.Not):
            return  # words the user excluded are never highlighted
        if isinstance(node, wq.AndNot):
            collect(node.a)
            return
        if isinstance(node, wq.Phrase):
            phrases.append((node.fieldname, tuple(node.words), node.slop))
            return
        if node.is_leaf():
            try:
                terms = node.existing_terms(reader, expand=True)
            except Exception:  # e.g. a pattern whoosh cannot expand: nothing to mark
                terms = ()
            for fieldname, text in terms:
                loose[fieldname].add(_text(text))
            return
        for child in node.children():
            collect(child)

    collect(q)
    return MatchTerms(dict(loose), phrases)


def highlight_spans(text: str, fieldname: str, analyzer, terms: MatchTerms) -> list[Span]:
    """Character spans of ``text`` matching the loose terms or the phrases of ``terms``."""
    tokens = [(t.pos, t.text, t.startchar, t.endchar)
              for t in analyzer(text, positions=True, chars=True, mode="index")]
    loose = terms.loose.get(fieldname, set())
    spans = {(start, end) for _, word, start, end in tokens if word in loose}
    for phrase_field, words, slop in terms.phrases:
        if phrase_field == fieldname and words:
            spans.update(_phrase_spans(tokens, words, slop))
    return _merge_adjacent(sorted(spans), text)


def _phrase_spans(tokens, words, slop) -> set[Span]:
    found: set[Span] = set()
    by_pos = {pos: (word, start, end) for pos, word, start, end in tokens}
    if slop <= 1:
        n = len(words)
        for i in range(len(tokens) - n + 1):
            if all(tokens[i + k][1] == words[k] for k in range(n)):
                found.update((tokens[i + k][2], tokens[i + k][3]) for k in range(n))
        return found
    # Proximity: mark the words that occur within the window of a first word.
    wanted = set(words)
    for pos, word, start, end in tokens:
        if word != words[0]:
            continue
        window = [by_pos[p] for p in range(pos - slop, pos + slop + len(words)) if p in by_pos]
        present = {w for w, _, _ in window if w in wanted}
        if present == wanted:
            found.update((s, e) for w, s, e in window if w in wanted)
    return found


def _merge_adjacent(spans: list[Span], text: str) -> list[Span]:
    """Join spans separated only by spaces or hyphens, so a phrase shows as one mark."""
    merged: list[Span] = []
    for start, end in spans:
        if merged and text[merged[-1][1]:start].strip(" -\u2010\u2011") == "" and start - merged[-1][1] <= 2:
            merged[-1] = (merged[-1][0], end)
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
