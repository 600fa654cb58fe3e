"""Splitting a document into passages of a few whole sentences, each mapped to its lines."""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

# A passage grows sentence by sentence up to TARGET_CHARS; a paragraph shorter
# than MIN_CHARS (a heading, a dateline) joins the next one instead of standing
# alone. A "sentence" longer than MAX_SENTENCE_CHARS (a table, a minified file)
# is cut at whitespace so no passage grows without bound.
TARGET_CHARS = 600
MIN_CHARS = 200
MAX_SENTENCE_CHARS = 2000

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v]*\n\s*")

# Punkt's untrained model does not know these, and would end a sentence at them.
_ABBREVIATIONS = """
mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al fig figs eq eqs no nos
vol vols pp p ed eds rev gen col lt capt sgt gov sen rep inc ltd co corp dept
univ jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.u approx
""".split()


@dataclass(frozen=True)
class Passage:
    text: str
    start_char: int
    end_char: int
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    position: int  # 0-based order of the passage in its document


# Punkt decides each candidate break from a short context (the word before, the
# punctuation, the word after) alone; those contexts repeat across files ("al. (",
# "pressure. The"), and deciding one is half of Punkt's time. Decisions are kept for
# contexts up to this long, and forgotten all at once past this many.
_CONTEXT_CHARS = 100
_CONTEXTS = 200_000


# A context Punkt is asked about (text_contains_sentbreak) is the word before a candidate
# end (".", "?" or "!"), the end, and what follows: a punctuation mark of Punkt's
# non-word set, or space and the next token. Two thirds of them start with a plain word:
# two or more ASCII letters, right before the end, which is right before that mark or
# space (not "Japan..." nor "abc.def.": there the word is not the first token). Such a word, unless an abbreviation, is a sentence break for the
# untrained Punkt used here, whatever the word and whatever follows: its first pass marks
# "word." as a break (a token ending in a period that is no abbreviation, no ellipsis), or
# "?"/"!" after "word"; its second pass changes that only for abbreviations, ellipses,
# initials ("J.") and numbers, or from what training learns (collocations, sentence
# starters, orthographic context), which is empty here; and the context always holds a
# token after the break (the punctuation mark or the next token), so it "contains a
# sentence break". tests/test_passages.py checks this against Punkt's own decisions.
# Punkt's candidate ends (``PunktLanguageVars.sent_end_chars``); a paragraph with none is one sentence.
_SENT_END_CHARS = (".", "?", "!")
_NO_CANDIDATE = re.compile(r"[^.?!]*\Z").match
_PLAIN_WORD_END = re.compile(r"([A-Za-z]{2,})[.?!](?=[\s)\";}\]*:@'({\[!?])").match
_ABBREVIATION_SET = frozenset(_ABBREVIATIONS)


@lru_cache(maxsize=1)
def _sentence_splitter():
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    class RememberingPunkt(PunktSentenceTokenizer):
        """Punkt, remembering its decision for each context it has seen (a pure function
        of the context's text, for fixed parameters), and deciding without its
        annotation the contexts after a plain word (``_PLAIN_WORD_END``)."""

        def __init__(self, params):
            super().__init__(params)
            self.decisions: dict[str, bool] = {}
            self.shortcuts = False

        def text_contains_sentbreak(self, text: str) -> bool:
            plain = _PLAIN_WORD_END(text) if self.shortcuts else None
            if plain is not None and plain.group(1).lower() not in _ABBREVIATION_SET:
                return True
            decision = self.decisions.get(text)
            if decision is None:
                decision = super().text_contains_sentbreak(text)
                if len(text) <= _CONTEXT_CHARS:
                    if len(self.decisions) >= _CONTEXTS:
                        self.decisions.clear()
                    self.decisions[text] = decision
            return decision

    params = PunktParameters()
    params.abbrev_types = set(_ABBREVIATIONS)
    splitter = RememberingPunkt(params)
    # The shortcuts above read the rules of nltk's Punkt (3.8-3.10): another candidate
    # set means other rules, and Punkt decides everything itself.
    splitter.shortcuts = tuple(splitter._lang_vars.sent_end_chars) == _SENT_END_CHARS
    return splitter


# Punkt's cost grows faster than linearly on one huge paragraph, and nltk (3.10+)
# gives each of its regular expressions 5 s: a 10 MB log with no blank line ended
# a whole run. Longer paragraphs are cut at a line break (else at a space) first.
MAX_PARAGRAPH_CHARS = 100_000


