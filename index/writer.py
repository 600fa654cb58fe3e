"""Writing files into the index: walk -> read -> passages -> whoosh documents."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from index.errors import IndexingError, IndexVersionMismatch, SkipFile
from index.passages import document_title, split_passages
from index.reader import DEFAULT_MAX_BYTES, read_document
from index.schema import make_schema
from index.store import IndexMeta, read_meta, write_meta
from index.walker import FoundFile, SkippedFile, walk


@dataclass
class IndexReport:
    index_dir: str
    files_indexed: int = 0
    passages: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0


def passage_documents(path: str, max_bytes: int = DEFAULT_MAX_BYTES):
    """The whoosh documents (one per passage) of one file; raises SkipFile."""
    document = read_document(path, max_bytes=max_bytes)
    passages = split_passages(document.text)
    if not passages:
        raise SkipFile("no text")
    title = document_title(document.text, document.title)
    for passage in passages:
        yield {
            "file": path,
            "path": path,
            "title": title,
            "body": passage.text,
            "start_line": passage.start_line,
            "end_line": passage.end_line,
            "position": passage.position,
            "page": _page_of(document.page_starts, passage.start_line),
        }


def _page_of(page_starts, line: int):
    if not page_starts:
        return None
    page = 0
    for number, start in enumerate(page_starts, 1):
        if start <= line:
            page = number
    return page or None


def _open_or_create(index_dir: Path, language: str, rebuild: bool):
    from whoosh import index as whoosh_index

    if not rebuild and whoosh_index.exists_in(str(index_dir)):
        meta = read_meta(index_dir)
        if meta.language != language:
            raise IndexVersionMismatch(
                f"the index at {index_dir} was built with --language {meta.language}: "
                f"use that, or rebuild with 'searcher index --rebuild --language {language} PATH...'"
            )
        return whoosh_index.open_dir(str(index_dir)), meta
    index_dir.mkdir(parents=True, exist_ok=True)
    meta = IndexMeta(language=language)
    ix = whoosh_index.create_in(str(index_dir), make_schema(language))
    write_meta(index_dir, meta)
    return ix, meta


def build_index(paths, index_dir, *, language: str = "english", rebuild: bool = False,
                include=(), exclude=(), max_bytes: int = DEFAULT_MAX_BYTES,
                on_file=None) -> IndexReport:
    """Index the files under ``paths`` into ``index_dir``; re-indexes files already there."""
    started = time.perf_counter()
    index_dir = Path(index_dir)
    report = IndexReport(str(index_dir))
    found = list(walk(paths, include=include, exclude=exclude, max_bytes=max_bytes))
    ix, meta = _open_or_create(index_dir, language, rebuild)
    writer = ix.writer(limitmb=256)
    try:
        for item in found:
            if isinstance(item, SkippedFile):
                report.skipped.append(item)
                continue
            try:
                docs = list(passage_documents(item.path, max_bytes=max_bytes))
            except SkipFile as exc:
                report.skipped.append(SkippedFile(item.path, str(exc)))
                writer.delete_by_term("file", item.path)
                continue
            writer.delete_by_term("file", item.path)
            for doc in docs:
                writer.add_document(**doc)
            report.files_indexed += 1
            report.passages += len(docs)
            if on_file:
                on_file(item)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    roots = [os.path.abspath(p) for p in paths]
    meta.roots = sorted(set(meta.roots) | set(roots))
    meta.updated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_meta(index_dir, meta)
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["IndexReport", "IndexingError", "build_index", "passage_documents", "FoundFile"]
