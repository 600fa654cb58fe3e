"""Ranking statistics saved with the index (index/storage/rankstats.py): loaded, they equal those
computed from scratch; a missing, stale or damaged file is never used, and queries
answer the same either way."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passagefiles import file_of
from searcher.index.storage import rankstats
from searcher.index.runs import writer
from searcher.index.storage.store import foreign_entries, open_index, read_meta
from searcher.index.runs.writer import build_index
from searcher.engine import statistics as stats_module
from searcher.engine.search import SearchSession
from searcher.engine.statistics import Statistics

WORDS = ("wing flutter transonic speed heat transfer plate laminar flow shock wave cone pressure "
         "boundary layer mach number slender body drag lift").split()
QUERIES = ("wing flutter", "heat transfer plate", '"transonic speed"', "cone", "pressure drag lift body",
           "what is the effect of heat transfer on the boundary layer of a slender cone")


def write_doc(root: Path, name: str, seed: int, paragraphs: int = 3) -> None:
    words = [WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(40)]
    parts = [f"Title {name} {words[0]}"]
    for p in range(paragraphs):
        parts.append(" ".join(words[p * 5:p * 5 + 12]) + ".")
    (root / name).write_text("\n\n".join(parts), encoding="utf-8")


@pytest.fixture
def keep_segments(monkeypatch):
    """No merge at the end of a run (index/runs/writer.py), so that deletions stay in the index."""
    monkeypatch.setattr(writer._Committer, "merge", lambda self, *a, **k: None, raising=False)


def stats_files(index_dir: Path) -> list[str]:
    return sorted(n for n in os.listdir(index_dir) if ".rankstats" in n)


def plain(data: rankstats.RankStats) -> dict:
    """Everything in ``data`` as lists and numbers, to compare."""
    out = {name: list(getattr(data, name)) for name in ("file_of", "run_file", "run_start", "run_end",
                                                        "file_run_first", "file_runs")}
    for name in ("length_bytes", "passage_norms", "file_lengths", "file_norms"):
        out[name] = {field: list(values) for field, values in getattr(data, name).items()}
    out["segments"] = [(s.segment_id, s.offset, s.count, sorted(s.deleted)) for s in data.segments]
    out.update(passages=data.passages, live_files=data.live_files, generation=data.generation,
               avg_passage_length=data.avg_passage_length, avg_file_length=data.avg_file_length,
               keys=list(data.keys()), k1=data.k1, b=data.b)
    out["passages_of"] = [data.passages_of(n) for n in range(len(out["keys"]))]
    return out


def reader_of(index_dir):
    return open_index(index_dir).reader()


def check_loaded_equals_computed(index_dir: Path) -> rankstats.RankStats:
    reader = reader_of(index_dir)
    try:
        loaded = rankstats.load(reader)
        assert loaded is not None, stats_files(index_dir)
        computed = rankstats.compute(reader)
        assert plain(loaded) == plain(computed)
        check_against_stored_fields(reader, computed)
        return loaded
    finally:
        reader.close()


def check_against_stored_fields(reader, data: rankstats.RankStats) -> None:
    """The statistics say what the passages' stored fields and lengths say."""
    keys = data.keys()
    live: dict[str, list[int]] = {}
    for docnum in range(reader.doc_count_all()):
        key = file_of(reader, docnum)
        assert keys[data.file_of[docnum]].decode() == key
        if not reader.is_deleted(docnum):
            live.setdefault(key, []).append(docnum)
    assert data.passages == reader.doc_count() == sum(map(len, live.values()))
    assert data.live_files == len(live)
    for number, key in enumerate(keys):
        docnums = live.get(key.decode(), [])
        assert data.passages_of(number) == docnums
        assert data.file_lengths["body"][number] == sum(reader.doc_field_length(d, "body") for d in docnums)


def query_outputs(run, index_dir) -> list[str]:
    outputs = []
    for query in QUERIES:
        result = run("query", "--index", index_dir, "--json", "--limit", "20", query)
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output
        outputs.append(result.output)
    return outputs


