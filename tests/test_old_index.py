"""An index written by an earlier release keeps opening and answering.

tests/data/index-v0.1.0 was built by searcher 0.1.0 (schema 1) from three small
files under /tmp/fixsrc (rivers.txt, rice.md, python.txt), which are not needed
to answer: passages are stored in the index. Its table of contents pickles the
analysis classes by their module path at the time (``index.analysis``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "data" / "index-v0.1.0"


@pytest.fixture
def old_index(tmp_path, monkeypatch) -> Path:
    location = tmp_path / "old-index"
    shutil.copytree(FIXTURE, location)
    monkeypatch.setenv("SEARCHER_INDEX", str(location))
    return location


def test_an_index_of_release_0_1_0_answers_queries(old_index, run):
    result = run("query", "--json", "river")
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.output.splitlines()]
    assert [hit["path"] for hit in hits] == ["/tmp/fixsrc/rivers.txt"]
    # Stemming comes from the index's analysis: "cooked" finds "cook".
    result = run("query", "--json", "cooked rice")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[0])["path"] == "/tmp/fixsrc/rice.md"


def test_an_index_of_release_0_1_0_reports_its_status(old_index, run):
    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert (status["files"], status["passages"], status["language"]) == (3, 3, "english")


def test_an_index_of_release_0_1_0_takes_new_files(old_index, run, tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "heron.txt").write_text("Herons nest by the estuary.\n", encoding="utf-8")
    result = run("index", extra)
    assert result.exit_code == 0, result.output
    result = run("query", "-l", "herons")
    assert result.exit_code == 0, result.output
    assert sorted(result.output.split()) == sorted(["/tmp/fixsrc/rivers.txt", str(extra / "heron.txt")])
