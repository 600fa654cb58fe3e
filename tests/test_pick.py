"""`searcher pick`: hits through fzf (a fake one on PATH, and the real one when installed),
the choice opened in $EDITOR at its line."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest

from searcher.console import ExitStatus
from searcher.pick import editor_command

FAKE_FZF = """#!{python}
import os, sys
data = sys.stdin.read()
with open(os.environ["FAKE_FZF_LOG"], "w", encoding="utf-8") as log:
    log.write(repr(sys.argv[1:]) + "\\n" + data)
lines = [line for line in data.splitlines() if os.environ.get("FAKE_FZF_PICK", "") in line.split("\\t")[-1]]
if not lines:
    sys.exit(1)
print(lines[0])
"""

FAKE_EDITOR = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_EDITOR_LOG"
"""


@pytest.fixture
def tools(tmp_path, monkeypatch):
    """A bin folder with fake fzf and editor first on PATH; their logs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "fzf").write_text(FAKE_FZF.format(python=sys.executable), encoding="utf-8")
    (bin_dir / "fake-editor").write_text(FAKE_EDITOR, encoding="utf-8")
    for name in ("fzf", "fake-editor"):
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_FZF_LOG", str(tmp_path / "fzf.log"))
    monkeypatch.setenv("FAKE_EDITOR_LOG", str(tmp_path / "editor.log"))
    monkeypatch.setenv("EDITOR", "fake-editor")
    monkeypatch.delenv("VISUAL", raising=False)
    return tmp_path


def test_pick_opens_the_chosen_hit_at_its_line(indexed, run, tools, monkeypatch):
    monkeypatch.setenv("FAKE_FZF_PICK", "rules-based")
    result = run("pick", "security")
    assert result.exit_code == 0, result.output
    assert (tools / "editor.log").read_text().splitlines() == ["+5", str(indexed / "japan_latvia.txt")]
    args, *lines = (tools / "fzf.log").read_text().splitlines()
    # One line per hit, best first, the preview is `searcher show` at the hit's path and line.
    assert [line.split("\t")[0] for line in lines] == ["0", "1"]
    assert all(line.count("\t") == 3 for line in lines)
    assert "show" in args and "{2}:{3}" in args and "security" in args


def test_pick_with_nothing_chosen_exits_1(indexed, run, tools, monkeypatch):
    monkeypatch.setenv("FAKE_FZF_PICK", "no line has this")
    result = run("pick", "rice")
    assert result.exit_code == ExitStatus.NOTHING_FOUND
    assert not (tools / "editor.log").exists()


def test_pick_without_fzf_says_so(indexed, run, tmp_path, monkeypatch):
    empty = tmp_path / "nobin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("EDITOR", "vi")
    result = run("pick", "rice")
    assert result.exit_code == ExitStatus.ERROR
    assert "searcher pick needs fzf, which is not installed" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_pick_without_editor_says_so(indexed, run, tools, monkeypatch):
    monkeypatch.delenv("EDITOR")
    result = run("pick", "rice")
    assert result.exit_code == ExitStatus.ERROR
    assert "$EDITOR" in result.output


def test_pick_with_no_hits_never_starts_fzf(indexed, run, tools):
    assert run("pick", "zeppelin").exit_code == ExitStatus.NOTHING_FOUND
    assert not (tools / "fzf.log").exists()


def test_pick_shows_document_text_escaped(tmp_path, run, tools, monkeypatch):
    root = tmp_path / "evil"
    root.mkdir()
    (root / "evil.txt").write_text("Title \x1b[2J here\n\nThe secret \x1b]0;x\x07 parsnip.\n", encoding="utf-8")
    assert run("index", root).exit_code == 0
    monkeypatch.setenv("FAKE_FZF_PICK", "parsnip")
    assert run("pick", "parsnip").exit_code == 0
    shown = (tools / "fzf.log").read_text(encoding="utf-8")
    assert "\x1b" not in shown and "\x07" not in shown and "\\x1b" in shown


@pytest.mark.skipif(shutil.which("fzf") is None, reason="fzf is not installed")
def test_pick_with_the_real_fzf(indexed, tmp_path, monkeypatch, index_location):
    # --filter makes the real fzf choose without a terminal: the first line matching "rinse".
    log = tmp_path / "editor.log"
    editor = tmp_path / "editor"
    editor.write_text(FAKE_EDITOR, encoding="utf-8")
    editor.chmod(0o755)
    env = dict(os.environ, FZF_DEFAULT_OPTS="--filter=rinse", EDITOR=shlex.quote(str(editor)),
               FAKE_EDITOR_LOG=str(log), SEARCHER_INDEX=str(index_location))
    env.pop("VISUAL", None)
    proc = subprocess.run([sys.executable, "-m", "searcher", "pick", "rice"], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().splitlines() == ["+1", str(indexed / "notes" / "cooking.txt")]


@pytest.mark.parametrize("editor, expected", [
    ("vim", ["vim", "+12", "/a b.txt"]),
    ("emacs -nw", ["emacs", "-nw", "+12", "/a b.txt"]),
    ("/usr/bin/code --wait", ["/usr/bin/code", "--wait", "-g", "/a b.txt:12"]),
    ("hx", ["hx", "/a b.txt:12"]),
])
def test_editor_command_puts_the_line_where_each_editor_wants_it(editor, expected):
    assert editor_command(editor, "/a b.txt", 12) == expected

