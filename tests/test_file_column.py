"""The ``file`` column names each passage's file, in segments of any number of files.

whoosh's RefBytesColumn writer keeps at most 65,535 distinct values in a segment and stores
the default (b"") for every later one: a segment of more files than that would read as one
huge file. Segments are written without that limit (whoosh_private.writing_column), and a
segment written with it has its lost paths read back from the stored fields.
"""

from __future__ import annotations

import io
import warnings

import pytest
from whoosh import columns
from whoosh.filedb.structfile import BufferFile, StructFile

from searcher.index.storage import rankstats
from searcher.index.storage.schema import make_schema
from searcher.index.storage.whoosh_private import file_column, writing_column

MANY = 70_000  # more distinct values than whoosh's writer keeps


def _written(column, values) -> bytes:
    out = io.BytesIO()
    writer = column.writer(StructFile(out))
    for docnum, value in enumerate(values):
        writer.add(docnum, value)
    writer.finish(len(values))
    return out.getvalue()


def _reader(column, data: bytes, count: int):
    return column.reader(BufferFile(data), 0, len(data), count)


def _paths(count: int, per_file: int = 1) -> list[bytes]:
    return [f"/docs/{n // per_file:06d}.txt".encode() for n in range(count)]


@pytest.mark.parametrize("count, per_file", [(5, 2), (600, 2), (1000, 1)])
def test_up_to_the_limit_the_bytes_are_whooshs(count, per_file):
    values = _paths(count, per_file)
    assert _written(writing_column(file_column()), values) == _written(file_column(), values)


def test_a_segment_of_more_files_than_whoosh_keeps_reads_back_every_path():
    values = _paths(MANY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # whoosh's writer warns as it drops a value
        data = _written(writing_column(file_column()), values)
    reader = _reader(file_column(), data, len(values))  # whoosh's own reader
    assert list(reader) == values
    assert reader[MANY - 1] == values[-1]


class _OldSegment:
    """A segment reader over a file column written by whoosh's own writer (paths past the
    65,535th lost), with each passage's path in its stored fields."""

    def __init__(self, values):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._data = _written(file_column(), values)
        self._values = values
        self.schema = make_schema("en")

    def column_reader(self, name, translate=False):
        assert name == "file"
        return _reader(file_column(), self._data, len(self._values))

    def stored_fields(self, docnum):
        return {"file": self._values[docnum].decode()}


def test_paths_lost_by_whooshs_writer_are_read_from_the_stored_fields():
    values = _paths(MANY, per_file=1)
    segment = _OldSegment(values)
    assert b"" in list(segment.column_reader("file")), "whoosh's writer no longer drops values: drop this test"
    refs, uniques = rankstats._file_column(segment, len(values))
    assert list(map(uniques.__getitem__, refs)) == values
    assert len(uniques) == MANY


def test_a_passage_with_no_path_anywhere_is_a_damaged_index():
    from searcher.index.errors import IndexDamaged

    values = _paths(MANY)
    segment = _OldSegment(values)
    segment.stored_fields = lambda docnum: {}
    with pytest.raises(IndexDamaged, match="rebuild"):
        rankstats._file_column(segment, len(values))


def test_statistics_saved_before_the_fix_are_not_trusted_for_a_segment_that_lost_paths():
    """Statistics saved by an earlier release grouped the lost paths as one file: they are
    computed again for such a segment (and only for one that can have lost paths)."""
    values = _paths(MANY)
    old = _OldSegment(values)
    old.doc_count_all = lambda: MANY
    assert rankstats._may_have_lost_files(old)

    new = _OldSegment(values)
    new._data = _written(writing_column(file_column()), values)
    new.doc_count_all = lambda: MANY
    assert not rankstats._may_have_lost_files(new)

    small = _OldSegment(values[:100])
    small.doc_count_all = lambda: 100
    assert not rankstats._may_have_lost_files(small)
