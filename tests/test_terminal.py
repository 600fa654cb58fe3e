"""The terminal experience through the real CLI: "did you mean", clear messages when nothing
can match, context lines, file lists, quickfix lines, paging, the results header, `show`
and shell completion."""

from __future__ import annotations

import json
import re

import pytest

from searcher.console import Console, ExitStatus

SPELLING = {
    # "wizard" is one edit from "wizzard", in one file; "blizzard" two edits, in five.
    "magic.txt": "The wizard cast a spell on the castle.\n",
    **{f"weather{i}.txt": f"Report {i}: a blizzard closed the roads.\n" for i in range(5)},
    # "bard" and "cart" are both one edit from "bart": the more frequent one wins.
    "song.txt": "A bard sang of a cart.\n",
    "farm.txt": "The cart was full.\n",
    "market.txt": "Another cart of apples.\n",
}


@pytest.fixture
def spelling(tmp_path, run):
    root = tmp_path / "spelling"
    root.mkdir()
    for name, text in SPELLING.items():
        (root / name).write_text(text, encoding="utf-8")
    assert run("index", root).exit_code == 0
    return root


def hits_of(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


# ------------------------------------------------------------------ did you mean


def test_typo_gets_a_suggestion_naming_the_changed_word(indexed, run):
    result = run("query", "kamikava")
    assert result.exit_code == ExitStatus.NOTHING_FOUND
    assert result.stdout == ""
    assert "did you mean: kamikawa" in result.stderr
    assert "kamikava → kamikawa" in result.stderr


def test_suggestion_keeps_the_rest_of_the_query_and_its_case(indexed, run):
    result = run("query", "--", 'Kamikava "rule of lwa" -china')
    assert 'did you mean: Kamikawa "rule of law" -china' in result.stderr
    assert "Kamikava → Kamikawa, lwa → law" in result.stderr


def test_suggestion_ranks_edit_distance_before_frequency(spelling, run):
    # whoosh's corrector would pick the frequent "blizzard".
    assert "did you mean: wizard " in run("query", "wizzard").stderr
    # Same distance: the more frequent word.
    assert "did you mean: cart " in run("query", "bart").stderr


def test_suggestion_compares_surface_words_not_stems(indexed, run):
    # The stem of "security" is "secur", three edits from the stem of "secrity".
    assert "did you mean: security " in run("query", "secrity").stderr
    assert "did you mean: cooperation " in run("query", "cooperatoin").stderr
    # Accents come back from the text: the index folds them away.
    assert "did you mean: šimonytė " in run("query", "simonite").stderr


def test_unknown_word_in_a_query_with_hits_is_still_flagged(indexed, run):
    result = run("query", "japan", "lituania")
    assert result.exit_code == ExitStatus.FOUND
    assert "did you mean: japan lithuania" in result.stderr


def test_no_suggestion_for_known_words_or_hopeless_ones(indexed, run):
    assert "did you mean" not in run("query", "rice").output
    assert "did you mean" not in run("query", "zeppelin").output
    assert "did you mean" not in run("query", "xq").output  # too short to guess


def test_fix_runs_the_suggestion(indexed, run):
    result = run("query", "--fix", "--json", "kamikava")
    assert result.exit_code == ExitStatus.FOUND
    assert "searching for kamikawa instead (kamikava → kamikawa)" in result.stderr
    assert hits_of(result)[0]["path"].endswith("japan_latvia.txt")
    assert "did you mean" not in result.stderr


def test_fix_without_a_typo_runs_the_query_as_is(indexed, run):
    result = run("query", "--fix", "rice")
    assert result.exit_code == ExitStatus.FOUND and "instead" not in result.stderr


def test_never_rewritten_silently(indexed, run):
    # Without --fix, a typo finds nothing rather than the suggestion's results.
    assert run("query", "--json", "ryce").stdout == ""


# ------------------------------------------------------------------ clear messages


def test_empty_index_says_so(tmp_path, run):
    (tmp_path / "empty").mkdir()
    assert run("index", tmp_path / "empty").exit_code == 0
    result = run("query", "rice")
    assert result.exit_code == ExitStatus.NOTHING_FOUND
    assert "is empty" in result.stderr and "searcher index" in result.stderr


def test_empty_query_says_so(indexed, run):
    result = run("query", "")
    assert result.exit_code == ExitStatus.ERROR
    assert result.output.strip() == "searcher: error: empty query: give some words to search for"


def test_stopword_only_query_is_searched(indexed, run):
    result = run("query", "the", "of")
    assert result.exit_code == ExitStatus.FOUND
    assert result.stderr == ""


def test_page_past_the_end_says_so(indexed, run):
    result = run("query", "--page", "9", "rice")
    assert result.exit_code == ExitStatus.NOTHING_FOUND
    assert "nothing on this page: 1 passage matches" in result.stderr


# ------------------------------------------------------------------ results to act on


def test_context_shows_numbered_lines_around_the_passage(indexed, run):
    result = run("query", "-C", "1", "--color", "never", '"rule of law"')
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].endswith("japan_latvia.txt:5: Japan and Latvia strengthen cooperation")
    assert lines[1].strip() == "4-"  # the blank line before the passage
    assert lines[2].strip().startswith("5: Both ministers")
    assert len(lines) == 3  # the file ends at line 5: there is no line 6 to show


