"""Chinese, Japanese and Korean text: runs of Han, Kana and Hangul as overlapping bigrams.

These scripts do not put spaces between words, so a run of them is one ``\\w+`` match,
and a word inside it would never be found. Without a dictionary (none is made for all
three languages, and each is tens of megabytes), the standard answer is character
bigrams, as Lucene's CJK analyzer does: ``東京都庁`` is indexed as ``東京 京都 都庁 庁``
at consecutive positions, and a query of two or more characters as its bigrams at
consecutive positions (a phrase), so ``京都`` matches and so does ``東京都``.

Indexing adds the run's last character alone (``庁``) after its bigrams, so that
each character of a run starts exactly one token: a one-character query is then the
tokens starting with that character (``CJKChar``) and finds it anywhere in a run,
at one token per character, as the bigrams alone cost. A run of one character is that
character in both modes.

STABLE MODULE (like index/text/analysis.py): the tokenizer pickled into an index calls it.
"""

from __future__ import annotations

import re
import unicodedata

# Hangul Jamo, CJK symbols' iteration marks (々〆〇), Hiragana, Katakana, Hangul
# compatibility Jamo, Katakana extensions, CJK Extension A, Unified Ideographs,
# Hangul syllables, compatibility ideographs, half-width Katakana, Extensions B-F and
# compatibility supplement.
CJK_CLASS = ("\u1100-\u11ff\u3005-\u3007\u3040-\u309f\u30a0-\u30ff\u3130-\u318f\u31f0-\u31ff"
             "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
             "\U00020000-\U0002fa1f")
CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")


def has_cjk(text: str) -> bool:
    return not text.isascii() and _CJK_CHAR.search(text) is not None


def is_cjk(text: str) -> bool:
    """True when ``text`` (a term) starts with a CJK character: terms are all CJK or none."""
    return bool(text) and _CJK_CHAR.match(text) is not None


def fold_cjk(term: str) -> str:
    """The normal form of a CJK term: NFKC (half-width Katakana, compatibility ideographs),
    not the accent stripping of other words, which would take the voicing marks off Kana
    (が → か) and split Hangul syllables into Jamo, so that 하 would start 한국's bigram."""
    return unicodedata.normalize("NFKC", term)


def pieces(word: str, start: int, query: bool, word_pattern) -> list[tuple[str, int, int]]:
    """(text, start, end) of the tokens of ``word`` (a WORD_PATTERN match at ``start``):
    its CJK runs as bigrams, its other parts as words (of ``word_pattern``)."""
    found: list[tuple[str, int, int]] = []
    cursor = 0
    for run in CJK_RUN.finditer(word):
        if run.start() > cursor:
            found.extend((m.group(), start + cursor + m.start(), start + cursor + m.end())
                         for m in word_pattern.finditer(word[cursor:run.start()]))
        text, offset = run.group(), start + run.start()
        if len(text) == 1:
            found.append((text, offset, offset + 1))
        else:
            found.extend((text[i:i + 2], offset + i, offset + i + 2) for i in range(len(text) - 1))
            if not query:
                found.append((text[-1], offset + len(text) - 1, offset + len(text)))
        cursor = run.end()
    if cursor < len(word):
        found.extend((m.group(), start + cursor + m.start(), start + cursor + m.end())
                     for m in word_pattern.finditer(word[cursor:]))
    return found


def index_words(findall, word_pattern):
    """``findall`` (text -> words) with each word holding CJK split as indexing splits it."""

    def words(text: str) -> list[str]:
        found = findall(text)
        if text.isascii() or _CJK_CHAR.search(text) is None:
            return found
        out: list[str] = []
        for word in found:
            if word.isascii() or _CJK_CHAR.search(word) is None:
                out.append(word)
            else:
                out.extend(piece for piece, _, _ in pieces(word, 0, False, word_pattern))
        return out

    return words
