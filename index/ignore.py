"""Ignore files, as ripgrep reads them: ``.gitignore``, ``.ignore`` and ``.searcherignore``.

Each holds gitignore patterns (``*.log``, ``build/``, ``/top-only``, ``**/tmp``,
``!keep.log``) that apply to the folder it is in and everything below it. In one folder,
``.ignore`` overrides ``.gitignore`` and ``.searcherignore`` overrides both (their
patterns are read in that order and the last match wins, as in one gitignore file); a
deeper folder's files override its parents'. A folder that is ignored is not entered, so
as in git a file inside it cannot be brought back by ``!``.

Above a folder given to `searcher index`, the ignore files of its parents count too, up
to the top of the git repository it is in (a folder holding ``.git``); outside a
repository only the given folder and what is below it.

Matching is pathspec's (a maintained implementation of git's wildmatch rules):
``GitIgnoreSpec`` keeps git's edge cases, such as a negation re-including a file whose
folder pattern would otherwise match it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

IGNORE_FILES = (".gitignore", ".ignore", ".searcherignore")  # lowest precedence first


@dataclass(frozen=True)
class Rule:
    """One line of an ignore file: what `searcher index --dry-run --verbose` names."""

    source: str  # the ignore file's path
    line: int
    pattern: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.pattern}"


class FolderRules:
    """The patterns of the ignore files in one folder."""

    __slots__ = ("base", "spec", "rules")

    def __init__(self, base: str, spec, rules: list[Rule]):
        self.base = base if base.endswith(os.sep) else base + os.sep
        self.spec = spec
        self.rules = rules

    def check(self, path: str, is_dir: bool) -> tuple[bool, Rule] | None:
        """(ignored?, the deciding rule) for ``path`` below this folder; None if no pattern matches."""
        rel = path[len(self.base):]
        if os.sep != "/":
            rel = rel.replace(os.sep, "/")
        result = self.spec.check_file(rel + "/" if is_dir else rel)
        if result.include is None:
            return None
        return result.include, self.rules[result.index]


def load_folder(folder: str, names=None) -> FolderRules | None:
    """The rules of ``folder``'s ignore files (None if it has none). ``names``: the names
    in the folder when the caller has listed it, so that folders without ignore files cost
    no system call."""
    from pathspec import GitIgnoreSpec

    patterns, rules = [], []
    for name in IGNORE_FILES:
        if names is not None and name not in names:
            continue
        source = os.path.join(folder, name)
        try:
            with open(source, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            continue
        except OSError:
            continue  # unreadable: as git, as if it were not there
        for number, line in enumerate(lines, 1):
            try:
                parsed = GitIgnoreSpec.from_lines([line]).patterns
            except (ValueError, re.error):
                continue  # git skips a pattern it cannot read; so does this
            for pattern in parsed:
                if pattern.include is not None:  # not a blank line or a comment
                    patterns.append(pattern)
                    rules.append(Rule(source, number, line.strip()))
    if not patterns:
        return None
    return FolderRules(folder, GitIgnoreSpec(patterns), rules)


def check(chain, path: str, is_dir: bool) -> tuple[bool, Rule] | None:
    """The decision of the deepest folder in ``chain`` (outermost first) with a matching pattern."""
    for rules in reversed(chain):
        decided = rules.check(path, is_dir)
        if decided is not None:
            return decided
    return None


def parent_rules(root: str) -> list[FolderRules]:
    """Rules of the folders above ``root`` up to the top of its git repository (outermost
    first); none when ``root`` is not inside a repository, or is ignored by them itself (a
    folder named on the command line is always walked)."""
    parents = []
    folder = os.path.dirname(root.rstrip(os.sep)) or os.sep
    top = None
    candidate = root
    while True:
        if os.path.exists(os.path.join(candidate, ".git")):
            top = candidate
            break
        parent = os.path.dirname(candidate)
        if parent == candidate:
            break
        candidate = parent
    if top is None or top == root:
        return []
    while True:
        parents.append(folder)
        if folder == top:
            break
        folder = os.path.dirname(folder)
    chain = [r for r in (load_folder(f) for f in reversed(parents)) if r is not None]
    # The folders between the top and root must not be ignored either, or root's
    # contents would all match their folder's pattern.
    between = root
    while between != top:
        decided = check([r for r in chain if between.startswith(r.base)], between, True)
        if decided is not None and decided[0]:
            return []
        between = os.path.dirname(between)
    return chain
