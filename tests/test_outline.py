"""Section headings: outline detection (index/reading/outline.py) and each hit's section, through the CLI."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings, strategies as st

from searcher.index.reading.outline import clean_heading, markdown_headings, pdf_headings, rst_headings
from searcher.index.text.passages import passage_sections, split_passages
from searcher.index.reading.reader import read_document
from searcher.console import ExitStatus
from tests.test_reader import make_pdf

FILLER = ("The quick brown fox jumps over the lazy dog near the quiet river bank. " * 4).strip()


def paragraphs(word: str, count: int = 3) -> str:
    """Enough text that a section makes passages of its own, with ``word`` in it."""
    return "\n\n".join(f"{FILLER} This paragraph is about {word} number {i}." for i in range(count))


# --- Markdown ---------------------------------------------------------------

def test_markdown_atx_setext_and_html_headings_with_levels():
    text = (
        "# Guide\n\nIntro.\n\nUsage\n=====\n\nText.\n\nOptions\n-------\n\n"
        "### Flags `--fast` ###\n\n<h2 class=x>From <b>HTML</b></h2>\n"
    )
    assert markdown_headings(text) == (
        (1, 1, "Guide"), (5, 1, "Usage"), (10, 2, "Options"), (13, 3, "Flags --fast"), (15, 2, "From HTML"),
    )


def test_markdown_code_front_matter_lists_and_breaks_are_not_headings():
    text = (
        "---\ntitle: Doc\n# not a heading\n---\n"
        "Real\n====\n\n"
        "```sh\n# a shell comment\n```\n\n"
        "~~~~\n## inside tildes\n```\nstill inside\n~~~~\n\n"
        "    # indented code\n\n"
        "- a list item\n---\n\n"
        "> a quote\n---\n\n"
        "a paragraph\n\n---\n"
    )
    assert markdown_headings(text) == ((5, 1, "Real"),)


def test_markdown_setext_heading_of_two_lines_starts_on_its_first():
    assert markdown_headings("\nTwo\nlines\n---\n") == ((2, 2, "Two lines"),)


# --- reStructuredText ---------------------------------------------------------

RST = """\
:mod:`!asyncio` --- Asynchronous I/O
====================================

.. currentmodule:: asyncio

*********
Overlined
*********

Sub section
-----------

Example::

    Not a title
    -----------

.. note::

   Not one either
   ==============

Hi
==

----

Another :func:`~os.path.join`
-----------------------------

Para text
still para
==========

=====  =====
A      B
=====  =====
"""


def test_rst_titles_levels_follow_the_order_styles_appear():
    assert rst_headings(RST) == (
        (1, 1, "asyncio — Asynchronous I/O"),
        (7, 2, "Overlined"),
        (10, 3, "Sub section"),
        (23, 1, "Hi"),
        (28, 3, "Another join"),
    )


def test_clean_heading_keeps_the_words_a_reader_sees():
    assert clean_heading(":ref:`the guide <guide-label>` and **bold** [link](http://x)") == \
        "the guide and bold link"
    assert clean_heading("x" * 500).endswith("…") and len(clean_heading("x" * 500)) == 120


lines_of_text = st.lists(
    st.one_of(
        st.sampled_from(["", "# h", "## h2 ##", "===", "---", "```", "~~~", "****", "Title", "  indented",
                         "- item", "> quote", "<h2>x</h2>", "+++", ".. note::", "text::"]),
        st.text(alphabet="#=-*`~ ab\t", max_size=8),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(lines_of_text)
def test_headings_are_sorted_inside_the_text_and_non_empty(lines):
    text = "\n".join(lines)
    for find in (markdown_headings, rst_headings):
        headings = find(text)
        numbers = [line for line, _, _ in headings]
        assert numbers == sorted(set(numbers))
        assert all(1 <= line <= len(lines) and 1 <= level <= 6 + len(headings) and heading.strip()
                   for line, level, heading in headings)


# --- PDF ----------------------------------------------------------------------

def pdf_with_outline(pages, bookmarks) -> bytes:
    """``make_pdf(pages)`` with bookmarks: (title, page index, parent bookmark index or None)."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(pages))))
    made = []
    for title, page, parent in bookmarks:
        made.append(writer.add_outline_item(title=title, page_number=page,
                                            parent=made[parent] if parent is not None else None))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_bookmarks_land_on_the_line_that_prints_them(tmp_path):
    path = tmp_path / "manual.pdf"
    path.write_bytes(pdf_with_outline(
        [["Front matter", "Chapter One", "text one"], ["more text", "Section A.1", "body"], ["no title here"]],
        [("Chapter One", 0, None), ("Section A.1", 1, 0), ("Appendix (printed nowhere)", 2, None)],
    ))
    document = read_document(path)
    assert document.page_starts == (1, 4, 7)
    assert document.headings == ((2, 1, "Chapter One"), (5, 2, "Section A.1"), (7, 1, "Appendix (printed nowhere)"))


def test_pdf_with_a_broken_outline_still_reads(tmp_path):
    class Broken:
        @property
        def outline(self):
            raise ValueError("bad outline")

    assert pdf_headings(Broken(), ["x"], (1,)) == ()
    path = tmp_path / "plain.pdf"
    path.write_bytes(make_pdf([["just text"]]))
    assert read_document(path).headings == ()


