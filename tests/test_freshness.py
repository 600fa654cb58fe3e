"""Answers are never stale: hits of deleted files are dropped, hits of changed files marked,
`searcher status` counts what changed, `--refresh` indexes it first."""

from __future__ import annotations

import json
import os

from searcher.engine.freshness import HitCheck, check_hits, hit_check_message
from searcher.engine.search import Hit


def paths_of(output: str) -> list[str]:
    return [line.split(":")[0] for line in output.splitlines() if line and not line.startswith(" ")]


def test_a_deleted_file_is_dropped_and_said_on_stderr(run, indexed, monkeypatch):
    monkeypatch.chdir(indexed)
    before = run("query", "tokyo")
    assert set(paths_of(before.stdout)) == {"japan_latvia.txt", "lithuania.md"}
    (indexed / "lithuania.md").unlink()
    after = run("query", "tokyo")
    assert after.exit_code == 0
    assert paths_of(after.stdout) == ["japan_latvia.txt"]
    assert "1 hit left out: its file was deleted since indexing" in after.stderr


def test_when_every_hit_is_gone_the_exit_status_is_nothing_found(run, indexed, monkeypatch):
    monkeypatch.chdir(indexed)
    (indexed / "notes" / "cooking.txt").unlink()
    result = run("query", "rice")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "left out: its file was deleted" in result.stderr


def test_a_changed_file_is_marked_in_text_and_json(run, indexed, monkeypatch):
    monkeypatch.chdir(indexed)
    with open(indexed / "notes" / "cooking.txt", "a", encoding="utf-8") as f:
        f.write("Serve the rice hot.\n")
    text = run("query", "--color", "never", "rice")
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0] == "notes/cooking.txt:1: [changed] Notes on cooking rice"
    assert "1 hit marked [changed]: its file has changed since indexing" in text.stderr
    records = [json.loads(line) for line in run("query", "--json", "tokyo", "rice").stdout.splitlines()]
    stale = {os.path.basename(r["path"]): r["stale"] for r in records}
    assert stale == {"cooking.txt": True, "japan_latvia.txt": False, "lithuania.md": False}


def test_a_touched_file_of_the_same_size_is_marked(run, indexed):
    path = indexed / "lithuania.md"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    record = json.loads(run("query", "--json", "kishida").stdout.splitlines()[0])
    assert record["stale"] is True


def test_fresh_hits_say_nothing(run, indexed):
    result = run("query", "tokyo")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "[changed]" not in result.stdout


def test_status_counts_new_changed_and_removed_files(run, indexed):
    status = json.loads(run("status", "--json").stdout)
    assert status["changed_since_update"] == {"new": 0, "changed": 0, "removed": 0, "roots_missing": 0}
    assert "changed   nothing since the last run" in run("status").stdout
    (indexed / "lithuania.md").unlink()
    (indexed / "notes" / "cooking.txt").write_text("Rice, changed.\n", encoding="utf-8")
    (indexed / "new.txt").write_text("A new note about rice.\n", encoding="utf-8")
    (indexed / "new.bin").write_bytes(b"\x00\x01")  # not a type searcher reads: not new
    status = json.loads(run("status", "--json").stdout)
    assert status["changed_since_update"] == {"new": 1, "changed": 1, "removed": 1, "roots_missing": 0}
    assert "1 new, 1 changed, 1 removed since the last run" in run("status").stdout


def test_status_walks_each_root_with_the_options_of_its_last_run(run, corpus):
    assert run("index", "--exclude", "notes", corpus).exit_code == 0
    (corpus / "notes" / "more.txt").write_text("More rice.\n", encoding="utf-8")
    status = json.loads(run("status", "--json").stdout)
    assert status["changed_since_update"]["new"] == 0  # notes/ stays excluded


def test_refresh_indexes_changes_before_answering(run, indexed, monkeypatch):
    monkeypatch.chdir(indexed)
    (indexed / "notes" / "risotto.txt").write_text("Risotto\n\nStir the rice often.\n", encoding="utf-8")
    (indexed / "lithuania.md").unlink()
    assert "risotto" not in run("query", "rice").stdout
    result = run("query", "--refresh", "rice")
    assert result.exit_code == 0
    assert "notes/risotto.txt" in paths_of(result.stdout)
    assert "searcher: refreshed the index: 1 added, 0 updated, 1 removed" in result.stderr
    assert "left out" not in result.stderr
    again = run("query", "--refresh", "rice")
    assert "refreshed" not in again.stderr  # nothing changed: nothing said
    assert json.loads(run("status", "--json").stdout)["changed_since_update"]["new"] == 0


