"""HTML as people have it: the main content, not the navigation (issue 12)."""

from __future__ import annotations

from searcher.index.reading.reader import read_document

SPHINX = """<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>contextlib — Utilities</title></head>
<body>
<div class="related" role="navigation" aria-label="related navigation">
  <ul><li><a href="genindex.html">index</a></li><li><a href="os.html">next</a></li></ul>
</div>
<div class="document">
<div class="body" role="main">
<section id="contextlib">
<h1>contextlib — Utilities<a class="headerlink" href="#contextlib">¶</a></h1>
<p>This module provides utilities for common tasks involving the with statement.
A context manager is an object that defines enter and exit.</p>
<section id="utilities">
<h2>Utilities<a class="headerlink" href="#utilities">¶</a></h2>
<p>Functions and classes provided by the module.</p>
</section>
</section>
</div>
</div>
<div class="sphinxsidebar" role="navigation" aria-label="main navigation">
  <h3>Previous topic</h3>
  <p><a href="abc.html">abc — Abstract Base Classes</a></p>
  <h3>Table of Contents</h3>
  <ul><li><a href="#">contextlib context manager utilities</a></li></ul>
</div>
<div class="footer">© Copyright 2001-2023, Python Software Foundation.</div>
</body>
</html>
"""

PLAIN = """<html>
<head><title>Plain page</title></head>
<body>
<nav><a href="/">Home</a> | <a href="/blog">Blog</a> | <a href="/about">About us</a></nav>
<div id="sidebar"><a href="/a">Archive 2019</a><br><a href="/b">Archive 2020</a></div>
<div id="text">
<h1>Growing tomatoes on a balcony</h1>
<p>Tomatoes need six to eight hours of direct sunlight a day, so a balcony that faces
south is the best place for them. Choose a large pot with drainage holes and fill it
with good potting soil mixed with compost.</p>
<p>Water the plants deeply at the base every morning during hot weather, and feed them
every two weeks once the first flowers appear. Pinch out side shoots on cordon
varieties so the plant puts its energy into the fruit.</p>
<ul>
<li>Stake the plants early before the stems get heavy.</li>
<li>Harvest the fruit when it is fully coloured and slightly soft.</li>
</ul>
<p>With a little care a single plant can give several kilograms of tomatoes over the
summer, more than enough for salads and sauces.</p>
</div>
<footer>Copyright 2024 Balcony Gardens. All rights reserved. Privacy policy.</footer>
</body>
</html>
"""


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


def test_sphinx_page_keeps_role_main_and_drops_sidebars(tmp_path):
    doc = read_document(write(tmp_path, "contextlib.html", SPHINX))
    assert "Previous topic" not in doc.text
    assert "genindex" not in doc.text and "index" not in doc.text.split()
    assert "Python Software Foundation" not in doc.text
    assert "A context manager is an object" in doc.text
    lines = doc.text.split("\n")
    source = SPHINX.split("\n")
    for word in ("common tasks", "Functions and classes"):
        assert word in lines[next(i for i, line in enumerate(source) if word in line)]


def test_html_headings_are_the_h1_to_h6_of_the_content(tmp_path):
    doc = read_document(write(tmp_path, "contextlib.html", SPHINX))
    source = SPHINX.split("\n")
    assert doc.headings == (
        (source.index(next(s for s in source if s.startswith("<h1>"))) + 1, 1, "contextlib — Utilities"),
        (source.index(next(s for s in source if s.startswith("<h2>"))) + 1, 2, "Utilities"),
    )  # sidebar <h3>s are not content


def test_page_without_markers_drops_navigation_and_footer(tmp_path):
    doc = read_document(write(tmp_path, "plain.html", PLAIN))
    assert "About us" not in doc.text
    assert "All rights reserved" not in doc.text
    for kept in ("six to eight hours", "Stake the plants early", "several kilograms", "Growing tomatoes"):
        assert kept in doc.text
    assert doc.headings[0][1:] == (1, "Growing tomatoes on a balcony")


def test_article_header_is_kept_but_page_header_is_not(tmp_path):
    page = ("<body><header>Site banner menu</header><article><header><h1>The title</h1></header>"
            "<p>Body text.</p><footer>Tags: x</footer></article></body>")
    doc = read_document(write(tmp_path, "a.html", page))
    assert "The title" in doc.text and "Body text." in doc.text
    assert "Site banner" not in doc.text and "Tags" not in doc.text


def test_meta_charset_is_honoured(tmp_path):
    page = '<html><head><meta charset="windows-1251"><title>т</title></head><body><p>Привет мир</p></body></html>'
    doc = read_document(write(tmp_path, "ru.html", page.encode("cp1251")))
    assert "Привет мир" in doc.text
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
            '</head><body><p>caf\u00e9 \u201cquoted\u201d</p></body></html>')
    doc = read_document(write(tmp_path, "fr.html", page.encode("cp1252")))
    assert "café “quoted”" in doc.text


def test_navigation_does_not_rank_through_the_cli(tmp_path, run):
    root = tmp_path / "site"
    root.mkdir()
    (root / "contextlib.html").write_text(SPHINX, encoding="utf-8")
    (root / "plain.html").write_text(PLAIN, encoding="utf-8")
    assert run("index", root).exit_code == 0
    assert run("query", '"Previous topic"').exit_code == 1
    assert run("query", "rights reserved").exit_code == 1
    hit = run("query", '"context manager"', "--color", "never")
    assert hit.exit_code == 0
    # the passage starts at the section's heading, on its line of the source
    line = SPHINX.split("\n").index(next(s for s in SPHINX.split("\n") if s.startswith("<h1>"))) + 1
    assert hit.output.startswith(f"{root / 'contextlib.html'}:{line}:")


def test_unclosed_tags_do_not_confuse_regions(tmp_path):
    page = ("<body><div role='navigation'><ul><li>Home<li>About</ul></div>"
            "<div role='main'><div><p>one<p>two<div>three</div></div><p>four</div>"
            "<footer>foot</footer></body>")
    doc = read_document(write(tmp_path, "a.html", page))
    assert doc.text.split() == ["one", "two", "three", "four"]


def test_many_unclosed_paragraphs_read_in_linear_time(tmp_path):
    # Were every open <p> tracked, each end tag would scan them all: 4e8 steps here.
    page = "<body><main>" + "<p>word" * 20_000 + "</div>" * 20_000 + "</main><nav>menu</nav></body>"
    doc = read_document(write(tmp_path, "a.html", page))
    assert doc.text.split().count("word") == 20_000 and "menu" not in doc.text