def test_context_zero_shows_the_passage_lines_only(indexed, run):
    lines = run("query", "-C", "0", "rice", "lid").stdout.splitlines()
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["1", "2", "3"]


def test_files_lists_matching_files_best_first(indexed, run):
    result = run("query", "-l", "security", "energy")
    assert result.exit_code == 0
    files = result.stdout.splitlines()
    assert [f.rsplit("/", 1)[-1] for f in files] == ["lithuania.md", "japan_latvia.txt"]
    assert run("query", "-l", "-n", "1", "security", "energy").stdout.splitlines() == files[:1]


def test_vimgrep_points_at_each_match(indexed, run):
    result = run("query", "--vimgrep", "--color", "always", "security", "rule")
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout.split(": ", 1)[0]
    lines = run("query", "--vimgrep", "security", "rule").stdout.splitlines()
    assert len(lines) == 4
    for line in lines:
        path, number, col, text = re.match(r"^(.+?):(\d+):(\d+): (.*)$", line).groups()
        source = (indexed / path.split("corpus/", 1)[-1]) if not path.startswith("/") else None
        source_line = open(source or path, encoding="utf-8").read().splitlines()[int(number) - 1]
        matched = source_line.encode("utf-8")[int(col) - 1:].decode("utf-8").casefold()
        assert matched.startswith(("secur", "rule")), line
        assert text == source_line.strip()


def test_vimgrep_columns_count_bytes(tmp_path, run):
    doc = tmp_path / "accents" / "a.txt"
    doc.parent.mkdir()
    doc.write_text("Šimonytė met Kishida.\n", encoding="utf-8")
    assert run("index", doc.parent).exit_code == 0
    line = run("query", "--vimgrep", "kishida").stdout.strip()
    assert line.endswith("a.txt:1:16: Šimonytė met Kishida.")  # Š and ė are two bytes each


def test_output_formats_are_exclusive(indexed, run):
    assert run("query", "--json", "-l", "rice").exit_code == ExitStatus.ERROR
    assert run("query", "--page", "2", "--offset", "3", "rice").exit_code == ExitStatus.ERROR


def test_paging_walks_through_the_ranked_list(indexed, run):
    every = [(h["path"], h["start_line"]) for h in hits_of(
        run("query", "--json", "--per-file", "0", "security", "cooperation", "rice"))]
    assert len(every) >= 3
    pages = [
        [(h["path"], h["start_line"]) for h in hits_of(
            run("query", "--json", "--per-file", "0", "-n", "1", "--page", str(n), "security", "cooperation", "rice"))]
        for n in (1, 2, 3)
    ]
    assert pages == [[every[0]], [every[1]], [every[2]]]
    offset = hits_of(run("query", "--json", "--per-file", "0", "--offset", "1", "security", "cooperation", "rice"))
    assert [(h["path"], h["start_line"]) for h in offset] == every[1:]


def test_header_with_count_and_time_only_on_a_terminal(indexed, run, monkeypatch):
    assert "passages match" not in run("query", "security").output
    monkeypatch.setattr(Console, "is_tty", property(lambda self: True))
    first = run("query", "-n", "1", "security").stdout.splitlines()[0]
    assert re.fullmatch(r"2 passages match · showing 1–1 · \d+\.\d\d s", first)
    # Pipes and scripts never get it.
    assert "passages match" not in run("query", "--json", "security").stdout


# ------------------------------------------------------------------ show


