"""Opening an index folder never runs code its files name (index/storage/safepickle.py).

whoosh keeps the schema, the segment list, posting blocks and stored fields as
pickles; a crafted folder can make any of them name a callable. The payload in
these tests opens (creates) a file under the test's own temp dir: it must never
exist afterwards, and every command must end with a one-line error.
"""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
from whoosh.fields import Schema

from searcher.index.storage import safepickle, whoosh_private
from searcher.console import ExitStatus

FIXTURE = Path(__file__).parent / "data" / "index-schema2"


class _Payload:
    """Pickles as a call of open(marker, "w"): the file appears if it ever runs."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


class _PayloadSchema(Schema):
    """A schema that passes whoosh's checks when written and pickles as the payload."""

    def __init__(self, marker: Path):
        super().__init__()
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _write_toc(index_dir: Path, schema=None, segments=None) -> None:
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    whoosh_private.use_searcher_readers()
    storage = FileStorage(str(index_dir))
    toc = TOC.read(storage, "MAIN")
    storage.delete_file(f"_MAIN_{toc.generation}.toc")
    TOC(schema if schema is not None else toc.schema,
        segments if segments is not None else toc.segments, toc.generation).write(storage, "MAIN")


@pytest.fixture
def crafted(tmp_path, monkeypatch):
    """A copy of a real index whose table of contents pickles the payload as its schema."""
    location = tmp_path / "crafted-index"
    shutil.copytree(FIXTURE, location)
    marker = tmp_path / "payload-ran"
    _write_toc(location, schema=_PayloadSchema(marker))
    monkeypatch.setenv("SEARCHER_INDEX", str(location))
    return location, marker


def _refused(result, marker: Path) -> None:
    assert not marker.exists(), "the index's pickle ran code"
    assert result.exit_code == ExitStatus.ERROR, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "io.open" in lines[0] and "refused" in lines[0], lines[0]
    assert "unexpected" not in lines[0] and "Traceback" not in result.output


def test_the_payload_would_run_under_plain_pickle(tmp_path):
    # The crafted schema is a real payload: what the other tests refuse would run.
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_PayloadSchema(marker), 2)).close()
    assert marker.exists()


@pytest.mark.parametrize("command", [
    ["query", "river"],
    ["query", "--json", "river", "lagoon"],
    ["status"],
    ["status", "--json"],
    ["show", "{file}"],
    ["show", "{file}:3"],
    ["show", "{file}", "river"],
])
def test_a_crafted_table_of_contents_is_refused_by_every_command(crafted, run, command, tmp_path):
    _location, marker = crafted
    shown = tmp_path / "rivers.txt"
    shown.write_text("Rivers\n\nThe river runs.\n", encoding="utf-8")
    _refused(run(*(arg.format(file=shown) for arg in command)), marker)


def test_indexing_into_a_crafted_index_is_refused(crafted, run, tmp_path):
    location, marker = crafted
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("A river in spate.\n", encoding="utf-8")
    before = sorted(p.name for p in location.iterdir())
    result = run("index", docs)
    _refused(result, marker)
    # Nothing written but the run's lock file.
    assert sorted(p.name for p in location.iterdir() if p.name != "searcher.lock") == before


def test_a_crafted_segment_list_is_refused(tmp_path, monkeypatch, run):
    location = tmp_path / "crafted-index"
    shutil.copytree(FIXTURE, location)
    marker = tmp_path / "payload-ran"
    _write_toc(location, segments=[_Payload(marker)])
    monkeypatch.setenv("SEARCHER_INDEX", str(location))
    _refused(run("query", "river"), marker)
    _refused(run("status"), marker)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_loads_refuses_every_callable_it_was_not_told_of(tmp_path, protocol):
    marker = tmp_path / "ran"
    data = pickle.dumps(_Payload(marker), protocol)
    for read in (safepickle.loads, lambda d: safepickle.loads_prefix(d)[0]):
        with pytest.raises(safepickle.UnsafeIndex, match=r"io\.open"):
            read(data)
    assert not marker.exists()


def test_loads_reads_what_an_index_holds_as_pickle_does():
    values = [
        (tuple(range(0, 1280, 10)), [1.0, 2.5] * 64, [bytes([i, 255 - i, 99, 105]) for i in range(128)]),
        (1, 2, 3.5, True, None, b""),
        {"title": "Rivers", "start_line": 1, "page": None},
        {1, 2, 3},
        "caf\u00e9 \u202e",
    ]
    for value in values:
        for protocol in (2, 4):
            data = pickle.dumps(value, protocol)
            assert safepickle.loads(data) == value
            assert safepickle.loads(memoryview(data)) == value
            assert safepickle.loads_prefix(data + b"trailing") == (value, len(data))
    # A reused unpickler starts clean after a pickle with trailing bytes, and after an error.
    with pytest.raises(Exception):
        safepickle.loads(b"\x80\x02c_codecs\nencode\n(truncated")
    assert safepickle.loads(pickle.dumps([b"x"], 2)) == [b"x"]


def test_the_old_module_path_of_the_analysis_classes_is_allowed():
    from searcher.index.text import analysis

    table = safepickle.allowed()
    for module in ("index.analysis", "searcher.index.analysis", "searcher.index.text.analysis"):  # before and after the moves
        assert table[(module, "WordTokenizer")] is analysis.WordTokenizer
        assert table[(module, "SnowballStemFilter")] is analysis.SnowballStemFilter
    assert table[(analysis.WordTokenizer.__module__, "WordTokenizer")] is analysis.WordTokenizer


def test_every_pickle_reader_of_whoosh_goes_through_the_allow_list(run, tmp_path, monkeypatch):
    from whoosh import columns, formats
    from whoosh import index as whoosh_index
    from whoosh.codec import whoosh3
    from whoosh.filedb import structfile

    location = tmp_path / "old-index"
    shutil.copytree(FIXTURE, location)
    monkeypatch.setenv("SEARCHER_INDEX", str(location))
    result = run("query", "river")  # found, then left out: the fixture's files are not on this machine
    assert result.exit_code == 1 and "hit left out" in result.output
    assert whoosh3.loads is columns.loads is formats.loads is safepickle.loads
    assert whoosh_index.pickle.loads is safepickle.loads
    assert structfile.load_pickle is safepickle.load
