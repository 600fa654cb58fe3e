"""`searcher watch`: keep an index current from file-system events.

One incremental run (index/runs/writer.py's ``build_index``) over the watched folders
first, then one more each time the folders have been quiet for ``debounce``
seconds after a change. Each run takes the index's lock like `searcher index`
(and waits for one that holds it), so a watcher and a manual run never interleave,
and between runs the watcher holds nothing. A run reads only what changed, and
removes what is gone, exactly as a `searcher index` of the same folders would,
with the options each folder was last indexed with (--include, --exclude,
ignore files...), since it is one.

Events come from watchdog (inotify, FSEvents, ReadDirectoryChangesW): chosen
over watchfiles by benchmarks/watchers.py (faster to start on 100,000 files,
no CPU at rest). Events inside the index folder (the index may live inside a
watched folder) and inside ``.git`` are ignored, or each run would start the next.

Ctrl-C or SIGTERM stops it: between runs at once, during a run after the run
has committed what it finished (as `searcher index` does).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from searcher.index.errors import IndexingError, IndexLocked

IGNORED_PARTS = frozenset({".git"})


@dataclass
class WatchedRoot:
    path: str
    options: dict  # walk options: those of the index's last run over it, else the defaults


def watched_roots(index_dir, paths) -> list[WatchedRoot]:
    """The folders to watch: ``paths``, else the index's roots; each with its walk options."""
    from searcher.index.errors import IndexNotFound, PathNotFound
    from searcher.index.reading.reader import DEFAULT_MAX_BYTES
    from searcher.index.storage.store import read_meta

    try:
        meta = read_meta(index_dir)
    except IndexNotFound:
        meta = None
    stored = meta.walk_options if meta is not None and isinstance(meta.walk_options, dict) else {}
    if paths:
        roots = []
        for p in paths:
            if not os.path.exists(p):
                raise PathNotFound(f"{p}: no such file or directory")
            roots.append(os.path.abspath(p))
    elif meta is not None and meta.roots:
        roots = [r for r in meta.roots if os.path.exists(r)]
        if not roots:
            raise IndexingError(f"none of the folders of the index at {index_dir} exists any more: "
                                "give the folders to watch")
    else:
        raise IndexingError(f"nothing to watch: the index at {index_dir} has no folders yet; "
                            "give them: searcher watch PATH...")
    out = []
    for root in roots:
        options = {"include": [], "exclude": [], "max_bytes": DEFAULT_MAX_BYTES}
        if isinstance(stored.get(root), dict):
            options.update(stored[root])
        out.append(WatchedRoot(root, options))
    return out


class _Changes:
    """What the event handler tells the loop: when the last relevant event came."""

    def __init__(self, index_dir: str):
        self.index_prefix = os.path.realpath(index_dir).rstrip(os.sep) + os.sep
        self.lock = threading.Lock()
        self.last = None  # time.monotonic() of the last relevant event, None: nothing pending
        self.count = 0
        self.wake = threading.Event()

    def relevant(self, path) -> bool:
        path = os.fsdecode(path)
        if os.path.realpath(path).startswith(self.index_prefix) or path + os.sep == self.index_prefix:
            return False
        return not IGNORED_PARTS.intersection(path.split(os.sep))

    def seen(self, *paths) -> None:
        if any(p and self.relevant(p) for p in paths):
            with self.lock:
                self.last = time.monotonic()
                self.count += 1
            self.wake.set()

    def take(self, debounce: float) -> int | None:
        """The number of events pending if the folders have been quiet for ``debounce`` s, else None."""
        with self.lock:
            if self.last is None or time.monotonic() - self.last < debounce:
                return None
            count, self.last, self.count = self.count, None, 0
            return count

    def waiting_for(self, debounce: float) -> float | None:
        with self.lock:
            return None if self.last is None else max(0.0, self.last + debounce - time.monotonic())


def watch(index_dir, roots: list[WatchedRoot], *, debounce: float = 1.0, lock_timeout: float = 3600.0,
          report=None, started=None, stop: threading.Event | None = None) -> int:
    """Index ``roots`` now and after every burst of changes, until ``stop`` is set or
    KeyboardInterrupt; returns the number of runs made.

    ``report(IndexReport)`` is called after each run, ``started()`` once the folders are watched.
    """
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    changes = _Changes(os.fspath(index_dir))
    stop = stop or threading.Event()

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event):
            if event.event_type in ("opened", "closed_no_write"):
                return  # reads (ours included) change nothing
            changes.seen(event.src_path, getattr(event, "dest_path", ""))

    observer = Observer()
    for root in roots:
        target = root.path if os.path.isdir(root.path) else os.path.dirname(root.path)
        observer.schedule(Handler(), target, recursive=os.path.isdir(root.path))
    observer.start()
    runs = 0
    try:
        # Watching first, then the catch-up run: a change made during it is not missed.
        if started:
            started()
        runs += _run(index_dir, roots, lock_timeout, report, changes)
        while not stop.is_set():
            pending = changes.take(debounce)
            if pending is None:
                remaining = changes.waiting_for(debounce)
                changes.wake.clear()
                # Short waits keep Ctrl-C prompt (a blocked wait is not interrupted on every platform).
                changes.wake.wait(min(0.5, remaining) if remaining is not None else 0.5)
                continue
            runs += _run(index_dir, roots, lock_timeout, report, changes)
    finally:
        observer.stop()
        observer.join(5)
    return runs


def _run(index_dir, roots: list[WatchedRoot], lock_timeout: float, report, changes: _Changes) -> int:
    """One incremental run per group of roots with the same options; runs made."""
    from searcher.index.runs.writer import build_index
    from searcher.engine.freshness import walk_kwargs

    groups: dict[str, tuple[list[str], dict]] = {}
    for root in roots:
        key = repr(sorted(root.options.items()))
        groups.setdefault(key, ([], root.options))[0].append(root.path)
    runs = 0
    for paths, options in groups.values():
        present = [p for p in paths if os.path.exists(p)]
        if not present:
            continue
        try:
            result = build_index(present, index_dir, lock_timeout=lock_timeout, **walk_kwargs(options))
        except IndexLocked:
            changes.seen(paths[0])  # another run held it all that time: try again later
            continue
        runs += 1
        if report:
            report(result)
    return runs
