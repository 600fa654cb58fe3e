""""Did you mean" on words as the documents spell them, the same in every process.

Python orders sets of strings by a hash that changes with PYTHONHASHSEED, so the
determinism tests run the real CLI in subprocesses under several seeds.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from searcher.console import ExitStatus

DOCS = {
    # The title spells the stem "communic" one way, the body another: which one a
    # suggestion took from used to depend on the order of a set of field names.
    "channels.md": (
        "# Communication channels\n\n"
        "Processes communicate through pipes. A child can communicate with its parent.\n\n"
        "Sockets communicate across machines.\n"
    ),
    "common.txt": "Common words are common. The common case is common.\n",
    # Stems of "manager", "managed", "management" are all "manag": never suggest the stem.
    "context.md": (
        "# Context managers\n\n"
        "A context manager is entered by the with statement. The manager is managed by the "
        "runtime; resource management is its purpose.\n"
    ),
    "iteration.txt": "An iterator follows the iterator protocol. To iterate, call next.\n",
    "menu.txt": "The café serves coffee. In this case, the case of the menu matters.\n",
    "cases.txt": "Every case is a case: case studies, test cases and a case for each.\n",
}

SEEDS = ("0", "2", "5")


@pytest.fixture
def suggestions(tmp_path, run):
    root = tmp_path / "docs"
    root.mkdir()
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    assert run("index", root).exit_code == 0
    return root


def query_with_seed(seed: str, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED=seed, NLTK_DATA="/nonexistent")
    return subprocess.run([sys.executable, "-m", "searcher", "query", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def hint(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("did you mean: ")]
    return lines[0] if lines else ""


@pytest.mark.parametrize("typed, expected", [
    ("commnicate", "communicate"),
    ("contxt managr", "context manager"),
])
def test_suggestion_is_the_same_under_every_hash_seed(suggestions, typed, expected):
    hints = {seed: hint(query_with_seed(seed, *typed.split())) for seed in SEEDS}
    assert set(hints.values()) == {f"did you mean: {expected}  " + hints["0"].split("  ", 1)[1]}, hints


def test_fix_searches_what_the_hint_named_under_every_seed(suggestions):
    for seed in SEEDS:
        shown = query_with_seed(seed, "iterater", "protocol")
        fixed = query_with_seed(seed, "--fix", "iterater", "protocol")
        suggested = hint(shown).removeprefix("did you mean: ").split("  ")[0]
        assert suggested, shown.stderr
        assert f"searching for {suggested} instead" in fixed.stderr, (seed, shown.stderr, fixed.stderr)
        assert fixed.returncode == ExitStatus.FOUND


def test_suggestions_are_words_of_the_documents_never_stems(suggestions, run):
    from searcher.index.text.analysis import WORD_PATTERN, fold

    words = {fold(w) for text in DOCS.values() for w in WORD_PATTERN.findall(text)}
    for typed in ("managr", "contxt managr", "commnicate", "iterater", "communicat"):
        found = run("query", *typed.split()).stderr
        line = next((l for l in found.splitlines() if l.startswith("did you mean: ")), None)
        assert line is not None, (typed, found)
        suggested = line.removeprefix("did you mean: ").split("  ")[0]
        assert all(fold(word) in words for word in suggested.split()), (typed, suggested)
    assert "did you mean: context manager " in run("query", "contxt", "managr").stderr


def test_a_word_found_through_its_accents_is_not_corrected(suggestions, run):
    result = run("query", "cafe")
    assert result.exit_code == ExitStatus.FOUND
    assert "menu.txt" in result.stdout
    assert "did you mean" not in result.stderr
    # A rare word without that excuse still gets its far more frequent neighbour.
    assert "did you mean: case" in run("query", "cse").stderr


def test_a_short_page_is_not_very_few_hits(tmp_path, run):
    """"Very few hits" counts the passages the query matches, not the ones a short page
    (``-n 1``) shows: a word found in several passages is not corrected to a commoner one."""
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(6):
        (root / f"gather{i}.txt").write_text(f"Tasks {i}\n\nThe tasks gather their results.\n", encoding="utf-8")
    for i in range(70):
        (root / f"rather{i}.txt").write_text(f"Note {i}\n\nRather than wait, it runs.\n", encoding="utf-8")
    assert run("index", root).exit_code == 0
    for args in (["gather", "resuls"], ["-n", "1", "gather", "resuls"], ["-n", "2", "gather", "resuls"]):
        result = run("query", *args)
        assert result.exit_code == ExitStatus.FOUND
        # The unknown word is corrected; the word the documents have is left as it is.
        assert "did you mean: gather results  (resuls → results;" in result.stderr, (args, result.stderr)


def test_a_long_query_corrects_each_word_once_and_a_bounded_number_of_words(suggestions, run, monkeypatch):
    """A pasted paragraph that finds little must not try to correct every word it holds (each
    try walks the term dictionary): distinct words only, the unknown ones first, at most
    MAX_CORRECTED of them; the hint still names a misspelt word among the first."""
    from searcher.engine import suggest

    tried = []
    correct_word = suggest.correct_word
    monkeypatch.setattr(suggest, "correct_word", lambda reader, typed, *rest: tried.append(typed)
                        or correct_word(reader, typed, *rest))
    nonsense = ["qzxvb", "wqpfk", "jjxqz", "vvkqp", "xqzjw", "pqxzv", "zkqxj", "kxzqw", "qjzxk", "wzxqj", "xjqkz"]
    query = " ".join(["pipes", "managr"] + nonsense * 4)
    result = run("query", query)
    assert result.exit_code in (ExitStatus.FOUND, ExitStatus.NOTHING_FOUND)
    assert len(tried) == len(set(tried)) == suggest.MAX_CORRECTED
    assert tried[0] == "managr" and "pipes" not in tried  # unknown words before words the index has
    assert "did you mean: " in result.stderr and "manager" in result.stderr
