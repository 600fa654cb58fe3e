"""Filters on files' metadata (modified:, size:, ext:), --changed-within and --sort."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime

import pytest
from hypothesis import given, strategies as st

from searcher.console import ExitStatus
from searcher.errors import QueryError
from searcher.parse.filters import Bounds, make_filter, parse_duration, split_filters

DAY = 86400


def paths_of(result) -> list[str]:
    assert result.exit_code in (0, 1), result.output
    names = [os.path.basename(json.loads(line)["path"]) for line in result.stdout.splitlines()]
    return list(dict.fromkeys(names))  # a file's passages: once


@pytest.fixture
def dated(tmp_path, run):
    """Three files about rice: old and small, recent and large, recent PDF-less markdown."""
    root = tmp_path / "dated"
    root.mkdir()
    files = {
        "old.txt": ("Rice in 2023\n\nRice grew well that year.\n", datetime(2023, 5, 10).timestamp()),
        "big.md": ("# Rice harvest\n\nRice harvest notes. " + "More notes on the harvest. " * 200 + "\n",
                   time.time() - 3 * DAY),
        "new.txt": ("Rice today\n\nWe cooked rice and beans.\n", time.time() - 3600),
    }
    for name, (text, mtime) in files.items():
        path = root / name
        path.write_text(text, encoding="utf-8")
        os.utime(path, (mtime, mtime))
    assert run("index", root).exit_code == 0
    return root


def test_ext_filter_keeps_only_that_extension(dated, run):
    assert paths_of(run("query", "rice ext:md", "--json")) == ["big.md"]
    assert set(paths_of(run("query", "rice ext:txt,.MD", "--json"))) == {"old.txt", "new.txt", "big.md"}
    assert set(paths_of(run("query", "rice -ext:md", "--json"))) == {"old.txt", "new.txt"}


def test_modified_filters_by_duration_and_by_month_range(dated, run):
    assert set(paths_of(run("query", "rice modified:>2w", "--json"))) == {"big.md", "new.txt"}
    assert paths_of(run("query", "rice modified:>1d", "--json")) == ["new.txt"]
    assert paths_of(run("query", "rice modified:<1y", "--json")) == ["old.txt"]
    assert paths_of(run("query", "rice modified:2023-01..2023-06", "--json")) == ["old.txt"]
    assert paths_of(run("query", "rice modified:2023-05", "--json")) == ["old.txt"]
    assert paths_of(run("query", "rice modified:2023-06..2023-12", "--json")) == []


def test_size_filter(dated, run):
    assert paths_of(run("query", "rice size:>1K", "--json")) == ["big.md"]
    assert set(paths_of(run("query", "rice size:<1K", "--json"))) == {"old.txt", "new.txt"}
    assert paths_of(run("query", "rice size:1K..1M", "--json")) == ["big.md"]


def test_filters_combine_with_phrases_and_structured_queries(dated, run):
    assert paths_of(run("query", '"rice and beans" modified:>1w', "--json")) == ["new.txt"]
    filtered_out = run("query", '"rice and beans" modified:<1w', "--json")
    assert paths_of(filtered_out) == []
    assert "the phrase \"rice and beans\" in the files the filters keep" in filtered_out.stderr
    # +word goes through whoosh's matcher, not the ranking engine: the filter still applies.
    assert paths_of(run("query", "+rice +harvest ext:txt", "--json")) == []
    assert paths_of(run("query", "+rice harvest ext:md size:>1K", "--json")) == ["big.md"]


def test_filter_inside_a_phrase_is_text(dated, run):
    result = run("query", '"ext:md"', "--json")
    assert result.exit_code == ExitStatus.NOTHING_FOUND


def test_changed_within_option(dated, run):
    assert set(paths_of(run("query", "rice", "--changed-within", "2w", "--json"))) == {"big.md", "new.txt"}
    result = run("query", "rice", "--changed-within", "3m")
    assert result.exit_code == ExitStatus.ERROR
    assert "min for minutes, mo for months" in result.output


def test_sort_by_modified_and_path(dated, run):
    assert paths_of(run("query", "rice", "--sort", "modified", "--json", "--per-file", "1")) == \
        ["new.txt", "big.md", "old.txt"]
    assert paths_of(run("query", "rice", "--sort", "path", "--json", "--per-file", "1")) == \
        ["big.md", "new.txt", "old.txt"]
    # The page is cut after sorting: the oldest file is on the last page.
    assert paths_of(run("query", "rice", "--sort", "modified", "--json", "--per-file", "1",
                        "--limit", "1", "--page", "3")) == ["old.txt"]
    hit = json.loads(run("query", "beans", "--sort", "path", "--json").stdout.splitlines()[0])
    assert [h["text"] for h in hit["highlights"]] == ["beans"]


def test_explain_shows_filters_in_words(dated, run):
    result = run("query", "--explain", "rice ext:md modified:2023-01..2023-06 size:>1M")
    assert "only in:" in result.output
    assert "files with the extension .md" in result.output
    assert "from 2023-01-01 00:00 to before 2023-07-01 00:00" in result.output
    assert "a size over 1 MiB  (size:>1M)" in result.output


@pytest.mark.parametrize("query, message", [
    ("rice ext:", "needs a value"),
    ("rice size:1M", "compare a size"),
    ("rice size:>big", "not a size"),
    ("rice modified:2024-13", "not a date"),
    ("rice modified:soon", "neither a date"),
    ("rice modified:3m", "mo for months"),
    ("ext:md size:>1K", "only filters"),
])
def test_bad_filters_are_one_line_errors(dated, run, query, message):
    result = run("query", query)
    assert result.exit_code == ExitStatus.ERROR
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_split_filters_leaves_the_rest_and_quotes_alone():
    text, filters = split_filters('rice "ext:md" ext:pdf -size:>1K title:x', now=0)
    assert text == 'rice "ext:md" title:x'
    assert [(f.name, f.negated) for f in filters] == [("ext", False), ("size", True)]


def test_month_range_bounds_are_whole_months():
    f = make_filter("modified", "2024-01..2024-06")
    assert f.bounds == Bounds(datetime(2024, 1, 1).timestamp(), datetime(2024, 7, 1).timestamp())
    december = make_filter("modified", "2024-12")
    assert december.bounds.high == datetime(2025, 1, 1).timestamp()


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**12))
def test_size_comparisons_partition_the_sizes(size, limit):
    above = make_filter("size", f">{limit}")
    at_most = make_filter("size", f"<={limit}")
    assert above.keeps("a.txt", 0, size) != at_most.keeps("a.txt", 0, size)


@given(st.integers(min_value=1, max_value=1000), st.sampled_from(["s", "min", "h", "d", "w", "mo", "y"]))
def test_duration_filter_and_its_negation_split_time(amount, unit):
    now = 2_000_000_000.0
    recent = make_filter("modified", f">{amount}{unit}", now=now)
    moment = now - parse_duration(f"{amount}{unit}")
    assert recent.keeps("a", moment + 1, 0) and not recent.keeps("a", moment - 1, 0)


def test_parse_duration_rejects_bare_numbers():
    with pytest.raises(QueryError):
        parse_duration("12")


@given(st.lists(st.tuples(st.sampled_from(["a.txt", "B.PDF", "c.md", "d", "e.tar.gz", "f.Md"]),
                          st.integers(min_value=0, max_value=4 * 10**9), st.integers(min_value=0, max_value=10**7)),
                max_size=20),
       st.sampled_from(["ext:md", "-ext:pdf,txt", "size:>1M", "size:10K..2M", "-size:<500K",
                        "modified:>1y", "modified:2024-01..2024-06", "-modified:<=2023"]))
def test_the_manifest_query_keeps_what_keeps_keeps(rows, token):
    import sqlite3

    _, (f,) = split_filters(token, now=1.7e9)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE files (path TEXT, mtime_ns INTEGER, size INTEGER)")
    rows = [(f"/x/{i}{name}", seconds * 10**9, size) for i, (name, seconds, size) in enumerate(rows)]
    db.executemany("INSERT INTO files VALUES (?, ?, ?)", rows)
    clause, params = f.sql()
    kept = {path for (path,) in db.execute(f"SELECT path FROM files WHERE {clause}", params)}
    assert kept == {path for path, ns, size in rows if f.keeps(path, ns / 1e9, size)}
