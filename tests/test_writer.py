"""Incremental indexing, --rebuild, options and `searcher status`, through the library and the CLI."""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

from passagefiles import live_passages
from searcher.index.errors import IndexVersionMismatch
from searcher.index.storage.manifest import FileEntry, Manifest, manifest_name
from searcher.index.storage.store import open_index, read_meta
from searcher.index.runs.writer import RunProgress, build_index
from searcher.console import ExitStatus


def passages_by_file(index_dir) -> Counter:
    ix = open_index(index_dir)
    with ix.searcher() as searcher:
        return Counter(fields["file"] for fields in live_passages(searcher))


def bodies(index_dir, path) -> list[str]:
    ix = open_index(index_dir)
    with ix.searcher() as searcher:
        return [f["body"] for f in searcher.documents(file=str(path))]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def touch_later(path):
    """Make sure a rewrite is seen as a change even on coarse-mtime filesystems."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_second_run_reads_nothing_when_nothing_changed(corpus, index_location):
    first = build_index([corpus], index_location)
    assert (first.added, first.updated, first.removed, first.unchanged) == (3, 0, 0, 0)
    before = passages_by_file(index_location)
    second = build_index([corpus], index_location)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 3)
    assert second.passages == 0
    assert passages_by_file(index_location) == before
    assert second.files_in_index == 3 and second.passages_in_index == sum(before.values())


def test_changed_new_and_deleted_files(corpus, index_location):
    build_index([corpus], index_location)
    changed = corpus / "notes" / "cooking.txt"
    write(changed, "Notes on baking bread\n\nKnead the dough for ten minutes. Bake it hot.\n")
    touch_later(changed)
    new = write(corpus / "new.md", "# Fresh\n\nA brand new zeppelin document.\n")
    (corpus / "lithuania.md").unlink()
    report = build_index([corpus], index_location)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 1)
    counts = passages_by_file(index_location)
    assert set(counts) == {str(corpus / "japan_latvia.txt"), str(changed), str(new)}
    assert bodies(index_location, changed) == ["Notes on baking bread\n\nKnead the dough for ten minutes. Bake it hot."]


def test_moved_file_is_removed_from_old_path(corpus, index_location):
    build_index([corpus], index_location)
    (corpus / "notes").rename(corpus / "kitchen")
    report = build_index([corpus], index_location)
    assert (report.added, report.removed) == (1, 1)
    assert set(passages_by_file(index_location)) == {
        str(corpus / p) for p in ("japan_latvia.txt", "lithuania.md", "kitchen/cooking.txt")
    }


def test_removal_only_under_the_roots_given(tmp_path, index_location):
    a = write(tmp_path / "a" / "one.txt", "First folder text about apples.\n")
    b = write(tmp_path / "b" / "two.txt", "Second folder text about pears.\n")
    build_index([a.parent, b.parent], index_location)
    a.unlink()
    b.unlink()
    report = build_index([b.parent], index_location)
    assert report.removed == 1
    assert set(passages_by_file(index_location)) == {str(a)}  # a/ was not re-walked
    assert read_meta(index_location).roots == sorted([str(a.parent), str(b.parent)])


def test_file_that_becomes_unindexable_leaves_the_index(corpus, index_location):
    build_index([corpus], index_location)
    empty = corpus / "lithuania.md"
    empty.write_bytes(b"")
    touch_later(empty)
    report = build_index([corpus], index_location)
    assert [(s.path, s.reason) for s in report.skipped] == [(str(empty), "empty file")]
    assert str(empty) not in passages_by_file(index_location)
    # The reason is remembered: the next run does not read the file again, and still says why.
    again = build_index([corpus], index_location)
    assert [(s.path, s.reason) for s in again.skipped] == [(str(empty), "empty file")]
    assert again.unchanged == 2


def test_cli_reports_counts(corpus, run):
    first = run("index", corpus)
    assert first.exit_code == 0
    assert "3 added, 0 updated, 0 removed, 0 unchanged, 0 skipped" in first.output
    (corpus / "lithuania.md").unlink()
    second = run("index", corpus)
    assert "0 added, 0 updated, 1 removed, 2 unchanged, 0 skipped" in second.output
    assert "(2 files," in second.output


def test_quiet_prints_nothing(corpus, run):
    write(corpus / "empty.txt", "")
    result = run("index", "--quiet", corpus)
    assert result.exit_code == 0 and result.output == ""


def test_rebuild_starts_from_scratch(corpus, index_location, run):
    build_index([corpus], index_location)
    old = read_meta(index_location).indexname
    (corpus / "lithuania.md").unlink()
    other = write(corpus.parent / "other" / "x.txt", "Outside the corpus, about zeppelins.\n")
    build_index([other.parent], index_location)
    result = run("index", "--rebuild", corpus)
    assert result.exit_code == 0, result.output
    assert "2 added" in result.output
    meta = read_meta(index_location)
    assert meta.indexname != old and meta.rebuilding is None
    assert meta.roots == [str(corpus)]
    assert set(passages_by_file(index_location)) == {str(corpus / "japan_latvia.txt"), str(corpus / "notes" / "cooking.txt")}
    # The old index's files are gone.
    assert not [n for n in os.listdir(index_location) if n.startswith((old + "_", f"_{old}_", manifest_name(old)))]


def test_rebuild_changes_language_and_language_is_kept(corpus, index_location, run):
    assert run("index", corpus).exit_code == 0
    result = run("index", "--language", "french", corpus)
    assert result.exit_code == ExitStatus.ERROR
    assert "--rebuild" in result.output and "english" in result.output
    assert run("index", "--rebuild", "--language", "french", corpus).exit_code == 0
    assert read_meta(index_location).language == "french"
    # Later runs use the index's language without being told.
    again = run("index", corpus)
    assert again.exit_code == 0 and "3 unchanged" in again.output
    assert json.loads(run("status", "--json").output)["language"] == "french"


def test_bad_language_and_size_are_usage_errors(corpus, run):
    result = run("index", "--language", "klingon", corpus)
    assert result.exit_code == ExitStatus.ERROR and "klingon" in result.output
    result = run("index", "--max-size", "lots", corpus)
    assert result.exit_code == ExitStatus.ERROR and "--max-size" in result.output


def test_include_exclude_and_max_size(corpus, index_location, run):
    write(corpus / "build" / "generated.txt", "Generated output nobody wants to search.\n")
    write(corpus / "big.txt", "word " * 400)  # 2000 bytes
    result = run("index", corpus, "--exclude", "build/", "--max-size", "1K", "-v")
    assert result.exit_code == 0, result.output
    files = set(passages_by_file(index_location))
    assert str(corpus / "build" / "generated.txt") not in files
    assert str(corpus / "big.txt") not in files
    assert f"skipped {corpus / 'big.txt'}: larger than 1 KiB" in result.output
    result = run("index", "--rebuild", corpus, "--include", "*.md")
    assert result.exit_code == 0, result.output
    assert set(passages_by_file(index_location)) == {str(corpus / "lithuania.md")}
    # Raising the cap indexes the file on the next run.
    result = run("index", "--rebuild", corpus, "--max-size", "20M", "--include", "big.txt")
    assert set(passages_by_file(index_location)) == {str(corpus / "big.txt")}


def test_parse_size_units():
    from searcher.index.reading.reader import parse_size

    assert parse_size("500K") == 500 * 1024
    assert parse_size("20M") == 20 * 1024**2
    assert parse_size("1G") == 1024**3
    assert parse_size("1.5MiB") == 1536 * 1024
    assert parse_size("4096") == 4096
    for bad in ("", "M", "-1", "ten", "1Q"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_status_text_and_json(corpus, index_location, run):
    write(corpus / "empty.txt", "")
    assert run("index", corpus).exit_code == 0
    text = run("status")
    assert text.exit_code == 0
    assert f"index     {index_location}" in text.output
    assert "files     3 indexed, 1 skipped" in text.output
    assert f"roots     {corpus}" in text.output
    assert "language  english" in text.output
    data = json.loads(run("status", "--json").output)
    assert data["files"] == 3 and data["skipped_files"] == 1
    assert data["passages"] == sum(passages_by_file(index_location).values())
    assert data["size_bytes"] > 0 and data["updated"] and data["roots"] == [str(corpus)]
    assert data["indexing"] is False and data["rebuilding"] is False
    assert run("stats", "--json").output == run("status", "--json").output


def test_status_without_index(run):
    result = run("status")
    assert result.exit_code == ExitStatus.ERROR
    assert "searcher index" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_parallel_and_inline_runs_index_the_same(tmp_path, monkeypatch, start):
    from searcher.index.runs import writer

    if start == "spawn":  # big runs start their workers fresh
        monkeypatch.setattr(writer, "SPAWN_FILES", 1)
    root = tmp_path / "many"
    for i in range(300):
        write(root / f"d{i // 100}" / f"f{i:03}.txt",
              f"Document {i}\n\n" + f"Sentence number {i} talks about topic {i % 7}. " * 40 + "\n")
    inline = build_index([root], tmp_path / "inline", jobs=1)
    parallel = build_index([root], tmp_path / "parallel", jobs=2, commit_seconds=0)
    assert parallel.workers == 2 and inline.workers == 0
    assert passages_by_file(tmp_path / "inline") == passages_by_file(tmp_path / "parallel")
    assert inline.passages_in_index == parallel.passages_in_index == inline.passages
    again = build_index([root], tmp_path / "parallel", jobs=2)
    assert again.unchanged == 300 and again.passages == 0


def test_manifest_matches_index(corpus, index_location):
    build_index([corpus], index_location)
    meta = read_meta(index_location)
    manifest = Manifest(index_location / manifest_name(meta.indexname))
    try:
        entries = manifest.entries()
        assert not manifest.uncertain()
    finally:
        manifest.close()
    counts = passages_by_file(index_location)
    assert {p: e.passages for p, e in entries.items()} == counts


def _many_notes(tmp_path, index_location):
    """400 short notes with long names, indexed; their folder."""
    docs = tmp_path / "many"
    docs.mkdir()
    for i in range(400):
        (docs / f"note-with-a-long-name-{i:04}.txt").write_text(f"Note {i}\n\nwords {i}", encoding="utf-8")
    build_index([docs], index_location, jobs=0)
    return docs


def test_a_run_leaves_no_large_free_space_in_the_manifest(tmp_path, index_location):
    import sqlite3

    docs = _many_notes(tmp_path, index_location)
    for i in range(0, 400, 2):
        (docs / f"note-with-a-long-name-{i:04}.txt").unlink()
    build_index([docs], index_location, jobs=0)  # half the rows go: their pages are given back
    db = sqlite3.connect(index_location / manifest_name(read_meta(index_location).indexname))
    try:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 200
    finally:
        db.close()
    assert free * 4 < pages


def test_the_manifest_holds_each_path_once(tmp_path, index_location):
    """The files' rows live in the paths' b-tree: no second copy of every path in an index."""
    import sqlite3

    docs = _many_notes(tmp_path, index_location)
    path = index_location / manifest_name(read_meta(index_location).indexname)
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'").fetchone()[0] == 0
        stored = db.execute("SELECT SUM(LENGTH(path)) FROM files").fetchone()[0]
        pages, size = (db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_count", "page_size"))
    finally:
        db.close()
    assert pages * size < 2 * stored


def test_the_file_column_holds_a_path_once(tmp_path, index_location):
    """Every passage of a file carries its path: the column holds the path once and a
    number per passage (whoosh's default column would hold the path once a passage)."""
    from whoosh.filedb.compound import CompoundStorage
    from whoosh.filedb.filestore import FileStorage

    docs = tmp_path / "a-folder-with-a-rather-long-name" / "and-a-subfolder"
    docs.mkdir(parents=True)
    words = " ".join(f"word{w}" for w in range(120))
    (docs / "long.txt").write_text("\n\n".join(f"Paragraph {i}: {words}." for i in range(60)), encoding="utf-8")
    passages = build_index([docs], index_location, jobs=0).passages
    assert passages >= 30
    (segment,) = index_location.glob("*.seg")
    files = CompoundStorage(FileStorage(str(index_location)).open_file(segment.name))
    (column,) = [name for name in files.list() if name.endswith(".file.col")]
    assert files.file_length(column) < 2 * len(str(docs / "long.txt")) + 4 * passages


def test_passages_are_stored_without_their_path(tmp_path, index_location, run):
    """The path is in the file column: a passage's stored fields leave it out (a sixth of
    their bytes), and a hit still shows it."""
    docs = tmp_path / "a-folder-with-a-rather-long-name"
    docs.mkdir()
    (docs / "heron.txt").write_text("Herons nest by the estuary.\n\nThe grey heron waits.\n", encoding="utf-8")
    (docs / "river.txt").write_text("The river runs past the lagoon.\n", encoding="utf-8")
    build_index([docs], index_location, jobs=0)
    ix = open_index(index_location)
    with ix.searcher() as searcher:
        stored = list(searcher.all_stored_fields())
    assert len(stored) >= 2 and all("file" not in fields and fields["body"] for fields in stored)
    result = run("query", "--index", index_location, "-l", "heron")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [str(docs / "heron.txt")]
    result = run("query", "--index", index_location, "lagoon")
    assert result.exit_code == 0, result.output
    assert str(docs / "river.txt") in result.output


def test_a_manifest_of_an_earlier_release_keeps_its_tables(tmp_path):
    """A manifest made with a table of rows and an index of paths is used as it is."""
    import sqlite3

    path = tmp_path / "manifest-MAIN.sqlite"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE files (path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,"
                     " passages INTEGER NOT NULL, skip_reason TEXT);"
                     " CREATE TABLE pending (path TEXT PRIMARY KEY);"
                     " INSERT INTO files VALUES ('/a.txt', 1, 2, 3, NULL);")
    db.close()
    manifest = Manifest(path)
    try:
        manifest.begin_commit(["/b.txt"])
        assert manifest.uncertain() == {"/b.txt"}
        manifest.finish_commit([FileEntry("/b.txt", 4, 5, 6)], ["/a.txt"])
        assert manifest.entries() == {"/b.txt": FileEntry("/b.txt", 4, 5, 6)}
        assert not manifest.uncertain()
    finally:
        manifest.close()


def test_language_mismatch_is_a_library_error(corpus, index_location):
    build_index([corpus], index_location)
    with pytest.raises(IndexVersionMismatch):
        build_index([corpus], index_location, language="german")


def test_index_into_a_folder_of_other_things_is_refused(corpus, tmp_path, run):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.txt").write_text("my thesis")
    (folder / "backup.tmp").mkdir()
    result = run("index", "--index", folder, corpus)
    assert result.exit_code == ExitStatus.ERROR
    assert "not part of a searcher index" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["backup.tmp", "thesis.txt"]
    # An empty folder is fine.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("index", "--index", empty, corpus).exit_code == 0


def test_every_file_reported_by_a_worker_is_committed():
    """Worker 1's segment and its next files can arrive before worker 0's segment."""
    from searcher.index.runs import writer
    from searcher.index.runs.builder import FileJob, FileResult

    class ScriptedPool:
        size = 2

        def __init__(self):
            self.queues = [[], []]

        def submit(self, w, chunk):
            self.queues[w].append(("files", w, [
                FileResult(j.path, j.size, j.mtime_ns, 1, None, False, False, False) for j in chunk]))

        def flush(self, w):
            self.queues[w].append(("segment", w, [f"segment-{w}"]))

        def next_event(self):
            for q in (self.queues[1], self.queues[0]):  # worker 1 always answers first
                if q:
                    return q.pop(0)
            return None

    class Recorder:
        def __init__(self):
            self.committed, self.run = [], self
            self.report, self.stopping, self.progressed = writer.IndexReport(""), False, []

        def record(self, results):
            pass

        def progress(self, phase=None, state=None, force=False):
            self.progressed.append(state.files_done if state else phase)

        def commit(self, segments, results, deletions):
            self.committed.extend(r.path for r in results)

        def merge(self, at_most=None):
            pass

    jobs = [FileJob(f"/f{i}", 10, 0, False, False) for i in range(40 * writer.CHUNK_FILES)]
    recorder = Recorder()
    writer._drive(ScriptedPool(), writer._Plan(jobs=jobs), recorder, commit_seconds=0)
    assert sorted(recorder.committed) == sorted(j.path for j in jobs)
    assert recorder.report.files_committed == len(jobs) and recorder.progressed[-1] == "reading"
    assert max(p for p in recorder.progressed if isinstance(p, int)) == len(jobs)


def test_progress_bar_only_on_a_terminal(corpus, run):
    import io

    from searcher.present.progress import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert ProgressBar.wanted(Terminal()) and not ProgressBar.wanted(io.StringIO())
    screen = Terminal()
    bar = ProgressBar(screen, min_interval=0)
    bar(RunProgress("reading", 0, 4, 0, 4096))
    bar(RunProgress("reading", 2, 4, 2048, 4096, reading="/docs/big\x1b[31m.pdf"))
    bar(RunProgress("merging", 4, 4, 4096, 4096))
    bar.close()
    drawn = screen.getvalue()
    assert "reading [" in drawn and " 2/4 files  50% of 4 KiB" in drawn
    assert "big\\x1b[31m.pdf" in drawn and "\x1b[31m" not in drawn  # the file being read, escaped
    assert "merging segments… 4/4 files read" in drawn
    assert drawn.endswith("\r\x1b[K")  # the line is erased before the summary
    # Piped (CliRunner's streams are not terminals): no bar, just the summary.
    result = run("index", corpus)
    assert "\r" not in result.output and "reading [" not in result.output


def test_progress_estimate_grows_while_nothing_finishes():
    import io

    from searcher.present.progress import ProgressBar

    bar = ProgressBar(io.StringIO())
    state = RunProgress("reading", 1, 4, 1000, 4000, started=100.0)
    sooner, later = bar.line(state, now=110.0), bar.line(state, now=130.0)
    assert "~30s left" in sooner and "~1m30s left" in later
