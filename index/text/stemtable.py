"""The stem table: the words the indexer stemmed, with their stems, kept beside the index.

Why: the query side needs the stems of the query words, of the stop list and of
the words of every passage it highlights. Computing them means importing nltk,
which costs about a quarter of a second, more than everything else a cold
`searcher query` does. The indexer has already stemmed every word of the corpus,
so it writes them down here; at query time a stem is a lookup, and nltk is
imported only for a word the corpus never had.

The file is ``stems-<language>.sqlite`` in the index folder, one per stemming
language, with the table ``stems(word, stem)`` (``word`` is the folded word
that the stemmer gets).

Why it never changes results, only speed:

- a stem is a function of (language, word) alone, so rows never go stale: the
  table only grows (``INSERT OR IGNORE``), and a word in it that is no longer,
  or not yet, in the index does no harm;
- it is written in sqlite transactions, so a crash keeps the old rows or adds
  the new ones, never half of them;
- a missing, damaged or unknown table is simply not used: every word it lacks
  goes to nltk's stemmer, as at index time.

An nltk upgrade that changed the Snowball output would leave the table with
the stems of the nltk that built the index, which is what the index holds.

Who writes: each indexing worker after it finishes a segment (``save_new_stems``,
called by index/runs/builder.py); workers write concurrently, and sqlite serialises
them. A table that is damaged (not a database, or failing sqlite's quick check)
is removed by the indexing run before it starts its workers (``repair``, called
by index/runs/writer.py), so the run starts a new one.

A table only holds the words of the files indexed since it was created: an
index made before stem tables existed, or whose table was removed, gets a
complete one with ``searcher index --rebuild``. Until then the words it lacks
cost an nltk import, nothing else.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

FORMAT = "1"
_LANGUAGE = re.compile(r"[a-z]{1,32}")
# Each indexing worker waits this long for another one to finish writing.
_BUSY_SECONDS = 30.0
# A query waits at most this long for a worker's commit, then stems with nltk.
_READ_WAIT_SECONDS = 0.2
# Rows per INSERT batch: bounds the memory of one executemany.
_BATCH = 5000


def table_path(index_dir: str | os.PathLike, language: str) -> Path | None:
    """Where the table of ``language`` lives; None for a name that cannot be a file name."""
    if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
        return None
    return Path(index_dir) / f"stems-{language}.sqlite"


class StemTable:
    """Read-only lookups in one stem table, opened on first use.

    Any error (no file, not a database, another format) turns the table off:
    every lookup then answers None, and the caller stems the word itself.
    """

    # A process that looks up many words (a question's expansion reads thousands of
    # passages) loads a small table whole: one scan instead of a query per word (78 ms
    # against 300 ms for the 44,718 words of the Python docs' table). A large table stays
    # on disk: loading it would cost more than the lookups it saves.
    LOAD_AFTER = 1_000
    LOAD_MAX_BYTES = 4 << 20

    def __init__(self, path: Path):
        self.path = path
        self._db = None
        self._usable = True
        self._lookups = 0
        self._all: dict[str, str] | None = None

    def _connection(self):
        if self._db is None and self._usable:
            import sqlite3

            try:
                if not self.path.is_file():
                    raise OSError("no stem table")
                # A short wait: while an indexing worker commits, stemming words is quicker.
                db = sqlite3.connect(self.path.absolute().as_uri() + "?mode=ro", uri=True,
                                     timeout=_READ_WAIT_SECONDS, check_same_thread=False)
                row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                if row is None or row[0] != FORMAT:
                    db.close()
                    raise OSError("unknown stem table format")
                self._db = db
            except (OSError, sqlite3.Error):
                self._usable = False
        return self._db

    def get(self, word: str) -> str | None:
        if self._all is not None:
            return self._all.get(word)
        db = self._connection()
        if db is None:
            return None
        import sqlite3

        self._lookups += 1
        try:
            if self._lookups == self.LOAD_AFTER and self.path.stat().st_size <= self.LOAD_MAX_BYTES:
                self._all = dict(db.execute("SELECT word, stem FROM stems"))
                return self._all.get(word)
            row = db.execute("SELECT stem FROM stems WHERE word = ?", (word,)).fetchone()
        except (sqlite3.Error, OSError):
            self.close()
            self._usable = False
            self._all = None
            return None
        return row[0] if row is not None else None

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except Exception:
                pass
            self._db = None


def stem_filters(schema):
    """The SnowballStemFilter objects of a schema's analyzers (a field may share one with another)."""
    from searcher.index.text.analysis import SnowballStemFilter

    found = {}
    for name in schema.names():
        analyzer = getattr(schema[name], "analyzer", None)
        for item in getattr(analyzer, "items", ()) or ():
            if isinstance(item, SnowballStemFilter):
                found[id(item)] = item
    return list(found.values())


