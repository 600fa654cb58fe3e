"""Indexes written by earlier code: the current schema's keeps opening and answering,
an older schema's is refused with the message to rebuild it.

tests/data/index-schema<N> were built at schema version N (1 and 2 by searcher 0.1.0;
3, whose text fields' postings are held in the flat file only, by the release after it;
4, flat format 3 and the file column's paths held once, by the one after that;
5, passages stored without their file's path, by the one after that)
from three small files under /tmp/fixsrc (rivers.txt, rice.md, python.txt), which are
not needed to answer: passages are stored in the index. Their tables of contents
pickle the analysis classes by their module path at the time (``index.analysis``):
when the package moves, index/storage/safepickle.py maps that path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "index-schema5"


@pytest.fixture(params=["index-schema5", "index-schema4", "index-schema3", "index-schema2", "index-schema1"])
def old_index(request, tmp_path, monkeypatch) -> Path:
    location = tmp_path / "old-index"
    shutil.copytree(DATA / request.param, location)
    monkeypatch.setenv("SEARCHER_INDEX", str(location))
    return location


def _paths(location: Path, text: str) -> list[str]:
    from searcher.engine.search import SearchSession

    with SearchSession(location) as session:
        return [hit.path for hit in session.search(text).hits]


def test_an_earlier_index_answers_queries(old_index, run):
    assert _paths(old_index, "river") == ["/tmp/fixsrc/rivers.txt"]
    # Stemming comes from the index's analysis: "cooked" finds "cook".
    assert _paths(old_index, "cooked rice")[0] == "/tmp/fixsrc/rice.md"
    # Through the CLI the hit is found, and left out because its file is gone.
    result = run("query", "river")
    assert result.exit_code == 1 and "1 hit left out: its file was deleted" in result.output


def test_an_earlier_index_reports_its_status(old_index, run):
    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert (status["files"], status["passages"], status["language"]) == (3, 3, "english")


def test_an_earlier_index_takes_new_files(old_index, run, tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "heron.txt").write_text("Herons nest by the estuary.\n", encoding="utf-8")
    result = run("index", extra)
    assert result.exit_code == 0, result.output
    result = run("query", "-l", "herons")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == str(extra / "heron.txt")
    assert sorted(_paths(old_index, "herons")) == sorted(["/tmp/fixsrc/rivers.txt", str(extra / "heron.txt")])


def test_the_fixture_is_of_the_current_schema():
    from searcher.index.storage.schema import SCHEMA_VERSION

    meta = json.loads((FIXTURE / "searcher.json").read_text(encoding="utf-8"))
    assert meta["schema_version"] == SCHEMA_VERSION, (
        "the schema changed: keep this fixture as it is for the test below and build "
        "tests/data/index-schema<new> with the new code (see the module docstring)")


def test_an_earlier_index_merges_with_new_segments(tmp_path, run):
    """Schema 3's flat file (format 2) and this release's (format 3) merge into one segment
    holding every posting of both."""
    from whoosh.reading import SegmentReader

    from flatcheck import assert_flat_postings_complete
    from searcher.index.storage.flatpostings import flat_postings
    from searcher.index.storage.merge import merge_segments
    from searcher.index.storage.store import open_index

    location = tmp_path / "old-index"
    shutil.copytree(DATA / "index-schema3", location)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "heron.txt").write_text("Herons nest by the estuary.\n\nThe river herons wait.\n", encoding="utf-8")
    assert run("index", "--index", location, extra).exit_code == 0
    ix = open_index(location)
    segments = ix._segments()
    formats = []
    for segment in segments:
        source = SegmentReader(ix.storage, ix.schema, segment)
        formats.append(flat_postings(source).format)
        source.close()
    assert formats == [2, 3]
    merged = merge_segments(str(location), ix.indexname, ix.schema, segments)
    reader = SegmentReader(ix.storage, ix.schema, merged)
    try:
        assert reader.doc_count() == sum(segment.doc_count() for segment in segments)
        assert_flat_postings_complete(reader)
        assert flat_postings(reader).format == 3
        assert len(list(reader.postings("body", "heron").all_ids())) == 2
    finally:
        reader.close()
