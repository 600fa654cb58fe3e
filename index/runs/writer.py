"""Writing files into the index: walk -> plan -> read, split, analyse -> commit.

A run:

1. walks the paths and compares what it finds with the manifest (index/storage/manifest.py):
   new and changed files are indexed, unchanged ones are left alone, files gone
   from under the given roots are removed;
2. reads, splits and analyses files in worker processes (one per core), each of
   which writes its own whoosh segment (index/runs/builder.py);
3. commits every ``commit_seconds``: the parent deletes the old passages of the
   changed files and publishes the new segments in one new whoosh table of
   contents, then records the files in the manifest. A run that is interrupted
   keeps everything committed so far, and the next run picks up the rest;
4. merges segments at its end (and during a long run, when there are many) with
   index/storage/merge.py, published by a table of contents of its own like a commit.
   whoosh's own merge at commit (MERGE_SMALL) is never used: it goes through a
   posting pool that, at 1M passages, grew a 5 GB scratch folder and 1.6 GB of RSS.

The run holds index/runs/lock.py's lock from start to end, so two runs never interleave.
"""

from __future__ import annotations

import os
import queue
import secrets
import signal
import time
import traceback
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from searcher.index.runs.builder import STOP, FileJob, FileResult, SegmentBuilder, passage_documents
from searcher.index.errors import (
    IndexDamaged,
    IndexingError,
    IndexNotFound,
    IndexVersionMismatch,
)
from searcher.index.runs.leftout import UNSUPPORTED, extension_of
from searcher.index.runs.lock import RunLock
from searcher.index.storage.manifest import FileEntry, Manifest, manifest_name
from searcher.index.reading.reader import DEFAULT_MAX_BYTES
from searcher.index.storage.schema import SCHEMA_VERSION, make_schema
from searcher.index.storage.store import (
    DEFAULT_INDEXNAME,
    META_NAME,
    IndexMeta,
    foreign_entries,
    open_whoosh,
    read_meta,
    remove_index_files,
    remove_temp_dirs,
    write_meta,
)
from searcher.index.text.stemtable import repair as repair_stem_tables
from searcher.index.runs.walker import FoundFile, SkippedFile, walk

# How often a long run publishes its work (seconds): an interrupted run loses at
# most this much, while each commit adds segments that queries must visit.
COMMIT_SECONDS = 60.0
# Below this much new text, worker processes cost more than they save.
INLINE_BYTES = 512 * 1024
# A unit of work sent to a worker: at most this many files or bytes.
CHUNK_FILES = 64
CHUNK_BYTES = 512 * 1024
# Memory for each writer's posting pool before it spills sorted runs to disk.
POOL_MB = 256
# From this many files to index, worker processes start as fresh interpreters instead
# of forks: a fork maps the parent's plan of every file (at 450k files about 250 MB),
# which each worker's RSS counts again and partly copies.
SPAWN_FILES = 20_000
# Segments are merged at the end of a run, as index/storage/merge.py's policy says, and during
# a run only after a commit that leaves more than this many: the workers wait meanwhile.
MAX_SEGMENTS = 40
# Merges in a row at most (each may make a level full: a cascade).
_MAX_MERGES = 8
# After Ctrl-C, how long the workers may take to drop the file they are on and write
# the segment of the files they finished (on a busy machine a big file's segment takes
# tens of seconds; a file inside a long C call, such as inflating a stream, notices
# only when the call returns); a second Ctrl-C stops at once.
STOP_SECONDS = 120.0
# How often the run's state is published for queries that find the index being built.
PUBLISH_SECONDS = 1.0


@dataclass
class RunProgress:
    """What a run is doing: for a progress display (``on_progress``), and, one line in
    the lock file, for queries that find the index still being built."""

    phase: str  # "planning", "reading", "publishing" (a commit), "merging", "stopping", "finishing"
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    reading: str | None = None  # a large file a worker has been reading for a while
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        return f"{self.phase} {self.files_done} {self.files_total} {self.bytes_done} {self.bytes_total}"

    @classmethod
    def parse(cls, line: str | None) -> RunProgress | None:
        try:
            phase, *numbers = (line or "").split()
            files_done, files_total, bytes_done, bytes_total = map(int, numbers)
        except ValueError:
            return None
        return cls(phase, files_done, files_total, bytes_done, bytes_total)


