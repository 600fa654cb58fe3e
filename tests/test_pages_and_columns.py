"""Where a hit points, through the real CLI: a PDF's page in text output, -C, --vimgrep and
`show PATH#page=N`; --vimgrep columns in the file as an editor opens it (HTML included)."""

from __future__ import annotations

import json
import re

import pytest
from test_reader import make_pdf

from searcher.console import ExitStatus

FILLER = [f"Sentence number {i} talks about weather and nothing more." for i in range(40)]


@pytest.fixture
def pdf(tmp_path, run):
    root = tmp_path / "pdfs"
    root.mkdir()
    path = root / "manual.pdf"
    path.write_bytes(make_pdf([
        FILLER,
        ["The harbour pilot met a barge."],
        FILLER[:3] + ["A second harbour story ends here."],
    ], title="Manual"))
    assert run("index", root).exit_code == 0
    return path


def hits(run, *words):
    return [json.loads(line) for line in run("query", "--json", "--per-file", "0", *words).stdout.splitlines()]


def test_a_pdf_hit_prints_its_page(pdf, run):
    found = hits(run, "harbour")
    assert max(hit["page"] for hit in found) > 1
    heads = [line for line in run("query", "--color", "never", "--per-file", "0", "harbour").stdout.splitlines()
             if line and not line.startswith(" ")]
    assert heads == [f"{pdf}#page={hit['page']}:{hit['start_line']}: Manual" for hit in found]
    # -l stays a list of file names.
    assert run("query", "-l", "harbour").stdout == f"{pdf}\n"


def test_context_and_show_mark_the_pages(pdf, run):
    # Page 1 is lines 1-40 of the extracted text, page 2 line 41, page 3 lines 42-45.
    lines = [line.strip() for line in run("query", "-C", "0", "--color", "never", "pilot").stdout.splitlines()]
    at = lines.index("41: The harbour pilot met a barge.")
    assert lines[at - 1] == "-- page 2 --"
    page = run("show", f"{pdf}#page=2").stdout.splitlines()
    assert page == ["-- page 2 --", "41: The harbour pilot met a barge."]
    assert run("show", f"{pdf}#page=3").stdout.splitlines()[0] == "-- page 3 --"
    # The location as a hit prints it.
    hit = hits(run, "pilot")[0]
    shown = run("show", f"{pdf}#page={hit['page']}:{hit['start_line']}")
    assert shown.exit_code == 0 and "41: The harbour pilot met a barge." in shown.stdout


@pytest.mark.parametrize("location, message", [
    ("#page=4", "manual.pdf has 3 pages: there is no page 4"),
    ("#page=0", "pages are numbered from 1"),
    ("#page=1:41", "line 41 of "),
])
def test_show_refuses_a_page_the_pdf_does_not_have(pdf, run, location, message):
    result = run("show", f"{pdf}{location}")
    assert result.exit_code == ExitStatus.ERROR and message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_vimgrep_on_a_pdf_names_the_page_of_each_match(pdf, run):
    lines = set(run("query", "--vimgrep", "--per-file", "0", "harbour").stdout.splitlines())
    assert lines == {f"{pdf}:41:1: page 2: The harbour pilot met a barge.",
                     f"{pdf}:45:1: page 3: A second harbour story ends here."}


HTML = (
    '<html><head><title>Init</title></head>\n'
    '<body><div class="river"><p>The <b>river</b> runs &amp; the river <a href="river.html">bank</a></p>\n'
    '<p>caf&eacute; river</p>\n'
    '<p>Fish&amp;river swim, <i>riv&#101;r</i> and river</p></div>\n'
    '</body></html>\n'
)


def test_vimgrep_columns_point_into_the_html_file(tmp_path, run):
    import html

    root = tmp_path / "site"
    root.mkdir()
    page = root / "init.html"
    page.write_text(HTML, encoding="utf-8")
    (root / "plain.txt").write_text("\tplain café river\n", encoding="utf-8")
    assert run("index", root).exit_code == 0
    raw = HTML.split("\n")
    found = []
    for line in run("query", "--vimgrep", "river").stdout.splitlines():
        if line.startswith(str(root / "plain.txt")):
            assert line.endswith("plain.txt:1:14: plain café river")  # a tab is one byte, é two
            continue
        number, col, text = re.fullmatch(rf"{re.escape(str(page))}:(\d+):(\d+): (.*)", line).groups()
        found.append((int(number), int(col)))
        before = raw[int(number) - 1].encode("utf-8")[:int(col) - 1].decode("utf-8")
        after = raw[int(number) - 1].encode("utf-8")[int(col) - 1:].decode("utf-8")
        # The match itself, in the file as vim shows it, never inside a tag.
        assert html.unescape(re.sub("<[^>]*>", "", after)).lower().startswith("river"), line
        assert before.count("<") == before.count(">")
    assert found == [(2, 36), (2, 61), (3, 16), (4, 13), (4, 28), (4, 47)]


def test_vimgrep_column_is_1_when_the_word_cannot_be_placed_for_sure(tmp_path, run):
    root = tmp_path / "site"
    root.mkdir()
    # The script's "river" is in the file's line but not in the indexed text: which one the
    # match is cannot be told, so the line is given, at its start.
    (root / "a.html").write_text("<p>river <script>var river = 1;</script></p>\n", encoding="utf-8")
    assert run("index", root).exit_code == 0
    assert run("query", "--vimgrep", "river").stdout.endswith("a.html:1:1: river\n")


def test_vimgrep_column_on_a_line_that_starts_inside_a_tag(tmp_path, run):
    root = tmp_path / "site"
    root.mkdir()
    # Sphinx writes links over two lines: the second starts with the end of the tag.
    (root / "a.html").write_text('<p><a href="river.html"\n   title="river">river link</a></p>\n', encoding="utf-8")
    assert run("index", root).exit_code == 0
    assert run("query", "--vimgrep", "river").stdout.endswith("a.html:2:18: river link\n")
