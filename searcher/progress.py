"""A one-line progress bar for `searcher index`, drawn on stderr only when it is a terminal."""

from __future__ import annotations

import shutil
import time


class ProgressBar:
    """Call with (files_done, files_total, bytes_done, bytes_total); ``close()`` erases the line."""

    def __init__(self, stream, min_interval: float = 0.1):
        self.stream = stream
        self.min_interval = min_interval
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    @staticmethod
    def wanted(stream) -> bool:
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())

    def __call__(self, files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
        now = time.monotonic()
        if files_done < files_total and now - self.last < self.min_interval:
            return
        self.last = now
        fraction = bytes_done / bytes_total if bytes_total else (files_done / files_total if files_total else 1.0)
        elapsed = now - self.started
        eta = ""
        if 0.02 < fraction < 1.0 and elapsed > 1.0:
            eta = f" ~{_duration(elapsed / fraction - elapsed)} left"
        label = f" {files_done}/{files_total} files {fraction:4.0%}{eta}"
        width = shutil.get_terminal_size((80, 24)).columns - 1
        bar_width = max(10, min(40, width - len(label) - 9))
        filled = int(bar_width * fraction)
        line = f"indexing [{'#' * filled}{'.' * (bar_width - filled)}]{label}"
        self.stream.write("\r" + line[:width] + "\x1b[K")
        self.stream.flush()
        self.drawn = True

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
