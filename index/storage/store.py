"""Where an index lives on disk and the metadata searcher keeps beside whoosh's files.

An index folder holds:

- ``searcher.json``: the metadata (schema version, stemming language, roots, the
  whoosh index name in use), replaced atomically;
- the whoosh index named ``meta.indexname`` (``_MAIN_<gen>.toc``, ``MAIN_<id>.seg``);
- ``manifest-<indexname>.sqlite``: the per-file manifest (index/storage/manifest.py);
- ``searcher.lock``: held by a running `searcher index` (index/runs/lock.py);
- ``stems-<language>.sqlite``: the words the indexer stemmed, so that queries
  need not import nltk (index/text/stemtable.py);
- ``_<indexname>_<generation>.rankstats``: the ranking statistics of that
  generation, so that queries need not compute them (index/storage/rankstats.py).

`searcher index --rebuild` writes a whole new whoosh index under another name
next to the old one and switches ``indexname`` when it is complete, so the old
index answers queries until then, and survives an interrupted rebuild.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from searcher.index.errors import IndexDamaged, IndexNotFound, IndexVersionMismatch
from searcher.index.storage.schema import READABLE_VERSIONS, SCHEMA_VERSION
from searcher.index.text.stemtable import with_stem_tables

META_NAME = "searcher.json"
DEFAULT_INDEXNAME = "MAIN"
_INDEXNAME = re.compile(r"[A-Za-z0-9]{1,32}")
_REBUILD = "rebuild it with 'searcher index --rebuild PATH...'"


@dataclass
class IndexMeta:
    schema_version: int = SCHEMA_VERSION
    language: str = "english"
    roots: list[str] = field(default_factory=list)
    updated: str = ""
    created: str = ""
    indexname: str = DEFAULT_INDEXNAME
    # A --rebuild in progress: {"indexname", "language", "roots"}; None otherwise.
    rebuilding: dict | None = None
    # How each root was walked by its last run ({root: {"include", "exclude", "max_bytes",
    # ...}}), so that --refresh and `searcher watch` walk it the same way.
    walk_options: dict = field(default_factory=dict)

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
        if has_whoosh_files(index_dir):
            raise IndexDamaged(
                f"{index_dir} holds a whoosh index that searcher did not make (no {META_NAME}): {_REBUILD}"
            ) from None
        raise IndexNotFound(
            f"no index at {index_dir}: run 'searcher index PATH...' first"
        ) from None
    except NotADirectoryError:
        raise IndexNotFound(f"no index at {index_dir}: it is a file, not a folder") from None
    except (OSError, ValueError) as exc:
        raise IndexDamaged(f"the index at {index_dir} is unreadable ({exc}): {_REBUILD}") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version not in READABLE_VERSIONS:
        raise IndexVersionMismatch(
            f"the index at {index_dir} was made by another version of searcher "
            f"(schema {version}, this one reads {SCHEMA_VERSION}): {_REBUILD}"
        )
    try:
        meta = IndexMeta.from_json(data)
    except TypeError as exc:
        raise IndexDamaged(f"the index at {index_dir} has damaged metadata ({exc}): {_REBUILD}") from None
    if not (isinstance(meta.indexname, str) and _INDEXNAME.fullmatch(meta.indexname)
            and isinstance(meta.language, str) and isinstance(meta.roots, list)):
        raise IndexDamaged(f"the index at {index_dir} has damaged metadata: {_REBUILD}")
    return meta


def replace_file(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it (``path.PID.tmp``), so
    that a reader sees the old file or the whole new one; the temporary file never stays."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def write_meta(index_dir: str | os.PathLike, meta: IndexMeta) -> None:
    """Replace the metadata file atomically, so a crash leaves the old or the new one."""
    path = Path(index_dir) / META_NAME
    tmp = path.with_name(f"{META_NAME}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(asdict(meta), indent=2))
        f.flush()
        os.fsync(f.fileno())
    try:
        os.replace(tmp, path)
    except (IsADirectoryError, NotADirectoryError):  # a folder where the metadata goes
        os.unlink(tmp)
        raise IndexDamaged(f"{path} is not a file: remove it, then run again") from None


def open_index(index_dir: str | os.PathLike, meta: IndexMeta | None = None):
    """Open the committed index for reading after checking its version.

    Retries once when the files named by the metadata vanish while opening:
    a rebuild has just switched to a new index and removed the old one.
    """
    for attempt in (1, 2):
        meta = meta if (meta is not None and attempt == 1) else read_meta(index_dir)
        try:
            return with_stem_tables(open_whoosh(index_dir, meta.indexname), index_dir)
        except (IndexNotFound, IndexDamaged):
            if attempt == 2 or read_meta(index_dir).indexname == meta.indexname:
                raise


def open_whoosh(index_dir: str | os.PathLike, indexname: str):
    from whoosh import index as whoosh_index

    from searcher.index.storage.safepickle import UnsafeIndex
    from searcher.index.storage.whoosh_private import use_searcher_readers

    use_searcher_readers()  # read segments in place, unpickle only what an index holds

    try:
        return whoosh_index.open_dir(str(index_dir), indexname=indexname)
    except UnsafeIndex as exc:
        raise UnsafeIndex(exc.module, exc.name, where=f"the index at {index_dir}") from None
    except whoosh_index.EmptyIndexError:
        raise IndexDamaged(f"the index files in {index_dir} are missing: {_REBUILD}") from None
    except Exception as exc:  # a damaged table of contents fails in many ways
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise IndexDamaged(f"the index at {index_dir} is damaged ({detail}): {_REBUILD}") from None


# --- files of an index folder -------------------------------------------------

_TOC = re.compile(r"_([A-Za-z0-9]+)_\d+\.toc")
_SEGMENT = re.compile(r"([A-Za-z0-9]+)_[0-9a-z]+\.[A-Za-z0-9_.]+")


def has_whoosh_files(index_dir: str | os.PathLike) -> bool:
    try:
        return any(_TOC.fullmatch(name) for name in os.listdir(index_dir))
    except OSError:
        return False


def remove_index_files(index_dir: str | os.PathLike, indexname: str) -> None:
    """Delete a whoosh index and its manifest (used for replaced or abandoned indexes)."""
    from searcher.index.storage.manifest import manifest_name

    manifest = manifest_name(indexname)
    for name in os.listdir(index_dir):
        toc, seg = _TOC.fullmatch(name), _SEGMENT.fullmatch(name)
        if ((toc and toc.group(1) == indexname) or (seg and seg.group(1) == indexname)
                or name == f"{indexname}_WRITELOCK" or name.startswith((f"_{indexname}_", manifest))):
            try:
                os.remove(os.path.join(index_dir, name))
            except OSError:
                pass


# The whoosh index names searcher uses: MAIN, and R<8 hex digits> for a --rebuild.
_NAME = r"(?:MAIN|R[0-9a-f]{8})"
# Scratch folders of whoosh writers: "<indexname>.tmp", and "<indexname>.<random>.tmp"
# for the workers' writers (index/runs/builder.py).
_SCRATCH = re.compile(_NAME + r"(?:\.[0-9a-z]+)?\.tmp")
# Every name searcher or whoosh puts in an index folder.
_INDEX_FILE = re.compile(
    r"searcher\.json(?:\.\d+\.tmp)?|searcher\.lock"
    r"|resident\.sock(?:\.\d+\.tmp)?"  # searcher/resident.py
    r"|(?:manifest-" + _NAME + r"|stems-[a-z]+)\.sqlite(?:-journal|-wal|-shm)?"
    r"|_" + _NAME + r"_\d+\.(?:toc(?:\.[0-9.]+)?|rankstats(?:\.\d+\.tmp)?)"
    r"|" + _NAME + r"_(?:[0-9a-z]+\.[A-Za-z0-9_.]+|WRITELOCK)"
    r"|" + _SCRATCH.pattern
)


def remove_temp_dirs(index_dir: str | os.PathLike) -> None:
    """Scratch folders of whoosh writers that did not finish (the run holds the lock)."""
    for name in os.listdir(index_dir):
        path = os.path.join(index_dir, name)
        if _SCRATCH.fullmatch(name) and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)


def foreign_entries(index_dir: str | os.PathLike) -> list[str]:
    """Names in ``index_dir`` that neither searcher nor whoosh would have put there."""
    try:
        return sorted(name for name in os.listdir(index_dir) if not _INDEX_FILE.fullmatch(name))
    except OSError:
        return []


def disk_size(index_dir: str | os.PathLike) -> int:
    total = 0
    for root, _dirs, files in os.walk(index_dir):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


# --- `searcher status` ----------------------------------------------------------

@dataclass
class IndexStatus:
    index_dir: str
    files: int | None  # None: unknown (the file list is unreadable)
    skipped_files: int | None
    passages: int
    size_bytes: int
    updated: str
    created: str
    roots: list[str]
    language: str
    schema_version: int
    indexing: bool  # a `searcher index` run holds the lock right now
    rebuilding: bool  # an unfinished --rebuild is waiting to be resumed


def index_status(index_dir: str | os.PathLike) -> IndexStatus:
    from searcher.index.runs.lock import RunLock
    from searcher.index.storage.manifest import Manifest, manifest_name

    meta = read_meta(index_dir)
    ix = open_index(index_dir, meta)
    passages = ix.doc_count()
    files = skipped = None  # unknown if the file list cannot be read; the next run repairs it
    manifest_path = Path(index_dir) / manifest_name(meta.indexname)
    if manifest_path.exists():
        import sqlite3

        try:
            manifest = Manifest.open_existing(manifest_path)
            try:
                files, skipped = manifest.counts()
            finally:
                manifest.close()
        except sqlite3.Error:
            pass
    return IndexStatus(
        index_dir=os.path.abspath(index_dir),
        files=files,
        skipped_files=skipped,
        passages=passages,
        size_bytes=disk_size(index_dir),
        updated=meta.updated,
        created=meta.created,
        roots=list(meta.roots),
        language=meta.language,
        schema_version=meta.schema_version,
        indexing=RunLock(index_dir).is_held_elsewhere(),
        rebuilding=bool(meta.rebuilding),
    )
