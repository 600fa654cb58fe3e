"""Faults: interrupted and killed runs, concurrent runs and queries, odd files, damaged indexes.

The interruption tests run the real CLI in subprocesses on a few thousand small
generated files, commit often (the hidden --commit-every option), and signal the
run once its first commit is on disk.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from passagefiles import live_passages
from searcher.index.errors import IndexDamaged
from searcher.index.runs.lock import RunLock
from searcher.index.storage.manifest import Manifest, manifest_name
from searcher.index.storage.store import open_index, read_meta
from searcher.index.runs.writer import build_index
from searcher.console import ExitStatus

from searcher.index.runs.writer import HANDSHAKE_ENV, RunProgress

FILES = 2000
PASSAGES_PER_FILE = 2


def passages_by_file(index_dir) -> Counter:
    ix = open_index(index_dir)
    with ix.searcher() as searcher:
        return Counter(fields["file"] for fields in live_passages(searcher))


@pytest.fixture
def many(tmp_path) -> Path:
    """FILES small files of PASSAGES_PER_FILE passages each, in folders of 250."""
    root = tmp_path / "many"
    for i in range(FILES):
        path = root / f"part{i // 250:02}" / f"note {i:04}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = " ".join(f"Note {i} records observation {j} of the tidal gauge number {i % 13}." for j in range(4))
        path.write_text(f"Note {i}\n\n{body}\n\n{body}\n", encoding="utf-8")
    return root


def cli_env(index_dir) -> dict:
    return dict(os.environ, SEARCHER_INDEX=str(index_dir), NLTK_DATA="/nonexistent")


def default_sigint():
    # A shell starting pytest in the background makes it ignore SIGINT, and children
    # inherit that: the run must get Ctrl-C as a user's terminal would send it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_index(index_dir, *args, handshake: Path | None = None) -> subprocess.Popen:
    """``handshake``: a folder where the run says "committed-N" and waits for "go-N" or "go"."""
    env = cli_env(index_dir)
    if handshake is not None:
        handshake.mkdir(exist_ok=True)
        env[HANDSHAKE_ENV] = str(handshake)
    return subprocess.Popen(
        [sys.executable, "-m", "searcher", "index", "--commit-every", "0.5", *map(str, args)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint,
    )


def run_cli(index_dir, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "searcher", *map(str, args)], env=cli_env(index_dir),
                          capture_output=True, text=True, timeout=timeout)


def wait_for(path: Path, proc: subprocess.Popen, timeout=60.0):
    """Until ``path`` exists (the run wrote it), failing if the run ends first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended before writing {path.name}: {proc.communicate()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {path.name} within the timeout")
        time.sleep(0.02)


def processes_mentioning(text: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            if text.encode() in cmdline and "State:\tZ" not in status:
                pids.append(int(entry))
    return pids


def assert_complete(index_dir, root):
    counts = passages_by_file(index_dir)
    assert len(counts) == FILES
    assert set(counts.values()) == {PASSAGES_PER_FILE}  # no file indexed twice, none half-indexed


needs_proc = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@needs_proc
def test_interrupted_run_keeps_committed_work_and_next_run_completes(many, tmp_path, sig):
    index_dir = tmp_path / "index"
    # The run waits after its first commit until told to go on: the signal lands mid-run.
    handshake = tmp_path / "handshake"
    proc = start_index(index_dir, many, "--jobs", "2", "--commit-every", "0", handshake=handshake)
    wait_for(handshake / "committed-1", proc)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == ExitStatus.INTERRUPTED
        kept = int(re.search(r"interrupted: kept (\d+) of the (\d+) files", stderr).group(1))
    else:
        assert proc.returncode == -signal.SIGKILL
    assert "Traceback" not in stderr
    # The workers do not outlive the run, and the lock died with it.
    deadline = time.monotonic() + 15
    while processes_mentioning(str(many)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(many)) == []
    assert not RunLock(index_dir).is_held_elsewhere()
    # The committed part answers queries.
    query = run_cli(index_dir, "query", "tidal", "gauge", "--json")
    assert query.returncode == ExitStatus.FOUND, query.stderr
    status = json.loads(run_cli(index_dir, "status", "--json").stdout)
    assert 0 < status["files"] < FILES
    if sig == signal.SIGINT:
        assert status["files"] == kept  # what the message says is what the index holds
    partial = passages_by_file(index_dir)
    assert set(partial.values()) == {PASSAGES_PER_FILE}
    # The next run does only the rest.
    again = run_cli(index_dir, "index", many)
    assert again.returncode == 0, again.stderr
    added = int(re.search(r"(\d+) added", again.stderr).group(1))
    unchanged = int(re.search(r"(\d+) unchanged", again.stderr).group(1))
    # Files the manifest knew are not read again; those of a commit cut short may be.
    assert added + unchanged == FILES and unchanged >= status["files"]
    assert_complete(index_dir, many)
    # No leftovers of the killed run.
    assert not [n for n in os.listdir(index_dir) if n.endswith(".tmp")]


@needs_proc
def test_ctrl_c_keeps_every_finished_file_without_a_commit(many, tmp_path):
    """No periodic commit at all: what Ctrl-C keeps is what the workers had finished."""
    index_dir = tmp_path / "index"
    handshake = tmp_path / "handshake"
    handshake.mkdir()
    (handshake / "hold-at-files").write_text("200")  # the run waits there, however fast the machine
    proc = start_index(index_dir, many, "--jobs", "2", "--commit-every", "3600", handshake=handshake)
    wait_for(handshake / "files-reached", proc)
    finished = int((handshake / "files-reached").read_text())
    assert json.loads(run_cli(index_dir, "status", "--json").stdout)["files"] == 0  # nothing committed
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == ExitStatus.INTERRUPTED, stderr
    kept = int(re.search(r"interrupted: kept (\d+) of the 2000 files this run was reading \(\d+% of [\d.]+ \w+\)",
                         stderr).group(1))
    assert kept >= finished
    assert f"run the same command again to read the other {FILES - kept}" in stderr
    assert json.loads(run_cli(index_dir, "status", "--json").stdout)["files"] == kept
    assert set(passages_by_file(index_dir).values()) == {PASSAGES_PER_FILE}


@needs_proc
def test_ctrl_c_after_the_last_commit_is_not_lost(corpus, tmp_path):
    """Ctrl-C while the run finishes (its last files committed, the workers closing) stops
    it as one earlier would: a caller that runs again and again (searcher watch) must
    see it, not a run that ended as if nobody had asked it to stop."""
    index_dir = tmp_path / "index"
    handshake = tmp_path / "handshake"  # the run waits after its only commit until interrupted
    proc = start_index(index_dir, corpus, "--jobs", "2", "--commit-every", "3600", handshake=handshake)
    wait_for(handshake / "committed-1", proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == ExitStatus.INTERRUPTED, stderr
    assert "interrupted: kept 3 of the 3 files this run was reading" in stderr
    assert "nothing is left to read" in stderr and "Traceback" not in stderr
    assert json.loads(run_cli(index_dir, "status", "--json").stdout)["files"] == 3
    again = run_cli(index_dir, "index", corpus)
    assert again.returncode == 0 and "0 added, 0 updated, 0 removed, 3 unchanged" in again.stderr, again.stderr


def test_second_run_says_at_once_whom_it_waits_for(many, tmp_path):
    index_dir = tmp_path / "index"
    handshake = tmp_path / "handshake"
    # Held after its first commit, so the run certainly holds the index when rivals come.
    proc = start_index(index_dir, many, "--jobs", "2", handshake=handshake)
    patient = None
    try:
        wait_for(handshake / "committed-1", proc)
        rival = run_cli(index_dir, "index", many, "--wait", "0")
        assert rival.returncode == ExitStatus.ERROR
        assert "another 'searcher index' is writing to" in rival.stderr
        assert f"pid {proc.pid}" in rival.stderr
        assert "Traceback" not in rival.stderr
        patient = subprocess.Popen([sys.executable, "-m", "searcher", "index", str(many), "--wait", "120"],
                                   env=cli_env(index_dir), stderr=subprocess.PIPE, text=True)
        # The patient run says so before the first run lets go.
        first_line = patient.stderr.readline()
        assert first_line.startswith(f"searcher: waiting up to 120s for pid {proc.pid}: "), first_line
        (handshake / "go").touch()
        assert proc.wait(timeout=60) == 0
        _, rest = patient.communicate(timeout=120)
        assert patient.returncode == 0, rest
    finally:
        for p in (proc, patient):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    assert_complete(index_dir, many)


def test_queries_during_a_run_answer_from_the_last_commit(many, tmp_path, run, monkeypatch):
    index_dir = tmp_path / "index"
    monkeypatch.setenv("SEARCHER_INDEX", str(index_dir))
    handshake = tmp_path / "handshake"
    proc = start_index(index_dir, many, "--jobs", "2", handshake=handshake)
    try:
        wait_for(handshake / "committed-1", proc)
        # Held between two commits: the committed part answers.
        result = run("query", "tidal", "gauge", "--json", "-n", "3")
        assert result.exit_code == ExitStatus.FOUND, result.output
        status = run("status", "--json")
        assert json.loads(status.output)["indexing"] is True
        (handshake / "go").touch()
        while proc.poll() is None:
            result = run("query", "tidal", "gauge", "--json", "-n", "3")
            assert result.exit_code == ExitStatus.FOUND, result.output
            status = run("status", "--json")
            assert status.exit_code == 0, status.output
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_query_while_the_first_run_reads_says_how_far_it_got(tmp_path, index_location, run):
    # An index with nothing published yet, and a run that has read 3 of 10 files.
    (tmp_path / "empty").mkdir()
    assert run("index", tmp_path / "empty").exit_code == 0
    with RunLock(index_location) as lock:
        lock.acquire()
        lock.publish_state(RunProgress("reading", 3, 10, 300, 1000).line())
        result = run("query", "rice")
        assert result.exit_code == ExitStatus.NOTHING_FOUND
        assert "is being built: 3 of 10 files read (30% by size), nothing published yet, now reading" in result.stderr
        assert "is empty" not in result.stderr
    result = run("query", "rice")
    assert "is empty" in result.stderr and "being built" not in result.stderr


def test_status_shows_a_run_in_progress(corpus, index_location, run):
    assert run("index", corpus).exit_code == 0
    with RunLock(index_location) as lock:
        lock.acquire()
        assert json.loads(run("status", "--json").output)["indexing"] is True
        assert "is writing to it now" in run("status").output
        result = run("index", corpus, "--wait", "0.3")
        assert result.exit_code == ExitStatus.ERROR
        assert "another 'searcher index' is writing to" in result.output
        assert f"waiting up to 0.3s for pid {os.getpid()}" in result.stderr
    assert json.loads(run("status", "--json").output)["indexing"] is False


# --- a crash between the whoosh commit and the manifest -------------------------------

def test_crash_after_whoosh_commit_before_manifest(corpus, index_location, monkeypatch):
    build_index([corpus], index_location)
    changed = corpus / "notes" / "cooking.txt"
    changed.write_text("Notes on soup\n\nSimmer the soup. Salt the soup late.\n", encoding="utf-8")
    os.utime(changed, ns=(0, changed.stat().st_mtime_ns + 2_000_000_000))
    (corpus / "new.txt").write_text("A new file about kites.\n", encoding="utf-8")

    def crash(self, upserts, removals):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(Manifest, "finish_commit", crash)
        with pytest.raises(KeyboardInterrupt):
            build_index([corpus], index_location)
    # whoosh has the new state; the manifest does not know it yet.
    manifest = Manifest(index_location / manifest_name(read_meta(index_location).indexname))
    assert manifest.uncertain() == {str(changed), str(corpus / "new.txt")}
    manifest.close()
    report = build_index([corpus], index_location)
    assert report.unchanged == 2 and report.added + report.updated == 2
    counts = passages_by_file(index_location)
    assert counts[str(corpus / "new.txt")] == 1 and counts[str(changed)] == 1
    assert sum(counts.values()) == report.passages_in_index


def test_run_killed_inside_a_manifest_transaction(corpus, index_location, run):
    assert run("index", corpus).exit_code == 0
    path = index_location / manifest_name(read_meta(index_location).indexname)
    # A tiny page cache makes SQLite write into the database before COMMIT, so the
    # kill leaves a "hot" journal that the next reader has to roll back.
    code = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA cache_size=1')\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "db.executemany('INSERT INTO pending VALUES (?)', [(str(i) * 50,) for i in range(2000)])\n"
        "db.execute('DELETE FROM files')\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)])
    assert done.returncode == -signal.SIGKILL
    status = run("status", "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["files"] == 3
    result = run("index", corpus)
    assert result.exit_code == 0 and "3 unchanged" in result.output


def test_damaged_manifest_is_rebuilt_without_duplicates(corpus, index_location):
    build_index([corpus], index_location)
    before = passages_by_file(index_location)
    path = index_location / manifest_name(read_meta(index_location).indexname)
    path.write_bytes(b"this is not a database" * 100)
    report = build_index([corpus], index_location)
    assert report.unchanged == 0
    assert passages_by_file(index_location) == before
    assert build_index([corpus], index_location).unchanged == 3


def test_interrupted_rebuild_keeps_old_index_and_resumes(tmp_path, index_location, monkeypatch):
    from searcher.index.runs import writer

    root = tmp_path / "docs"
    root.mkdir()
    for i in range(200):
        (root / f"d{i:03}.txt").write_text(f"Document {i} is about harbour number {i}.\n", encoding="utf-8")
    build_index([root], index_location, jobs=1)
    before = passages_by_file(index_location)
    real_commit = writer._Committer.commit
    commits = []

    def commit_then_interrupt(self, *args):
        commits.append(1)
        if len(commits) == 2:
            raise KeyboardInterrupt
        return real_commit(self, *args)

    with monkeypatch.context() as m:
        m.setattr(writer, "CHUNK_FILES", 16)
        m.setattr(writer._Committer, "commit", commit_then_interrupt)
        with pytest.raises(KeyboardInterrupt):
            build_index([root], index_location, rebuild=True, jobs=1, commit_seconds=0)
    meta = read_meta(index_location)
    assert meta.rebuilding and meta.rebuilding["indexname"] != meta.indexname
    assert passages_by_file(index_location) == before  # queries still see the old index
    report = build_index([root], index_location, rebuild=True, jobs=1)
    assert 0 < report.added < 200  # resumed, not restarted
    assert report.added + report.unchanged == 200
    assert passages_by_file(index_location) == before
    meta = read_meta(index_location)
    assert meta.rebuilding is None


# --- odd files --------------------------------------------------------------------------

def test_odd_files_are_indexed_or_skipped_with_a_reason(tmp_path, run, index_location):
    root = tmp_path / "odd"
    (root / "sub dir").mkdir(parents=True)
    (root / "sub dir" / "with spaces.txt").write_text("Spaces in the path are fine.\n", encoding="utf-8")
    (root / "naïve café ünïcödé.md").write_text("# Café\n\nNon-ASCII names are fine.\n", encoding="utf-8")
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (root / "one-line.txt").write_text("endless " * 400_000, encoding="utf-8")  # 3.2 MB, no newline
    os.symlink(root / "nowhere.txt", root / "broken.txt")
    os.symlink(root, root / "sub dir" / "loop")
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "fifo.txt")
    unreadable = root / "secret.txt"
    unreadable.write_text("Secret words.\n", encoding="utf-8")
    unreadable.chmod(0)
    result = run("index", root, "--verbose")
    unreadable.chmod(0o644)
    assert result.exit_code == 0, result.output
    counts = passages_by_file(index_location)
    assert str(root / "sub dir" / "with spaces.txt") in counts
    assert str(root / "naïve café ünïcödé.md") in counts
    assert counts[str(root / "one-line.txt")] >= 1000  # cut into passages, not one huge one
    assert f"skipped {root / 'empty.txt'}: empty file" in result.output
    assert f"skipped {root / 'binary.txt'}: binary file" in result.output
    assert f"skipped {root / 'broken.txt'}: broken symlink" in result.output
    if os.geteuid() != 0:  # root reads anything
        assert f"skipped {unreadable}: permission denied" in result.output
    # The loop was followed once: no file twice.
    assert not any("loop" in path for path in counts)
    query = run("query", "endless", "--json", "-n", "1")
    assert query.exit_code == 0


# --- damaged and foreign indexes ---------------------------------------------------------

def damage_garbage_meta(index_dir):
    (index_dir / "searcher.json").write_text("{not json", encoding="utf-8")


def damage_other_schema(index_dir):
    data = json.loads((index_dir / "searcher.json").read_text())
    data["schema_version"] = 999
    (index_dir / "searcher.json").write_text(json.dumps(data))


def damage_no_meta(index_dir):
    (index_dir / "searcher.json").unlink()  # a whoosh index without our metadata


def damage_truncated_toc(index_dir):
    for toc in index_dir.glob("_*.toc"):
        toc.write_bytes(toc.read_bytes()[:20])


def damage_missing_toc(index_dir):
    for toc in index_dir.glob("_*.toc"):
        toc.unlink()


def damage_garbage_files(index_dir):
    for path in index_dir.iterdir():
        if path.is_file():
            path.write_bytes(os.urandom(64))


@pytest.mark.parametrize("damage", [
    damage_garbage_meta, damage_other_schema, damage_no_meta,
    damage_truncated_toc, damage_missing_toc, damage_garbage_files,
])
def test_damaged_index_says_rebuild_and_rebuild_fixes_it(corpus, index_location, run, damage):
    assert run("index", corpus).exit_code == 0
    damage(index_location)
    for args in (("query", "rice"), ("status",), ("index", corpus)):
        result = run(*args)
        assert result.exit_code == ExitStatus.ERROR, (args, result.output)
        assert "--rebuild" in result.output, (args, result.output)
        assert "Traceback" not in result.output
    result = run("index", "--rebuild", corpus)
    assert result.exit_code == 0, result.output
    assert run("query", "rice").exit_code == ExitStatus.FOUND
    assert len(passages_by_file(index_location)) == 3


def damage_segment_zeroed(index_dir):
    for segment in index_dir.glob("*.seg"):
        data = bytearray(segment.read_bytes())
        data[len(data) // 3:] = bytes(len(data) - len(data) // 3)
        segment.write_bytes(bytes(data))


def damage_segment_cut(index_dir):
    for segment in index_dir.glob("*.seg"):
        segment.write_bytes(segment.read_bytes()[:len(segment.read_bytes()) // 2])


@pytest.mark.parametrize("damage", [damage_segment_zeroed, damage_segment_cut])
def test_a_damaged_segment_is_named_as_such(corpus, index_location, run, damage):
    """Bytes of a segment overwritten or cut: a query says the index is damaged and how to
    rebuild it, in one line, not "unexpected ..."; the rebuild then answers."""
    assert run("index", corpus).exit_code == 0
    damage(index_location)
    result = run("query", "rice")
    assert result.exit_code == ExitStatus.ERROR, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "damaged" in lines[0] and "'searcher index --rebuild PATH...'" in lines[0], lines
    assert "unexpected" not in lines[0]
    assert run("index", "--rebuild", corpus).exit_code == 0
    assert run("query", "rice").exit_code == ExitStatus.FOUND


def test_index_path_that_is_a_file(corpus, tmp_path, run):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = run("index", "--index", not_a_dir, corpus)
    assert result.exit_code == ExitStatus.ERROR and "Traceback" not in result.output
    result = run("query", "--index", not_a_dir, "rice")
    assert result.exit_code == ExitStatus.ERROR and "Traceback" not in result.output


def test_open_index_raises_small_errors(tmp_path):
    (tmp_path / "searcher.json").write_text(json.dumps({"schema_version": 1, "indexname": "../x"}))
    with pytest.raises(IndexDamaged):
        read_meta(tmp_path)


# --- a full disk --------------------------------------------------------------------------

@pytest.mark.parametrize("jobs", ["1", "2"], ids=["in-process", "workers"])
def test_disk_full_removes_what_the_run_did_not_publish(corpus, index_location, run, monkeypatch, jobs):
    import errno

    from searcher.index.storage.fastwrite import FastSegmentWriter

    assert run("index", corpus).exit_code == 0
    before_files = sorted(os.listdir(index_location))
    before_hits = run("query", "--json", "rice", "security").stdout
    for i in range(40):
        (corpus / "more" / f"m{i}.txt").parent.mkdir(exist_ok=True)
        (corpus / "more" / f"m{i}.txt").write_text(f"Harbour {i} keeps a tide table.\n" * 200, encoding="utf-8")
    real = FastSegmentWriter._finalize_segment

    def fill_the_disk(self):
        real(self)  # the segment's files are written: then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(FastSegmentWriter, "_finalize_segment", fill_the_disk)  # forked workers inherit it
        result = run("index", corpus, "--jobs", jobs)
    assert result.exit_code == ExitStatus.ERROR
    assert result.stderr.startswith("searcher: error: no space left on the device of the index at ")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    after = sorted(os.listdir(index_location))
    assert [n for n in after if n not in before_files] == []  # no segment or scratch file stays
    assert run("query", "--json", "rice", "security").stdout == before_hits
    assert run("index", corpus).exit_code == 0
    assert run("query", "-l", "harbour").stdout.count("\n") == 40