def max_paragraph_chars() -> int:
    """MAX_PARAGRAPH_CHARS, or SEARCHER_MAX_PARAGRAPH from the environment (tests lower it)."""
    try:
        return max(int(os.environ.get("SEARCHER_MAX_PARAGRAPH", MAX_PARAGRAPH_CHARS)), 1000)
    except ValueError:
        return MAX_PARAGRAPH_CHARS


def _paragraph_spans(text: str):
    limit = max_paragraph_chars()
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        yield from _bounded(text, start, match.start(), limit)
        start = match.end()
    yield from _bounded(text, start, len(text), limit)


def _bounded(text: str, start: int, end: int, limit: int):
    while end - start > limit:
        cut = text.rfind("\n", start + limit // 2, start + limit)
        if cut < 0:
            cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = cut + 1 if cut >= 0 else start + limit
        yield start, cut
        start = cut
    yield start, end


def _cut_long(start: int, end: int, text: str):
    """Cut an over-long span at whitespace near MAX_SENTENCE_CHARS."""
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
        if cut <= start:
            cut = start + MAX_SENTENCE_CHARS
        yield start, cut
        start = cut
    yield start, end


def sentence_spans(text: str):
    """(start, end) character spans of the sentences of ``text``, in order."""
    return _sentence_spans(text, None)


def _sentence_spans(text: str, joins_whole):
    """sentence_spans; a paragraph for which ``joins_whole(start, last_end)`` is true
    comes as one span from its start to its last visible character."""
    splitter = None
    for para_start, para_end in _paragraph_spans(text):
        paragraph = text[para_start:para_end]
        if not paragraph.strip():
            continue
        last_end = para_start + len(paragraph.rstrip())
        if joins_whole is not None and joins_whole(para_start, last_end):
            # Punkt is the slowest step of indexing, and its sentences would all go
            # into the current passage anyway. Its first sentence starts at the
            # paragraph's start and its last ends at the last visible character,
            # so the passage comes out the same (tests/test_passages.py checks).
            yield para_start, last_end
        elif joins_whole is not None and _NO_CANDIDATE(paragraph) and _sentence_splitter().shortcuts:
            # No ".", "?" or "!": Punkt finds no candidate end, and its one sentence
            # runs from the paragraph's start to its last visible character.
            yield from _cut_long(para_start, last_end, text)
        else:
            splitter = splitter or _sentence_splitter()
            for start, end in splitter.span_tokenize(paragraph):
                yield from _cut_long(para_start + start, para_start + end, text)
        # A paragraph end is a hard boundary between sentences.
        yield para_end, para_end


def split_passages(text: str) -> list[Passage]:
    """Group the sentences of ``text`` into passages that never cut a sentence."""
    return _split_passages(text, shortcut=True)


def _split_passages(text: str, shortcut: bool) -> list[Passage]:
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(char: int) -> int:
        return bisect_right(line_starts, char)

    passages: list[Passage] = []
    current: list[tuple[int, int]] = []

    def flush():
        if not current:
            return
        start, end = current[0][0], current[-1][1]
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped:
            start += len(chunk) - len(chunk.lstrip())
            end = start + len(stripped)
            passages.append(Passage(stripped, start, end, line_of(start), line_of(end - 1), len(passages)))
        current.clear()

    def size() -> int:
        return current[-1][1] - current[0][0] if current else 0

    def joins_whole(para_start: int, last_end: int) -> bool:
        # No sentence of the paragraph can end the current passage early: see the loop below.
        return last_end - (current[0][0] if current else para_start) <= TARGET_CHARS

    for start, end in _sentence_spans(text, joins_whole if shortcut else None):
        if start == end:  # paragraph boundary
            if size() >= MIN_CHARS:
                flush()
            continue
        if current and size() + (end - start) > TARGET_CHARS and size() >= MIN_CHARS:
            flush()
        current.append((start, end))
    flush()
    return passages


def passage_sections(passages: list[Passage], headings) -> list[str | None]:
    """Each passage's section: the text of the nearest heading at or above its first line.

    ``headings`` is ``Document.headings``, (line, level, text) sorted by line. A passage
    before the first heading has none.
    """
    from searcher.index.reading.outline import section_at

    lines = [line for line, _, _ in headings]
    return [section_at(headings, lines, passage.start_line) for passage in passages]


def document_title(text: str, title: str | None = None, max_len: int = 200) -> str:
    """The format's own title, else the first non-empty line, shortened."""
    if not title or not title.strip():
        title = next((line for line in text.split("\n") if line.strip()), "")
    title = " ".join(title.split()).lstrip("#").strip()
    return title if len(title) <= max_len else title[: max_len - 1].rstrip() + "…"
