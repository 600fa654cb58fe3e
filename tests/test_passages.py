"""Property tests of the passage mapping: text, character offsets and line numbers agree."""

from __future__ import annotations

import re
from bisect import bisect_right

from hypothesis import given, settings
from hypothesis import strategies as st

from searcher.index.text.passages import MAX_SENTENCE_CHARS, _split_passages, sentence_spans, split_passages
from searcher.index.reading.reader import decode_text

WORDS = st.sampled_from([
    "Japan", "the", "rule", "of", "law", "Dr.", "Mr.", "e.g.", "U.S.", "3.14", "Šimonytė", "naïve",
    "x", "co-operation", "(see", "above)", "\u201cquoted\u201d", "it's", "1999.", "Ukraine", "a.m.",
])
ENDINGS = st.sampled_from([".", "!", "?", "...", ".\u201d", "", ":", ";"])
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def sentences(draw):
    words = draw(st.lists(WORDS, min_size=1, max_size=25))
    return " ".join(words) + draw(ENDINGS)


@st.composite
def raw_documents(draw):
    """Paragraphs of sentences, wrapped at random, with any mix of line endings and blank lines."""
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        text = " ".join(draw(st.lists(sentences(), min_size=1, max_size=8)))
        words = text.split(" ")
        lines, line = [], []
        for word in words:
            line.append(word)
            if draw(st.integers(0, 9)) == 0:
                lines.append(" ".join(line))
                line = []
        lines.append(" ".join(line))
        newline = draw(NEWLINES)
        indent = draw(st.sampled_from(["", "  ", "\t"]))
        parts.append(newline.join(indent + ln for ln in lines))
        parts.append(draw(NEWLINES) * draw(st.integers(1, 3)) + draw(st.sampled_from(["", " ", "\t \n"])))
    return "".join(parts)


ANY_TEXT = st.text(alphabet=st.sampled_from(list("ab .!?\n\r\t\u00a0\u2028\"'A1")), max_size=400)


def check_passages(text: str):
    passages = split_passages(text)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(char):
        return bisect_right(line_starts, char)

    previous_end = 0
    for number, p in enumerate(passages):
        assert p.position == number
        assert p.text == text[p.start_char:p.end_char]
        assert p.text and p.text == p.text.strip()
        assert p.start_line == line_of(p.start_char)
        assert p.end_line == line_of(p.end_char - 1)
        assert p.start_line <= p.end_line
        assert previous_end <= p.start_char  # in order, never overlapping
        previous_end = p.end_char
    # Nothing is lost: every visible character is in exactly one passage.
    covered = [0] * len(text)
    for p in passages:
        for i in range(p.start_char, p.end_char):
            covered[i] += 1
    for i, ch in enumerate(text):
        if not ch.isspace():
            assert covered[i] == 1, (i, ch)
    # Skipping the sentence splitter where a whole paragraph joins a passage changes nothing.
    assert passages == _split_passages(text, shortcut=False)
    # No sentence is cut: each sentence lies inside one passage.
    for start, end in sentence_spans(text):
        chunk = text[start:end]
        if not chunk.strip():
            continue
        start += len(chunk) - len(chunk.lstrip())
        end = start + len(chunk.strip())
        assert any(p.start_char <= start and end <= p.end_char for p in passages), text[start:end]
    return passages


@settings(max_examples=100, deadline=None)
@given(raw_documents())
def test_passages_of_documents(raw):
    # The reader turns any line endings into "\n" without moving a line.
    text = decode_text(raw.encode("utf-8")) if raw else raw
    assert text.split("\n") == re.split(r"\r\n|\r|\n", raw)
    check_passages(text)


@settings(max_examples=100, deadline=None)
@given(ANY_TEXT)
def test_passages_of_any_text(raw):
    check_passages(raw.replace("\r\n", "\n").replace("\r", "\n"))


def test_long_sentence_is_cut_at_whitespace_into_bounded_passages():
    text = "word " * 3000 + "end."
    passages = check_passages(text)
    assert len(passages) > 1
    assert all(len(p.text) <= MAX_SENTENCE_CHARS for p in passages)
    assert all(not p.text.startswith("ord") for p in passages)  # not cut inside a word


def test_line_numbers_of_a_known_text():
    text = "Title line\n\nFirst sentence here. Second one.\nThird on line four.\n\n\nLast paragraph."
    passages = split_passages(text)
    assert passages[0].start_line == 1
    assert passages[-1].end_line == 7
    assert passages[-1].text.endswith("Last paragraph.")


@settings(max_examples=60, deadline=None)
@given(st.lists(raw_documents(), min_size=1, max_size=4))
def test_remembered_punkt_decisions_split_as_punkt_does(raws):
    """The splitter remembers Punkt's decision per context: after any earlier texts
    (whose contexts it remembers), it finds the sentences a fresh Punkt finds."""
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    from searcher.index.text.passages import _sentence_splitter

    remembering = _sentence_splitter()
    fresh = PunktSentenceTokenizer(remembering._params)
    for raw in raws + raws:  # the second time round, every decision is a remembered one
        for paragraph in re.split(r"\n\s*\n", raw.replace("\r", "\n")):
            if paragraph.strip():
                assert list(remembering.span_tokenize(paragraph)) == list(fresh.span_tokenize(paragraph))


def test_punkt_decisions_are_remembered():
    from searcher.index.text.passages import _sentence_splitter

    splitter = _sentence_splitter()
    text = "Wings stall at high angles. The flow separates, e.g. near the tip. Dr. Smith said so."
    first = list(splitter.span_tokenize(text))
    assert "e.g. near" in splitter.decisions and "Dr. Smith" in splitter.decisions
    assert "angles. The" not in splitter.decisions  # after a plain word: decided without Punkt
    assert list(splitter.span_tokenize(text)) == first and len(first) == 3


_NON_WORD = ")\";}]*:@'({[!?"
_WORDS = st.one_of(st.text("abcXYZéß.", min_size=1, max_size=6), st.sampled_from(["etc", "Dr", "e.g", "vs", "A", "I"]))
_NEXT = st.one_of(st.sampled_from(list(_NON_WORD)),
                  st.tuples(st.sampled_from([" ", "  ", "\n", "\t", "\u00a0"]),
                            st.text("aZ1.,-'\"()?!…é", min_size=1, max_size=5)).map("".join))


@settings(max_examples=400, deadline=None)
@given(_WORDS, st.sampled_from([".", "?", "!"]), _NEXT)
def test_decisions_after_a_plain_word_are_punkts(word, end, after):
    """The contexts decided without Punkt's annotation (a plain word before the end) get
    Punkt's own decision, as do all others."""
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    from searcher.index.text.passages import _sentence_splitter

    remembering = _sentence_splitter()
    fresh = PunktSentenceTokenizer(remembering._params)
    context = word + end + after
    assert remembering.text_contains_sentbreak(context) == fresh.text_contains_sentbreak(context)
    # And a whole text with such a candidate splits as Punkt splits it.
    text = f"Some words {context} and more words here. Then an end."
    assert list(remembering.span_tokenize(text)) == list(fresh.span_tokenize(text))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["alpha", "beta", "Gamma", "x1", "(note)", "a-b", "\n", "\n\n", ",", ";", " ", "end."]),
                min_size=250, max_size=900))
def test_long_paragraphs_with_few_or_no_sentence_ends(words):
    """Paragraphs longer than a passage, many with no ".", "?" or "!" (which go without Punkt):
    the passages Punkt's sentences give."""
    check_passages(" ".join(words))
