"""One whoosh segment from a list of files: read -> passages -> documents -> segment.

Runs inside a worker process (or in the indexing process for small runs). It
writes segment files into the index folder but never publishes them: the parent
does that in its next commit (index/runs/writer.py), so a segment of a run that dies
is just an orphan file that the next run deletes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from searcher.index.errors import SkipFile
from searcher.index.text.passages import document_title, passage_sections, split_passages
from searcher.index.reading.reader import DEFAULT_MAX_BYTES, read_document
from searcher.index.text.stemtable import save_new_stems


class Interrupted(BaseException):
    """The run was asked to stop: the file being read is abandoned.

    A BaseException, so that the broad ``except Exception`` of file readers
    (pypdf has many) does not swallow it.
    """


class StopSwitch:
    """Stops a builder between files, or abandons the file it is on.

    ``request`` runs in a signal handler. It raises only while ``reading`` is
    set, i.e. while a file is read and split into documents, which can be thrown
    away; while documents are added to a segment it only sets the flag, which the
    builder checks between two documents (see SegmentBuilder.add_files).
    """

    def __init__(self):
        self.requested = False
        self.reading = False

    def request(self, *_):
        self.requested = True
        if self.reading:
            self.reading = False
            raise Interrupted


# This process's switch: set by the signal handlers of index/runs/writer.py.
STOP = StopSwitch()
# From this size on, a worker says which file it is reading: it may take a while.
ANNOUNCE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileJob:
    path: str
    size: int
    mtime_ns: int
    needs_delete: bool  # the index may hold passages of an older version
    was_indexed: bool  # for the report: updated rather than added


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    size: int
    mtime_ns: int
    passages: int
    skip_reason: str | None
    transient: bool  # the skip reason may go away without the file changing
    needs_delete: bool
    was_indexed: bool


def passage_documents(path: str, max_bytes: int = DEFAULT_MAX_BYTES):
    """The whoosh documents (one per passage) of one file; raises SkipFile."""
    document = read_document(path, max_bytes=max_bytes)
    passages = split_passages(document.text)
    if not passages:
        raise SkipFile("no text")
    title = document_title(document.text, document.title)
    sections = passage_sections(passages, document.headings)
    for passage, section in zip(passages, sections):
        yield {
            "file": path,
            "path": path,
            "title": title,
            "body": passage.text,
            "start_line": passage.start_line,
            "end_line": passage.end_line,
            "position": passage.position,
            "page": _page_of(document.page_starts, passage.start_line),
            "section": section,
        }


def _page_of(page_starts, line: int):
    if not page_starts:
        return None
    page = 0
    for number, start in enumerate(page_starts, 1):
        if start <= line:
            page = number
    return page or None


class SegmentBuilder:
    """Adds files to a whoosh segment; ``finish()`` hands over the segments written since the last one.

    A segment is finished early when its postings would take more than
    ``pool_mb`` of memory, so a big run writes a few segments per worker.
    """

    def __init__(self, index_dir: str, indexname: str, max_bytes: int, pool_mb: int):
        from searcher.index.storage.store import open_whoosh

        self.ix = open_whoosh(index_dir, indexname)
        self.max_bytes = max_bytes
        self.pool_mb = pool_mb
        self.writer = None
        self.previous = None  # the last writer: the next one reuses its analyzers
        self.done = []  # finished segments not yet handed over
        self.abandoned = []  # documents of the current writer that belong to an abandoned file

    def add_files(self, jobs: list[FileJob], on_reading=None) -> list[FileResult]:
        """The results of the files added; fewer than ``jobs`` when STOP was requested.

        ``on_reading(job)`` is called before a file of ANNOUNCE_BYTES or more is read.
        """
        results = []
        for job in jobs:
            if STOP.requested:
                break
            if on_reading is not None and job.size >= ANNOUNCE_BYTES:
                on_reading(job)
            try:
                STOP.reading = True
                if STOP.requested:  # arrived between the check above and here
                    raise Interrupted
                try:
                    docs = list(passage_documents(job.path, max_bytes=self.max_bytes))
                finally:
                    STOP.reading = False
            except Interrupted:
                break
            except SkipFile as exc:
                results.append(_result(job, 0, str(exc), exc.transient))
                continue
            except (MemoryError, RecursionError, Exception) as exc:
                # A bug or a pathological file (nltk's 5 s regex limit raises TimeoutError)
                # must not end a run over thousands of files: it is skipped with its reason.
                detail = " ".join(str(exc).split())[:200]
                results.append(_result(job, 0, f"could not be processed ({type(exc).__name__}: {detail})", True))
                continue
            writer = self._writer()
            if "section" not in writer.schema:  # an index made before sections were stored
                for doc in docs:
                    doc.pop("section", None)
            first = writer.docnum
            for doc in docs:
                if STOP.requested:
                    # Adding a big file's passages takes longer than reading it: stop
                    # between two passages, and delete the ones added when the
                    # segment is finished, so that it never holds half a file.
                    self.abandoned.extend(range(first, writer.docnum))
                    return results
                writer.add_document(**doc)
            results.append(_result(job, len(docs), None, False))
            estimate = getattr(writer, "memory_estimate", None)
            if estimate is not None and estimate() > self.pool_mb * 1024 * 1024:
                self._finish_writer()
        return results

    def finish(self) -> list:
        """The segments of everything added since the last finish (maybe none)."""
        self._finish_writer()
        done, self.done = self.done, []
        return done

    def cancel(self):
        from searcher.index.storage.whoosh_private import discard_segment

        writer, self.writer = self.writer, None
        if writer is not None:
            discard_segment(writer)

    def _finish_writer(self):
        from searcher.index.storage.whoosh_private import discard_segment, finish_segment

        writer, self.writer = self.writer, None
        if writer is None:
            return
        save_new_stems(self.ix.storage.folder, writer.schema)  # so queries need not import nltk
        try:
            if len(self.abandoned) == writer.docnum:
                # Nothing, or only the passages of an abandoned file: no segment to write.
                discard_segment(writer)
            else:
                segment = finish_segment(writer)
                if segment is not None:
                    for docnum in self.abandoned:
                        segment.delete_document(docnum)
                    self.done.append(segment)
        finally:
            self.abandoned = []

    def _writer(self):
        if self.writer is None:
            self.writer = _segment_writer(self.ix, self.pool_mb, self.previous)
            self.previous = self.writer
        return self.writer


def _segment_writer(ix, pool_mb: int, previous=None):
    from searcher.index.storage.fastwrite import FastSegmentWriter
    from searcher.index.storage.whoosh_private import FileIndex, UnlockedSegmentWriter

    private = FileIndex(private_storage(ix.storage.folder, ix.indexname), indexname=ix.indexname)
    # No whoosh lock: the parent holds the run lock and is the only one to commit.
    if FastSegmentWriter.supports(private.schema):
        follows = previous if isinstance(previous, FastSegmentWriter) else None
        return FastSegmentWriter(private, limitmb=pool_mb, follows=follows)
    return UnlockedSegmentWriter(private, limitmb=pool_mb)


def private_storage(folder: str, indexname: str):
    """The index folder as a whoosh storage whose scratch folder is this writer's own.

    Every whoosh writer of an index keeps scratch files in the folder "<name>.tmp"
    and deletes it when done: concurrent writers need their own
    ("<name>.<random>.tmp", which index/storage/store.py's clean-up knows).
    """
    from searcher.index.storage.whoosh_private import random_name

    storage = _scratch_storage_class()(folder)
    storage.scratch = f"{indexname}.{random_name()}.tmp"
    return storage


def _scratch_storage_class():
    from searcher.index.storage.whoosh_private import FileStorage

    class PrivateScratchStorage(FileStorage):
        scratch = "private.tmp"

        def temp_storage(self, name=None):
            return FileStorage(os.path.join(self.folder, self.scratch)).create()

    return PrivateScratchStorage


def _result(job: FileJob, passages: int, reason: str | None, transient: bool) -> FileResult:
    return FileResult(job.path, job.size, job.mtime_ns, passages, reason, transient,
                      job.needs_delete, job.was_indexed)
