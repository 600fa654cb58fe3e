"""Is what the index says still true of the files on disk?

Three uses:

- ``check_hits``: at query time, each shown hit's file is compared (size and
  mtime) with the manifest entry of its last indexing: hits of deleted files
  are dropped, hits of changed files marked stale. Only the page shown is
  checked (a ``stat`` each, and one manifest look-up for them all), so its cost
  does not grow with the index.
- ``pending_changes``: for `searcher status`, what the next `searcher index`
  run over the index's roots would do (new, changed, removed files), found by
  the same walk a run does, without reading any file.
- ``refresh``: `searcher query --refresh`, that run itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class HitCheck:
    gone: int = 0  # hits dropped: their file no longer exists
    stale: int = 0  # hits kept but marked: their file changed since it was indexed


def _manifest_path(index_dir, indexname: str) -> str:
    from searcher.index.storage.manifest import manifest_name

    return os.path.join(os.fspath(index_dir), manifest_name(indexname))


def _indexed_states(index_dir, indexname: str, paths) -> dict[str, tuple[int, int]] | None:
    """{path: (mtime_ns, size)} of the manifest for ``paths``; None if it cannot be read."""
    import sqlite3

    path = _manifest_path(index_dir, indexname)
    if not os.path.exists(path):
        return None
    uri = "file:" + os.path.abspath(path).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    paths = list(paths)
    try:
        db = sqlite3.connect(uri, uri=True, timeout=5)
        try:
            states = {}
            for start in range(0, len(paths), 500):  # under SQLite's limit of bound parameters
                chunk = paths[start:start + 500]
                rows = db.execute(
                    f"SELECT path, mtime_ns, size FROM files WHERE path IN ({','.join('?' * len(chunk))})",
                    chunk)
                states.update((p, (m, s)) for p, m, s in rows)
            return states
        finally:
            db.close()
    except sqlite3.Error:
        return None


def check_hits(index_dir, indexname: str, hits: list) -> tuple[list, HitCheck]:
    """``hits`` less those whose file is gone; the others with ``stale`` set if their file
    changed since it was indexed. A file the manifest does not know (an index being
    repaired) or that cannot be examined (permissions) is left as it is."""
    check = HitCheck()
    if not hits:
        return hits, check
    unique = list(dict.fromkeys(hit.path for hit in hits))
    states = _indexed_states(index_dir, indexname, unique)
    if states is None:
        return hits, check
    gone, changed = set(), set()
    for path in unique:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            gone.add(path)
            continue
        except OSError:
            continue
        indexed = states.get(path)
        if indexed is not None and indexed != (st.st_mtime_ns, st.st_size):
            changed.add(path)
    kept = []
    for hit in hits:
        if hit.path in gone:
            check.gone += 1
            continue
        if hit.path in changed:
            hit.stale = True
            check.stale += 1
        kept.append(hit)
    return kept, check


def check_hits_of_indexes(sessions, hits: list) -> tuple[list, HitCheck]:
    """``check_hits`` for the merged hits of several indexes: ``sessions`` is
    [(name, SearchSession)], and each hit's ``index`` names the one it came from."""
    total = HitCheck()
    kept_ids = set()
    for name, session in sessions:
        kept, check = check_hits(session.index_dir, session.meta.indexname,
                                 [hit for hit in hits if getattr(hit, "index", None) == name])
        kept_ids.update(id(hit) for hit in kept)
        total.gone += check.gone
        total.stale += check.stale
    known = {name for name, _ in sessions}
    return [hit for hit in hits if id(hit) in kept_ids or getattr(hit, "index", None) not in known], total


def hit_check_message(check: HitCheck) -> str | None:
    """The stderr line for ``searcher query`` after ``check_hits``, or None when all is fresh."""
    parts = []
    if check.gone:
        parts.append(f"{check.gone} {'hit' if check.gone == 1 else 'hits'} left out: "
                     f"{'its file was' if check.gone == 1 else 'their files were'} deleted")
    if check.stale:
        parts.append(f"{check.stale} {'hit' if check.stale == 1 else 'hits'} marked [changed]: "
                     f"{'its file has' if check.stale == 1 else 'their files have'} changed")
    if not parts:
        return None
    return ("searcher: " + "; ".join(parts)
            + " since indexing ('searcher index' or --refresh brings the index up to date)")


# --- what the next run would do ----------------------------------------------------------


@dataclass
class PendingChanges:
    new: int = 0
    changed: int = 0
    removed: int = 0
    roots_missing: int = 0  # roots of the index that no longer exist

    @property
    def total(self) -> int:
        return self.new + self.changed + self.removed


def root_groups(meta) -> list[tuple[list[str], dict]]:
    """The index's roots grouped by the walk options of their last run, so that one
    run per group walks each root as before."""
    from searcher.index.reading.reader import DEFAULT_MAX_BYTES

    groups: dict[str, tuple[list[str], dict]] = {}
    stored = meta.walk_options if isinstance(meta.walk_options, dict) else {}
    for root in meta.roots:
        options = {"include": [], "exclude": [], "max_bytes": DEFAULT_MAX_BYTES}
        if isinstance(stored.get(root), dict):
            options.update(stored[root])
        key = repr(sorted(options.items()))
        groups.setdefault(key, ([], options))[0].append(root)
    return list(groups.values())


def walk_kwargs(options: dict) -> dict:
    """Keyword arguments of ``index.walker.walk`` (and of ``build_index``) from stored options."""
    import inspect

    from searcher.index.runs.walker import walk

    accepted = inspect.signature(walk).parameters
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in options.items() if k in accepted}


def pending_changes(index_dir, meta) -> PendingChanges | None:
    """What `searcher index` over the index's roots would change; None without a manifest."""
    import sqlite3

    from searcher.index.storage.manifest import Manifest
    from searcher.index.runs.walker import FoundFile, SkippedFile, walk
    from searcher.index.runs.writer import _under_any

    path = _manifest_path(index_dir, meta.indexname)
    if not os.path.exists(path):
        return None
    try:
        manifest = Manifest.open_existing(path)
        try:
            entries = manifest.entries()
        finally:
            manifest.close()
    except sqlite3.Error:
        return None
    pending = PendingChanges()
    seen = set()
    roots = []
    for group, options in root_groups(meta):
        present = [root for root in group if os.path.lexists(root)]
        pending.roots_missing += len(group) - len(present)
        roots.extend(group)
        if not present:
            continue
        for item in walk(present, index_dir=index_dir, **walk_kwargs(options)):
            seen.add(item.path)
            entry = entries.get(item.path)
            if isinstance(item, FoundFile):
                if entry is None:
                    pending.new += 1
                elif not entry.matches(item.mtime_ns, item.size):
                    pending.changed += 1
            elif isinstance(item, SkippedFile) and entry is not None and entry.skip_reason is None:
                pending.removed += 1  # indexed before, now skipped (too large, unreadable)
    for path, entry in entries.items():
        if path not in seen and entry.skip_reason is None and _under_any(path, roots):
            pending.removed += 1
    return pending


def refresh(index_dir, *, lock_timeout: float = 10.0):
    """Run `searcher index` over the index's roots, each with the options of its last
    run; the reports of the runs (none if the index has no roots)."""
    from searcher.index.storage.store import read_meta
    from searcher.index.runs.writer import build_index

    reports = []
    for group, options in root_groups(read_meta(index_dir)):
        present = [root for root in group if os.path.lexists(root)]
        if present:
            reports.append(build_index(present, index_dir, lock_timeout=lock_timeout,
                                       **walk_kwargs(options)))
    return reports
