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


# The end of pathspec's regex for a pattern: "(?:(?P<ps_d>/)|$)" (the path itself, or a
# folder above it), or "(?P<ps_d>/)" for a folder-only pattern ("build/").
_DIR_MARK_ANY = "(?:(?P<ps_d>/)|$)"
_DIR_MARK_DIR = "(?P<ps_d>/)"


class FolderRules:
    """The patterns of the ignore files in one folder.

    pathspec checks a path against each pattern in turn, in Python: 0.3 ms a file for a
    40-line .gitignore, half a minute for 100,000 files. The walk only ever asks about a
    path whose folders are not ignored (an ignored folder is not entered), so only matches
    of the path itself count, and the last pattern that matches decides. So the patterns'
    regexes (pathspec's translation of gitignore syntax) become alternations, last pattern
    first, each a named group, so that one ``match`` names the deciding pattern: one for
    the patterns that can only match a name (``*.log``, ``build/``: most of them), tried on
    the name alone, which is 15 times faster than on the path, and one for the others.
    """

    __slots__ = ("base", "spec", "rules", "by_name", "by_path", "fast")

    def __init__(self, base: str, spec, rules: list[Rule]):
        self.base = base if base.endswith(os.sep) else base + os.sep
        self.spec = spec
        self.rules = rules
        combined = _combine(spec.patterns)
        self.fast = combined is not None
        self.by_name, self.by_path = combined if combined is not None else (None, None)

    def check(self, path: str, is_dir: bool) -> tuple[bool, Rule] | None:
        """(ignored?, the deciding rule) for ``path`` below this folder; None if no pattern matches."""
        rel = path[len(self.base):]
        if os.sep != "/":
            rel = rel.replace(os.sep, "/")
        if is_dir:
            rel += "/"
        if self.fast:
            index = -1
            if self.by_name is not None:
                name = rel[rel.rfind("/", 0, len(rel) - 1) + 1:]
                match = self.by_name.match(name)
                if match is not None:
                    index = int(match.lastgroup[1:])
            if self.by_path is not None:
                match = self.by_path.match(rel)
                if match is not None:
                    index = max(index, int(match.lastgroup[1:]))
            if index < 0:
                return None
            return self.spec.patterns[index].include, self.rules[index]
        result = self.spec.check_file(rel)
        if result.include is None:
            return None
        return result.include, self.rules[result.index]


_ANY_FOLDERS = "^(?:.+/)?"


def _combine(patterns):
    """(regex of the patterns that match a name, regex of the others), either None if there
    are none such; None if pathspec's regexes are not of the form this expects (then
    pathspec's own check is used)."""
    by_name, by_path = [], []
    for index in range(len(patterns) - 1, -1, -1):
        regex = getattr(patterns[index], "regex", None)
        source = getattr(regex, "pattern", None)
        if not isinstance(source, str) or (regex.flags & re.IGNORECASE):
            return None
        if source.endswith(_DIR_MARK_ANY):
            source = source[:-len(_DIR_MARK_ANY)] + r"/?\Z"  # the file, or the folder itself
        elif source.endswith(_DIR_MARK_DIR):
            source = source[:-len(_DIR_MARK_DIR)] + r"/\Z"  # only the folder itself
        elif source.endswith("/"):
            # ``sub/**``: everything inside sub, not sub itself (as git has it), so that
            # ``!a.md`` can bring back sub/a.md; pathspec's regex also matches "sub/".
            source += ".+"
        if "(?P<" in source:
            return None
        rest = source[len(_ANY_FOLDERS):]
        if source.startswith(_ANY_FOLDERS) and "/" not in rest.replace("[^/]", "").replace("/?\\Z", "") \
                .replace("/\\Z", ""):
            by_name.append(f"(?P<p{index}>{rest})")
        else:
            by_path.append(f"(?P<p{index}>{source})")
    try:
        return (re.compile("|".join(by_name)) if by_name else None,
                re.compile("|".join(by_path)) if by_path else None)
    except re.error:
        return None


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
