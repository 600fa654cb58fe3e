"""Arguments that cannot be honoured get a one-line error and exit status 2 through the real CLI:
a read-only index, an index asked to index itself, `show` of what the index does not hold."""

from __future__ import annotations

import errno
import os
import re

import pytest

from searcher.console import ExitStatus


def one_line_error(result, *expected):
    assert result.exit_code == ExitStatus.ERROR, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("searcher: error: ") and len(result.stderr.splitlines()) == 1, result.stderr
    for text in expected:
        assert text in result.stderr
    assert "unexpected" not in result.stderr


# ------------------------------------------------------------------ read-only index


def test_a_read_only_index_says_so(indexed, run, index_location, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (
        False if mode == os.W_OK and os.path.realpath(path) == os.path.realpath(index_location)
        else real_access(path, mode, **kw)))
    one_line_error(run("index", indexed), "is read-only", "it can be searched, not updated")
    # ...and it still answers.
    assert run("query", "rice").exit_code == ExitStatus.FOUND


def test_a_write_refused_during_a_run_says_the_index_is_read_only(indexed, run, index_location, monkeypatch):
    from searcher.index.runs.lock import RunLock

    def refuse(self, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(index_location / "searcher.lock"))

    monkeypatch.setattr(RunLock, "acquire", refuse)
    one_line_error(run("index", indexed), f"the index at {index_location} is read-only (a read-only file system)")
    one_line_error(run("index", "--rebuild", indexed), "is read-only")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_folder_without_write_permission_is_a_read_only_index(indexed, run, index_location):
    index_location.chmod(0o555)
    try:
        one_line_error(run("index", indexed), "is read-only (no permission to write)")
    finally:
        index_location.chmod(0o755)


# ------------------------------------------------------------------ an index indexing itself


def test_the_index_folder_and_paths_inside_it_are_refused(indexed, run, index_location):
    before = run("status", "--json").stdout
    one_line_error(run("index", index_location), "is the index folder", "cannot index itself")
    one_line_error(run("index", index_location / "searcher.json"), "is inside the index folder")
    one_line_error(run("index", f"{index_location}/../{index_location.name}/"), "is the index folder")
    assert run("status", "--json").stdout == before


def test_an_index_inside_an_indexed_folder_is_left_out(tmp_path, run):
    root = tmp_path / "notes"
    root.mkdir()
    (root / "a.txt").write_text("river\n", encoding="utf-8")
    index_dir = root / "idx"
    assert run("index", "--index", index_dir, root).exit_code == 0
    (index_dir / "planted.txt").write_text("river\n", encoding="utf-8")
    assert run("index", "--index", index_dir, root).exit_code == 0
    assert run("query", "--index", index_dir, "-l", "river").stdout.splitlines() == [str(root / "a.txt")]


# ------------------------------------------------------------------ show


def test_show_of_a_file_not_in_the_index(indexed, run, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("not in any index, river.\n", encoding="utf-8")
    for location in (other, f"{other}:1"):
        one_line_error(run("show", location), f"{other} is not in the index at ")


@pytest.mark.parametrize("line, message", [
    (0, "lines are numbered from 1"),
    (6, "has 5 lines: there is no line 6"),
    (99, "has 5 lines: there is no line 99"),
])
def test_show_of_a_line_the_file_does_not_have(indexed, run, line, message):
    one_line_error(run("show", f"{indexed / 'japan_latvia.txt'}:{line}"), message)


def test_show_counts_lines_as_wc_does(tmp_path, run):
    root = tmp_path / "three"
    root.mkdir()
    (root / "a.txt").write_text("one river\ntwo\nthree\n", encoding="utf-8")
    assert run("index", root).exit_code == 0
    assert run("show", root / "a.txt").stdout == "1: one river\n2: two\n3: three\n"
    assert run("show", f"{root / 'a.txt'}:3").exit_code == 0
    one_line_error(run("show", f"{root / 'a.txt'}:4"), "has 3 lines: there is no line 4")
    one_line_error(run("show", f"{root / 'a.txt'}#page=1"), "has no pages")


def test_show_finds_a_path_that_holds_colons(tmp_path, run):
    root = tmp_path / "colons"
    root.mkdir()
    doc = root / "log:2024:05.txt"
    doc.write_text("first river\nsecond\n", encoding="utf-8")
    assert run("index", root).exit_code == 0
    assert run("show", doc).stdout == "1: first river\n2: second\n"
    for location in (f"{doc}:2", f"{doc}:2:3"):  # the passage that holds line 2
        assert run("show", location).stdout.endswith("2: second\n")
    one_line_error(run("show", f"{doc}:9"), "log:2024:05.txt has 2 lines: there is no line 9")


# ------------------------------------------------------------------ one console, exit statuses


def test_the_console_is_given_by_the_caller(indexed, runner):
    import io

    from searcher.cli import cli
    from searcher.console import Console

    out, err = io.StringIO(), io.StringIO()
    result = runner.invoke(cli, ["query", "kamikava", "rice"], obj=Console(out, err))
    assert result.exit_code == ExitStatus.FOUND
    assert result.stdout == "" and "cooking.txt:" in out.getvalue() and "did you mean" in err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert runner.invoke(cli, ["status"], obj=Console(out, err)).exit_code == 0
    assert out.getvalue().startswith("index ")


def test_an_interrupted_query_exits_130(indexed, run, monkeypatch):
    from searcher.engine.search import SearchSession

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(SearchSession, "search", interrupted)
    result = run("query", "rice")
    assert result.exit_code == ExitStatus.INTERRUPTED == 130
    assert result.stderr == "searcher: interrupted\n"


# ------------------------------------------------------------------ a phrase that matches nothing


def test_a_phrase_with_no_hits_says_so_and_counts_the_words_unquoted(indexed, run, monkeypatch):
    result = run("query", '"law of rule"')
    assert result.exit_code == ExitStatus.NOTHING_FOUND and result.stdout == ""
    assert result.stderr == ('searcher: nothing matches: no passage has the phrase "law of rule"; '
                             "1 passage has all its words (searcher query 'law AND rule')\n")
    # The query it names finds exactly those passages.
    assert len(run("query", "--json", "law AND rule").stdout.splitlines()) == 1
    result = run("query", "--phrase", "rice", "japan")
    assert result.stderr == 'searcher: nothing matches: no passage has the phrase "rice japan", nor all its words\n'
    # Words that only look like operators inside the quotes stay words; excluded phrases are not counted.
    result = run("query", "--", 'title:"TOKYO OR visits" -"rule of law"')
    assert 'no passage has the phrase "TOKYO OR visits"; 1 passage has all its words' in result.stderr
    assert "rule of law" not in result.stderr


def test_the_header_says_nothing_matched(indexed, run, monkeypatch):
    from searcher.console import Console

    monkeypatch.setattr(Console, "is_tty", property(lambda self: True))
    result = run("query", '"law of rule"')
    assert re.fullmatch(r"no passage matches · \d+\.\d\d s", result.stdout.splitlines()[0])
    assert "none on this page" not in result.stdout