def test_show_prints_the_passage_at_a_line_with_highlights(indexed, run):
    path = indexed / "japan_latvia.txt"
    result = run("show", f"{path}:5", "--color", "always", "rule", "law", "security")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("\x1b[32m5\x1b[0m: Both ministers")
    assert "\x1b[31m\x1b[1mrule\x1b[0m of \x1b[31m\x1b[1mlaw\x1b[0m" in result.stdout


def test_show_highlights_a_phrase_and_adds_context(indexed, run):
    path = indexed / "japan_latvia.txt"
    result = run("show", "-C", "2", "--color", "always", f"{path}:5", '"rule of law"')
    lines = result.stdout.splitlines()
    assert [re.sub(r"\x1b\[[0-9;]*m", "", line).split(" ")[0] for line in lines] == ["3-", "4-", "5:", "6-"][:len(lines)]
    assert "\x1b[31m\x1b[1mrule of law\x1b[0m" in result.stdout


def test_show_whole_document_and_vimgrep_location(indexed, run):
    path = indexed / "lithuania.md"
    result = run("show", path, "--color", "never")
    # Markdown reads as prose (the "#" is markup), on the file's own lines
    assert result.stdout.splitlines()[0] == "1: Prime Minister Šimonytė visits Tokyo"
    # path:line:column, as --vimgrep prints it, works too.
    assert run("show", f"{indexed / 'japan_latvia.txt'}:5:30").stdout.startswith("5: Both ministers")


def test_show_errors_are_one_line(indexed, run, tmp_path):
    for args in ([tmp_path / "nope.txt"], [f"{indexed / 'lithuania.md'}:99"], [indexed]):
        result = run("show", *args)
        assert result.exit_code == ExitStatus.ERROR, args
        assert result.stderr.startswith("searcher: error: ") and len(result.stderr.splitlines()) == 1


# ------------------------------------------------------------------ shell completion


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_are_generated(runner, shell):
    from searcher.cli import cli

    result = runner.invoke(cli, [], prog_name="searcher", env={"_SEARCHER_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0
    assert "_SEARCHER_COMPLETE" in result.output


def test_completion_offers_commands_and_options(runner):
    from searcher.cli import cli

    env = {"_SEARCHER_COMPLETE": "bash_complete", "COMP_WORDS": "searcher qu", "COMP_CWORD": "1"}
    assert "query" in runner.invoke(cli, [], prog_name="searcher", env=env).output
    env = {"_SEARCHER_COMPLETE": "bash_complete", "COMP_WORDS": "searcher query --exp", "COMP_CWORD": "2"}
    assert "--explain" in runner.invoke(cli, [], prog_name="searcher", env=env).output


def test_completion_offers_files_for_show_and_languages_for_language(runner):
    from searcher.cli import cli

    env = {"_SEARCHER_COMPLETE": "bash_complete", "COMP_WORDS": "searcher show REA", "COMP_CWORD": "2"}
    assert runner.invoke(cli, [], prog_name="searcher", env=env).output.splitlines() == ["file,REA"]
    env = {"_SEARCHER_COMPLETE": "bash_complete", "COMP_WORDS": "searcher index --language fr", "COMP_CWORD": "3"}
    assert runner.invoke(cli, [], prog_name="searcher", env=env).output.splitlines() == ["plain,french"]
    env = {"_SEARCHER_COMPLETE": "fish_complete", "COMP_WORDS": "searcher index --language ", "COMP_CWORD": ""}
    offered = runner.invoke(cli, [], prog_name="searcher", env=env).output.splitlines()
    assert "plain,english" in offered and "plain,german" in offered and len(offered) == 16


def test_context_falls_back_to_the_stored_passage_when_the_file_changed(indexed, run):
    (indexed / "japan_latvia.txt").write_text("Rewritten since it was indexed.\n", encoding="utf-8")
    result = run("query", "-C", "2", "--color", "never", '"rule of law"')
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[1].strip().startswith("5: Both ministers") and "rule of law" in result.stdout
    line = run("query", "--vimgrep", '"rule of law"').stdout.strip()
    assert re.search(r"japan_latvia\.txt:5:\d+: Both ministers", line)


def test_json_lines_are_unaffected_by_terminal_options(indexed, run):
    plain = run("query", "--json", "security").stdout
    assert run("query", "--json", "-C", "3", "security").stdout == plain