@pytest.fixture
def docs(tmp_path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(12):
        write_doc(root, f"d{i:02}.txt", i, paragraphs=1 + i % 4)
    return root


def test_an_indexing_run_saves_them_and_a_query_loads_them(docs, index_location):
    build_index([docs], index_location, jobs=0)
    assert stats_files(index_location) == [f"_MAIN_{reader_of(index_location).generation()}.rankstats"]
    assert foreign_entries(index_location) == []
    check_loaded_equals_computed(index_location)
    # (the file says its keys were computed with lost paths read back: tests/test_file_column.py)
    data = (index_location / stats_files(index_location)[0]).read_bytes()
    assert rankstats._PREAMBLE.unpack_from(data, 0)[2] & rankstats._FILES_RESTORED
    with SearchSession(index_location) as session:
        stats = stats_module.statistics(session.searcher.reader())
        assert isinstance(stats.file_of, memoryview)  # loaded, not computed
        assert [stats.file_key(n) for n in range(len(stats.files))] == [k.decode() for k in stats.files]


def test_updates_with_deletions_and_rebuild(docs, index_location, keep_segments, run):
    build_index([docs], index_location, jobs=0)
    write_doc(docs, "d03.txt", 99)  # changed: its old passages are deleted
    (docs / "d05.txt").unlink()
    write_doc(docs, "new.txt", 42, paragraphs=5)
    build_index([docs], index_location, jobs=0)
    reader = reader_of(index_location)
    assert reader.has_deletions()
    generation = reader.generation()
    reader.close()
    assert stats_files(index_location) == [f"_MAIN_{generation}.rankstats"]  # the old one is gone
    check_loaded_equals_computed(index_location)
    with_file = query_outputs(run, index_location)
    for name in stats_files(index_location):
        (index_location / name).unlink()
    assert query_outputs(run, index_location) == with_file  # an index without the file answers the same

    assert run("index", "--rebuild", docs).exit_code == 0
    indexname = read_meta(index_location).indexname
    assert [n.split("_")[1] for n in stats_files(index_location)] == [indexname]
    check_loaded_equals_computed(index_location)


def test_a_run_cut_short_leaves_a_stale_file_that_is_not_used(docs, index_location, keep_segments, monkeypatch,
                                                               run):
    build_index([docs], index_location, jobs=0)
    old = stats_files(index_location)
    # A run that commits and then dies before its end never writes its statistics.
    with monkeypatch.context() as m:
        m.setattr(rankstats, "save", lambda *a, **k: True)
        write_doc(docs, "d01.txt", 77)
        build_index([docs], index_location, jobs=0)
    assert stats_files(index_location) == old  # of the generation before
    reader = reader_of(index_location)
    assert rankstats.load(reader) is None
    # Even under the new generation's name, the old statistics do not fit its segments.
    (index_location / old[0]).rename(index_location / rankstats.file_name("MAIN", reader.generation()))
    assert rankstats.load(reader) is None
    computed = plain(rankstats.compute(reader))
    assert plain(Statistics(reader)._data) == computed
    reader.close()
    answers = query_outputs(run, index_location)
    assert run("index", docs).exit_code == 0  # nothing changed: the run saves them
    check_loaded_equals_computed(index_location)
    assert query_outputs(run, index_location) == answers


def damage_flip_main(path: Path):
    data = bytearray(path.read_bytes())
    data[len(data) // 4] ^= 0x40
    path.write_bytes(bytes(data))


def damage_truncate(path: Path):
    path.write_bytes(path.read_bytes()[:100])


def damage_garbage(path: Path):
    path.write_bytes(os.urandom(path.stat().st_size))


def damage_empty(path: Path):
    path.write_bytes(b"")


def damage_header_only(path: Path):
    path.write_bytes(path.read_bytes()[:rankstats._PREAMBLE.size])


@pytest.mark.parametrize("damage", [damage_flip_main, damage_truncate, damage_garbage, damage_empty,
                                    damage_header_only])
def test_a_damaged_file_is_not_used_and_queries_answer_the_same(docs, index_location, run, damage):
    build_index([docs], index_location, jobs=0)
    answers = query_outputs(run, index_location)
    (path,) = [index_location / n for n in stats_files(index_location)]
    damage(path)
    reader = reader_of(index_location)
    assert rankstats.load(reader) is None
    reader.close()
    assert query_outputs(run, index_location) == answers
    assert run("index", docs).exit_code == 0  # the next run replaces it
    check_loaded_equals_computed(index_location)


def test_damaged_file_keys_are_taken_from_the_index(docs, index_location):
    build_index([docs], index_location, jobs=0)
    (path,) = [index_location / n for n in stats_files(index_location)]
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # the last key's bytes: only the keys' own checksum sees it
    path.write_bytes(bytes(data))
    reader = reader_of(index_location)
    expected = rankstats.compute(reader).keys()
    stats = Statistics(reader)
    assert isinstance(stats.file_of, memoryview)  # the rest of the file is good
    assert [stats.file_key(n) for n in range(len(expected))] == [k.decode() for k in expected]
    assert stats.files == expected
    reader.close()


def test_other_bm25_parameters_derive_their_own_norms(docs, index_location, monkeypatch):
    build_index([docs], index_location, jobs=0)
    monkeypatch.setattr(stats_module, "K1", 1.5)
    monkeypatch.setattr(stats_module, "B", 0.5)
    reader = reader_of(index_location)
    assert plain(Statistics(reader)._data) == plain(rankstats.compute(reader, 1.5, 0.5))
    reader.close()


def test_an_empty_index_has_no_file(tmp_path, index_location):
    (tmp_path / "empty").mkdir()
    build_index([tmp_path / "empty"], index_location, jobs=0)
    assert stats_files(index_location) == []
    reader = reader_of(index_location)
    assert rankstats.load(reader) is None
    assert Statistics(reader).passages == 0
    reader.close()


def test_a_file_that_cannot_be_written_only_costs_speed(docs, index_location, monkeypatch, run):
    monkeypatch.setattr(rankstats, "encode", lambda stats: 1 / 0)
    build_index([docs], index_location, jobs=0)
    assert stats_files(index_location) == []
    result = run("query", "--index", index_location, "wing flutter")
    assert result.exit_code == 0, result.output


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["write", "delete"]), st.integers(0, 9), st.integers(0, 50)),
                min_size=1, max_size=12),
       st.integers(1, 3))
