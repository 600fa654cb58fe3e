"""The whoosh schema of a searcher index, and the version that guards it."""

from __future__ import annotations

from whoosh.fields import ID, STORED, TEXT, Schema

from searcher.index.storage.whoosh_private import file_column
from searcher.index.text.analysis import make_path_analyzer, make_text_analyzer

# Bump whenever the schema or the analysis changes what is stored in an index;
# an index of another version is refused with a message to rebuild it, unless it is
# one of READABLE_VERSIONS. 2: CJK runs as bigrams (index/text/cjk.py); a schema-1 index
# keeps its own analysis (its pickled tokenizer has cjk off) and still answers queries.
# 3: the text fields' postings only in the flat file (index/storage/flatpostings.py).
# 4: flat format 3, which earlier releases would take for damaged postings.
# 5: the ``file`` field no longer stored with each passage (earlier releases read it there),
# and shorter term infos for the terms held flat (index/storage/whoosh_private.py, ``_COMPACT``).
SCHEMA_VERSION = 5
READABLE_VERSIONS = (1, 2, 3, 4, 5)

# Fields a user may name in a query (``title:``, ``path:``, ``body:``).
SEARCHABLE_FIELDS = ("title", "body", "path")


def make_schema(language: str = "english") -> Schema:
    text = make_text_analyzer(language)
    return Schema(
        # The file's absolute path: the key for deleting a file's passages and
        # for capping hits per file. Its column holds each path once and a number per
        # passage (whoosh's default, VarBytes, a path per passage: indexes made
        # before schema 4 keep theirs, as their pickled schema says). Not stored:
        # a hit's path is read through the file numbers (searcher/engine/statistics.py,
        # ``passage_file``); in each passage's stored dict it was a sixth of the stored
        # bytes. Indexes made before schema 5 store it, as their pickled schema says.
        file=ID(stored=False, sortable=file_column()),
        path=TEXT(analyzer=make_path_analyzer(), stored=False, phrase=True),
        title=TEXT(analyzer=text, stored=True, phrase=True),
        body=TEXT(analyzer=text, stored=True, phrase=True),
        start_line=STORED,
        end_line=STORED,
        position=STORED,
        page=STORED,
        # The nearest heading above the passage (index/reading/outline.py): shown, not searched.
        # Added without a new schema version: an index made before it has no such field,
        # stores no sections and shows titles alone (index/runs/builder.py leaves the field out).
        section=STORED,
    )
