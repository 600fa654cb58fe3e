"""What a run left out and why: a few summary lines by reason and by file type."""

from __future__ import annotations

import os
from collections import Counter

# Reason for files whose type searcher does not read (counted, never listed one by one).
UNSUPPORTED = "not a supported format"
# Compression suffixes that belong to the extension shown: "README.md.gz" is a ".md.gz".
_COMPRESSED = frozenset({".gz"})


def extension_of(path: str) -> str:
    """``"a/README.md.gz"`` -> ``".md.gz"``; ``"a/copyright"`` -> ``"(no extension)"``."""
    name = os.path.basename(path)
    stem, ext = os.path.splitext(name)
    if ext.lower() in _COMPRESSED:
        inner = os.path.splitext(stem)[1]
        return (inner + ext).lower() if inner else ext.lower()
    return ext.lower() or "(no extension)"


def summary_lines(skipped, unsupported: Counter | None = None, max_types: int = 5) -> list[str]:
    """``skipped``: (path, reason) pairs; ``unsupported``: files by extension left out unread.

    One line per reason, most frequent first, with its commonest extensions.
    """
    by_reason: dict[str, Counter] = {}
    for path, reason in skipped:
        by_reason.setdefault(_reason_key(reason), Counter())[extension_of(path)] += 1
    if unsupported:
        by_reason.setdefault(UNSUPPORTED, Counter()).update(unsupported)
    lines = []
    for reason, types in sorted(by_reason.items(), key=lambda item: (-sum(item[1].values()), item[0])):
        shown = sorted(types.items(), key=lambda item: (-item[1], item[0]))
        parts = [f"{count} {ext}" for ext, count in shown[:max_types]]
        if len(shown) > max_types:
            parts.append(f"{sum(c for _, c in shown[max_types:])} other")
        lines.append(f"  {sum(types.values())} {reason} ({', '.join(parts)})")
    return lines


def _reason_key(reason: str) -> str:
    # "unreadable PDF: <detail>" and "could not be processed (<detail>)": one line each kind.
    if reason.startswith("could not be processed ("):
        return "could not be processed"
    return reason.split(": ", 1)[0]
