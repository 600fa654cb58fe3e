"""The library API: ``from searcher import Session`` does what the CLI does, on one open index,
and the README's example runs as printed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import searcher

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_exports_are_importable():
    for name in searcher.__all__:
        assert getattr(searcher, name) is not None
    with pytest.raises(AttributeError):
        searcher.no_such_thing  # noqa: B018


def test_importing_the_package_does_not_import_the_engine():
    # The CLI's start-up imports searcher first: the library comes in only when used.
    code = "import sys, searcher; print('searcher.engine.search' in sys.modules, 'whoosh' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_one_error_root():
    from searcher.errors import QueryError
    from searcher.index.errors import IndexNotFound, IndexingError

    assert issubclass(QueryError, searcher.SearcherError)
    assert issubclass(IndexingError, searcher.SearcherError)
    assert issubclass(IndexNotFound, searcher.SearcherError)


def test_session_answers_as_the_cli(indexed, index_location, run):
    with searcher.Session(index_location) as session:
        result = session.search("japan security", limit=3)
        cli = run("query", "japan security", "-n", "3", "--json")
        assert [(h.path, h.start_line) for h in result.hits] == [
            (row["path"], row["start_line"]) for row in map(__import__("json").loads, cli.stdout.splitlines())]
        assert any("japan" in line for line in session.explain("japan security"))
        typo = session.search("japn security", limit=3)
        assert session.suggest(typo).text == "japan security"
        first = result.hits[0]
        shown = session.show(f"{first.path}:{first.start_line}", "japan")
        assert any(line.spans for line in shown.lines)
        assert session.status().passages == session.passages > 0


def test_errors_are_searcher_errors(indexed, index_location, tmp_path):
    with pytest.raises(searcher.SearcherError, match="no index at"):
        searcher.Session(tmp_path / "nothing here")
    with searcher.Session(index_location) as session:
        with pytest.raises(searcher.SearcherError):
            session.search("")
        with pytest.raises(searcher.SearcherError):
            session.show(str(tmp_path / "not-indexed.txt"))


def test_the_readme_example_runs(indexed, index_location):
    block = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    assert "Session" in block
    code = block.replace('"~/.local/share/searcher/index"', repr(str(index_location)))
    assert code != block  # the example opens the default index: pointed at the test's
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert re.match(r"^\S+:\d+: ", out.stdout)
