"""A one-line progress bar for `searcher index`, drawn on stderr only when it is a terminal."""

from __future__ import annotations

import os
import shutil
import time

from searcher.index.reading.reader import format_size
from searcher.console import escape_line

# What each phase of a run (index/runs/writer.py's RunProgress) is called on the line.
PHASES = {
    "planning": "planning",
    "reading": "reading",
    "publishing": "publishing",
    "merging": "merging segments",
    "stopping": "stopping: keeping the files finished so far (Ctrl-C again: at once)",
    "finishing": "saving statistics",
}


class ProgressBar:
    """Call with an index.writer.RunProgress; ``close()`` erases the line."""

    def __init__(self, stream, min_interval: float = 0.1):
        self.stream = stream
        self.min_interval = min_interval
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False
        self.phase = None

    @staticmethod
    def wanted(stream) -> bool:
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())

    def __call__(self, progress) -> None:
        now = time.monotonic()
        if progress.phase == self.phase and now - self.last < self.min_interval:
            return
        self.phase = progress.phase
        self.last = now
        self.stream.write("\r" + self.line(progress, now)[:self.width()] + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def line(self, progress, now: float | None = None) -> str:
        """``reading [####....] 7/9 files  41% of 120.0 MB ~1m05s left · big.pdf``"""
        now = time.monotonic() if now is None else now
        elapsed = now - progress.started
        label = PHASES.get(progress.phase, progress.phase)
        if progress.phase == "stopping":
            return f"{label}… {progress.files_done}/{progress.files_total} files read"
        if progress.phase != "reading":
            # Merging and publishing have no measure of their own: the time says it is alive.
            return f"{label}… {progress.files_done}/{progress.files_total} files read ({_duration(elapsed)})"
        if progress.bytes_total:
            fraction = progress.bytes_done / progress.bytes_total
        else:
            fraction = progress.files_done / progress.files_total if progress.files_total else 1.0
        # The rate so far: while nothing finishes (a big file), the estimate grows.
        eta = ""
        if 0.0 < fraction < 1.0 and elapsed > 1.0:
            eta = f" ~{_duration(elapsed / fraction - elapsed)} left"
        size = f" of {format_size(progress.bytes_total)}" if progress.bytes_total else ""
        text = f" {progress.files_done}/{progress.files_total} files {fraction:4.0%}{size}{eta}"
        if progress.reading:
            text += f" · {escape_line(os.path.basename(progress.reading))}"
        bar_width = max(10, min(30, self.width() - len(text) - len(label) - 3))
        filled = int(bar_width * fraction)
        return f"{label} [{'#' * filled}{'.' * (bar_width - filled)}]{text}"

    @staticmethod
    def width() -> int:
        return shutil.get_terminal_size((80, 24)).columns - 1

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
