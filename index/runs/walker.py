"""Turn the paths given on the command line into the files to index.

Folders are walked depth-first in sorted order so runs are deterministic.
Inside folders, hidden entries (unless ``hidden``) and what the ignore files say to
ignore (unless ``ignore=False``; index/runs/ignore.py) are left out silently, and files
of a type searcher does not read come out as SkippedFile(path, UNSUPPORTED), for
the run's summary to count (``explain=True`` yields all of these as LeftOut, with
the reason, for `searcher index --dry-run --verbose`); a path given explicitly is
always tried. Things the user may want to know about (broken symlinks,
unreadable folders, files over the size cap) come out as SkippedFile.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass
from typing import Iterable, Iterator

from searcher.index.errors import IndexingError, PathNotFound
from searcher.index.runs.leftout import UNSUPPORTED
from searcher.index.reading.reader import DEFAULT_MAX_BYTES, document_format, too_large_reason


@dataclass(frozen=True)
class FoundFile:
    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class LeftOut:
    """A file or folder the walk passed over on purpose (only with ``explain=True``)."""

    path: str
    reason: str
    is_dir: bool = False
    rule: object = None  # the ignore file's line (index.ignore.Rule) when one decided


# Never walked, even with hidden=True: a repository's own files, never documents.
ALWAYS_SKIPPED = frozenset({".git"})


def walk(
    paths: Iterable,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    hidden: bool = False,
    ignore: bool = True,
    explain: bool = False,
    index_dir=None,
) -> Iterator[FoundFile | SkippedFile | LeftOut]:
    """Yield every file to index under ``paths``; raise PathNotFound before yielding anything.

    ``hidden``: walk hidden files and folders too; ``ignore``: honour ignore files;
    ``explain``: also yield what is left out, and why.
    ``index_dir``, the index being written, is never read as documents: a path inside it is
    refused (IndexingError), and a folder holding it is walked without it.
    """
    given = [os.fspath(p) for p in paths]
    for p in given:
        if not os.path.lexists(p):
            raise PathNotFound(f"{p}: no such file or directory")
    roots = [os.path.abspath(p) for p in given]
    walker = _Walk(include, exclude, max_bytes, hidden, ignore, explain)
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
    def __init__(self, include, exclude, max_bytes, hidden=False, ignore=True, explain=False):
        self.include = _clean_patterns(include)
        self.exclude = _clean_patterns(exclude)
        self.max_bytes = max_bytes
        self.hidden = hidden
        self.ignore = ignore
        self.explain = explain
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

    def _walk_dir(self, root: str) -> Iterator[FoundFile | SkippedFile | LeftOut]:
        from searcher.index.runs import ignore as ignore_files

        # An explicit stack of directory listings instead of recursion: deep trees are fine.
        # Each listing comes with the ignore rules in force in it (outermost first).
        stack = []
        listing = self._list_dir(root)
        if isinstance(listing, SkippedFile):
            yield listing
            return
        chain = ()
        if self.ignore:
            chain = tuple(ignore_files.parent_rules(root)) + self._folder_rules(root, listing)
        stack.append((iter(listing), chain))
        # Paths below root, for --include/--exclude (cheaper than os.path.relpath).
        prefix_len = len(root if root.endswith(os.sep) else root + os.sep)
        explain = self.explain
        while stack:
            entries, chain = stack[-1]
            entry = next(entries, None)
            if entry is None:
                stack.pop()
                continue
            name = entry.name
            if name.startswith(".") and (not self.hidden or name in ALWAYS_SKIPPED):
                if explain:
                    yield LeftOut(entry.path, "hidden (--hidden walks it)" if name not in ALWAYS_SKIPPED
                                  else "a repository's own files", entry.is_dir())
                continue
            path = entry.path
            rel = path[prefix_len:]
            if self._matches(self.exclude, rel, name):
                if explain:
                    yield LeftOut(path, "--exclude", entry.is_dir())
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
            is_dir = stat.S_ISDIR(st.st_mode)
            if chain:
                decided = ignore_files.check(chain, path, is_dir)
                if decided is not None and decided[0]:
                    if explain:
                        yield LeftOut(path, f"ignored by {decided[1]}", is_dir, decided[1])
                    continue
            if is_dir:
                listing = self._list_dir(path, st)
                if isinstance(listing, SkippedFile):
                    yield listing
                elif listing:
                    stack.append((iter(listing), chain + self._folder_rules(path, listing)))
            elif stat.S_ISREG(st.st_mode) and self._supported(name) and self._wanted_file(rel, entry.name):
                yield from self._file(path, st)
            elif explain and stat.S_ISREG(st.st_mode):
                yield LeftOut(path, "not matching --include" if self._supported(name)
                              else "not a type searcher reads")
            elif stat.S_ISREG(st.st_mode) and self._wanted_file(rel, entry.name):
                yield SkippedFile(path, UNSUPPORTED)  # counted by type in the run's summary

    @staticmethod
    def _supported(name: str) -> bool:
        return document_format(name) is not None

    def _folder_rules(self, path: str, listing) -> tuple:
        """The rules of the ignore files among ``listing`` (the entries of ``path``), as a 0-or-1 tuple."""
        if not self.ignore:
            return ()
        from searcher.index.runs.ignore import IGNORE_FILES, load_folder

        names = {entry.name for entry in listing if entry.name in IGNORE_FILES}
        rules = load_folder(path, names) if names else None
        return (rules,) if rules is not None else ()

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
