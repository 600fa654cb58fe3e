"""Exceptions raised by the query side; the CLI turns them into one-line errors."""


from searcher.index.errors import SearcherError


class QueryError(SearcherError):
    """A query that cannot be run; ``str(exc)`` explains why in one line."""
