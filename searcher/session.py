"""The library's entry point: one open index, everything the command line does with it.

    from searcher import Session

    with Session("~/.local/share/searcher/index") as session:
        for hit in session.search("rule of law", limit=5).hits:
            print(f"{hit.path}:{hit.start_line}: {hit.title}")

Every method reads the same open reader (the CLI opens an index once per command), and
every error a user can cause is a ``SearcherError`` with a one-line message.
"""

from __future__ import annotations

import os

from searcher.engine.search import SearchResult, SearchSession


class Session(SearchSession):
    """An index opened once: ``search`` (from SearchSession), ``suggest``, ``explain``,
    ``show`` and ``status``. A context manager; ``close()`` releases the reader."""

    def __init__(self, index_dir: str | os.PathLike):
        super().__init__(os.path.expanduser(os.fspath(index_dir)))

    def suggest(self, result: SearchResult, per_file: int | None = 3):
        """A "did you mean" for ``result`` (a searcher.engine.suggest.Suggestion), or None: offered
        when a word is unknown to the index or the corrected query finds more passages."""
        from searcher.engine.suggest import did_you_mean

        # "Very few hits" is about the passages the query matches, not the page shown (-n 1).
        return did_you_mean(self, result.query, max(len(result.hits), result.total), per_file=per_file)

    def explain(self, query, *, typed: str | None = None, how: str = "") -> list[str]:
        """How ``query`` (text, or a result's parsed ``query``) is read: the lines
        ``searcher query --explain`` prints."""
        from searcher.present.explain import explain

        parsed = self.parse(query) if isinstance(query, str) else query
        return explain(parsed, self.schema, self.searcher.reader(), typed=typed, how=how)

    def show(self, location: str, words: str = "", context: int = 0):
        """The lines of a file of the index (``PATH``, ``PATH:LINE``, ``PATH#page=N``) as
        ``searcher show`` prints them, ``words`` highlighted (a searcher.present.show.Shown)."""
        from searcher.present.show import show

        return show(self, location, words, context)

    def status(self):
        """What the index holds (a searcher.index.storage.store.IndexStatus), as ``searcher status``."""
        from searcher.index.storage.store import index_status

        return index_status(self.index_dir)

    @property
    def passages(self) -> int:
        """How many passages the index holds."""
        return self.searcher.doc_count()
