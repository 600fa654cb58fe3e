"""Exceptions raised by the query side; the CLI turns them into one-line errors."""


class QueryError(Exception):
    """A query that cannot be run; ``str(exc)`` explains why in one line."""
