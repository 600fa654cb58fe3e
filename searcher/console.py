"""The terminal: streams, colour decisions, exit statuses and safe display of untrusted text."""

from __future__ import annotations

import enum
import os
import re
import sys

import click


class ExitStatus(enum.IntEnum):
    """grep's convention; INTERRUPTED is 128 + SIGINT, as shells report a Ctrl-C."""

    FOUND = 0
    NOTHING_FOUND = 1
    ERROR = 2
    INTERRUPTED = 130  # 128 + SIGINT, as shells report it


# C0/C1 control characters, DEL, the Unicode formatting characters that
# reorder or hide text (bidi marks and overrides, zero-width joiners, line and
# paragraph separators), and lone surrogates (the undecodable bytes of a file
# name, which no stream can encode): none may reach a terminal raw.
_INVISIBLE = ("\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
              "\ud800-\udfff")
_UNSAFE = re.compile(f"[\x00-\x08{_INVISIBLE}]")
# The same, and tab and newline too: for text that must stay on one line (paths, messages).
_UNSAFE_IN_LINE = re.compile(f"[\x00-\x0a{_INVISIBLE}]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape: show the byte the name holds
        return "\\x%02x" % (code - 0xDC00)
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def sanitize(text: str) -> str:
    """Untrusted text made safe to print: control characters shown as visible escapes."""
    return _UNSAFE.sub(_escape, text)


def escape_line(text) -> str:
    """A path or a message made safe to print as one line: newlines and tabs escaped too,
    so a file name holding a newline stays one line of ``-l``, ``--vimgrep`` or an error."""
    return _UNSAFE_IN_LINE.sub(_escape, str(text))


def json_safe(text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with what would reach a terminal
    raw, or fail to encode, written as ``\\uXXXX`` escapes: still valid JSON of the same value."""
    return _UNSAFE.sub(lambda m: "\\u%04x" % ord(m.group()), text)


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
    """Where output goes and how it looks: one per invocation, made by the ``searcher`` group
    (or passed in as the click context's ``obj``, as tests do to capture the streams)."""

    def __init__(self, out=None, err=None, color_mode: str = "auto"):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.use_color(color_mode)

    def use_color(self, mode: str) -> "Console":
        """``--color``: always, never, or auto (see ``color_enabled``)."""
        self.color = color_enabled(mode, self.out)
        return self

    @property
    def is_tty(self) -> bool:
        isatty = getattr(self.out, "isatty", None)
        return bool(isatty and isatty())

    def style(self, text: str, **styles) -> str:
        return click.style(text, **styles) if self.color else text

    def print(self, text: str = "") -> None:
        click.echo(text, file=self.out, color=self.color)

    def print_raw(self, data: bytes) -> None:
        """Bytes as they are, with no newline added (``-l --null``: file names as the file system has them)."""
        click.echo(data, file=self.out, nl=False)

    def info(self, text: str) -> None:
        """Progress and summaries: stderr, so stdout stays clean for pipes."""
        click.echo(text, file=self.err)
