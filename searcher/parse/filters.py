"""Filters on a file's metadata (``modified:``, ``size:``, ``ext:``) and sorting hits by
something other than their score.

Filters are not words: they are taken out of the query before it is parsed and keep
or drop whole files, whatever else the query says (they AND with all of it). A file's
modification time and size are those the index recorded (its manifest), so a filter
agrees with what the passages say; ``searcher index`` refreshes both.

A duration stands for the moment that long ago, so ``modified:>2w`` means "modified
after two weeks ago", the way ``modified:>2024-03-01`` means after that day.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from searcher.errors import QueryError

FILTER_NAMES = ("modified", "size", "ext")
SORT_KEYS = ("score", "modified", "path")

# A filter is a whole whitespace-separated token outside quotes: "ext:pdf", "-size:>1M".
_FILTER = re.compile(r"(?<!\S)(-?)(modified|size|ext):(\S*)", re.IGNORECASE)
_COMPARISON = re.compile(r"(>=|<=|>|<|=)?(.*)")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(s|min|h|d|w|mo|y)", re.IGNORECASE)
_DURATION_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400,
                     "mo": 30 * 86400, "y": 365 * 86400}
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def parse_duration(text: str) -> float:
    """``"2w"`` -> seconds; QueryError naming the units when malformed."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        hint = " (m is ambiguous: min for minutes, mo for months)" if text.strip().lower().endswith("m") else ""
        raise QueryError(f"{text!r} is not a duration such as 30min, 12h, 3d, 2w, 6mo or 1y{hint}")
    return float(match.group(1)) * _DURATION_SECONDS[match.group(2).lower()]


def _period(text: str, now: float) -> tuple[float, float]:
    """The span of time ``text`` names, [start, end) in seconds since the epoch: a date
    (2024, 2024-06, 2024-06-15, in local time) or a duration's moment (2w: two weeks ago)."""
    text = text.strip()
    if _DURATION.fullmatch(text):
        moment = now - parse_duration(text)
        return moment, moment
    match = _DATE.fullmatch(text)
    if not match:
        if re.fullmatch(r"\d+(?:\.\d+)?[a-zA-Z]+", text):
            parse_duration(text)  # raises with the units spelled out
        raise QueryError(f"{text!r} is neither a date (2024, 2024-06, 2024-06-15) nor a duration (2w, 3d)")
    year, month, day = (int(part) if part else None for part in match.groups())
    try:
        start = datetime(year, month or 1, day or 1)
    except ValueError as exc:
        raise QueryError(f"{text!r} is not a date: {exc}") from None
    if day is not None:
        end = start + timedelta(days=1)
    elif month is not None:
        end = datetime(year + month // 12, month % 12 + 1, 1)
    else:
        end = datetime(year + 1, 1, 1)
    return start.timestamp(), end.timestamp()


@dataclass(frozen=True)
class Bounds:
    """low <= value < high; None is unbounded."""

    low: float | None = None
    high: float | None = None

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)


def _bounds(spec: str, parse_point, *, bare) -> Bounds:
    """``>x``, ``>=x``, ``<x``, ``<=x``, ``x..y`` (either end may be left out) or a bare x
    (``bare(start, end)`` says what that means); ``parse_point`` gives a value's [start, end)."""
    if ".." in spec:
        first, _, last = spec.partition("..")
        if not first and not last:
            raise QueryError("a range needs at least one end: a..b, a.. or ..b")
        return Bounds(parse_point(first)[0] if first else None, parse_point(last)[1] if last else None)
    op, value = _COMPARISON.fullmatch(spec).groups()
    if not value:
        raise QueryError(f"{spec!r} has nothing to compare with")
    start, end = parse_point(value)
    if op == ">":
        return Bounds(end if end > start else start + 1e-9, None)
    if op == ">=":
        return Bounds(start, None)
    if op == "<":
        return Bounds(None, start)
    if op == "<=":
        return Bounds(None, end if end > start else start + 1e-9)
    return bare(start, end)


