"""Where the index lives when no --index is given."""

from __future__ import annotations

import os
from pathlib import Path

INDEX_ENV = "SEARCHER_INDEX"


def default_index_dir() -> Path:
    """$SEARCHER_INDEX, else $XDG_DATA_HOME/searcher/index, else ~/.local/share/searcher/index."""
    explicit = os.environ.get(INDEX_ENV)
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(data_home) / "searcher" / "index"