# --- passages -----------------------------------------------------------------

def test_each_passage_gets_the_nearest_heading_above_it():
    text = f"Preamble {FILLER}\n\n# One\n\n{paragraphs('alpha')}\n\n## Two\n\n{paragraphs('beta')}\n"
    passages = split_passages(text)
    sections = passage_sections(passages, markdown_headings(text))
    assert sections[0] is None
    for passage, section in zip(passages, sections):
        if "alpha" in passage.text and "beta" not in passage.text:
            assert section == "One"
        if "beta" in passage.text and "alpha" not in passage.text:
            assert section == "Two"
    assert "Two" in sections and "One" in sections


# --- through the CLI ----------------------------------------------------------------

@pytest.fixture
def sections_folder(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "guide.md").write_text(
        f"# Field guide\n\n{paragraphs('owls')}\n\n## Nesting habits\n\n{paragraphs('herons')}\n\n"
        f"Migration\n---------\n\n{paragraphs('storks')}\n", encoding="utf-8")
    (root / "module.rst").write_text(
        f":mod:`shelve` --- Persistence\n==============================\n\n{paragraphs('pickles')}\n\n"
        f"Restrictions\n------------\n\n{paragraphs('dbm')}\n", encoding="utf-8")
    sentences = [f"Sentence {i} of this page says little of note." for i in range(15)]
    (root / "manual.pdf").write_bytes(pdf_with_outline(
        [["Reference manual", "Installing zebras", *sentences],
         ["Chapter on giraffes", *sentences, "Giraffes have spots."]],
        [("Installing zebras", 0, None), ("Chapter on giraffes", 1, None)],
    ))
    return root


def test_hits_show_title_and_section_in_text_and_json(sections_folder, run):
    assert run("index", sections_folder).exit_code == 0
    result = run("query", "herons", "--color", "never", "--per-file", "1")
    assert result.exit_code == ExitStatus.FOUND
    first = result.output.splitlines()[0]
    assert first.endswith(": Field guide › Nesting habits")
    record = json.loads(run("query", "storks", "--json", "-n", "1").output)
    assert (record["title"], record["section"]) == ("Field guide", "Migration")
    # Before any section, the document's own title is the whole heading.
    owls = run("query", "owls", "--color", "never", "-n", "1").output.splitlines()[0]
    assert owls.endswith(": Field guide")
    assert json.loads(run("query", "owls", "--json", "-n", "1").output)["section"] == "Field guide"


def test_rst_and_pdf_sections(sections_folder, run):
    assert run("index", sections_folder).exit_code == 0
    dbm = json.loads(run("query", "dbm", "--json", "-n", "1").output)
    assert (dbm["title"], dbm["section"]) == ("shelve — Persistence", "Restrictions")
    assert run("query", "dbm", "--color", "never").output.splitlines()[0].endswith(
        ": shelve — Persistence › Restrictions")
    giraffes = json.loads(run("query", "spots", "--json", "-n", "1").output)
    assert (giraffes["page"], giraffes["section"]) == (2, "Chapter on giraffes")


def test_context_output_shows_the_section_too(sections_folder, run):
    assert run("index", sections_folder).exit_code == 0
    result = run("query", "herons", "-C", "0", "--color", "never", "-n", "1")
    assert result.output.splitlines()[0].endswith(": Field guide › Nesting habits")


def test_a_heading_is_escaped_before_it_reaches_the_terminal(tmp_path, run):
    (tmp_path / "evil.md").write_text(f"# Title\n\n## Bad \x1b[31mred\n\n{paragraphs('payload')}\n",
                                      encoding="utf-8")
    assert run("index", tmp_path / "evil.md").exit_code == 0
    output = run("query", "payload", "--color", "always", "-n", "1").output
    assert "\x1b[31mred" not in output and "\\x1b" in output


def test_an_index_made_before_sections_keeps_working_without_them(sections_folder, run, monkeypatch, tmp_path):
    import searcher.index.runs.writer
    from searcher.index.storage.schema import make_schema

    def schema_without_sections(language="english"):
        schema = make_schema(language)
        schema.remove("section")
        return schema

    with monkeypatch.context() as patch:
        patch.setattr(searcher.index.runs.writer, "make_schema", schema_without_sections)
        assert run("index", sections_folder).exit_code == 0
    more = tmp_path / "more"
    more.mkdir()
    (more / "later.md").write_text(f"# Later\n\n## Part two\n\n{paragraphs('cranes')}\n", encoding="utf-8")
    assert run("index", more).exit_code == 0  # the old schema takes new files
    for word, title in (("herons", "Field guide"), ("cranes", "Later")):
        record = json.loads(run("query", word, "--json", "-n", "1").output)
        assert (record["title"], record["section"]) == (title, None)
        assert run("query", word, "--color", "never").output.splitlines()[0].endswith(f": {title}")
    assert run("index", "--rebuild", sections_folder, more).exit_code == 0
    assert json.loads(run("query", "cranes", "--json", "-n", "1").output)["section"] == "Part two"


def test_backslash_escapes_in_headings_read_as_prose():
    assert clean_heading("Utilities for with\\ -statement contexts") == "Utilities for with-statement contexts"
    assert clean_heading("The \\*args form") == "The *args form"
