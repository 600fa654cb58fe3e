"""OSC 8 hyperlinks: on a terminal only, in ripgrep's formats, never carrying raw file-name bytes."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys

import pytest

from searcher.console import ExitStatus
from searcher.present.links import PRESETS, LinkFormatError, Links, parse_format
from tests.test_reader import make_pdf

OSC8 = re.compile(r"\x1b\]8;;([^\x1b]*)\x1b\\(.*?)\x1b\]8;;\x1b\\")


def run_on_tty(*args, env_extra=None) -> str:
    """The real `searcher` with its stdout on a pseudo-terminal; what it printed there."""
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", **(env_extra or {}))
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "searcher", *map(str, args)], stdout=slave,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.fixture
def linked(tmp_path, run):
    root = tmp_path / "linked"
    root.mkdir()
    (root / "rice.txt").write_text("Notes on rice\n\nCook the rice slowly.\n", encoding="utf-8")
    (root / "report.pdf").write_bytes(make_pdf([["Annual report"], ["Rice prices rose sharply."]]))
    # A hostile file name: an escape sequence and a bell in it.
    (root / "evil\x1b]8;;http:x\x07.txt").write_text("Parsnips and rice.\n", encoding="utf-8")
    assert run("index", root).exit_code == 0
    return root


def test_links_on_a_terminal_in_the_default_format(linked, run):
    out = run_on_tty("query", "rice", "--color", "never")
    links = OSC8.findall(out)
    assert links, out
    urls = {text.split(":")[0].rsplit("/", 1)[-1]: url for url, text in links}
    assert urls["rice.txt"] == f"file://{os.uname().nodename}{linked / 'rice.txt'}"
    # A PDF hit links to its page.
    pdf = next(url for url, text in links if "report.pdf" in text)
    page = next(json.loads(line)["page"] for line in run("query", "rice", "--json").stdout.splitlines()
                if "report.pdf" in line)
    assert page and pdf == f"file://{os.uname().nodename}{linked / 'report.pdf'}#page={page}"
    assert "report.pdf" in next(text for url, text in links if "report.pdf" in text)


def test_vscode_preset_links_to_the_line(linked):
    out = run_on_tty("query", "cook", "--hyperlink-format", "vscode", "--color", "always")
    url, text = OSC8.findall(out)[0]
    assert url == f"vscode://file{linked / 'rice.txt'}:1:1"
    assert "rice.txt" in text


def test_custom_format_and_file_list(linked):
    out = run_on_tty("query", "rice", "-l", "--hyperlink-format", "myed://open?f={path}&l={line}&h={host}")
    urls = [url for url, _ in OSC8.findall(out)]
    assert f"myed://open?f={linked / 'rice.txt'}&l=1&h={os.uname().nodename}" in urls


def test_hostile_file_name_is_escaped_in_the_link_and_the_text(linked):
    out = run_on_tty("query", "parsnips", "--color", "never")
    links = OSC8.findall(out)
    assert len(links) == 1
    url, text = links[0]
    assert "%1B%5D8%3B%3Bhttp:x%07.txt" in url
    assert "\\x1b]8;;http:x\\x07.txt" in text
    # The only escape sequences printed are the link's own: two ESCs to open it, two to close it.
    assert out.count("\x1b") == 4 and "\x07" not in out


def test_no_links_with_none_or_when_not_a_terminal(linked, run):
    assert "\x1b]8" not in run_on_tty("query", "rice", "--hyperlink-format", "none")
    result = run("query", "rice", "--hyperlink-format", "vscode", "--color", "always")
    assert result.exit_code == ExitStatus.FOUND
    assert "\x1b]8" not in result.output


def test_bad_format_is_a_one_line_error(linked, run):
    for fmt, message in [("nano", "neither a preset"), ("x://{path}{row}", "unknown placeholder {row}"),
                         ("x://here", "has no {path}")]:
        result = run("query", "rice", "--hyperlink-format", fmt)
        assert result.exit_code == ExitStatus.ERROR
        assert message in result.output


def test_presets_are_ripgreps():
    assert parse_format("vscode") == "vscode://file{path}:{line}:{column}"
    assert parse_format("default") == "file://{host}{path}"
    assert parse_format("none") == ""
    for fmt in PRESETS.values():
        assert fmt == "" or parse_format(fmt) == fmt
    with pytest.raises(LinkFormatError):
        parse_format("vscode://file{path}:{line")


def test_url_encoding_keeps_query_delimiters_out_of_paths():
    url = Links("txmt://open?url=file://{path}&line={line}").url("/tmp/a&b #c?.txt", 7)
    assert url == "txmt://open?url=file:///tmp/a%26b%20%23c%3F.txt&line=7"