@dataclass(frozen=True)
class Filter:
    name: str  # modified, size or ext
    spec: str  # as typed, after the colon
    negated: bool = False
    bounds: Bounds | None = None  # modified (seconds since the epoch), size (bytes)
    extensions: tuple[str, ...] = ()  # ext: lower case, without the dot

    def keeps(self, path: str, mtime: float, size: int) -> bool:
        if self.name == "ext":
            suffix = os.path.splitext(path)[1].lower().lstrip(".")
            kept = suffix in self.extensions
        elif self.name == "size":
            kept = self.bounds.holds(size)
        else:
            kept = self.bounds.holds(mtime)
        return kept != self.negated

    def sql(self) -> tuple[str, list]:
        """The condition ``keeps`` tests, over the manifest's columns (path, mtime_ns, size)."""
        if self.name == "ext":
            # substr(-n) compares the name's end: no LIKE wildcards to escape in an extension.
            parts = [("substr(lower(path), -?) = ?", [len(e) + 1, "." + e]) for e in self.extensions]
        else:
            column, scale = ("size", 1) if self.name == "size" else ("mtime_ns", 1e9)
            parts = []
            if self.bounds.low is not None:
                parts.append((f"{column} >= ?", [self.bounds.low * scale]))
            if self.bounds.high is not None:
                parts.append((f"{column} < ?", [self.bounds.high * scale]))
        joiner = " OR " if self.name == "ext" else " AND "
        clause = "(" + (joiner.join(text for text, _ in parts) or "1") + ")"
        params = [value for _, values in parts for value in values]
        return (f"NOT {clause}" if self.negated else clause), params

    def describe(self) -> str:
        """The filter in words, with dates spelled out (for --explain)."""
        if self.name == "ext":
            what = "the extension " + " or ".join("." + e for e in self.extensions)
        elif self.name == "size":
            what = "a size " + _describe_bounds(self.bounds, _size_words)
        else:
            what = "a modification time " + _describe_bounds(self.bounds, _time_words)
        return f"files {'without' if self.negated else 'with'} {what}  ({'-' if self.negated else ''}{self.name}:{self.spec})"