def test_loaded_equals_computed_after_any_updates(tmp_path_factory, updates, runs):
    root = tmp_path_factory.mktemp("updates")
    docs, index_dir = root / "docs", root / "index"
    docs.mkdir()
    for i in range(4):
        write_doc(docs, f"f{i}.txt", i)
    build_index([docs], index_dir, jobs=0)
    merge = getattr(writer._Committer, "merge", None)
    if merge is not None:  # keep the deletions in the index
        writer._Committer.merge = lambda self, *a, **k: None
    try:
        for r in range(runs):
            for kind, i, seed in updates[r::runs]:
                path = docs / f"f{i}.txt"
                if kind == "write":
                    write_doc(docs, path.name, seed + r, paragraphs=1 + seed % 4)
                elif path.exists():
                    path.unlink()
            build_index([docs], index_dir, jobs=0)
            reader = reader_of(index_dir)
            empty = reader.doc_count_all() == 0
            reader.close()
            if not empty:
                check_loaded_equals_computed(index_dir)
    finally:
        if merge is not None:
            writer._Committer.merge = merge
    shutil.rmtree(root, ignore_errors=True)


def test_query_through_the_cli_uses_the_file(docs, index_location, run, monkeypatch):
    build_index([docs], index_location, jobs=0)
    calls = []
    original = rankstats.compute
    monkeypatch.setattr(rankstats, "compute", lambda *a, **k: calls.append(1) or original(*a, **k))
    result = run("query", "--index", index_location, "wing flutter")
    assert result.exit_code == 0, result.output
    assert calls == []


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_a_run_killed_between_commits(tmp_path):
    """A real run (tests/test_faults.py's helpers), killed after a commit: its generation
    has no statistics; queries compute them, and the next run saves them."""
    from test_faults import cli_env, start_index, wait_for

    root, index_dir = tmp_path / "many", tmp_path / "index"
    for i in range(600):
        path = root / f"part{i // 100}" / f"note {i:03}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = " ".join(f"Note {i} records observation {j} of gauge {i % 13}." for j in range(4))
        path.write_text(f"Note {i}\n\n{body}\n\n{body}\n", encoding="utf-8")
    handshake = tmp_path / "handshake"
    proc = start_index(index_dir, root, "--jobs", "2", "--commit-every", "0", handshake=handshake)
    try:
        wait_for(handshake / "committed-1", proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    reader = reader_of(index_dir)
    assert reader.doc_count() > 0
    assert rankstats.load(reader) is None  # no file for this generation
    reader.close()
    env = cli_env(index_dir)
    query = subprocess.run([sys.executable, "-m", "searcher", "query", "gauge", "observation", "--json"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert query.returncode == 0, query.stderr
    again = subprocess.run([sys.executable, "-m", "searcher", "index", str(root)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    check_loaded_equals_computed(index_dir)
