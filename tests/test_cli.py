"""End-to-end behaviour of `searcher index` and `searcher query` through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from searcher.console import ExitStatus


def test_index_reports_what_it_did(corpus, run):
    result = run("index", corpus)
    assert result.exit_code == 0
    assert "indexed 3 files" in result.output


def test_keyword_query_prints_path_line_title_and_snippet(indexed, run):
    result = run("query", "cooperation", "ukraine", "--color", "never")
    assert result.exit_code == ExitStatus.FOUND
    first = result.output.splitlines()[0]
    assert first.startswith(str(indexed / "japan_latvia.txt") + ":1:")
    assert "Japan and Latvia strengthen cooperation" in first
    assert "bilateral cooperation in supporting Ukraine" in result.output


def test_plain_question_matches_with_missing_words(indexed, run):
    # Not every word occurs anywhere: OR semantics still finds the passage.
    result = run("query", "how", "do", "you", "cook", "rice", "without", "burning", "--color", "never")
    assert result.exit_code == 0
    assert "cooking.txt" in result.output.splitlines()[0]


def test_phrase_query_finds_exact_phrase_only(indexed, run):
    result = run("query", '"rule of law"', "--json")
    assert result.exit_code == 0
    hits = [json.loads(line) for line in result.output.splitlines()]
    assert [h["path"].endswith("japan_latvia.txt") for h in hits] == [True]
    assert [h["text"] for h in hits[0]["highlights"]] == ["rule of law"]


def test_phrase_across_hyphen_matches_spaced_form(indexed, run):
    for query in ('"indo pacific"', "Indo-Pacific", "indo-pacific"):
        result = run("query", query, "--json")
        assert result.exit_code == 0, query
        hit = json.loads(result.output.splitlines()[0])
        assert [h["text"] for h in hit["highlights"]] == ["Indo-Pacific"], query


def test_accent_folding_both_ways(indexed, run):
    result = run("query", "simonyte", "--json")
    hit = json.loads(result.output.splitlines()[0])
    assert "Šimonytė" in [h["text"] for h in hit["highlights"]]


def test_nothing_found_exits_1(indexed, run):
    result = run("query", "zeppelin")
    assert result.exit_code == ExitStatus.NOTHING_FOUND
    assert result.output == ""


def test_missing_index_says_run_index(run):
    result = run("query", "anything")
    assert result.exit_code == ExitStatus.ERROR
    assert "searcher index" in result.output
    assert "Traceback" not in result.output


def test_missing_path_is_an_error(run, tmp_path):
    result = run("index", tmp_path / "nope")
    assert result.exit_code == ExitStatus.ERROR
    assert "nope" in result.output
    assert "Traceback" not in result.output


def test_stopword_only_query_is_searched(indexed, run):
    result = run("query", "--json", "the", "of")
    assert result.exit_code == ExitStatus.FOUND


def test_boolean_and_not(indexed, run):
    result = run("query", "security", "NOT", "energy", "--json")
    paths = [json.loads(line)["path"] for line in result.output.splitlines()]
    assert paths and all(p.endswith("japan_latvia.txt") for p in paths)
    result = run("query", "--json", "--", "security", "-energy")
    paths = [json.loads(line)["path"] for line in result.output.splitlines()]
    assert paths and all(p.endswith("japan_latvia.txt") for p in paths)


def test_prefix_fuzzy_and_field_queries(indexed, run):
    assert "cooking.txt" in run("query", "cook*", "--color", "never").output
    assert "cooking.txt" in run("query", "ryce~", "--color", "never").output
    result = run("query", "title:tokyo", "--json")
    paths = {json.loads(line)["path"] for line in result.output.splitlines()}
    assert paths == {str(indexed / "lithuania.md")}
    result = run("query", "path:notes", "--json")
    paths = {json.loads(line)["path"] for line in result.output.splitlines()}
    assert paths == {str(indexed / "notes" / "cooking.txt")}


def test_colour_only_when_asked_or_on_tty(indexed, run):
    plain = run("query", "rice", "--color", "never").output
    assert "\x1b[" not in plain
    coloured = run("query", "rice", "--color", "always").output
    assert "\x1b[" in coloured
    # CliRunner's stdout is not a TTY: auto means no colour.
    assert "\x1b[" not in run("query", "rice").output


def test_no_color_env_wins_over_auto(indexed, run, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run("query", "rice", "--color", "auto").output


def test_json_output_fields(indexed, run):
    result = run("query", "Russia's", "--json")
    hit = json.loads(result.output.splitlines()[0])
    assert set(hit) >= {"path", "title", "start_line", "end_line", "score", "text", "highlights", "fragments"}
    assert hit["text"][hit["highlights"][0]["start"]:hit["highlights"][0]["end"]] == "Russia’s"


def test_limit_and_per_file_cap(indexed, run):
    result = run("query", "rice", "cooperation", "security", "--json", "--per-file", "1")
    paths = [json.loads(line)["path"] for line in result.output.splitlines()]
    assert len(paths) == len(set(paths))
    result = run("query", "rice", "cooperation", "security", "--json", "--limit", "1")
    assert len(result.output.splitlines()) == 1


def test_control_characters_never_reach_the_terminal(tmp_path, run):
    doc = tmp_path / "evil" / "evil.txt"
    doc.parent.mkdir()
    doc.write_text("Title \x1b]0;pwned\x07 here\n\nThe secret \x1b[2J word is \u202eoculus.\n", encoding="utf-8")
    assert run("index", doc.parent).exit_code == 0
    for mode in ("never", "always"):
        out = run("query", "secret", "--color", mode).output
        assert "\x1b]" not in out and "\x1b[2J" not in out and "\u202e" not in out and "\x07" not in out
        assert "\\x1b" in out
    assert "\x1b" not in run("query", "secret", "--json").output


def test_installed_command_runs_as_subprocess(corpus, index_location):
    exe = shutil.which("searcher", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.skip("the searcher console script is not installed in this environment")
    env = dict(os.environ, SEARCHER_INDEX=str(index_location), NLTK_DATA="/nonexistent")
    done = subprocess.run([exe, "index", str(corpus)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([exe, "query", "rice"], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "cooking.txt:" in done.stdout
    done = subprocess.run([sys.executable, "-m", "searcher", "query", "zeppelin"], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    done = subprocess.run([exe, "query", "title:(unbalanced"], env=env, capture_output=True, text=True)
    assert done.returncode in (0, 1, 2) and "Traceback" not in done.stderr


@pytest.mark.skipif(not hasattr(signal, "SIGPIPE"), reason="no SIGPIPE on this platform")
@pytest.mark.parametrize("command", [["query", "rice"], ["show", "notes/cooking.txt"]])
def test_a_closed_output_pipe_ends_a_query_as_it_ends_grep(corpus, index_location, command):
    """`searcher query rice | head -1`: SIGPIPE, not exit status 1 ("nothing found"), no traceback."""
    env = dict(os.environ, SEARCHER_INDEX=str(index_location), NLTK_DATA="/nonexistent")
    searcher = [sys.executable, "-m", "searcher"]
    subprocess.run(searcher + ["index", str(corpus)], env=env, capture_output=True, check=True)
    if command[0] == "show":
        command = ["show", str(corpus / command[1])]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes
    try:
        done = subprocess.run(searcher + command, env=env, stdout=write_end, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    assert done.returncode == -signal.SIGPIPE, done.stderr
    assert done.stderr == ""


def test_seed_corpus_acceptance(seeds, run):
    assert run("index", seeds).exit_code == 0
    result = run("query", '"rules-based international order"', "--json")
    hits = [json.loads(line) for line in result.output.splitlines()]
    assert hits and all("rules-based international order" in h["text"] for h in hits)
    result = run("query", "Simonyte", "Kishida", "--json")
    assert "Šimonytė" in json.loads(result.output.splitlines()[0])["text"]
