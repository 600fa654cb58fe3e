"""One scoring model: an operator changes which passages a query returns, not how they are
scored (issue 11). ``japan +security`` ranks its passages as ``japan security`` does, and a
field term's own boost (``title:japan^5``) is honoured. Through the real CLI."""

from __future__ import annotations

import json

import pytest

FILES = {
    # "japan" once in the title, the body about something else.
    "japan_title.md": "# Japan notes\n\nThe harbour was quiet and the security guard slept.\n",
    # "japan" many times in the body, not in its title (a text file's first line).
    "japan_body.txt": ("Trade report\n\nJapan and Japan again: Japan trade, Japan security, Japan ports.\n\n"
                       "Rice harvests in Japan.\n"),
    "security.txt": "Security of the port.\n\nPort security, security cameras and security staff.\n",
    "other.txt": "Nothing about the subject here.\n\nRice and beans.\n",
}


@pytest.fixture
def folder(corpus, run):
    for name, text in FILES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    assert run("index", corpus).exit_code == 0
    return corpus


def rows(run, *args) -> list[tuple[str, int, float]]:
    result = run("query", *args, "--json", "--limit", "20")
    assert result.exit_code in (0, 1), result.output
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    return [(hit["path"].rsplit("/", 1)[-1], hit["start_line"], hit["score"]) for hit in hits]


@pytest.mark.parametrize("structured, words", [
    ("japan +security", "japan security"),
    ("+japan +security", "japan security"),
    ("japan AND security", "japan security"),
    ("(japan OR security) AND security", "japan security security"),  # a word typed twice weighs twice
])
def test_an_operator_keeps_the_scores_of_the_passages_it_lets_through(folder, run, structured, words):
    loose = {(path, line): score for path, line, score in rows(run, words)}
    kept = rows(run, structured)
    assert kept
    for path, line, score in kept:
        assert score == pytest.approx(loose[(path, line)], rel=1e-9)
    # ... and so their order is the loose query's order, restricted to them.
    order = [key for key in loose if key in {(p, line) for p, line, _ in kept}]
    assert [(p, line) for p, line, _ in kept] == order


def test_a_required_word_leaves_out_the_passages_without_it(folder, run):
    found = {path for path, _, _ in rows(run, "japan +security")}
    assert {"japan_title.md", "japan_body.txt", "security.txt"} <= found
    assert "other.txt" not in found and "other.txt" in {path for path, _, _ in rows(run, "japan security rice")}
    assert {path for path, _, _ in rows(run, "+rice +japan")} & FILES.keys() == {"japan_body.txt"}


def test_a_title_boost_typed_apart_is_honoured(folder, run):
    plain = [path for path, _, _ in rows(run, "japan")]
    boosted = [path for path, _, _ in rows(run, "japan title:japan^5")]
    assert plain[0] == "japan_body.txt"  # the body says it five times
    assert boosted[0] == "japan_title.md"  # the title, weighted five times over
    scores = {path: score for path, _, score in rows(run, "japan security title:japan^5")}
    loose = {path: score for path, _, score in rows(run, "japan security")}
    assert scores["japan_title.md"] > loose["japan_title.md"]
    assert scores["security.txt"] == pytest.approx(loose["security.txt"])


def test_a_pattern_is_scored_by_the_words_it_matches(folder, run):
    # secur* matches "security" only here: the same passages, the same order as the word.
    assert [row[:2] for row in rows(run, "secur*")] == [row[:2] for row in rows(run, "security")]
