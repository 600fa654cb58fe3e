"""Segment merges in indexing runs (index/storage/merge.py, index/runs/writer.py): bounded segment
counts, deletions dropped, and crash safety of a merge killed or interrupted midway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from passagefiles import live_passages
from searcher.index.storage.store import open_index, read_meta
from searcher.index.runs.writer import build_index


def write_file(root, number, words="gauge"):
    path = root / f"note{number:03}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"Note {number}\n\nThe tidal {words} number {number} was read at dawn. "
                    f"It showed {number % 7} metres.\n\nA second paragraph about {words} {number}.\n",
                    encoding="utf-8")
    return path


def segments(index_dir):
    return open_index(index_dir)._segments()


def stored(index_dir) -> Counter:
    """Every live passage as (file, start line, body): what queries can find."""
    ix = open_index(index_dir)
    with ix.searcher() as searcher:
        return Counter((f["file"], f["start_line"], f["body"]) for f in live_passages(searcher))


def index_files(index_dir) -> set[str]:
    return {n for n in os.listdir(index_dir) if n.startswith(("MAIN", "_MAIN")) and not n.endswith("WRITELOCK")}


def test_many_small_runs_keep_few_segments(tmp_path, index_location, monkeypatch):
    monkeypatch.setattr("searcher.index.storage.merge.MERGE_FACTOR", 3)
    root = tmp_path / "notes"
    counts, merges = [], 0
    for number in range(12):
        write_file(root, number)
        report = build_index([root], index_location)
        counts.append(report.segments)
        merges += report.merges
        assert report.segments == len(segments(index_location))
    assert merges >= 4 and max(counts) == 2  # each third run merges (one level at this size)
    fresh = tmp_path / "fresh"
    build_index([root], fresh)
    assert stored(index_location) == stored(fresh)


def test_deleted_passages_are_dropped_by_a_merge(tmp_path, index_location):
    root = tmp_path / "notes"
    for number in range(10):
        write_file(root, number)
    build_index([root], index_location)
    for number in range(5):  # half the passages of the only segment are replaced
        path = write_file(root, number, words="meter")
        os.utime(path, ns=(0, path.stat().st_mtime_ns + 2_000_000_000))
    report = build_index([root], index_location)
    assert report.merges == 1
    assert [s.deleted_count() for s in segments(index_location)] == [0]
    fresh = tmp_path / "fresh"
    build_index([root], fresh)
    assert stored(index_location) == stored(fresh)


def two_segment_index(tmp_path, index_location, monkeypatch):
    monkeypatch.setattr("searcher.index.storage.merge.MERGE_FACTOR", 1000)
    root = tmp_path / "notes"
    for number in range(6):
        write_file(root, number)
    build_index([root], index_location)
    for number in range(6, 9):
        write_file(root, number)
    build_index([root], index_location)
    assert len(segments(index_location)) == 2
    return root


KILLED_MERGE = textwrap.dedent("""
    import os, signal, sys
    import searcher.index.storage.merge, whoosh.index
    from searcher.index.runs.writer import build_index
    searcher.index.storage.merge.MERGE_FACTOR = 2
    searcher.index.storage.merge.PARALLEL_BYTES = int(sys.argv[4])
    point = sys.argv[3]
    def killed_after(function):
        def wrapper(*args, **kwargs):
            result = function(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
        return wrapper
    if point == "before-publishing":
        searcher.index.storage.merge._write_postings = killed_after(searcher.index.storage.merge._write_postings)
    else:
        whoosh.index.TOC.write = killed_after(whoosh.index.TOC.write)
    build_index([sys.argv[1]], sys.argv[2])
""")


@pytest.mark.parametrize("point, parallel", [("before-publishing", 0), ("before-publishing", 1),
                                             ("after-publishing", 0)])
def test_a_merge_killed_midway_leaves_a_valid_index(tmp_path, index_location, monkeypatch, point, parallel):
    root = two_segment_index(tmp_path, index_location, monkeypatch)
    before, files_before = stored(index_location), index_files(index_location)
    threshold = "0" if parallel else str(2**40)  # parallel: a forked process writes half the terms
    done = subprocess.run([sys.executable, "-c", KILLED_MERGE, str(root), str(index_location), point, threshold],
                          env=dict(os.environ, NLTK_DATA="/nonexistent"), capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    # Killed before its table of contents: the old one is still in use, beside orphan files.
    # Killed after it: the merged segment is in use, beside the merged segments' files.
    assert stored(index_location) == before
    assert len(segments(index_location)) == (2 if point == "before-publishing" else 1)
    assert index_files(index_location) - files_before  # what the killed merge left
    monkeypatch.setattr("searcher.index.storage.merge.MERGE_FACTOR", 2)
    report = build_index([root], index_location)
    assert report.unchanged == 9 and report.segments == 1
    assert stored(index_location) == before
    names = index_files(index_location)
    live = {s.segment_id() for s in segments(index_location)}
    assert {n.split(".", 1)[0] for n in names if not n.startswith("_")} == live  # orphans deleted
    assert len([n for n in names if n.endswith(".toc")]) == 1
    assert not [n for n in os.listdir(index_location) if n.endswith(".tmp")]


def test_an_interrupted_merge_deletes_its_files(tmp_path, index_location, monkeypatch):
    root = two_segment_index(tmp_path, index_location, monkeypatch)
    before, files_before = stored(index_location), index_files(index_location)
    monkeypatch.setattr("searcher.index.storage.merge.MERGE_FACTOR", 2)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr("searcher.index.storage.merge._write_postings", interrupted)
        with pytest.raises(KeyboardInterrupt):
            build_index([root], index_location)
    assert index_files(index_location) == files_before
    assert not [n for n in os.listdir(index_location) if n.endswith(".tmp")]
    assert stored(index_location) == before
    assert build_index([root], index_location).segments == 1
    assert read_meta(index_location).indexname == "MAIN"
