"""The terminal: streams, colour decisions, exit statuses and safe display of untrusted text."""

from __future__ import annotations

import enum
import os
import re
import sys

import click


class ExitStatus(enum.IntEnum):
    """grep's convention."""

    FOUND = 0
    NOTHING_FOUND = 1
    ERROR = 2
    INTERRUPTED = 130  # 128 + SIGINT, as shells report it


# C0/C1 control characters, DEL, and the Unicode formatting characters that
# reorder or hide text (bidi overrides, zero-width joiners): none may reach a
# terminal raw from a document.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _escape(match: re.Match) -> str:
    return "\\x%02x" % ord(match.group()) if ord(match.group()) < 0x100 else "\\u%04x" % ord(match.group())


def sanitize(text: str) -> str:
    """Untrusted text made safe to print: control characters shown as visible escapes."""
    return _UNSAFE.sub(_escape, text)


def one_line(text: str) -> str:
    """Sanitized text with every run of whitespace (newlines, tabs) shown as one space."""
    return sanitize(" ".join(text.split()))


def end_on_closed_output() -> None:
    """Let a closed output pipe (``searcher query ... | head -1``) end the process the
    way it ends grep, by SIGPIPE (status 141 in a shell), instead of click's exit
    status 1, which reads as "nothing found". Only for commands that only read: an
    indexing run must never stop half-way because its output went away. Not when
    the output is not the process's own (tests calling the command in-process).
    """
    import signal
    import threading

    if (hasattr(signal, "SIGPIPE") and sys.stdout is sys.__stdout__
            and threading.current_thread() is threading.main_thread()):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def color_enabled(mode: str, stream) -> bool:
    """--color always|never|auto; auto means a TTY, NO_COLOR unset and TERM not dumb."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Console:
    """Where output goes and how it looks; tests swap the streams."""

    def __init__(self, out=None, err=None, color_mode: str = "auto"):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.color = color_enabled(color_mode, self.out)

    @property
    def is_tty(self) -> bool:
        isatty = getattr(self.out, "isatty", None)
        return bool(isatty and isatty())

    def style(self, text: str, **styles) -> str:
        return click.style(text, **styles) if self.color else text

    def print(self, text: str = "") -> None:
        click.echo(text, file=self.out, color=self.color)

    def info(self, text: str) -> None:
        """Progress and summaries: stderr, so stdout stays clean for pipes."""
        click.echo(text, file=self.err)
