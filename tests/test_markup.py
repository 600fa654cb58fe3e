"""reStructuredText and Markdown read as prose, line for line (issue 12)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from searcher.index.reading.markup import markdown_prose, rst_prose

RST = """\
:mod:`!asyncio` --- Asynchronous I/O
====================================

.. module:: asyncio
   :synopsis: Asynchronous I/O.

.. currentmodule:: asyncio

.. _asyncio-intro:

**Source code:** :source:`Lib/asyncio/`

asyncio is a library to write **concurrent** code with\\ out\\ -fuss using the
:ref:`async/await <async-syntax>` syntax, see :func:`~asyncio.tasks.run` and ``gather()``.

.. note::

   Read the `tutorial <https://example.org/tut>`_ first [#]_.

.. versionadded:: 3.4

.. function:: run(coro, *, debug=None)
   :noindex:

   Execute the coroutine *coro* and return the result.

.. toctree::
   :maxdepth: 1

   asyncio-task.rst
   asyncio-stream.rst

Example::

    asyncio.run(main())

.. [#] A footnote about |version|.
"""

MARKDOWN = """\
---
title: The Guide
tags: [a, b]
---
# Getting *started* #

Install with `pip install frob_nicator` and read the [manual](https://x.org/m "M").

| option | meaning |
|--------|---------|
| `-v`   | verbose |

> **Note:** keep my_snake_case_name intact.

- [ ] a task list item
1. ![diagram](d.png) numbered

```python
# a comment in code, not a heading
x = 1
```

[manual]: https://x.org/m
Setext Title
------------
"""


def test_rst_directives_roles_and_underlines_are_not_raw():
    prose = rst_prose(RST)
    lines = prose.split("\n")
    assert len(lines) == len(RST.split("\n"))
    assert lines[0] == "asyncio --- Asynchronous I/O"
    assert lines[1] == ""  # underline
    for raw in (".. ", "::", ":func:", ":ref:", "currentmodule", "toctree", "asyncio-task.rst",
                ":noindex:", ":synopsis:", "`_", "**", "=="):
        assert raw not in prose, raw
    assert "Source code: Lib/asyncio/" in prose
    assert "see run and gather()." in prose
    assert "concurrent code without-fuss using the\nasync/await syntax" in prose
    assert "   Read the tutorial first." in prose
    assert "Note:" in prose and "Added in version 3.4" in prose
    assert "run(coro, *, debug=None)" in prose  # a function's signature is what readers look for
    assert "Execute the coroutine coro and return the result." in prose
    assert "Example:" in prose and "    asyncio.run(main())" in prose
    assert "A footnote about version." in prose


def test_rst_words_stay_on_their_lines():
    source_lines, prose_lines = RST.split("\n"), rst_prose(RST).split("\n")
    for word in ("concurrent", "Execute", "main()"):
        number = next(i for i, line in enumerate(source_lines) if word in line)
        assert word in prose_lines[number]


def test_markdown_front_matter_markup_and_tables_are_not_raw():
    prose = markdown_prose(MARKDOWN)
    lines = prose.split("\n")
    assert len(lines) == len(MARKDOWN.split("\n"))
    assert lines[:4] == ["", "", "", ""]  # front matter
    assert lines[4] == "Getting started"
    assert "Install with pip install frob_nicator and read the manual." in prose
    assert "https://" not in prose and "|" not in prose and "---" not in prose
    assert "Note: keep my_snake_case_name intact." in prose
    assert "a task list item" in prose and "[ ]" not in prose
    assert "diagram numbered" in prose
    assert "# a comment in code, not a heading" in prose  # code is kept as written
    assert "```" not in prose
    assert "Setext Title" in prose


line_text = st.text(alphabet=st.sampled_from(list("ab `*_:.|#=-[]()<>!\\{}\t")), max_size=30)


@given(st.lists(line_text, max_size=20))
def test_prose_keeps_the_number_of_lines(lines):
    text = "\n".join(lines)
    assert rst_prose(text).count("\n") == text.count("\n")
    assert markdown_prose(text).count("\n") == text.count("\n")


def test_rst_snippets_show_prose_through_the_cli(tmp_path, run):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "asyncio.rst").write_text(RST, encoding="utf-8")
    assert run("index", root).exit_code == 0
    hit = run("query", "concurrent", "--color", "never")
    assert hit.exit_code == 0
    assert ":ref:" not in hit.output and "currentmodule" not in hit.output
    assert "async/await syntax" in hit.output
    assert hit.output.startswith(f"{root / 'asyncio.rst'}:")
