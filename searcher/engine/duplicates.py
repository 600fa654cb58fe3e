"""Near-duplicate passages among the hits: the same text in two files (a Sphinx page and its
``_sources/page.rst.txt``, ``refman.pdf`` and ``fullrefman.pdf``) is one hit naming its copies.

Two passages are copies when most word pairs of the shorter one are also in the other
(containment of word 2-shingles). Passages of two files rarely share their boundaries, so
the shorter one's containment, not the Jaccard similarity, is compared; markup that one
form has and the other lacks (reST roles and directives, Sphinx's ``¶``) is dropped first.
Measured on the Python docs: at 0.5, most pairs above the line are real
copies (a page and its source, a sidebar and the page it lists, an example quoted in
"What's New"), while a page and its source share that much for about 6 hits in 10.
"""

from __future__ import annotations

import re
from collections import defaultdict

# The shorter passage's word pairs that must be in the other one for the two to be copies.
MIN_CONTAINMENT = 0.5
# Below this many word pairs a passage is too short for a share to mean much (a heading, a
# breadcrumb line): it is a copy only when nearly all of it is in the other.
SHORT = 20
MIN_CONTAINMENT_SHORT = 0.9

_MARKUP = re.compile(r"(?::[\w.+-]+)+:`~?|^[ \t]*\.\. [\w:-]+::|¶", re.MULTILINE)
_WORD = re.compile(r"\w+")


def fingerprint(text: str) -> frozenset:
    """The passage's word pairs (casefolded, markup left out): what copies share."""
    words = _WORD.findall(_MARKUP.sub(" ", text).casefold())
    if len(words) < 2:
        return frozenset(words)
    return frozenset(zip(words, words[1:]))


def are_copies(a: frozenset, b: frozenset) -> bool:
    """True when fingerprints ``a`` and ``b`` are of near-duplicate passages."""
    return _enough(len(a & b), len(a), len(b))


def _enough(shared: int, a: int, b: int) -> bool:
    small = min(a, b)
    return small > 0 and shared >= small * (MIN_CONTAINMENT if small >= SHORT else MIN_CONTAINMENT_SHORT)


def group_copies(texts: list[str], paths: list[str]) -> list[list[int]]:
    """Indexes of ``texts`` (hits, best first) grouped: each group starts with its best hit,
    followed by that hit's copies in other files, in rank order. Groups come in the order of
    their first hit. Each hit is compared with the first hit of the groups before it only, so
    the groups of the first N hits are the first groups of any longer list (pages agree).
    """
    groups: list[list[int]] = []
    prints: list[frozenset] = []  # of each group's first hit
    # word pair -> groups whose first hit holds it: a hit is compared only with the groups
    # it shares a pair with.
    holders: dict = defaultdict(list)
    for i, text in enumerate(texts):
        mine = fingerprint(text)
        counts: dict[int, int] = defaultdict(int)
        for pair in mine:
            for g in holders.get(pair, ()):
                counts[g] += 1
        home = None
        for g in sorted(counts):
            if paths[groups[g][0]] != paths[i] and _enough(counts[g], len(mine), len(prints[g])):
                home = g
                break
        if home is not None:
            groups[home].append(i)
            continue
        groups.append([i])
        prints.append(mine)
        for pair in mine:
            holders[pair].append(len(groups) - 1)
    return groups