def test_refresh_keeps_the_exclusions_of_the_last_run(run, corpus):
    assert run("index", "--exclude", "notes", corpus).exit_code == 0
    (corpus / "notes" / "more.txt").write_text("More rice.\n", encoding="utf-8")
    result = run("query", "--refresh", "rice")
    assert result.exit_code == 1
    assert "refreshed" not in result.stderr


def _hit(path: str) -> Hit:
    return Hit(path=path, title="", start_line=1, end_line=1, position=0, page=None, score=1.0,
               text="", spans=[], title_spans=[])


def test_check_hits_leaves_unknown_files_alone(tmp_path, indexed, index_location):
    from searcher.index.storage.store import read_meta

    outside = tmp_path / "outside.txt"
    outside.write_text("not indexed", encoding="utf-8")
    hits = [_hit(str(outside)), _hit(str(indexed / "lithuania.md")), _hit(str(indexed / "lithuania.md"))]
    kept, check = check_hits(index_location, read_meta(index_location).indexname, hits)
    assert kept == hits and check == HitCheck(0, 0)
    (indexed / "lithuania.md").unlink()
    kept, check = check_hits(index_location, read_meta(index_location).indexname, hits)
    assert [h.path for h in kept] == [str(outside)] and check == HitCheck(gone=2, stale=0)


def test_messages_count_in_the_singular_and_plural():
    assert hit_check_message(HitCheck()) is None
    assert "2 hits left out: their files were deleted; 1 hit marked [changed]: its file has changed" in (
        hit_check_message(HitCheck(gone=2, stale=1)))


def test_a_changed_file_is_marked_with_context_too(run, indexed, monkeypatch):
    monkeypatch.chdir(indexed)
    with open(indexed / "notes" / "cooking.txt", "a", encoding="utf-8") as f:
        f.write("Serve the rice hot.\n")
    result = run("query", "--color", "never", "-C", "0", "rice")
    assert result.stdout.splitlines()[0] == "notes/cooking.txt:1: [changed] Notes on cooking rice"


def test_hits_of_several_indexes_are_checked_each_against_its_own_manifest(run, tmp_path):
    from searcher.engine.freshness import check_hits_of_indexes
    from searcher.engine.search import SearchSession

    notes, papers = tmp_path / "notes", tmp_path / "papers"
    notes.mkdir()
    papers.mkdir()
    (notes / "rice.txt").write_text("Cooking rice slowly.\n", encoding="utf-8")
    (notes / "bread.txt").write_text("Rice bread, changed later.\n", encoding="utf-8")
    (papers / "yield.txt").write_text("Rice yields in deltas.\n", encoding="utf-8")
    assert run("index", "--index", tmp_path / "i-notes", notes).exit_code == 0
    assert run("index", "--index", tmp_path / "i-papers", papers).exit_code == 0
    (papers / "yield.txt").unlink()
    with open(notes / "bread.txt", "a", encoding="utf-8") as f:
        f.write("More.\n")
    sessions = [("notes", SearchSession(str(tmp_path / "i-notes"))),
                ("papers", SearchSession(str(tmp_path / "i-papers")))]
    hits = []
    for index, path in [("papers", papers / "yield.txt"), ("notes", notes / "bread.txt"),
                        ("notes", notes / "rice.txt"), ("papers", notes / "rice.txt")]:
        hit = _hit(str(path))
        hit.index = index
        hits.append(hit)
    kept, check = check_hits_of_indexes(sessions, hits)
    # rice.txt is in the manifest of "notes" only: as a hit of "papers" it is unknown, left alone.
    assert [(h.index, os.path.basename(h.path), h.stale) for h in kept] == [
        ("notes", "bread.txt", True), ("notes", "rice.txt", False), ("papers", "rice.txt", False)]
    assert check == HitCheck(gone=1, stale=1)
