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

from searcher import freshness

FIXTURE = Path(__file__).parent / "data" / "index-v0.1.0"
CHECK_HITS = freshness.check_hits  # the real check, before a fixture replaces it


@pytest.fixture
def old_index(tmp_path, monkeypatch) -> Path:
    location = tmp_path / "old-index"
    shutil.copytree(FIXTURE, location)
    monkeypatch.setenv("SEARCHER_INDEX", str(location))
    # The files under /tmp/fixsrc are gone, so queries would leave their hits out
    # (searcher/freshness.py, tested below): these tests are about what the index holds.
    monkeypatch.setattr(freshness, "check_hits", lambda index_dir, indexname, hits: (hits, freshness.HitCheck()))
    return location


def test_hits_of_an_old_index_whose_files_are_gone_are_left_out(old_index, run, monkeypatch):
    if Path("/tmp/fixsrc/rivers.txt").exists():
        pytest.skip("the fixture's source files exist on this machine")
    monkeypatch.setattr(freshness, "check_hits", CHECK_HITS)
    result = run("query", "--json", "river")
    assert result.exit_code == 1
    assert "1 hit left out: its file was deleted since indexing" in result.stderr


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
