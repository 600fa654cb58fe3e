"""Turn the paths given on the command line into the files to index.

Folders are walked depth-first in sorted order so runs are deterministic.
Inside folders, hidden entries are left out silently, and files of a type
searcher does not read come out as SkippedFile(path, UNSUPPORTED), for the
run's summary to count; a path given explicitly is always tried. Things the user may
want to know about (broken symlinks, unreadable folders, files over the size
cap) come out as SkippedFile.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass
from typing import Iterable, Iterator

from index.errors import IndexingError, PathNotFound
from index.leftout import UNSUPPORTED
from index.reader import DEFAULT_MAX_BYTES, document_format, too_large_reason


@dataclass(frozen=True)
class FoundFile:
    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


def walk(
    paths: Iterable,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    index_dir=None,
) -> Iterator[FoundFile | SkippedFile]:
    """Yield every file to index under ``paths``; raise PathNotFound before yielding anything.

    ``index_dir``, the index being written, is never read as documents: a path inside it is
    refused (IndexingError), and a folder holding it is walked without it.
    """
    given = [os.fspath(p) for p in paths]
    for p in given:
        if not os.path.lexists(p):
            raise PathNotFound(f"{p}: no such file or directory")
    roots = [os.path.abspath(p) for p in given]
    walker = _Walk(include, exclude, max_bytes)
    if index_dir is not None:
        index_real = os.path.realpath(index_dir)
        for p, root in zip(given, roots):
            real = os.path.realpath(root)
            if real == index_real or real.startswith(index_real.rstrip(os.sep) + os.sep):
                where = "is the index folder" if real == index_real else "is inside the index folder"
                raise IndexingError(f"{p} {where} {index_dir}: an index cannot index itself")
        try:
            st = os.stat(index_dir)
            walker.seen_dirs.add((st.st_dev, st.st_ino))  # walked as if already seen: left out
        except OSError:
            pass  # not made yet: nothing of it to leave out
    # A plain function returning a generator, so the checks above run at call time.
    return walker.run(roots)


def _clean_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    # "build/" means the folder build: match it like "build".
    return tuple(p.rstrip("/") or p for p in patterns)


class _Walk:
    def __init__(self, include, exclude, max_bytes):
        self.include = _clean_patterns(include)
        self.exclude = _clean_patterns(exclude)
        self.max_bytes = max_bytes
        self.seen_files: set[tuple[int, int]] = set()
        self.seen_dirs: set[tuple[int, int]] = set()

    def run(self, roots: list[str]) -> Iterator[FoundFile | SkippedFile]:
        for root in roots:
            try:
                st = os.stat(root)
            except FileNotFoundError:
                yield SkippedFile(root, "broken symlink")
                continue
            except OSError as exc:
                yield SkippedFile(root, _reason(exc))
                continue
            if stat.S_ISDIR(st.st_mode):
                yield from self._walk_dir(root)
            elif self._wanted_file(os.path.basename(root), os.path.basename(root)):
                yield from self._file(root, st)

    def _walk_dir(self, root: str) -> Iterator[FoundFile | SkippedFile]:
        # An explicit stack of directory listings instead of recursion: deep trees are fine.
        stack = []
        listing = self._list_dir(root)
        if isinstance(listing, SkippedFile):
            yield listing
            return
        stack.append(iter(listing))
        # Paths below root, for --include/--exclude (cheaper than os.path.relpath).
        prefix_len = len(root if root.endswith(os.sep) else root + os.sep)
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            if entry.name.startswith("."):
                continue
            path = entry.path
            rel = path[prefix_len:]
            if self._matches(self.exclude, rel, entry.name):
                continue
            try:
                st = entry.stat()  # follows symlinks
            except FileNotFoundError:
                if entry.is_symlink():
                    yield SkippedFile(path, "broken symlink")
                continue  # vanished while walking
            except OSError as exc:
                yield SkippedFile(path, _reason(exc))
                continue
            if stat.S_ISDIR(st.st_mode):
                listing = self._list_dir(path, st)
                if isinstance(listing, SkippedFile):
                    yield listing
                elif listing:
                    stack.append(iter(listing))
            elif stat.S_ISREG(st.st_mode) and self._wanted_file(rel, entry.name):
                if document_format(entry.name) is None:
                    yield SkippedFile(path, UNSUPPORTED)  # counted by type in the run's summary
                else:
                    yield from self._file(path, st)

    def _list_dir(self, path: str, st: os.stat_result | None = None):
        """Sorted entries of a directory not seen before ([] if seen), or a SkippedFile."""
        try:
            st = st or os.stat(path)
            key = (st.st_dev, st.st_ino)
            if key in self.seen_dirs:  # symlink loop, or the same folder given twice
                return []
            self.seen_dirs.add(key)
            with os.scandir(path) as entries:
                return sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            return SkippedFile(path, _reason(exc))

    def _file(self, path: str, st: os.stat_result) -> Iterator[FoundFile | SkippedFile]:
        key = (st.st_dev, st.st_ino)
        if key in self.seen_files:  # reached again through a symlink or hard link
            return
        self.seen_files.add(key)
        if not stat.S_ISREG(st.st_mode):
            # Reading a FIFO or device would block or never end.
            yield SkippedFile(path, "not a regular file")
        elif not _utf8_name(path):
            # The index stores paths as UTF-8: a name with other bytes could not be stored or found.
            yield SkippedFile(path, "file name is not valid UTF-8")
        elif st.st_size > self.max_bytes:
            yield SkippedFile(path, too_large_reason(self.max_bytes))
        else:
            yield FoundFile(path, st.st_size, st.st_mtime_ns)

    def _wanted_file(self, rel: str, name: str) -> bool:
        if self._matches(self.exclude, rel, name):
            return False
        return not self.include or self._matches(self.include, rel, name)

    @staticmethod
    def _matches(patterns: tuple[str, ...], rel: str, name: str) -> bool:
        return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def _utf8_name(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode's surrogateescape of bytes that are not UTF-8
        return False
    return True


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or str(exc)).lower()
