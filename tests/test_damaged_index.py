"""A damaged index folder, through the CLI: every command says in one line that the index is
damaged and how to rebuild it (exit status 2), never a traceback or "unexpected ...",
and ``searcher index --rebuild`` then answers again.

tests/test_faults.py covers whole files damaged (metadata, table of contents, a segment
cut or zeroed); these damage one structure inside a segment, as a flipped bit would,
and benchmarks/fuzz_faults.py does the same at random (a few seeded cases here).
"""

from __future__ import annotations

import os
import pickle
import struct
from array import array
from pathlib import Path

import pytest

from searcher.console import ExitStatus
from searcher.index.storage.flatpostings import flat_term
from searcher.index.storage.store import open_index

from benchmarks import fuzz_faults

QUERIES = [
    ("query", "security"),
    ("query", '"security in the Indo-Pacific"'),
    ("query", "how did the ministers pledge to uphold the rule of law and security in the region"),
    ("query", "secur*"),
    ("query", '"security region"~5'),
    ("query", "--json", "security"),
    ("query", "--", "security -rice"),
    ("query", "title:security"),
]


def assert_damaged(result, args=()):
    assert result.exit_code == ExitStatus.ERROR, (args, result.output)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "damaged" in lines[0] and "--rebuild" in lines[0], (args, lines)
    assert "unexpected" not in lines[0] and "Traceback" not in result.output


def segment_files(index_dir: Path) -> list[Path]:
    return sorted(index_dir.glob("*.seg"))


def term_ids(index_dir: Path, fieldname: str, word: bytes) -> array:
    ix = open_index(index_dir)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        for sub in getattr(reader, "readers", [reader]):
            term = flat_term(sub, fieldname, word)
            if term is not None:
                return array("I", term.ids)
    pytest.fail(f"no flat postings of {word!r}")


def overwrite_id(monkeypatch, index_dir: Path, fieldname: str, word: bytes, new_id: int,
                 at: int | None = None) -> None:
    """One posting id of a term read as ``new_id``, as a record written wrongly (or an index
    folder made to look right) would hold it: past the checksum of flat format 3, which
    finds damaged bytes (tests/test_flatpostings.py flips them), what the id checks find."""
    from searcher.index.storage.flatpostings import FlatPostings, FlatTerm

    ids = term_ids(index_dir, fieldname, word)
    assert len(ids) >= 3
    at = len(ids) // 2 if at is None else at
    target = (len(ids), ids[0], ids[-1])
    original = FlatPostings._read

    def read(data, terminfo):
        term = original(data, terminfo)
        if term is not None and (len(term.ids), term.ids[0], term.ids[-1]) == target:
            changed = array("I", term.ids)
            changed[at] = new_id
            term = FlatTerm(changed, term.tfs, term.checkpoints, term.positions)
        return term

    monkeypatch.setattr(FlatPostings, "_read", staticmethod(read))


@pytest.fixture
def bigger(corpus) -> Path:
    """The corpus with more passages holding "security", so that its postings have a middle."""
    for i in range(6):
        (corpus / f"security{i}.txt").write_text(
            f"Regional note {i}\n\nThe region's security rests on treaties {i}. Security in the region matters.\n",
            encoding="utf-8")
    return corpus


@pytest.mark.parametrize("new_id", [10_000, 2**32 - 1], ids=["past-the-count", "largest"])
def test_a_posting_id_past_the_document_count_reads_as_damaged(bigger, index_location, run, new_id, monkeypatch):
    assert run("index", bigger).exit_code == 0
    overwrite_id(monkeypatch, index_location, "body", b"secur", new_id)
    for args in QUERIES[:-1]:  # (title:security is not in the body's postings)
        assert_damaged(run(*args), args)
    monkeypatch.undo()
    assert run("index", "--rebuild", bigger).exit_code == 0
    assert run("query", "security").exit_code == ExitStatus.FOUND


def test_a_posting_id_out_of_order_never_fails(bigger, index_location, run, monkeypatch):
    """An id flipped lower stays within the segment: the answer may be wrong, the query
    still ends (the checks do not pay for an order test; index/storage/flatpostings.py)."""
    assert run("index", bigger).exit_code == 0
    overwrite_id(monkeypatch, index_location, "body", b"secur", 0)
    for args in QUERIES:
        result = run(*args)
        assert result.exit_code in (ExitStatus.FOUND, ExitStatus.NOTHING_FOUND, ExitStatus.ERROR), (args, result.output)
        assert "unexpected" not in result.output and "Traceback" not in result.output


def test_a_missing_segment_file_reads_as_damaged(corpus, index_location, run):
    assert run("index", corpus).exit_code == 0
    for segment in segment_files(index_location):
        segment.unlink()
    for args in (*QUERIES, ("status",), ("show", corpus / "lithuania.md")):
        assert_damaged(run(*args), args)
    assert run("index", "--rebuild", corpus).exit_code == 0
    assert run("query", "rice").exit_code == ExitStatus.FOUND


