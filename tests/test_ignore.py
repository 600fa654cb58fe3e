"""Ignore files as ripgrep reads them (.gitignore, .ignore, .searcherignore), hidden files,
--hidden, --no-ignore, -u/-uu and `searcher index --dry-run [--verbose]`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from searcher.index.runs.ignore import load_folder
from searcher.index.runs.walker import FoundFile, LeftOut, walk

TREE = {
    ".gitignore": "build/\n*.log.md\n# a comment\n\n/top.md\n",
    "a.md": "Alpha harbour\n",
    "top.md": "Top harbour\n",
    "build/b.md": "Built harbour\n",
    "x.log.md": "Logged harbour\n",
    "notes/top.md": "Nested top harbour\n",  # /top.md is anchored: this one stays
    "notes/.ignore": "*.txt\n!keep.txt\n",
    "notes/c.txt": "Ignored harbour\n",
    "notes/keep.txt": "Kept harbour\n",
    "notes/deep/.searcherignore": "!deep.txt\n",
    "notes/deep/deep.txt": "Deep harbour\n",
    "notes/deep/other.txt": "Other harbour\n",
    ".hidden/h.md": "Hidden harbour\n",
    ".secret.md": "Secret harbour\n",
}
DEFAULT = {"a.md", "notes/top.md", "notes/keep.txt", "notes/deep/deep.txt"}
NO_IGNORE = DEFAULT | {"top.md", "build/b.md", "x.log.md", "notes/c.txt", "notes/deep/other.txt"}
EVERYTHING = NO_IGNORE | {".hidden/h.md", ".secret.md"}


def make_tree(root: Path, tree: dict[str, str]) -> Path:
    for name, text in tree.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def tree(tmp_path) -> Path:
    return make_tree(tmp_path / "tree", TREE)


def found(root: Path, **options) -> set[str]:
    return {os.path.relpath(item.path, root) for item in walk([root], **options) if isinstance(item, FoundFile)}


def test_ignore_files_nested_with_negation_and_precedence(tree):
    assert found(tree) == DEFAULT


def test_no_ignore_and_hidden_widen(tree):
    assert found(tree, ignore=False) == NO_IGNORE
    assert found(tree, ignore=False, hidden=True) == EVERYTHING
    assert found(tree, hidden=True) == DEFAULT | {".secret.md", ".hidden/h.md"}


def test_searcherignore_overrides_ignore_overrides_gitignore(tmp_path):
    root = make_tree(tmp_path / "r", {
        ".gitignore": "*.md\n", ".ignore": "!a.md\n!b.md\n", ".searcherignore": "b.md\n",
        "a.md": "a\n", "b.md": "b\n", "c.md": "c\n",
    })
    assert found(root) == {"a.md"}


def test_a_deeper_folder_overrides_its_parent(tmp_path):
    root = make_tree(tmp_path / "r", {".gitignore": "*.md\n", "sub/.gitignore": "!*.md\n",
                                      "a.md": "a\n", "sub/b.md": "b\n"})
    assert found(root) == {"sub/b.md"}


def test_a_file_in_an_ignored_folder_cannot_be_brought_back(tmp_path):
    root = make_tree(tmp_path / "r", {".gitignore": "drafts/\n!drafts/keep.md\n", "drafts/keep.md": "k\n"})
    assert found(root) == set()


def test_parent_ignore_files_count_up_to_the_repository_top(tmp_path):
    repo = make_tree(tmp_path / "repo", {".gitignore": "*.log.md\n", "docs/a.md": "a\n", "docs/b.log.md": "b\n"})
    (repo / ".git").mkdir()
    assert found(repo / "docs") == {"a.md"}
    # Outside a repository a parent's ignore file does not count.
    plain = make_tree(tmp_path / "plain", {".gitignore": "*.log.md\n", "docs/a.md": "a\n", "docs/b.log.md": "b\n"})
    assert found(plain / "docs") == {"a.md", "b.log.md"}


def test_a_folder_given_explicitly_is_walked_even_if_ignored(tmp_path):
    repo = make_tree(tmp_path / "repo", {".gitignore": "build/\n", "build/a.md": "a\n"})
    (repo / ".git").mkdir()
    assert found(repo) == set()
    assert found(repo / "build") == {"a.md"}


def test_git_folder_is_never_walked(tmp_path):
    root = make_tree(tmp_path / "r", {".git/notes.md": "n\n", "a.md": "a\n"})
    assert found(root, hidden=True, ignore=False) == {"a.md"}


def test_explain_names_the_rule(tree):
    left = {os.path.relpath(item.path, tree): item for item in walk([tree], explain=True)
            if isinstance(item, LeftOut)}
    assert left["build"].is_dir and left["build"].rule.pattern == "build/"
    assert left["build"].rule.line == 1 and left["build"].rule.source == str(tree / ".gitignore")
    assert left["top.md"].rule.line == 5
    assert left["notes/c.txt"].rule.source == str(tree / "notes" / ".ignore")
    assert left[".hidden"].reason.startswith("hidden")
    assert "notes/deep/other.txt" in left and "notes/deep/deep.txt" not in left


def test_a_broken_pattern_or_unreadable_bytes_do_not_stop_the_walk(tmp_path):
    root = make_tree(tmp_path / "r", {"a.md": "a\n", "b.md": "b\n"})
    (root / ".gitignore").write_bytes(b"\xff\xfe[\n[z-a]\nb.md\n")
    assert found(root) == {"a.md"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["*.md", "!a.md", "sub/", "!sub/", "/b.md", "**/c.md", "a.*", "!*.md"]),
                max_size=5))
def test_no_ignore_file_makes_the_walk_find_more(tmp_path_factory, patterns):
    """An ignore file only ever leaves files out; --no-ignore finds everything."""
    root = make_tree(tmp_path_factory.mktemp("h"), {"a.md": "a\n", "b.md": "b\n", "sub/c.md": "c\n",
                                                    "sub/a.md": "a\n"})
    (root / ".gitignore").write_text("\n".join(patterns) + "\n", encoding="utf-8")
    everything = found(root, ignore=False)
    assert found(root) <= everything == {"a.md", "b.md", "sub/c.md", "sub/a.md"}
    rules = load_folder(str(root))
    for name in found(root):
        decided = rules.check(str(root / name), False) if rules else None
        assert decided is None or decided[0] is False


# --- through the CLI ------------------------------------------------------------------------


def indexed_paths(run, root: Path) -> set[str]:
    result = run("query", "-l", "harbour")
    return {os.path.relpath(line, root) if os.path.isabs(line) else line for line in result.stdout.splitlines()}


def test_index_honours_ignore_files(run, tree, monkeypatch):
    monkeypatch.chdir(tree)
    assert run("index", ".").exit_code == 0
    assert indexed_paths(run, tree) == DEFAULT


@pytest.mark.parametrize("flags, expected", [
    (["--no-ignore"], NO_IGNORE), (["-u"], NO_IGNORE), (["-uu"], EVERYTHING),
    (["--hidden", "--no-ignore"], EVERYTHING), (["--hidden"], DEFAULT | {".secret.md", ".hidden/h.md"}),
])
def test_index_widening_flags(run, tree, monkeypatch, flags, expected):
    monkeypatch.chdir(tree)
    assert run("index", *flags, ".").exit_code == 0
    assert indexed_paths(run, tree) == expected


def test_a_newly_ignored_file_is_removed_by_the_next_run(run, tree, monkeypatch):
    monkeypatch.chdir(tree)
    assert run("index", ".").exit_code == 0
    (tree / ".searcherignore").write_text("a.md\n", encoding="utf-8")
    result = run("index", ".")
    assert "1 removed" in result.stderr
    assert indexed_paths(run, tree) == DEFAULT - {"a.md"}


def test_dry_run_lists_and_changes_nothing(run, tree, monkeypatch, index_location):
    monkeypatch.chdir(tree)
    result = run("index", "--dry-run", ".")
    assert result.exit_code == 0
    assert set(result.stdout.splitlines()) == DEFAULT
    assert "4 files would be indexed (dry run: the index is unchanged)" in result.stderr
    assert "left out" not in result.stderr
    assert not index_location.exists()


def test_dry_run_verbose_says_what_is_left_out_and_why(run, tree, monkeypatch):
    monkeypatch.chdir(tree)
    result = run("index", "--dry-run", "--verbose", ".")
    assert result.exit_code == 0
    err = result.stderr.splitlines()
    assert "left out build/: ignored by .gitignore:1: build/" in err
    assert "left out x.log.md: ignored by .gitignore:2: *.log.md" in err
    assert "left out top.md: ignored by .gitignore:5: /top.md" in err
    assert f"left out notes{os.sep}c.txt: ignored by notes{os.sep}.ignore:1: *.txt" in err
    assert "left out .hidden/: hidden (--hidden walks it)" in err
    assert any(line.startswith("4 files would be indexed") for line in err)


def test_dry_run_of_a_missing_path_is_an_error(run, tmp_path):
    result = run("index", "--dry-run", tmp_path / "nope")
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


PATTERN_WORDS = ["*.md", "!a.md", "sub/", "!sub/", "/b.md", "**/c.md", "a.*", "!*.md", "sub", "/sub/",
                 "sub/**", "!sub/a.md", "**/deep/", "deep/*.md", "*", "!deep", "c?.md", "[ab].md", "sub/*/x.md",
                 "\\!odd.md", "a.md/", "**", "!**/x.md", "#comment", ""]
TREE_PATHS = ["a.md", "b.md", "c.md", "cx.md", "!odd.md", "sub/a.md", "sub/c.md", "sub/deep/x.md",
              "sub/deep/a.md", "deep/b.md", "deep/deep/c.md", "x/sub/a.md", "a.md.txt"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(PATTERN_WORDS), min_size=1, max_size=7))
@example(patterns=["sub/**", "!a.md"])  # a folder's /** leaves the folder itself to be walked
def test_the_walk_finds_what_git_does_not_ignore(tmp_path_factory, patterns):
    """git itself is the reference: the files the walk finds are the untracked files git
    does not ignore (`git ls-files --others --exclude-standard`)."""
    root = make_tree(tmp_path_factory.mktemp("git"), {path: "x\n" for path in TREE_PATHS})
    (root / ".gitignore").write_text("\n".join(patterns) + "\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    listed = subprocess.run(["git", "-C", str(root), "-c", "core.excludesFile=/dev/null", "ls-files",
                             "--others", "--exclude-standard", "-z"],
                            check=True, capture_output=True, text=True).stdout.split("\0")
    by_git = {p for p in listed if p and p != ".gitignore"}
    assert found(root) == by_git, patterns
