"""OSC 8 hyperlinks on hits' locations, in ripgrep's ``--hyperlink-format`` language.

A format is a URL with placeholders ``{path}`` (the absolute path, percent-encoded,
starting with ``/``), ``{line}``, ``{column}``, ``{host}`` (this machine's name) and
``{wslprefix}`` (``wsl$/DISTRO`` under WSL, else empty), or one of ripgrep's presets.
The URL is percent-encoded to printable ASCII, so nothing from a file name can end the
escape sequence early or reach the terminal as a control character.

A PDF's hit links to ``file://{host}{path}#page=N`` whatever the format: an editor's
URL (``vscode://…:{line}``) cannot open a PDF at a line, and a PDF viewer opens the
``#page=`` fragment.
"""

from __future__ import annotations

import os
import re

PRESETS = {
    "default": "file://{host}{path}",
    "file": "file://{host}{path}",
    "none": "",
    "cursor": "cursor://file{path}:{line}:{column}",
    "grep+": "grep+://{path}:{line}",
    "kitty": "file://{host}{path}#{line}",
    "macvim": "mvim://open?url=file://{path}&line={line}&column={column}",
    "textmate": "txmt://open?url=file://{path}&line={line}&column={column}",
    "vscode": "vscode://file{path}:{line}:{column}",
    "vscode-insiders": "vscode-insiders://file{path}:{line}:{column}",
    "vscodium": "vscodium://file{path}:{line}:{column}",
}
PLACEHOLDERS = ("path", "line", "column", "host", "wslprefix")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


class LinkFormatError(ValueError):
    pass


def parse_format(text: str) -> str:
    """A preset's format or ``text`` itself, checked; "" means no links."""
    text = text.strip()
    if text in PRESETS:
        return PRESETS[text]
    if not _SCHEME.match(text):
        raise LinkFormatError(f"{text!r} is neither a preset ({', '.join(PRESETS)}) nor a URL "
                              "starting with a scheme, such as 'myeditor://open?file={path}&line={line}'")
    names = _PLACEHOLDER.findall(text)
    unknown = [name for name in names if name not in PLACEHOLDERS]
    if unknown:
        raise LinkFormatError(f"unknown placeholder {{{unknown[0]}}} in {text!r}: "
                              f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
    if "path" not in names:
        raise LinkFormatError(f"{text!r} has no {{path}}: a link must say which file")
    if _PLACEHOLDER.sub("", text).count("{") or _PLACEHOLDER.sub("", text).count("}"):
        raise LinkFormatError(f"{text!r} has an unbalanced brace")
    return text


def _host() -> str:
    import socket

    try:
        return socket.gethostname()
    except OSError:
        return ""


def _wslprefix() -> str:
    distro = os.environ.get("WSL_DISTRO_NAME")
    return f"wsl$/{distro}" if distro else ""


class Links:
    """Makes the link of a hit's location; ``wrap`` puts it around the printed text."""

    def __init__(self, fmt: str):
        self.format = fmt
        self._values: dict[str, str] = {}

    def _value(self, name: str) -> str:
        from urllib.parse import quote

        if name not in self._values:
            self._values[name] = quote(_host() if name == "host" else _wslprefix(), safe="$/")
        return self._values[name]

    def url(self, path: str, line: int = 1, column: int = 1, page: int | None = None) -> str:
        path = os.path.abspath(path)
        if os.sep != "/":
            path = "/" + path.replace(os.sep, "/")
        from urllib.parse import quote  # (not at start-up: links are for terminals only)

        # As ripgrep: only RFC 3986's unreserved characters, "/" and ":" stay as they are, so
        # a name holding "&", "#" or "?" cannot break a format's query string or fragment.
        encoded = quote(path.encode("utf-8", "surrogateescape"), safe="/:")
        if page is not None and path.lower().endswith(".pdf"):
            return f"file://{self._value('host')}{encoded}#page={int(page)}"
        values = {"path": encoded, "line": str(int(line)), "column": str(int(column))}

        def fill(match):
            name = match.group(1)
            return values[name] if name in values else self._value(name)

        return _PLACEHOLDER.sub(fill, self.format)

    def wrap(self, text: str, path: str, line: int = 1, column: int = 1, page: int | None = None) -> str:
        url = self.url(path, line, column, page)
        # Belt and braces: the URL is printable ASCII by construction.
        url = "".join(ch for ch in url if " " < ch < "\x7f")
        return f"\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\"


def links_for(fmt_text: str | None, stream) -> Links | None:
    """Links when ``stream`` is a terminal (not dumb) and the format is not ``none``."""
    fmt = parse_format(fmt_text or "default")
    if not fmt:
        return None
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()) or os.environ.get("TERM") == "dumb":
        return None
    return Links(fmt)
