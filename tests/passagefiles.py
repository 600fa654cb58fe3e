"""A passage's file path as tests read it: from the ``file`` column, not from the stored
fields, which leave the path out since schema 5 (index/storage/schema.py)."""

from __future__ import annotations


def file_of(reader, docnum: int) -> str:
    """The path of the file passage ``docnum`` (global) is from."""
    # A column reader reads all of a segment's paths when made: one per reader.
    files = getattr(reader, "_test_file_column", None)
    if files is None:
        files = reader._test_file_column = reader.column_reader("file")
    return files[docnum]


def live_passages(searcher):
    """Every live passage's stored fields with its file's path under ``file``."""
    reader = searcher.reader()
    files = reader.column_reader("file")
    for docnum in reader.all_doc_ids():
        fields = reader.stored_fields(docnum)
        assert "file" not in fields or fields["file"] == files[docnum]
        fields["file"] = files[docnum]
        yield fields
