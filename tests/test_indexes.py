"""Named indexes, `searcher list`, and several indexes searched as one ranking (-I, --all)."""

from __future__ import annotations

import json

import pytest

from searcher.console import ExitStatus

NOTES = {
    "rice.txt": "Rice notes\n\nCook rice with water. Rice is good with beans.\n",
    "beans.txt": "Beans\n\nBeans and lentils, soaked overnight.\n",
}
PAPERS = {
    "study.txt": "Rice paper\n\nA study of rice yields in Asia and rice prices.\n",
    **{f"wheat{i}.txt": f"Wheat report {i}\n\nWheat yields in region {i} were measured.\n" for i in range(5)},
}


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def write(root, files):
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def two(tmp_path, data_home, run):
    """Indexes "notes" and "papers", and one index at a path holding both folders."""
    notes = write(tmp_path / "both" / "notes", NOTES)
    papers = write(tmp_path / "both" / "papers", PAPERS)
    assert run("index", "--name", "notes", notes).exit_code == 0
    assert run("index", "--name", "papers", papers).exit_code == 0
    assert run("index", "--index", tmp_path / "together", tmp_path / "both").exit_code == 0
    return tmp_path


def ranked(result) -> list[tuple[str, int, float, str | None]]:
    assert result.exit_code in (0, 1), result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return [(row["path"], row["start_line"], row["score"], row.get("index")) for row in rows]


def test_named_index_lives_under_the_data_folder_and_answers_by_name(two, data_home, run):
    assert (data_home / "searcher" / "indexes" / "notes" / "searcher.json").exists()
    result = run("query", "--index", "notes", "lentils", "--json")
    assert [row[0].rsplit("/", 1)[-1] for row in ranked(result)] == ["beans.txt"]
    assert "notes" in run("status", "--index", "notes").output


def test_list_shows_every_index(two, run):
    result = run("list")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["notes", "papers"]  # no default index was made
    rows = [json.loads(line) for line in run("list", "--json").stdout.splitlines()]
    assert [(r["name"], r["files"]) for r in rows] == [("notes", 2), ("papers", 6)]


@pytest.mark.parametrize("query", ["rice", "rice yields wheat report study", '"rice yields"',
                                   "+rice +yields", "wheat*", "rice -beans"])
def test_merged_ranking_is_the_ranking_of_one_index_holding_everything(two, run, query):
    together = ranked(run("query", "--index", two / "together", query, "--json", "--no-expand"))
    merged = ranked(run("query", "-I", "notes,papers", query, "--json"))
    assert together, query
    assert [row[:2] for row in merged] == [row[:2] for row in together]
    assert [row[2] for row in merged] == pytest.approx([row[2] for row in together], rel=1e-6)
    assert {row[3] for row in merged} <= {"notes", "papers"}


@pytest.mark.parametrize("query", ["rice", "rice yields wheat report study", '"rice yields"'])
def test_merged_ranking_shares_the_counts_dfr_needs(two, run, query, monkeypatch):
    from searcher.engine import statistics

    monkeypatch.setattr(statistics, "WEIGHTING", "ineb2")  # (weighs by total counts as well as df)
    together = ranked(run("query", "--index", two / "together", query, "--json", "--no-expand"))
    merged = ranked(run("query", "-I", "notes,papers", query, "--json"))
    assert together, query
    assert [row[:2] for row in merged] == [row[:2] for row in together]
    assert [row[2] for row in merged] == pytest.approx([row[2] for row in together], rel=1e-6)


def test_hits_name_their_index(two, run):
    rows = ranked(run("query", "-I", "notes,papers", "rice", "--json"))
    assert {(path.rsplit("/", 1)[-1], index) for path, _, _, index in rows} == \
        {("rice.txt", "notes"), ("study.txt", "papers")}
    text = run("query", "-I", "notes,papers", "rice", "--color", "never").output
    assert "Rice notes  [notes]" in text and "Rice paper  [papers]" in text
    # One index: no names.
    assert "[notes]" not in run("query", "--index", "notes", "rice", "--color", "never").output


def test_all_includes_the_default_index(two, run, tmp_path):
    extra = write(tmp_path / "extra", {"millet.txt": "Millet\n\nMillet and rice porridge.\n"})
    assert run("index", extra).exit_code == 0  # the default index ($SEARCHER_INDEX in tests)
    rows = ranked(run("query", "--all", "rice", "--json"))
    assert {index for *_, index in rows} == {"default", "notes", "papers"}
    assert run("list").stdout.splitlines()[0].split()[0] == "default"


def test_paging_and_filters_across_indexes(two, run):
    every = ranked(run("query", "-I", "notes,papers", "yields rice", "--json", "--limit", "50"))
    second = ranked(run("query", "-I", "notes,papers", "yields rice", "--json", "--limit", "2", "--page", "2"))
    assert second == every[2:4]
    only_md = ranked(run("query", "-I", "notes,papers", "rice ext:md", "--json"))
    assert only_md == []


@pytest.mark.parametrize("args, message", [
    (["query", "-I", "notes,nosuch", "rice"], "no index at"),
    (["query", "-I", ",", "rice"], "-I needs index names"),
    (["query", "-I", "notes", "--index", "papers", "rice"], "choose one of --index"),
    (["index", "--name", "a/b", "."], "is not an index name"),
    (["index", "--name", "x", "--index", "y", "."], "choose one of --name and --index"),
])
def test_mistakes_are_one_line_errors(two, run, args, message):
    result = run(*args)
    assert result.exit_code == ExitStatus.ERROR
    assert message in result.output
    assert "Traceback" not in result.output


def test_list_without_indexes_says_how_to_make_one(data_home, run):
    result = run("list")
    assert result.exit_code == 0
    assert "no indexes yet" in result.output


def test_a_folder_here_is_still_a_path(tmp_path, data_home, run, monkeypatch):
    docs = write(tmp_path / "docs", {"a.txt": "Quinoa\n\nQuinoa salad.\n"})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "idx").mkdir()
    assert run("index", "--index", "idx", docs).exit_code == 0
    assert (tmp_path / "idx" / "searcher.json").exists()
    assert not (data_home / "searcher" / "indexes" / "idx").exists()
