"""Exceptions raised by the indexing side; the CLI turns them into one-line errors."""


class SearcherError(Exception):
    """Every error a user can cause, on either side; ``str(exc)`` is its one-line message."""


class IndexingError(SearcherError):
    """Base class for every error the indexing side reports to the user."""


class SkipFile(IndexingError):
    """A file that cannot be indexed; ``str(exc)`` is the reason shown to the user.

    ``transient`` marks reasons that may go away without the file changing
    (permissions, I/O errors): such files are tried again on every run, while
    the others are remembered until the file's size or mtime changes.
    """

    def __init__(self, reason: str, transient: bool = False):
        super().__init__(reason)
        self.transient = transient


class PathNotFound(IndexingError):
    """A path given on the command line does not exist."""


class IndexNotFound(IndexingError):
    """No index at the expected location."""


class IndexVersionMismatch(IndexingError):
    """The index was written by another schema version and must be rebuilt."""


class IndexDamaged(IndexingError):
    """The index files cannot be read (not a searcher index, or damaged); rebuild it."""


class IndexLocked(IndexingError):
    """Another process is writing to the index."""
