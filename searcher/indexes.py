"""Named indexes: ``searcher index --name notes ~/notes``, ``--index notes``, ``searcher list``.

A named index is an ordinary index folder under the data directory,
``$XDG_DATA_HOME/searcher/indexes/NAME``; the default index (``--index`` not given) is
listed as ``default``. ``--index`` takes a name or a path: a value with a path separator,
``~``, ``.`` or ``..`` in front, or the name of a folder that exists here, is a path
(as before names existed); any other word is a name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from searcher.index.errors import IndexingError
from searcher.location import default_index_dir

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
DEFAULT_NAME = "default"


class IndexNameError(IndexingError):
    pass


def indexes_dir() -> Path:
    """Where named indexes live: $XDG_DATA_HOME/searcher/indexes (~/.local/share/searcher/indexes)."""
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(data_home) / "searcher" / "indexes"


def check_name(name: str) -> str:
    if not NAME.fullmatch(name) or name in (".", ".."):
        raise IndexNameError(f"{name!r} is not an index name: use letters, digits, '.', '_' and '-' "
                             "(at most 64, starting with a letter or digit)")
    return name


def named_dir(name: str) -> str:
    """The folder of the index called ``name`` (``default``: the default index)."""
    if name == DEFAULT_NAME:
        return str(default_index_dir())
    return str(indexes_dir() / check_name(name))


def is_path(value: str) -> bool:
    return (os.sep in value or (os.altsep or os.sep) in value or value.startswith("~")
            or value in (".", "..") or os.path.isdir(value) or not NAME.fullmatch(value))


def resolve(value: str | None) -> str:
    """The folder ``--index`` means: the default index, a path, or a named index."""
    if not value:
        return str(default_index_dir())
    if is_path(value):
        return os.path.expanduser(value)
    return named_dir(value)


def name_of(index_dir: str) -> str:
    """How hits and ``searcher list`` name an index: its name, ``default``, or its path."""
    path = os.path.abspath(index_dir)
    if path == os.path.abspath(default_index_dir()):
        return DEFAULT_NAME
    if os.path.dirname(path) == os.path.abspath(indexes_dir()):
        return os.path.basename(path)
    return index_dir


def known() -> list[tuple[str, str]]:
    """(name, folder) of the default index, if it exists, and of every named index, by name."""
    from searcher.index.storage.store import META_NAME

    found = []
    default = default_index_dir()
    if (default / META_NAME).exists():
        found.append((DEFAULT_NAME, str(default)))
    root = indexes_dir()
    try:
        names = sorted(os.listdir(root))
    except OSError:
        names = []
    for name in names:
        if NAME.fullmatch(name) and (root / name / META_NAME).exists():
            found.append((name, str(root / name)))
    return found


def select(names: str | None, every: bool) -> list[tuple[str, str]]:
    """(name, folder) of the indexes ``-I a,b`` (names or paths) or ``--all`` ask for."""
    if every:
        chosen = known()
        if not chosen:
            raise IndexNameError("no indexes yet: make one with 'searcher index --name NAME PATH...'")
        return chosen
    chosen = []
    for value in (part.strip() for part in (names or "").split(",")):
        if not value:
            continue
        folder = resolve(value)
        entry = (value if not is_path(value) else name_of(folder), folder)
        if entry[1] not in [f for _, f in chosen]:
            chosen.append(entry)
    if not chosen:
        raise IndexNameError("-I needs index names, e.g. -I notes,papers ('searcher list' shows them)")
    return chosen


@dataclass
class Listed:
    name: str
    index_dir: str
    files: int | None
    passages: int | None
    size_bytes: int | None
    updated: str
    roots: list[str]
    error: str | None = None


def listing() -> list[Listed]:
    """Every known index with what `searcher status` says of it (or why it cannot say)."""
    from searcher.index.storage.store import index_status

    rows = []
    for name, folder in known():
        try:
            status = index_status(folder)
        except IndexingError as exc:
            rows.append(Listed(name, folder, None, None, None, "", [], error=str(exc)))
            continue
        rows.append(Listed(name, folder, status.files, status.passages, status.size_bytes,
                           status.updated, list(status.roots)))
    return rows