def _time_words(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")


def _size_words(size: float) -> str:
    from searcher.index.reading.reader import format_size

    return format_size(int(size))


def _describe_bounds(bounds: Bounds, words) -> str:
    if bounds.low is not None and bounds.high is not None:
        return f"from {words(bounds.low)} to before {words(bounds.high)}"
    if bounds.low is not None:
        if words is _time_words:
            return f"of {words(bounds.low)} or later"
        return f"over {words(bounds.low)}" if bounds.low % 1 else f"of at least {words(bounds.low)}"
    return f"before {words(bounds.high)}" if words is _time_words else f"under {words(bounds.high)}"


def make_filter(name: str, spec: str, negated: bool = False, now: float | None = None) -> Filter:
    """One filter from its name and what follows the colon; QueryError when malformed."""
    name = name.lower()
    token = f"{'-' if negated else ''}{name}:{spec}"
    if not spec:
        raise QueryError(f"{token!r} needs a value, e.g. ext:pdf, size:>1M, modified:>2w")
    if any(ch in spec for ch in "()\""):
        raise QueryError(f"{token!r}: filters apply to the whole query; put them outside quotes and parentheses")
    now = time.time() if now is None else now
    if name == "ext":
        extensions = tuple(dict.fromkeys(e.lower().lstrip(".") for e in spec.split(",") if e.strip(".")))
        if not extensions:
            raise QueryError(f"{token!r} names no extension, e.g. ext:pdf or ext:md,txt")
        return Filter(name, spec, negated, extensions=extensions)
    try:
        if name == "size":
            bounds = _bounds(spec, _size_point, bare=_bare_size)
        else:
            bounds = _bounds(spec, lambda text: _period(text, now), bare=_bare_time)
    except QueryError as exc:
        raise QueryError(f"{token!r}: {exc}") from None
    return Filter(name, spec, negated, bounds=bounds)


def _size_point(text: str) -> tuple[float, float]:
    from searcher.index.reading.reader import parse_size

    try:
        size = parse_size(text)
    except ValueError:
        raise QueryError(f"{text!r} is not a size such as 500K, 20M or 1G") from None
    return size, size


def _bare_size(start, end):
    raise QueryError("compare a size with > or < (size:>1M) or give a range (size:1K..1M)")


def _bare_time(start, end):
    # A date is its day, month or year; a bare duration means "within it" (since that moment).
    return Bounds(start, end) if end > start else Bounds(start, None)


def changed_within(duration: str, now: float | None = None) -> Filter:
    """``--changed-within 2w``: the same as ``modified:>=2w``."""
    try:
        parse_duration(duration)
    except QueryError as exc:
        raise QueryError(f"--changed-within: {exc}") from None
    return make_filter("modified", ">=" + duration, now=now)


def split_filters(text: str, now: float | None = None) -> tuple[str, tuple[Filter, ...]]:
    """(``text`` without its filters, the filters): only tokens outside double quotes count."""
    if ":" not in text:
        return text, ()
    found: list[Filter] = []
    pieces = re.split(r'("[^"]*"?)', text)  # even: outside quotes; odd: a quoted part
    for i in range(0, len(pieces), 2):
        def take(match, found=found):
            found.append(make_filter(match.group(2), match.group(3), bool(match.group(1)), now))
            return ""

        pieces[i] = _FILTER.sub(take, pieces[i])
    if not found:
        return text, ()
    return " ".join("".join(pieces).split()), tuple(found)


# ---------------------------------------------------------------- applying them


def _file_records(index_dir, meta) -> list[tuple[str, int, int]]:
    """(path, mtime_ns, size) of every indexed file, from the manifest."""
    return _manifest_query(index_dir, meta, "SELECT path, mtime_ns, size FROM files WHERE skip_reason IS NULL")


def _manifest_query(index_dir, meta, sql: str, params=()) -> list[tuple]:
    """The rows of ``sql`` over the index's manifest (index/storage/manifest.py)."""
    import sqlite3
    from pathlib import Path

    from searcher.index.errors import IndexDamaged
    from searcher.index.storage.manifest import Manifest, manifest_name

    path = Path(index_dir) / manifest_name(meta.indexname)
    try:
        manifest = Manifest.open_existing(path)
        try:
            return manifest.db.execute(sql, list(params)).fetchall()
        finally:
            manifest.close()
    except sqlite3.Error:
        raise IndexDamaged(f"the file list of the index at {index_dir} is unreadable, and filters need it: "
                           "run 'searcher index PATH...' to repair it") from None


def excluded_passages(reader, index_dir, meta, filters) -> set[int]:
    """Global docnums of the passages whose files some filter leaves out.

    The manifest (SQLite) gives the files the filters drop, in one query; the files'
    keys are matched against them and the passages of those files taken from the
    statistics' file of each passage, all at C speed: at 100k files a Python loop over
    the files cost ten times as much.
    """
    from itertools import compress

    from searcher.engine.statistics import statistics

    conditions = [f.sql() for f in filters]
    where = " AND ".join(text for text, _ in conditions)
    params = [value for _, values in conditions for value in values]
    dropped_paths = _manifest_query(index_dir, meta, f"SELECT path FROM files WHERE skip_reason IS NULL "
                                                     f"AND NOT ({where})", params)
    if not dropped_paths:
        return set()
    dropped = {path.encode("utf-8", "surrogateescape") for (path,) in dropped_paths}
    stats = statistics(reader)
    flags = bytes(map(dropped.__contains__, stats.files))  # by file number
    file_of = stats.file_of  # (deleted passages too: they are never hits anyway)
    return set(compress(range(len(file_of)), map(flags.__getitem__, file_of)))


def file_mtimes(index_dir, meta, paths) -> dict[str, int]:
    """{path: mtime_ns} for ``paths``, from the manifest (files it lacks are left out)."""
    wanted = set(paths)
    return {path: mtime for path, mtime, _size in _file_records(index_dir, meta) if path in wanted}


def sort_hits(hits, key: str, mtimes: dict[str, int] | None = None):
    """``hits`` (best first) ordered by ``key``: newest file first, or by path and line; ties keep
    the ranking's order."""
    if key == "modified":
        return sorted(hits, key=lambda hit: -(mtimes or {}).get(hit.path, 0))
    if key == "path":
        return sorted(hits, key=lambda hit: (hit.path, hit.start_line))
    return list(hits)