def being_built(index_dir) -> str | None:
    """How far the run writing to ``index_dir`` got (``read 120 of 1027 files (8 %), now
    reading``), or None when no run is writing to it."""
    state = RunLock(index_dir).state()
    if state is None:
        return None
    progress = RunProgress.parse(state)
    if progress is None:
        return "nothing is published yet"
    if progress.phase == "planning":
        return "it is finding the files to read"
    share = f" ({progress.bytes_done / progress.bytes_total:.0%} by size)" if progress.bytes_total else ""
    return (f"{progress.files_done} of {progress.files_total} files read{share}, "
            f"nothing published yet, now {progress.phase}")


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run after it committed every file its workers had finished."""

    def __init__(self, report: IndexReport):
        super().__init__("interrupted")
        self.report = report


@dataclass
class IndexReport:
    index_dir: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    unsupported: Counter = field(default_factory=Counter)  # files of other types, by extension
    passages: int = 0  # passages written by this run
    files_in_index: int = 0
    passages_in_index: int = 0
    rebuilt: bool = False
    workers: int = 0  # worker processes used (0: all in this process)
    seconds: float = 0.0
    segments: int = 0  # whoosh segments in the index at the end
    merges: int = 0  # segment merges this run made
    merge_seconds: float = 0.0  # time spent merging
    # Of the files this run set out to read: how many, and how many are committed
    # (all of them unless it was interrupted).
    files_planned: int = 0
    bytes_planned: int = 0
    files_committed: int = 0
    bytes_committed: int = 0

    @property
    def files_indexed(self) -> int:
        return self.added + self.updated


def build_index(paths, index_dir, *, language: str | None = None, rebuild: bool = False,
                include=(), exclude=(), max_bytes: int = DEFAULT_MAX_BYTES,
                hidden: bool = False, ignore: bool = True, jobs: int | None = None, lock_timeout: float = 0.0,
                commit_seconds: float = COMMIT_SECONDS, on_progress=None, on_wait=None) -> IndexReport:
    """Bring the index at ``index_dir`` up to date with the files under ``paths``.

    ``language``: the stemming language (None: the index's own, else english);
    ``jobs``: worker processes (None: one per core; 0 or 1: none);
    ``on_progress(RunProgress)`` is called as the run goes (at least every second
    while files are read); ``on_wait(message)`` once if another run holds the index.

    Ctrl-C (SIGINT) while files are read stops the workers, commits every file they
    finished and raises RunInterrupted; a second Ctrl-C stops at once (KeyboardInterrupt).
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    roots = [os.path.abspath(os.fspath(p)) for p in paths]
    walk_options = {"include": list(include), "exclude": list(exclude), "max_bytes": max_bytes,
                    "hidden": hidden, "ignore": ignore}
    # Walked while planning (PathNotFound is raised here): at 1M files a list of
    # what the walk finds would hold 200 MB that the run never gives back.
    found = walk(paths, include=include, exclude=exclude, max_bytes=max_bytes, hidden=hidden, ignore=ignore,
                 index_dir=index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise IndexingError(f"cannot create the index at {index_dir}: a file is in the way") from None
    except OSError as exc:
        raise IndexingError(f"cannot create the index at {index_dir}: {exc.strerror or exc}") from None
    foreign = [] if (index_dir / META_NAME).exists() else foreign_entries(index_dir)
    if foreign:
        # Never start an index in (or clean up) a folder of other things.
        raise IndexingError(
            f"{index_dir} holds files that are not part of a searcher index "
            f"({foreign[0]!r}{' and more' if len(foreign) > 1 else ''}): "
            "give --index a new or empty folder"
        )
    lock = RunLock(index_dir)
    lock.acquire(lock_timeout, on_wait=on_wait)
    try:
        run = _Run(index_dir, roots, language, rebuild, max_bytes, lock)
        run.walk_options = walk_options
        try:
            run.execute(found, jobs, commit_seconds, on_progress)
        except BaseException as exc:
            # The workers have stopped (execute closed them): what this run wrote and
            # did not publish goes now, not at the next run; on a full disk it is
            # what keeps the disk full.
            run.discard_unpublished()
            if _disk_full(exc):
                raise IndexingError(
                    f"no space left on the device of the index at {index_dir}: the files this run "
                    "had not published were removed, and the index answers as it did before the run "
                    "(with what it committed); free some space and run the same command again"
                ) from None
            raise
        finally:
            run.close()
        report = run.report
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Plan:
    jobs: list[FileJob] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)  # paths whose passages and entries go


class _Run:
    def __init__(self, index_dir: Path, roots, language, rebuild, max_bytes, lock):
        self.index_dir = index_dir
        self.roots = roots
        self.max_bytes = max_bytes
        self.lock = lock
        self.report = IndexReport(str(index_dir))
        self.manifest: Manifest | None = None
        self.walk_options: dict = {}
        self.stopping = False  # Ctrl-C: commit what is finished, then stop
        self.on_progress = None
        self.state = RunProgress("planning")
        self.published = 0.0
        self._open_target(language, rebuild)

    # --- choosing the whoosh index to write ------------------------------------------

    def _open_target(self, language, rebuild):
        now = _now()
        try:
            meta = read_meta(self.index_dir)
        except IndexNotFound:
            meta = None
        except (IndexVersionMismatch, IndexDamaged):
            if not rebuild:
                raise
            meta = None
        if meta is None:
            # A new index is live from the start: an interrupted first run leaves
            # a smaller index that answers queries, and the next run completes it.
            self._clear_unknown_index_files()
            self.meta = IndexMeta(language=language or "english", created=now, updated=now)
            self.indexname = self.meta.indexname
            self.ix = _create_whoosh(self.index_dir, self.indexname, self.meta.language)
            self._open_manifest(fresh=True)
            write_meta(self.index_dir, self.meta)
            self.rebuilding = False
            return
        self.meta = meta
        if not rebuild:
            if language and language != meta.language:
                raise IndexVersionMismatch(
                    f"the index at {self.index_dir} was built with --language {meta.language}: "
                    f"use that, or rebuild with 'searcher index --rebuild --language {language} PATH...'"
                )
            self.indexname = meta.indexname
            self.ix = open_whoosh(self.index_dir, self.indexname)
            self._open_manifest(fresh=False)
            self.rebuilding = False
            return
        # --rebuild next to the live index, which keeps answering queries until
        # the new one is complete; an interrupted rebuild is resumed by the next.
        self.rebuilding = True
        self.report.rebuilt = True
        language = language or meta.language
        pending = meta.rebuilding or {}
        if pending.get("language") == language and pending.get("roots") == self.roots:
            try:
                self.indexname = pending["indexname"]
                self.ix = open_whoosh(self.index_dir, self.indexname)
                self._open_manifest(fresh=False)
                return
            except (IndexingError, KeyError, TypeError):
                pass
        if pending.get("indexname"):
            remove_index_files(self.index_dir, str(pending["indexname"]))
        self.indexname = _new_indexname(meta.indexname)
        self.ix = _create_whoosh(self.index_dir, self.indexname, language)
        self._open_manifest(fresh=True)
        meta.rebuilding = {"indexname": self.indexname, "language": language, "roots": self.roots}
        write_meta(self.index_dir, meta)

    def _clear_unknown_index_files(self):
        # No readable metadata: whatever index files are here are damaged or
        # not ours, and the user asked for --rebuild (or there are none).
        for name in {DEFAULT_INDEXNAME} | _toc_names(self.index_dir):
            remove_index_files(self.index_dir, name)
        remove_temp_dirs(self.index_dir)

    def _open_manifest(self, fresh: bool):
        import sqlite3

        path = self.index_dir / manifest_name(self.indexname)
        existed = path.exists()
        if fresh:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        try:
            self.manifest = Manifest(path)
            self.manifest.entries()
        except sqlite3.DatabaseError:
            # A damaged manifest: start a new one and trust nothing in whoosh.
            for suffix in ("", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            self.manifest = Manifest(path)
            existed = False
        # Without its manifest, an index may hold any file: delete before adding.
        self.trust_manifest = fresh or existed or self.ix.doc_count_all() == 0

    # --- the run --------------------------------------------------------------------

    def execute(self, found, jobs, commit_seconds, on_progress):
        """Index what the walk ``found`` (an iterable, consumed once)."""
        self._clean_leftovers()
        repair_stem_tables(self.index_dir)  # before any worker writes to them (index/text/stemtable.py)
        plan = self._plan(found)
        found = None
        workers = _choose_workers(jobs, plan.jobs)
        self.report.workers = workers
        self.on_progress = on_progress
        committer = _Committer(self)
        if plan.jobs:
            fresh = len(plan.jobs) >= SPAWN_FILES
            with _StopOnInterrupt(self):
                pool = _ProcessWorkers(self, workers, fresh) if workers else _InlineWorkers(self)
                try:
                    _drive(pool, plan, committer, commit_seconds)
                finally:
                    pool.close()
        elif plan.deletions:
            committer.commit([], [], plan.deletions)
        plan = None  # its memory is not needed any more (a merge may fork)
        committer.merge(workers=_choose_workers(jobs, None))
        self.progress("finishing")
        self._finish()

    def progress(self, phase: str | None = None, state: RunProgress | None = None, force: bool = False):
        """Tell the display and, at most every PUBLISH_SECONDS, queries what the run is doing."""
        state = self.state = state or self.state
        changed = phase is not None and phase != state.phase
        if phase is not None:
            state.phase = phase
        if self.on_progress is not None:
            self.on_progress(state)
        now = time.monotonic()
        if changed or force or now - self.published >= PUBLISH_SECONDS:
            self.published = now
            self.lock.publish_state(state.line())

    def _clean_leftovers(self):
        from searcher.index.storage.whoosh_private import TOC, clean_files

        # Under the lock nobody else writes here: files of killed runs can go.
        remove_temp_dirs(self.index_dir)
        toc = TOC.read(self.ix.storage, self.indexname)
        clean_files(self.ix.storage, self.indexname, toc.generation, toc.segments)
        if not self.rebuilding and self.meta.rebuilding is None:
            for name in _toc_names(self.index_dir):
                if name != self.indexname:
                    remove_index_files(self.index_dir, name)

    def _plan(self, found) -> _Plan:
        report, plan = self.report, _Plan()
        entries = self.manifest.entries()
        uncertain = self.manifest.uncertain()
        known = set(entries) | uncertain
        seen = set()
        for item in found:
            seen.add(item.path)
            if isinstance(item, SkippedFile):
                if item.reason == UNSUPPORTED:  # counted only: there may be a million
                    report.unsupported[extension_of(item.path)] += 1
                else:
                    report.skipped.append(item)
                if item.path in known:
                    plan.deletions.append(item.path)
                continue
            entry = entries.get(item.path)
            if (self.trust_manifest and entry is not None and item.path not in uncertain
                    and entry.matches(item.mtime_ns, item.size)):
                if entry.skip_reason:
                    report.skipped.append(SkippedFile(item.path, entry.skip_reason))
                else:
                    report.unchanged += 1
                continue
            plan.jobs.append(FileJob(
                path=item.path, size=item.size, mtime_ns=item.mtime_ns,
                needs_delete=item.path in known or not self.trust_manifest,
                was_indexed=entry is not None and entry.skip_reason is None,
            ))
        for path in sorted(known - seen):
            if _under_any(path, self.roots):
                plan.deletions.append(path)
                entry = entries.get(path)
                if entry is None or entry.skip_reason is None:
                    report.removed += 1
        return plan

    def record(self, results: list[FileResult]):
        for result in results:
            if result.skip_reason is not None:
                self.report.skipped.append(SkippedFile(result.path, result.skip_reason))
            elif result.was_indexed:
                self.report.updated += 1
            else:
                self.report.added += 1
            self.report.passages += result.passages

    def _finish(self):
        from searcher.index.storage.whoosh_private import TOC, clean_files

        meta = self.meta
        now = _now()
        old_indexname = meta.indexname
        if self.rebuilding:
            meta.indexname = self.indexname
            meta.schema_version = SCHEMA_VERSION  # a rebuild makes the current schema
            meta.language = meta.rebuilding["language"]
            meta.roots = _collapse_roots(self.roots)
            meta.rebuilding = None
            meta.created = now
        else:
            meta.roots = _collapse_roots(list(meta.roots) + self.roots)
        options = {} if self.rebuilding or not isinstance(meta.walk_options, dict) else meta.walk_options
        options.update((root, dict(self.walk_options)) for root in self.roots)
        meta.walk_options = {root: options[root] for root in meta.roots if root in options}
        meta.updated = now
        from searcher.index.storage import rankstats  # (H3) ranking statistics for queries to load, not compute

        rankstats.save(self.index_dir, self.indexname)
        from searcher.index.storage import filepostings  # per-file postings of the segments lacking them

        filepostings.save(self.index_dir, self.indexname)
        write_meta(self.index_dir, meta)
        if self.rebuilding and old_indexname != self.indexname:
            remove_index_files(self.index_dir, old_indexname)
        toc = TOC.read(self.ix.storage, self.indexname)
        clean_files(self.ix.storage, self.indexname, toc.generation, toc.segments)
        remove_temp_dirs(self.index_dir)
        self.report.passages_in_index = sum(s.doc_count() for s in toc.segments)
        self.report.segments = len(toc.segments)
        self.report.files_in_index = self.manifest.counts()[0]
        self.manifest.compact()

    def discard_unpublished(self):
        """Delete the segment and scratch files that no published table of contents names."""
        from searcher.index.storage.whoosh_private import TOC, clean_files

        try:
            toc = TOC.read(self.ix.storage, self.indexname)
            clean_files(self.ix.storage, self.indexname, toc.generation, toc.segments)
            remove_temp_dirs(self.index_dir)
        except Exception:
            pass  # the next run cleans up under its lock (_clean_leftovers)

    def close(self):
        if self.manifest is not None:
            self.manifest.close()


class _Committer:
    """Publishes finished segments and deletions in one whoosh commit, then the manifest."""

    def __init__(self, run: _Run):
        self.run = run
        self.first = True

    def commit(self, segments, results: list[FileResult], deletions: list[str]):
        from searcher.index.storage.whoosh_private import TOC, SegmentWriter, close_segment, release_writer

        run = self.run
        run.progress("publishing")
        manifest = run.manifest
        manifest.begin_commit([r.path for r in results] + deletions)
        to_delete = [r.path for r in results if r.needs_delete] + deletions
        # The writer is only used to mark deletions; it adds no documents and merges nothing.
        writer = SegmentWriter(run.ix, timeout=30.0, limitmb=POOL_MB)
        try:
            if to_delete:
                with writer.searcher() as searcher:
                    for path in to_delete:
                        writer.delete_by_term("file", path, searcher=searcher)
            close_segment(writer)
            # Not writer._commit_toc(): its clean-up would delete the files of
            # segments that workers are writing right now. _Run._finish cleans.
            TOC(writer.schema, list(writer.segments) + list(segments), writer.generation).write(
                writer.storage, writer.indexname)
        except BaseException:
            try:
                writer.cancel()
            except Exception:
                pass
            raise
        release_writer(writer)
        upserts, removals = [], list(deletions)
        for r in results:
            if r.skip_reason is not None and r.transient:
                removals.append(r.path)  # tried again next run
            else:
                upserts.append(FileEntry(r.path, r.mtime_ns, r.size, r.passages, r.skip_reason))
        manifest.finish_commit(upserts, removals)

    def merge(self, at_most: int | None = None, workers: int = 1) -> None:
        """Merge segments as index/storage/merge.py's policy says, if there are more than
        ``at_most`` (None: at the end of a run, whatever their number), with up to
        ``workers`` processes.

        Each merged segment is published by a new table of contents, like a commit;
        interrupted before that, the index is as it was and the next run deletes the
        merge's files (``_clean_leftovers``).
        """
        from searcher.index.storage.whoosh_private import TOC

        from searcher.index.storage.merge import MergeUnsupported, merge_segments, segments_to_merge

        run = self.run
        storage = run.ix.storage
        for _ in range(_MAX_MERGES):
            toc = TOC.read(storage, run.indexname)
            if at_most is not None and len(toc.segments) <= at_most:
                return
            chosen = segments_to_merge(toc.segments)
            if not chosen:
                return
            run.progress("merging")
            started = time.perf_counter()
            try:
                merged = merge_segments(run.index_dir, run.indexname, toc.schema, chosen, workers,
                                        close_fds=(run.lock.fd,) if run.lock.fd is not None else ())
            except MergeUnsupported:
                return  # an index of segments this merge does not know stays as it is
            gone = {s.segment_id() for s in chosen}
            segments = []
            for segment in toc.segments:
                if segment.segment_id() not in gone:
                    segments.append(segment)
                elif merged is not None:
                    segments.append(merged)  # where the first merged segment was: same order
                    merged = None
            TOC(toc.schema, segments, toc.generation + 1).write(storage, run.indexname)
            # Workers may be writing segments right now: delete only the merged ones' files.
            for name in os.listdir(run.index_dir):
                if name.split(".", 1)[0] in gone:
                    try:
                        os.remove(os.path.join(run.index_dir, name))
                    except OSError:
                        pass
            run.report.merges += 1
            run.report.merge_seconds += time.perf_counter() - started


# --- running the jobs ---------------------------------------------------------------------

def _drive(pool, plan: _Plan, committer: _Committer, commit_seconds: float):
    """Feed chunks of files to the workers; commit everything finished every commit_seconds.

    When the run is told to stop (Ctrl-C: ``run.stopping``), every worker drops the
    file it is reading and hands over the segment of the files it finished, and they
    are committed before RunInterrupted is raised.
    """
    run = committer.run
    chunks = deque(_chunks(plan.jobs))
    progress = RunProgress("reading", files_total=len(plan.jobs), bytes_total=sum(job.size for job in plan.jobs))
    report = run.report
    report.files_planned, report.bytes_planned = progress.files_total, progress.bytes_total
    n = pool.size
    in_flight = [0] * n
    unflushed: list[list[FileResult]] = [[] for _ in range(n)]
    reading: list[tuple[str, float] | None] = [None] * n  # a large file each worker is on, since when
    ready_results: list[FileResult] = []
    ready_segments = []
    flushing = 0
    deletions = list(plan.deletions)
    last_commit = time.monotonic()

    def show():
        now = time.monotonic()
        slow = [(since, path) for path, since in filter(None, reading) if now - since >= 2.0]
        progress.reading = min(slow)[1] if slow else None
        run.progress(state=progress)

    def commit():
        nonlocal ready_segments, ready_results, deletions
        if ready_results or deletions:
            committer.commit(ready_segments, ready_results, deletions)
            report.files_committed += len(ready_results)
            report.bytes_committed += sum(r.size for r in ready_results)
        ready_segments, ready_results, deletions = [], [], []

    run.progress(state=progress, force=True)
    while True:
        if run.stopping:
            _stop_workers(pool, unflushed, ready_segments, ready_results, run)
            commit()
            raise RunInterrupted(report)
        for w in range(n):
            while chunks and in_flight[w] < 2:
                pool.submit(w, chunks.popleft())
                in_flight[w] += 1
        idle = not chunks and not any(in_flight)
        if not flushing and (idle or time.monotonic() - last_commit >= commit_seconds):
            for w in range(n):
                pool.flush(w)
            flushing = n
        event = pool.next_event()
        if event is None:
            show()  # the elapsed time and the estimate move even while a big file is read
            continue
        kind, w, payload = event
        if kind == "reading":
            reading[w] = (payload, time.monotonic())
            continue
        if kind == "files":
            reading[w] = None
            in_flight[w] -= 1
            unflushed[w].extend(payload)
            run.record(payload)
            progress.files_done += len(payload)
            progress.bytes_done += sum(r.size for r in payload)
            show()
            _hold_for_fault_tests(run, progress.files_done)
        elif kind == "segment":
            ready_segments.extend(payload)
            ready_results.extend(unflushed[w])
            unflushed[w] = []
            flushing -= 1
            if not flushing:
                if ready_results or deletions:
                    commit()
                    _handshake_for_fault_tests(run)
                    committer.merge(at_most=MAX_SEGMENTS)
                    run.progress("reading", force=True)
                ready_segments, ready_results, deletions = [], [], []
                last_commit = time.monotonic()
                # Done when every file is in a committed segment: files reported
                # after this flush are in the workers' next segments.
                if not chunks and not any(in_flight) and not any(unflushed):
                    return


def _stop_workers(pool, unflushed, ready_segments, ready_results, run) -> None:
    """Stop every worker; add the segments they hand over, and their files, to what is ready."""
    run.progress("stopping", force=True)
    pool.stop()
    waiting = set(range(pool.size))
    deadline = time.monotonic() + STOP_SECONDS
    while waiting and time.monotonic() < deadline:
        event = pool.next_event(stopping=True)
        if event is None:
            waiting &= pool.alive()
            continue
        kind, w, payload = event
        if kind == "files":
            unflushed[w].extend(payload)
            run.record(payload)
        elif kind == "segment":
            ready_segments.extend(payload)
            ready_results.extend(unflushed[w])
            unflushed[w] = []
        elif kind in ("stopped", "error"):
            waiting.discard(w)


# A test hook, so that tests act between two commits without fixed pauses: with this
# set to a folder, a run writes "committed-N" there after its N-th commit and goes on
# when "go-N" or "go" appears there, or when it is interrupted (tests/test_faults.py).
HANDSHAKE_ENV = "SEARCHER_TEST_HANDSHAKE"


def _handshake_for_fault_tests(run: _Run):
    folder = os.environ.get(HANDSHAKE_ENV)
    if not folder:
        return
    run.commits = getattr(run, "commits", 0) + 1
    Path(folder, f"committed-{run.commits}").write_text(str(os.getpid()))
    deadline = time.monotonic() + 120  # a test that died never answers
    while not run.stopping and time.monotonic() < deadline:
        if Path(folder, "go").exists() or Path(folder, f"go-{run.commits}").exists():
            return
        time.sleep(0.01)


def _hold_for_fault_tests(run: _Run, files_done: int):
    """With a "hold-at-files" file (a number N) in the handshake folder, the run writes
    "files-reached" there once N files are finished, and waits as after a commit."""
    folder = os.environ.get(HANDSHAKE_ENV)
    if not folder or getattr(run, "held", False):
        return
    try:
        wanted = int(Path(folder, "hold-at-files").read_text())
    except (OSError, ValueError):
        return
    if files_done < wanted:
        return
    run.held = True
    Path(folder, "files-reached").write_text(str(files_done))
    deadline = time.monotonic() + 120
    while not run.stopping and time.monotonic() < deadline and not Path(folder, "go").exists():
        time.sleep(0.01)


class _StopOnInterrupt:
    """While files are read: the first Ctrl-C asks the run to stop and keep what is
    finished (``run.stopping``), the second stops at once (KeyboardInterrupt).

    Only in the main thread (where signal handlers live), and never when SIGINT was
    ignored when the run started (``nohup``, a background job): that stays as it was.
    """

    def __init__(self, run: _Run):
        self.run = run
        self.previous = None

    def __enter__(self):
        import threading

        STOP.requested = STOP.reading = False
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.SIG_IGN:
            return self
        self.previous = previous
        signal.signal(signal.SIGINT, self._interrupted)
        return self

    def _interrupted(self, signum, frame):
        if self.run.stopping:
            raise KeyboardInterrupt
        self.run.stopping = True
        # With the workers in this process (_InlineWorkers), this abandons the file being read.
        STOP.request()

    def __exit__(self, exc_type, exc, tb):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        STOP.requested = STOP.reading = False
        if exc_type is None and self.run.stopping:
            # Ctrl-C after the last look at ``run.stopping`` (during the last commit, or
            # while the workers closed): every file is committed, but the run was asked
            # to stop. Ending as if it had not been would lose the request, and a caller
            # that runs again and again (searcher watch) would never stop.
            raise RunInterrupted(self.run.report)


def _chunks(jobs: list[FileJob]):
    chunk, size = [], 0
    for job in jobs:
        chunk.append(job)
        size += job.size
        if len(chunk) >= CHUNK_FILES or size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


# --jobs past this many workers per core only adds processes (memory, start-up, and a
# merge split as many ways): -j 100000 must not start a process per file.
MAX_WORKERS_PER_CORE = 4


def _choose_workers(jobs: int | None, work: list[FileJob] | None) -> int:
    """Worker processes for this much work (None: any amount); 0 means in this process."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    if jobs is None:
        jobs = cores
        if work is not None and sum(job.size for job in work) < INLINE_BYTES:
            return 0
    jobs = min(jobs, MAX_WORKERS_PER_CORE * cores)
    if jobs <= 1:
        return 0
    return jobs if work is None else min(jobs, len(work))


class _InlineWorkers:
    """The worker protocol run in this process: for small runs and --jobs 1."""

    size = 1

    def __init__(self, run: _Run):
        self.builder = SegmentBuilder(str(run.index_dir), run.indexname, run.max_bytes, POOL_MB)
        self.events = deque()
        self.run = run

    def submit(self, w, chunk):
        def on_reading(job):
            self.run.progress(state=replace(self.run.state, reading=job.path))

        self.events.append(("files", w, self.builder.add_files(chunk, on_reading)))

    def flush(self, w):
        self.events.append(("segment", w, self.builder.finish()))

    def stop(self):
        self.events.append(("segment", 0, self.builder.finish()))
        self.events.append(("stopped", 0, None))

    def alive(self) -> set[int]:
        return {0}

    def next_event(self, stopping=False):
        return self.events.popleft() if self.events else None

    def close(self):
        self.builder.cancel()


class _ProcessWorkers:
    """Worker processes, each with its own job queue and whoosh segment; one result queue."""

    def __init__(self, run: _Run, size: int, fresh: bool = False):
        import multiprocessing

        fork = not fresh and "fork" in multiprocessing.get_all_start_methods()
        method = "fork" if fork else "spawn"
        ctx = multiprocessing.get_context(method)
        self.size = size
        self.results = ctx.Queue()
        self.jobs = [ctx.Queue() for _ in range(size)]
        self.procs = []
        lock_fd = run.lock.fd if method == "fork" else None
        args = (str(run.index_dir), run.indexname, run.max_bytes, POOL_MB, os.getpid(), lock_fd)
        for w in range(size):
            proc = ctx.Process(target=_worker_main, args=(w, self.jobs[w], self.results) + args,
                               name=f"searcher-index-{w}", daemon=True)
            proc.start()
            self.procs.append(proc)

    def submit(self, w, chunk):
        self.jobs[w].put(("files", chunk))

    def flush(self, w):
        self.jobs[w].put(("flush", None))

    def stop(self):
        """Each worker drops the file it reads and hands over its segment (index/runs/builder.py's STOP)."""
        for w, proc in enumerate(self.procs):
            if hasattr(signal, "SIGUSR1") and proc.pid is not None:
                try:
                    os.kill(proc.pid, signal.SIGUSR1)
                except ProcessLookupError:
                    pass
            else:
                self.jobs[w].put(("stop", None))  # no signal to cut a file short: after the chunk

    def alive(self) -> set[int]:
        return {w for w, proc in enumerate(self.procs) if proc.is_alive()}

    def next_event(self, stopping=False):
        """The next event, None after a second without one; when ``stopping``, a dead
        worker or a worker's error is no reason to fail: what the others finished is kept."""
        try:
            event = self.results.get(timeout=1.0)
        except queue.Empty:
            for proc in self.procs:
                if not proc.is_alive() and not stopping:
                    raise IndexingError(f"a worker process died (exit status {proc.exitcode})") from None
            return None
        if event[0] == "error" and not stopping:
            message, disk_full = event[2]
            raise _WorkerFailed(f"indexing failed in a worker process: {message}", disk_full)
        return event

    def close(self):
        for q in self.jobs:
            try:
                q.put(None)
            except Exception:
                pass
        deadline = time.monotonic() + 5.0
        for proc in self.procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.terminate()
                proc.join(2.0)
        for q in self.jobs + [self.results]:
            q.close()
            q.cancel_join_thread()


def _worker_main(w, jobs, results, index_dir, indexname, max_bytes, pool_mb, parent_pid, lock_fd):
    # Ctrl-C reaches the whole process group: the parent decides, and tells the workers
    # to stop with SIGUSR1 (see _ProcessWorkers.stop).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    STOP.requested = STOP.reading = False
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, STOP.request)
    if lock_fd is not None:
        # The fork copied the run lock's descriptor: without closing it here, an
        # orphaned worker would keep the index locked after its parent was killed.
        os.close(lock_fd)
    builder = None
    try:
        builder = SegmentBuilder(index_dir, indexname, max_bytes, pool_mb)

        def on_reading(job):
            results.put(("reading", w, job.path))

        while not STOP.requested:
            try:
                job = jobs.get(timeout=0.2)
            except queue.Empty:
                if os.getppid() != parent_pid:
                    return  # the parent was killed
                continue
            if job is None:
                return
            kind, payload = job
            if kind == "files":
                results.put(("files", w, builder.add_files(payload, on_reading)))
            elif kind == "flush":
                results.put(("segment", w, builder.finish()))
            else:
                break  # "stop"
            if os.getppid() != parent_pid:
                return
        # Told to stop: the segment of every file finished, then a last word, and
        # wait until they are in the pipe (the parent is reading it now).
        results.put(("segment", w, builder.finish()))
        results.put(("stopped", w, None))
        results.close()
        results.join_thread()
        return
    except BaseException as exc:
        results.put(("error", w, (traceback.format_exc().strip().splitlines()[-1], _disk_full(exc))))
        # In the pipe before this process exits, or the parent sees only "a worker died".
        results.close()
        results.join_thread()
    finally:
        try:
            if builder is not None:
                builder.cancel()
        except Exception:
            pass  # its files are orphans that the parent deletes
        # Exit even if nobody reads what is still buffered (the parent is gone or stopping).
        try:
            results.cancel_join_thread()
        except Exception:
            pass


# --- helpers -----------------------------------------------------------------------------

def _create_whoosh(index_dir: Path, indexname: str, language: str):
    from whoosh import index as whoosh_index

    from searcher.index.storage.whoosh_private import use_searcher_readers

    # As open_whoosh does: this process reads the segments later (deletions, merges,
    # ranking statistics), and whoosh's own reading copies each into memory (at 1M
    # passages, 2.1 GB of RSS at the end of the first run).
    use_searcher_readers()
    remove_index_files(index_dir, indexname)
    return whoosh_index.create_in(str(index_dir), make_schema(language), indexname=indexname)


def _disk_full(exc: BaseException) -> bool:
    import errno
    import sqlite3

    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    if isinstance(exc, sqlite3.OperationalError):
        return "disk is full" in str(exc)
    return isinstance(exc, _WorkerFailed) and exc.disk_full


class _WorkerFailed(IndexingError):
    def __init__(self, message: str, disk_full: bool):
        super().__init__(message)
        self.disk_full = disk_full


def _new_indexname(current: str) -> str:
    while True:
        name = "R" + secrets.token_hex(4)
        if name != current:
            return name


def _toc_names(index_dir: Path) -> set[str]:
    import re

    names = set()
    for name in os.listdir(index_dir):
        match = re.fullmatch(r"_([A-Za-z0-9]+)_\d+\.toc", name)
        if match:
            names.add(match.group(1))
    return names


def _under_any(path: str, roots) -> bool:
    for root in roots:
        if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
            return True
    return False


def _collapse_roots(roots) -> list[str]:
    """Sorted roots without duplicates or roots inside other roots."""
    unique = sorted(set(roots))
    return [r for r in unique if not any(o != r and _under_any(r, [o]) for o in unique)]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


__all__ = ["IndexReport", "IndexingError", "build_index", "passage_documents", "FoundFile"]
