"""Where an index lives on disk and the metadata searcher keeps beside whoosh's files."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.errors import IndexNotFound, IndexVersionMismatch
from index.schema import SCHEMA_VERSION

META_NAME = "searcher.json"


@dataclass
class IndexMeta:
    schema_version: int = SCHEMA_VERSION
    language: str = "english"
    roots: list[str] = field(default_factory=list)
    updated: str = ""

    @classmethod
    def from_json(cls, data: dict) -> "IndexMeta":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def read_meta(index_dir: str | os.PathLike) -> IndexMeta:
    """Metadata of an existing index; raises if there is none or it is of another version."""
    path = Path(index_dir) / META_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexNotFound(
            f"no index at {index_dir}: run 'searcher index PATH...' first"
        ) from None
    except (OSError, ValueError) as exc:
        raise IndexVersionMismatch(
            f"the index at {index_dir} is unreadable ({exc}): rebuild it with 'searcher index --rebuild PATH...'"
        ) from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version != SCHEMA_VERSION:
        raise IndexVersionMismatch(
            f"the index at {index_dir} was made by another version of searcher "
            f"(schema {version}, this one reads {SCHEMA_VERSION}): "
            "rebuild it with 'searcher index --rebuild PATH...'"
        )
    return IndexMeta.from_json(data)


def write_meta(index_dir: str | os.PathLike, meta: IndexMeta) -> None:
    """Replace the metadata file atomically, so a crash leaves the old or the new one."""
    path = Path(index_dir) / META_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(meta), indent=2), encoding="utf-8")
    os.replace(tmp, path)


def open_index(index_dir: str | os.PathLike):
    """Open an index for reading after checking its version."""
    from whoosh import index as whoosh_index

    read_meta(index_dir)
    try:
        return whoosh_index.open_dir(str(index_dir))
    except whoosh_index.EmptyIndexError:
        raise IndexNotFound(
            f"no index at {index_dir}: run 'searcher index PATH...' first"
        ) from None
