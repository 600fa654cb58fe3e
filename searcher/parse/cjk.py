"""One-character CJK queries, and their highlights (the analysis is index/text/cjk.py's).

A run of CJK text is indexed as its bigrams and its last character, so every character
of a run starts exactly one token: a one-character query matches the tokens it starts.
"""

from __future__ import annotations

from whoosh import query as wq

from searcher.index.text.cjk import is_cjk


class CJKChar(wq.Prefix):
    """One CJK character: every indexed token (a bigram, or a run's last character) it starts.

    Highlights mark the character, not the bigrams (searcher/engine/plan.py ``Pattern.marks``,
    ``character_spans``).
    """

    def _btexts(self, ixreader):
        for btext in ixreader.expand_prefix(self.fieldname, self.text):
            if len(btext.decode("utf-8")) <= 2:
                yield btext


def one_character_queries(q):
    """A query term that is one CJK character becomes a CJKChar."""

    def convert(node):
        if (type(node) is wq.Term and isinstance(node.text, str) and len(node.text) == 1
                and is_cjk(node.text)):
            return CJKChar(node.fieldname, node.text, boost=node.boost)
        return node

    return q.accept(convert)


def character_spans(tokens, loose: set[str]) -> set[tuple[int, int]]:
    """Spans of the one-character CJK terms of ``loose`` in ``tokens`` (pos, text, start, end):
    the first character of each token they start."""
    single = {term for term in loose if len(term) == 1 and is_cjk(term)}
    if not single:
        return set()
    return {(start, start + 1) for _pos, text, start, _end in tokens if text[:1] in single and is_cjk(text)}
