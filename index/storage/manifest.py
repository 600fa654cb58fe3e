"""What the index holds, file by file: path -> (mtime_ns, size, passages, skip reason).

The whoosh index is the source of truth; the manifest is how a run knows, without
reading a file, that it is already indexed as it is on disk. It must never claim
more than whoosh holds, so every commit goes:

1. ``begin_commit(paths)``: record the paths whose documents are about to change;
2. whoosh commits (atomically: a new table of contents replaces the old one);
3. ``finish_commit(...)``: record their new state and clear them, in one transaction.

A crash between 1 and 3 leaves those paths "uncertain": the next run re-indexes
them with a delete first, whatever their mtime says. The manifest is an SQLite
database, so each step is itself atomic.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class FileEntry:
    path: str
    mtime_ns: int
    size: int
    passages: int
    skip_reason: str | None = None  # remembered reason when the file was not indexable

    def matches(self, mtime_ns: int, size: int) -> bool:
        return self.mtime_ns == mtime_ns and self.size == size


# WITHOUT ROWID: the rows live in the path's b-tree, instead of a table of rows plus an
# index of the paths holding each path a second time (half the file, for the same
# lookups). A manifest made by an earlier release keeps its tables as they are.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    passages INTEGER NOT NULL,
    skip_reason TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending (path TEXT PRIMARY KEY) WITHOUT ROWID;
"""


def manifest_name(indexname: str) -> str:
    return f"manifest-{indexname}.sqlite"


class Manifest:
    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        # isolation_level=None: transactions are explicit (BEGIN ... COMMIT) below.
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.executescript(_SCHEMA)

    @classmethod
    def open_existing(cls, path: str | os.PathLike) -> "Manifest":
        """For `searcher status`: never creates the file. Opened for writing when
        allowed, so SQLite can roll back the journal of a run that was killed."""
        self = cls.__new__(cls)
        self.path = os.fspath(path)
        uri = "file:" + os.path.abspath(self.path).replace("?", "%3f").replace("#", "%23")
        try:
            self.db = sqlite3.connect(uri + "?mode=rw", uri=True, timeout=30, isolation_level=None)
            self.db.execute("SELECT 1 FROM files LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            self.db = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=30, isolation_level=None)
        return self

    def close(self) -> None:
        self.db.close()

    def entries(self) -> dict[str, FileEntry]:
        rows = self.db.execute("SELECT path, mtime_ns, size, passages, skip_reason FROM files")
        return {row[0]: FileEntry(*row) for row in rows}

    def uncertain(self) -> set[str]:
        """Paths of a commit that may or may not have reached the whoosh index."""
        return {row[0] for row in self.db.execute("SELECT path FROM pending")}

    def counts(self) -> tuple[int, int]:
        """(indexed files, skipped files)."""
        indexed, skipped = self.db.execute(
            "SELECT SUM(skip_reason IS NULL), SUM(skip_reason IS NOT NULL) FROM files"
        ).fetchone()
        return indexed or 0, skipped or 0

    def compact(self) -> None:
        """Give back the pages a run freed (its pending rows, replaced files) when they are
        a quarter of the file or more: a first run of many files leaves about half of it free."""
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        free = self.db.execute("PRAGMA freelist_count").fetchone()[0]
        if free and free * 4 >= pages:
            try:
                self.db.execute("VACUUM")
            except sqlite3.OperationalError:
                pass  # busy or out of space: the file stays as it is, still valid

    def begin_commit(self, paths: Iterable[str]) -> None:
        with self._transaction():
            self.db.executemany("INSERT OR IGNORE INTO pending (path) VALUES (?)", ((p,) for p in paths))

    def finish_commit(self, upserts: Iterable[FileEntry], removals: Iterable[str]) -> None:
        upserts = list(upserts)
        removals = list(removals)
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO files (path, mtime_ns, size, passages, skip_reason)"
                " VALUES (?, ?, ?, ?, ?)",
                ((e.path, e.mtime_ns, e.size, e.passages, e.skip_reason) for e in upserts),
            )
            self.db.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in removals))
            resolved = [(e.path,) for e in upserts] + [(p,) for p in removals]
            self.db.executemany("DELETE FROM pending WHERE path = ?", resolved)

    def _transaction(self):
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
