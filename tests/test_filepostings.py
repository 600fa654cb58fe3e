"""Per-file postings (index/storage/filepostings.py): written at a run's end, read by ranking
in place of the walk over passage postings, with the same results; absent, partly
deleted or damaged, the walk answers instead."""

from __future__ import annotations

import random
from collections import Counter
from itertools import groupby
from pathlib import Path

import pytest

from searcher.engine import ranking, statistics
from searcher.engine.search import SearchSession
from searcher.index.runs.writer import build_index
from searcher.index.storage import filepostings, rankstats
from searcher.index.storage.flatpostings import flat_postings
from searcher.index.storage.whoosh_private import field_term_infos, term_info

WORDS = "flow heat wing shock plate cone boundary layer pressure transfer speed mach jet".split()


def _write(docs: Path, i: int, rng: random.Random) -> None:
    paragraphs = [f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} and {rng.choice(WORDS)}"]
    for _ in range(rng.randint(1, 5)):
        paragraphs.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 60))) + ".")
    (docs / f"f{i:03}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


def _index(root: Path, monkeypatch, replace: bool) -> Path:
    """120 files of one to five passages of common words (every word gets entries:
    MIN_POSTINGS 1, RUN_SHARE 1); ``replace``: a second run writes some anew, their old passages
    left deleted in the first run's segment."""
    monkeypatch.setattr(filepostings, "MIN_POSTINGS", 1)
    monkeypatch.setattr(filepostings, "RUN_SHARE", 1.0)
    rng = random.Random(11)
    docs = root / "docs"
    docs.mkdir()
    for i in range(120):
        _write(docs, i, rng)
    build_index([docs], root / "index", jobs=0)
    if replace:
        for i in range(0, 120, 7):
            _write(docs, i, rng)
        build_index([docs], root / "index", jobs=0)
    return root / "index"


def side_files(index: Path) -> list[Path]:
    return sorted(index.glob("*" + filepostings.EXT))


@pytest.fixture
def replaced(tmp_path, monkeypatch):
    return _index(tmp_path, monkeypatch, replace=True)


def _walk_without(stats, fieldname, key, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(statistics._Segment, "file_entries", lambda self: None)
        return ranking.term_walk(stats, fieldname, key)


def _terms(reader, fieldname):
    return sorted({text for seg_reader, _ in _leaves(reader) for text in _field_texts(seg_reader, fieldname)})


def _leaves(reader):
    from searcher.index.storage.rankstats import leaves

    return leaves(reader)


def _field_texts(seg_reader, fieldname):
    return [t for t in seg_reader.lexicon(fieldname)]


def test_entries_are_the_passage_postings_summed_by_run(replaced):
    """Round trip: each entry is a run of one file's passages, its count the body's sum
    (the title's: the run's last passage's), exactly the postings grouped by run."""
    assert side_files(replaced)
    with SearchSession(replaced) as s:
        reader = s.searcher.reader()
        checked = 0
        for seg_reader, _ in _leaves(reader):
            held = filepostings.file_postings(seg_reader)
            assert held is not None and len(held)
            starts = list(held.runs)
            refs = list(rankstats._file_column(seg_reader, seg_reader.doc_count_all())[0])
            assert starts == [i for i in range(len(refs)) if i == 0 or refs[i] != refs[i - 1]]
            flat = flat_postings(seg_reader)
            for fieldname in filepostings.FIELDS:
                for info in field_term_infos(seg_reader, fieldname):
                    term = flat.term(info)
                    run_of = [max(r for r, start in enumerate(starts) if start <= d) for d in term.ids]
                    expected = []
                    for run, group in groupby(zip(run_of, term.tfs), key=lambda pair: pair[0]):
                        tfs = [tf for _, tf in group]
                        expected.append((run, tfs[-1] if fieldname == "title" else sum(tfs)))
                    got = held.term(info)
                    assert got is not None
                    assert list(zip(*got)) == expected
                    checked += 1
        assert checked > 50


@pytest.mark.parametrize("fieldname", ["body", "title"])
def test_walk_with_and_without_per_file_postings_is_the_same(replaced, monkeypatch, fieldname):
    """Blocks, df and {file: tf} (values, types, order), with deleted files in a segment."""
    with SearchSession(replaced) as s:
        reader = s.searcher.reader()
        stats = ranking.statistics(reader)
        assert any(seg.deleted for seg in stats.segments)
        assert all(seg.file_entries() is not None for seg in stats.segments)
        for text in _terms(reader, fieldname):
            key = text if type(text) is bytes else text.encode()
            with_, df, file_tf = ranking.term_walk(stats, fieldname, key)
            plain, plain_df, plain_tf = _walk_without(stats, fieldname, key, monkeypatch)
            assert df == plain_df
            assert list(file_tf.items()) == list(plain_tf.items())
            assert [type(v) for v in file_tf.values()] == [type(v) for v in plain_tf.values()]
            assert [(o, list(i), list(t)) for o, i, t in with_] == [(o, list(i), list(t)) for o, i, t in plain]


def _search_all(index: Path) -> list:
    found = []
    with SearchSession(index) as s:
        for text in ["flow", "heat transfer", "wing shock cone jet", "boundary layer pressure speed mach plate",
                     '"heat transfer"', "title:wing flow", "+flow -heat", "pres*", "jet^2 mach", "flow AND cone"]:
            for limit, per_file in ((10, 2), (50, None), (5, 1)):
                r = s.search(text, limit=limit, per_file=per_file, highlight=False, exact_total=True)
                found.append((text, r.total, [(h.path, h.start_line, repr(h.score)) for h in r.hits]))
    return found


def test_results_are_the_same_without_the_files(replaced):
    with_files = _search_all(replaced)
    for path in side_files(replaced):
        path.unlink()
    assert _search_all(replaced) == with_files


def test_a_partly_deleted_file_makes_the_segment_walk(replaced):
    with SearchSession(replaced) as s:
        stats = ranking.statistics(s.searcher.reader())
        seg = next(seg for seg in stats.segments if not seg.deleted)
        held, _, dead = seg.file_entries()
        assert not dead
        starts = list(held.runs) + [seg.count]
        run = next(r for r in range(len(starts) - 1) if starts[r + 1] - starts[r] > 1)
        seg._file_entries, seg.deleted = None, frozenset(range(starts[run], starts[run + 1]))
        assert seg.file_entries()[2] == {run}  # a wholly deleted file: its run left out
        seg._file_entries, seg.deleted = None, frozenset({starts[run]})
        assert seg.file_entries() is None  # a partly deleted one: the walk counts that segment


def test_an_index_of_one_passage_per_file_gets_no_files(tmp_path, monkeypatch):
    monkeypatch.setattr(filepostings, "MIN_POSTINGS", 1)
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(30):
        (docs / f"n{i}.txt").write_text(f"flow heat {i}", encoding="utf-8")
    build_index([docs], tmp_path / "index", jobs=0)
    assert not side_files(tmp_path / "index")


def test_common_words_only_by_default(tmp_path):
    rng = random.Random(5)
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(120):
        _write(docs, i, rng)
    build_index([docs], tmp_path / "index", jobs=0)
    seen = Counter()
    with SearchSession(tmp_path / "index") as s:
        reader = s.searcher.reader()
        for seg_reader, _ in _leaves(reader):
            held = filepostings.file_postings(seg_reader)
            flat = flat_postings(seg_reader)
            starts = list(held.runs) if held is not None else []
            for fieldname in filepostings.FIELDS:
                for info in field_term_infos(seg_reader, fieldname):
                    n = info.doc_frequency()
                    runs = len({max(r for r, start in enumerate(starts) if start <= d) for d in flat.term(info).ids})
                    worth = n >= filepostings.MIN_POSTINGS and runs <= n * filepostings.RUN_SHARE
                    assert (held is not None and held.term(info) is not None) == worth
                    seen[worth] += 1
    assert seen[True] and seen[False]


def test_an_earlier_index_gains_the_files_on_its_next_run(tmp_path, monkeypatch):
    """An index written before the files existed (here: their writing turned off) gets them
    from an unchanged run, and old segments keep theirs while new ones are added."""
    monkeypatch.setattr(filepostings, "MIN_POSTINGS", 1)
    rng = random.Random(2)
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(40):
        _write(docs, i, rng)
    with monkeypatch.context() as m:
        m.setattr(filepostings, "save", lambda *args: True)
        build_index([docs], tmp_path / "index", jobs=0)
    assert not side_files(tmp_path / "index")
    build_index([docs], tmp_path / "index", jobs=0)
    first = side_files(tmp_path / "index")
    assert first
    for i in range(40, 60):
        _write(docs, i, rng)
    build_index([docs], tmp_path / "index", jobs=0)
    assert set(first) < set(side_files(tmp_path / "index"))


def _flip(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0x5A
    path.write_bytes(bytes(data))


def test_damaged_files_fall_back_to_the_walk(replaced):
    """Any byte changed, or the file cut short, gives the same results (the walk's), never an error."""
    expected = _search_all(replaced)
    path = side_files(replaced)[0]
    original = path.read_bytes()
    rng = random.Random(1)
    positions = sorted({*range(0, 48, 3), *rng.sample(range(len(original)), 12), len(original) - 1})
    for position in positions:
        _flip(path, position)
        assert _search_all(replaced) == expected, position
        path.write_bytes(original)
    for size in (0, 10, len(original) // 2, len(original) - 1):
        path.write_bytes(original[:size])
        assert _search_all(replaced) == expected, size
    path.write_bytes(original + b"\0")
    assert _search_all(replaced) == expected


def test_a_damaged_record_is_not_used(replaced):
    with SearchSession(replaced) as s:
        seg_reader, _ = _leaves(s.searcher.reader())[0]
        held = filepostings.file_postings(seg_reader)
        info = term_info(seg_reader, "body", b"flow")
        assert held.term(info) is not None
        i = held._keys.index(info._offset)
        start = held._offsets[i]
        data = bytearray(held._data)
        data[start + 12] ^= 1
        assert filepostings.FilePostings(bytes(data), held.doc_count, flat_postings(seg_reader).term_count
                                         ).term(info) is None


def test_the_cli_answers_the_same_with_and_without_the_files(replaced, run):
    args = [("query", "--index", str(replaced), "heat transfer flow"),
            ("query", "--index", str(replaced), "what is the pressure on a cone at mach speed near a wing"),
            ("query", "--index", str(replaced), "--files", "wing"),
            ("query", "--index", str(replaced), "--json", "--per-file", "3", "-n", "30", "flow jet")]
    with_files = [run(*a).output for a in args]
    assert all(with_files)
    for path in side_files(replaced):
        path.unlink()
    assert [run(*a).output for a in args] == with_files


def test_a_made_up_runs_table_is_refused(replaced):
    """A runs table that checks (its crc recomputed) but leaves the segment or goes back:
    the file is not used (the walk answers), never an error."""
    import struct
    from array import array
    from zlib import crc32

    expected = _search_all(replaced)
    path = side_files(replaced)[0]
    original = path.read_bytes()
    header = struct.Struct("=8sIIIIIIQ")
    docs, runs = header.unpack_from(original)[3], header.unpack_from(original)[5]
    where = header.size
    for change in ({runs - 1: docs + 5}, {0: 1}, {1: 0}):
        starts = array("I", original[where + 4:where + 4 + 4 * runs])
        for i, value in change.items():
            starts[i] = value
        path.write_bytes(original[:where] + struct.pack("=I", crc32(starts)) + bytes(starts)
                         + original[where + 4 + 4 * runs:])
        assert _search_all(replaced) == expected, change
    path.write_bytes(original)
