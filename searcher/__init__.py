"""searcher: full-text search for the terminal."""

__version__ = "0.1.0"
