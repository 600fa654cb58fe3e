"""Hostile file names, folder names and arguments through the real CLI: nothing raw reaches the
terminal in any output mode, every path stays on one line, JSON stays valid, and ``-l -0``
gives the names byte for byte."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searcher.console import ExitStatus, escape_line, json_safe, sanitize

# What a terminal would act on, or that no stream can encode: never in output (newline only
# between lines, checked apart).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
                 "\ud800-\udfff]")

NEWLINE_NAME = "new\nline.txt"
ESCAPE_NAME = "esc\x1b[31mred\x07.txt"
BIDI_FOLDER = "dir\x9bbidi\u202etxt.exe"

needs_posix_names = pytest.mark.skipif(sys.platform == "win32", reason="file names with control characters")


@pytest.fixture
def hostile(tmp_path, run):
    root = tmp_path / "hostile"
    (root / BIDI_FOLDER).mkdir(parents=True)
    (root / NEWLINE_NAME).write_text("river flows here\nsecond line river\nthird\n", encoding="utf-8")
    (root / ESCAPE_NAME).write_text("river bank\n", encoding="utf-8")
    (root / BIDI_FOLDER / "a.txt").write_text("river mouth\n", encoding="utf-8")
    result = run("index", root)
    assert result.exit_code == 0, result.output
    assert not RAW.search(result.output)
    return root


def assert_clean(text: str):
    found = RAW.search(text)
    assert found is None, f"raw {found.group()!r} in {text!r}"


@needs_posix_names
@pytest.mark.parametrize("args", [
    ["river"], ["river", "--color", "always"], ["-C", "1", "river"], ["-l", "river"], ["--vimgrep", "river"],
])
def test_no_mode_prints_a_file_name_raw(hostile, run, args):
    result = run("query", *args)
    assert result.exit_code == ExitStatus.FOUND
    out = re.sub("\x1b\\[[0-9;]*m", "", result.stdout) if "always" in args else result.stdout
    assert_clean(out)
    assert "new\\x0aline.txt" in out and "esc\\x1b[31mred\\x07.txt" in out and "dir\\x9bbidi\\u202etxt.exe" in out


@needs_posix_names
def test_a_newline_in_a_name_never_splits_a_line_of_l_or_vimgrep(hostile, run):
    files = run("query", "-l", "river").stdout.splitlines()
    assert len(files) == 3
    vimgrep = run("query", "--vimgrep", "river").stdout.splitlines()
    assert len(vimgrep) == 4  # river is twice in the file with the newline in its name
    for line in vimgrep:
        assert re.fullmatch(r"[^:]+:\d+:\d+: .*river.*", line), line
    assert any(line.endswith("/new\\x0aline.txt:2:13: second line river") for line in vimgrep)


@needs_posix_names
def test_null_gives_the_names_byte_for_byte(hostile, run, monkeypatch):
    monkeypatch.chdir(hostile)
    result = run("query", "-l", "-0", "river")
    assert result.exit_code == ExitStatus.FOUND
    names = result.stdout_bytes.split(b"\0")
    assert names[-1] == b""
    assert sorted(names[:-1]) == sorted(
        os.fsencode(name) for name in (NEWLINE_NAME, ESCAPE_NAME, os.path.join(BIDI_FOLDER, "a.txt")))
    assert run("query", "-0", "river").exit_code == ExitStatus.ERROR  # -0 is for -l


@needs_posix_names
def test_json_stays_valid_and_keeps_the_real_names(hostile, run):
    result = run("query", "--json", "river")
    assert_clean(result.stdout)
    paths = {json.loads(line)["path"] for line in result.stdout.splitlines()}
    assert paths == {str(hostile / NEWLINE_NAME), str(hostile / ESCAPE_NAME), str(hostile / BIDI_FOLDER / "a.txt")}


@needs_posix_names
def test_show_and_status_escape_names(hostile, run, tmp_path):
    shown = run("show", hostile / ESCAPE_NAME)
    assert shown.exit_code == 0 and shown.stdout == "1: river bank\n"
    index_dir = tmp_path / "idx\x9b\u202e\nend"
    assert run("index", "--index", index_dir, hostile / BIDI_FOLDER).exit_code == 0
    status = run("status", "--index", index_dir)
    assert_clean(status.stdout)
    assert "idx\\x9b\\u202e\\x0aend" in status.stdout
    assert not any(line.startswith("end") for line in status.stdout.splitlines())
    as_json = run("status", "--json", "--index", index_dir)
    assert_clean(as_json.stdout)
    data = json.loads(as_json.stdout)
    assert data["index_dir"] == str(index_dir) and data["roots"] == [str(hostile / BIDI_FOLDER)]


@needs_posix_names
@pytest.mark.parametrize("command", [
    ["show", "nope\x1b]0;pwned\x07\nline2.txt"],
    ["show", "nope\x1b]0;pwned\x07\nline2.txt:3"],
    ["query", "--index", "no\x9bindex\u202e\nhere", "river"],
    ["status", "--index", "no\x9bindex\u202e\nhere"],
    ["index", "missing\x1b[2J\nfile"],
    ["query", "--no-such-\x1b[2J-option", "river"],
])
def test_errors_are_one_escaped_line(hostile, run, command):
    result = run(*command)
    assert result.exit_code == ExitStatus.ERROR
    assert_clean(result.output)
    error = [line for line in result.stderr.splitlines() if "rror" in line]
    assert len(error) == 1
    assert "\\x1b" in error[0] or "no\\x9bindex\\u202e\\x0ahere" in error[0]


@needs_posix_names
def test_a_name_that_is_not_utf8_is_skipped_with_its_reason(tmp_path, run):
    root = tmp_path / "bytes"
    root.mkdir()
    (root / "good.txt").write_text("river\n", encoding="utf-8")
    try:
        with open(os.path.join(os.fsencode(root), b"bad\xffname.txt"), "wb") as f:
            f.write(b"river\n")
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    result = run("index", root, "--verbose")
    assert result.exit_code == 0, result.output
    assert "bad\\xffname.txt: file name is not valid UTF-8" in result.stderr
    assert_clean(result.output)
    assert run("query", "-l", "river").stdout.splitlines() == [str(root / "good.txt")]


def test_escapes_are_visible_and_json_round_trips():
    hostile = "a\x1b[2J\x9b\u202e\udcff\tb\nc"
    assert escape_line(hostile) == "a\\x1b[2J\\x9b\\u202e\\xff\\x09b\\x0ac"
    assert sanitize(hostile) == "a\\x1b[2J\\x9b\\u202e\\xff\tb\nc"  # document text keeps its lines
    text = json_safe(json.dumps({"path": hostile}, ensure_ascii=False))
    assert not RAW.search(text) and "\n" not in text
    assert json.loads(text) == {"path": hostile}


# ------------------------------------------------------------------ only regular files are opened


def run_subprocess(index_dir, *args):
    """The CLI in a process of its own, so that a hang fails the test instead of stopping the suite."""
    env = dict(os.environ, SEARCHER_INDEX=str(index_dir), NLTK_DATA="/nonexistent")
    return subprocess.run([sys.executable, "-m", "searcher", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_an_indexed_file_that_became_a_fifo_never_hangs(tmp_path, index_location):
    root = tmp_path / "fifo"
    root.mkdir()
    doc = root / "a.txt"
    doc.write_text("river one\nriver two\nthree\n", encoding="utf-8")
    assert run_subprocess(index_location, "index", root).returncode == 0
    doc.unlink()
    os.mkfifo(doc)  # nobody ever writes to it: reading it would wait forever
    for location in (doc, f"{doc}:1"):
        shown = run_subprocess(index_location, "show", location)
        assert shown.returncode == ExitStatus.ERROR
        assert shown.stderr == f"searcher: error: cannot show {doc}: not a regular file\n"
    # The stored passage stands in for the file.
    context = run_subprocess(index_location, "query", "-C", "1", "river")
    assert context.returncode == ExitStatus.FOUND
    assert [line.strip() for line in context.stdout.splitlines()[1:]] == ["1: river one", "2: river two", "3: three"]
    vimgrep = run_subprocess(index_location, "query", "--vimgrep", "river")
    assert vimgrep.stdout.splitlines() == [f"{doc}:1:1: river one", f"{doc}:2:1: river two"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_named_on_the_command_line_is_refused(index_location):
    indexed = run_subprocess(index_location, "index", "/dev/zero")
    assert indexed.returncode == 0 and "skipped /dev/zero: not a regular file" in indexed.stderr
    shown = run_subprocess(index_location, "show", "/dev/zero")
    assert shown.returncode == ExitStatus.ERROR and "not a regular file" in shown.stderr


# ------------------------------------------------------------------ invariants of the escapes

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)


@given(ANY_TEXT)
def test_escape_line_is_one_printable_line_for_any_text(text):
    escaped = escape_line(text)
    assert "\n" not in escaped and "\t" not in escaped and not RAW.search(escaped)
    escaped.encode("utf-8")  # no lone surrogate left: every stream can write it
    assert escape_line(escaped) == escaped  # escaping twice changes nothing: messages may be escaped early


@given(ANY_TEXT)
def test_sanitize_keeps_lines_and_tabs_and_nothing_else_raw(text):
    escaped = sanitize(text)
    assert not RAW.search(escaped)
    assert escaped.count("\n") == text.count("\n") and escaped.count("\t") == text.count("\t")


@given(st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=3))
def test_json_safe_is_valid_json_of_the_same_value(record):
    text = json_safe(json.dumps(record, ensure_ascii=False))
    assert not RAW.search(text) and "\n" not in text
    text.encode("utf-8")
    assert json.loads(text) == record
