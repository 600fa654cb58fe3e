"""Reading questions and common words (issue 12): through the real CLI on files written here."""

from __future__ import annotations

import json

import pytest

from searcher.console import ExitStatus
from searcher.parse.query import _loose_word_count

FILES = {
    "with.txt": "The with statement\n\nThe with statement wraps a block in a context manager.\n",
    "statement.txt": "Bank statement\n\nA statement of accounts is sent each month by the bank.\n",
    "hamlet.txt": "Hamlet\n\nTo be, or not to be, that is the question.\n",
    "band.txt": "The Who\n\nThe Who is an English rock band formed in London.\n",
    "medlars.txt": ("MEDLARS\n\nMEDLARS is the medical literature analysis and retrieval system of the "
                    "National Library of Medicine, used for indexing journals.\n"),
    "library.txt": "Libraries\n\nA public library lends books; its catalogue is used for finding them.\n",
}


@pytest.fixture
def folder(tmp_path, run):
    root = tmp_path / "docs"
    root.mkdir()
    for name, text in FILES.items():
        (root / name).write_text(text, encoding="utf-8")
    assert run("index", root).exit_code == 0
    return root


def paths(result) -> list[str]:
    return [json.loads(line)["path"].rsplit("/", 1)[-1] for line in result.stdout.splitlines()]


@pytest.mark.parametrize("query, first", [
    ("to be or not to be", "hamlet.txt"),
    ("the who", "band.txt"),
    ("is not", "hamlet.txt"),
])
def test_queries_of_only_common_words_are_searched(folder, run, query, first):
    result = run("query", "--json", "--per-file", "1", "--", *query.split())
    assert result.exit_code == ExitStatus.FOUND, result.output
    assert paths(result)[0] == first


def test_a_long_query_of_common_words_says_they_are_all_searched(folder, run):
    result = run("query", "--explain", "--json", "to", "be", "or", "not", "to", "be")
    assert "only common words: all of them searched" in result.stderr
    assert "ignored common words" not in result.stderr


def test_a_short_lookup_keeps_its_stopwords(folder, run):
    result = run("query", "--json", "--per-file", "1", "--explain", "with", "statement")
    assert paths(result)[0] == "with.txt"
    assert "the word with in title" in result.stderr
    assert "ignored common words" not in result.stderr


def test_a_question_drops_its_stopwords(folder, run):
    result = run("query", "--explain", "--json", "what", "is", "the", "statement", "of", "the", "bank")
    assert "ignored common words: what, is, the, of" in result.stderr


@pytest.mark.parametrize("text, count", [
    ("with statement", 2), ("the who", 2), ('"rule of law" the', 1), ("title:rice AND law", 2),
    ("what is a decorator", 4),
])
def test_loose_word_count(text, count):
    assert _loose_word_count(text) == count


def test_a_question_mark_after_a_bracket_or_quote_is_punctuation(folder, run):
    result = run("query", "--explain", "--json", "--per-file", "1", "--",
                 "what is (MEDLARS)? used for in medical journals")
    assert "question mark" in result.stderr
    assert "matching" not in result.stderr and "wildcard" not in result.stderr.replace("not a wildcard", "")
    assert paths(result)[0] == "medlars.txt"
    result = run("query", "--explain", "--json", "--", "is the library 'catalogue'? used for books")
    assert "question mark" in result.stderr
    assert paths(result)[0] == "library.txt"


def test_a_question_in_capitals_reads_and_or_not_as_words(folder, run):
    result = run("query", "--explain", "--json", "--per-file", "1", "--",
                 "INDEXING AND SEARCHING OF MEDICAL JOURNALS")
    assert "AND, OR and NOT read as words" in result.stderr
    assert "expansion: ran (a question)" in result.stderr  # a question, not an AND of two halves
    assert paths(result)[0] == "medlars.txt"
    # A short one may be an operator typed in caps lock; lower-case text keeps its operators.
    assert "read as words" not in run("query", "--explain", "--json", "MEDICAL AND JOURNALS").stderr
    assert "read as words" not in run("query", "--explain", "--json", "--",
                                      "indexing AND searching of medical journals").stderr


def test_a_question_with_a_quoted_title_is_still_a_question(folder, run):
    result = run("query", "--explain", "--json", "--per-file", "1", "--",
                 'how is the "National Library of Medicine" indexing medical journals')
    assert "expansion: ran (a question)" in result.stderr
    assert 'the phrase "nation librari of medicin"' in result.stderr
    assert paths(result)[0] == "medlars.txt"


def test_explain_says_when_expansion_is_off(folder, run):
    assert "expansion: off (not a question" in run("query", "--explain", "--json", "bank").stderr
    result = run("query", "--explain", "--json", "--no-expand", "how", "are", "medical", "journals", "indexed", "here")
    assert "expansion: off (--no-expand)" in result.stderr
    result = run("query", "--explain", "--json", "--expand", "bank")
    assert "expansion: ran (--expand)" in result.stderr


def test_french_has_stopwords(tmp_path, run):
    root = tmp_path / "fr"
    root.mkdir()
    (root / "chat.txt").write_text("Le chat\n\nLe chat dort sur la table de la cuisine.\n", encoding="utf-8")
    (root / "mots.txt").write_text("Les mots\n\nLe la les de des : des mots de tous les jours.\n", encoding="utf-8")
    assert run("index", "--language", "french", root).exit_code == 0
    result = run("query", "--explain", "--json", "--per-file", "1", "le", "chat", "de", "la", "cuisine")
    assert "ignored common words: le, de, la" in result.stderr
    assert paths(result)[0] == "chat.txt"
    result = run("query", "--explain", "--json", "le", "la", "les", "de", "des")
    assert result.exit_code == ExitStatus.FOUND
    assert "only common words" in result.stderr