def test_a_segment_replaced_by_a_folder_reads_as_damaged(corpus, index_location, run):
    assert run("index", corpus).exit_code == 0
    for segment in segment_files(index_location):
        segment.unlink()
        segment.mkdir()
    assert_damaged(run("query", "rice"))
    assert run("index", "--rebuild", corpus).exit_code == 0
    assert run("query", "rice").exit_code == ExitStatus.FOUND


def _part(segment: Path, suffix: str) -> tuple[int, int]:
    parts = fuzz_faults.compound_parts(segment)
    (name,) = [n for n in parts if n.endswith(suffix)]
    return parts[name]


def test_a_terms_table_whose_field_map_is_lost_reads_as_damaged(corpus, index_location, run):
    """The terms file ends with a pickled table (the field map) and its length: one that
    reads as an empty table made whoosh fail later on a KeyError."""
    assert run("index", corpus).exit_code == 0
    (segment,) = segment_files(index_location)
    offset, length = _part(segment, ".trm")
    data = bytearray(segment.read_bytes())
    end = offset + length
    empty = pickle.dumps({}, 2)
    data[end - 4 - len(empty):end] = empty + struct.pack("!i", len(empty))
    segment.write_bytes(bytes(data))
    for args in (("query", "rice"), ("status",)):
        assert_damaged(run(*args), args)
    assert run("index", "--rebuild", corpus).exit_code == 0
    assert run("query", "rice").exit_code == ExitStatus.FOUND


def test_a_zeroed_length_byte_never_fails_a_query(corpus, index_location, run):
    """A passage's length byte of 0 in a field's lengths column (whoosh read it as None)."""
    assert run("index", corpus).exit_code == 0
    (segment,) = segment_files(index_location)
    offset, length = _part(segment, "_path_len.col")
    data = bytearray(segment.read_bytes())
    data[offset:offset + length] = bytes(length)
    segment.write_bytes(bytes(data))
    for args in (("query", "path:notes", "rice"), ("query", "path:notes"), ("query", "rice")):
        result = run(*args)
        assert result.exit_code in (ExitStatus.FOUND, ExitStatus.NOTHING_FOUND), (args, result.output)


def test_seeded_damage_never_gives_a_traceback(tmp_path, monkeypatch):
    """A few cases of benchmarks/fuzz_faults.py (its long run is the benchmark)."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    failed = fuzz_faults.fuzz(seed=7, cases=14, timeout=60, reindex_every=7)
    assert not failed, "\n".join(f"{case}: {case.failures[0][:3]}\n{case.failures[0][3]}" for case in failed)


@pytest.mark.parametrize("kind", ["folder", "fifo", "symlink"])
def test_a_lock_file_that_is_not_a_file_is_one_line_and_nothing_is_written_through_it(
        corpus, index_location, run, tmp_path, kind):
    assert run("index", corpus).exit_code == 0
    lock = index_location / "searcher.lock"
    lock.unlink()
    precious = tmp_path / "precious.txt"
    precious.write_text("mine\n")
    if kind == "folder":
        lock.mkdir()
    elif kind == "fifo":
        os.mkfifo(lock)
    else:  # a shared index folder pointing its lock at a file of the user's
        lock.symlink_to(precious)
    result = run("index", "--wait", "0", corpus)
    assert result.exit_code == ExitStatus.ERROR, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "searcher.lock is not a regular file" in lines[0], lines
    assert precious.read_text() == "mine\n"
    assert run("query", "rice").exit_code == ExitStatus.FOUND  # queries need no lock
    assert run("status").exit_code == 0


def test_a_term_info_pointing_where_no_postings_start_reads_as_damaged():
    """A flipped bit in the terms file can point a term held in whoosh's postings file
    (the file field, an index of an earlier release) into the middle of another block:
    whoosh raised a bare Exception ("Block tag error"), which the CLI cannot tell from a bug."""
    from types import SimpleNamespace

    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.filedb.structfile import BufferFile

    from searcher.index.storage.whoosh_private import DAMAGED_DATA_ERRORS, use_searcher_readers

    use_searcher_readers()
    matcher = SimpleNamespace(_postfile=BufferFile(b"\x80\x02(junk and more"), _startoffset=0)
    with pytest.raises(DAMAGED_DATA_ERRORS):
        W3LeafMatcher._read_header(matcher)


def test_a_folder_in_place_of_the_metadata_is_one_line_for_every_command(corpus, index_location, run):
    assert run("index", corpus).exit_code == 0
    meta = index_location / "searcher.json"
    meta.unlink()
    meta.mkdir()
    for args in (("query", "rice"), ("status",), ("index", corpus), ("index", "--rebuild", corpus)):
        result = run(*args)
        assert result.exit_code == ExitStatus.ERROR, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "unexpected" not in lines[0], (args, lines)
    assert not list(index_location.glob("searcher.json.*.tmp"))
