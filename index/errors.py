"""Exceptions raised by the indexing side; the CLI turns them into one-line errors."""


class IndexingError(Exception):
    """Base class for every error the indexing side reports to the user."""


class SkipFile(IndexingError):
    """A file that cannot be indexed; ``str(exc)`` is the reason shown to the user."""


class PathNotFound(IndexingError):
    """A path given on the command line does not exist."""


class IndexNotFound(IndexingError):
    """No index at the expected location."""


class IndexVersionMismatch(IndexingError):
    """The index was written by another schema version and must be rebuilt."""


class IndexLocked(IndexingError):
    """Another process is writing to the index."""