def attach(schema, index_dir: str | os.PathLike) -> None:
    """Let the stemmers of ``schema`` look words up in the index's stem table before nltk."""
    tables: dict[str, StemTable | None] = {}
    for stem_filter in stem_filters(schema):
        language = stem_filter.language
        if language not in tables:
            path = table_path(index_dir, language)
            tables[language] = StemTable(path) if path is not None else None
        stem_filter.table = tables[language]


def with_stem_tables(ix, index_dir: str | os.PathLike):
    """``ix`` for querying: its schema read once and kept, its stemmers backed by the stem tables.

    whoosh unpickles a new schema from the index's table of contents on every
    ``ix.schema`` (and so would drop the tables); a schema given to FileIndex is
    used as it is. If anything goes wrong, ``ix`` is returned unchanged.
    """
    from searcher.index.storage.whoosh_private import FileIndex

    try:
        schema = ix.schema
        attach(schema, index_dir)
        return FileIndex(ix.storage, schema=schema, indexname=ix.indexname)
    except Exception:  # the index is opened again, and errors reported, by whoever uses it
        return ix


def save_new_stems(index_dir: str | os.PathLike, schema) -> None:
    """Add the words the stemmers of ``schema`` stemmed (and the stop list) to the stem tables.

    Best effort: a table that cannot be written just misses these words, which
    costs query speed and nothing else.
    """
    from searcher.index.text.analysis import stopwords_for

    for stem_filter in stem_filters(schema):
        rows = stem_filter.new_stems
        for word in stopwords_for(stem_filter.language):
            if word not in rows:
                rows[word] = stem_filter.stem(word)
        stem_filter.new_stems = {}
        path = table_path(index_dir, stem_filter.language)
        if path is not None and rows:
            _insert(path, stem_filter.language, rows)


def _insert(path: Path, language: str, rows: dict[str, str]) -> None:
    import sqlite3

    try:
        db = sqlite3.connect(path, timeout=_BUSY_SECONDS)
    except (OSError, sqlite3.Error):
        return
    try:
        with db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS stems (word TEXT PRIMARY KEY, stem TEXT NOT NULL) WITHOUT ROWID")
            db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?), ('language', ?)", (FORMAT, language))
            found = dict(db.execute("SELECT key, value FROM meta"))
            if found.get("format") != FORMAT or found.get("language") != language:
                return  # not a table this code made: leave it (repair() removes it)
            items = list(rows.items())
            for i in range(0, len(items), _BATCH):
                db.executemany("INSERT OR IGNORE INTO stems VALUES (?, ?)", items[i:i + _BATCH])
    except (OSError, sqlite3.Error):
        pass
    finally:
        db.close()


def repair(index_dir: str | os.PathLike) -> None:
    """Remove the stem tables that cannot be read, so that the next writes start new ones.

    Only for an indexing run (which holds the index's lock) before it starts its workers.
    """
    for path in Path(index_dir).glob("stems-*.sqlite"):
        table = StemTable(path)
        try:
            usable = table._connection() is not None and _readable(table._db)
        finally:
            table.close()
        if not usable:
            for suffix in ("", "-journal", "-wal", "-shm"):
                try:
                    os.remove(f"{path}{suffix}")
                except OSError:
                    pass


def _readable(db) -> bool:
    import sqlite3

    try:
        return db.execute("PRAGMA quick_check").fetchone() == ("ok",)
    except sqlite3.Error:
        return False
