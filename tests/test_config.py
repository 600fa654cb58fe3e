"""The config file: defaults for every command's options, `searcher config`, --no-config,
and one-line errors naming the file, line and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    """Writes $XDG_CONFIG_HOME/searcher/config.toml (the conftest points XDG_CONFIG_HOME at tmp)."""
    import os

    path = Path(os.environ["XDG_CONFIG_HOME"]) / "searcher" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(text: str) -> Path:
        path.write_text(text, encoding="utf-8")
        return path

    return write


def hits(output: str) -> list[str]:
    return [line for line in output.splitlines() if line and not line.startswith(" ")]


def test_config_sets_query_defaults_and_the_command_line_wins(run, indexed, config_file):
    assert len(hits(run("query", "tokyo", "rice").stdout)) == 3
    config_file("[query]\nlimit = 1\n")
    assert len(hits(run("query", "tokyo", "rice").stdout)) == 1
    assert len(hits(run("query", "-n", "2", "tokyo", "rice").stdout)) == 2
    assert len(hits(run("--no-config", "query", "tokyo", "rice").stdout)) == 3


def test_config_flags_and_choices(run, indexed, config_file):
    config_file('[query]\njson = true\ncolor = "always"\n')
    record = json.loads(run("query", "rice").stdout.splitlines()[0])
    assert record["path"].endswith("cooking.txt")


def test_searcher_config_env_names_another_file(run, indexed, tmp_path, monkeypatch):
    other = tmp_path / "work.toml"
    other.write_text("[query]\nfiles = true\n", encoding="utf-8")
    monkeypatch.setenv("SEARCHER_CONFIG", str(other))
    result = run("query", "rice")
    assert result.stdout.strip().endswith("cooking.txt") and "\n" not in result.stdout.strip()


def test_index_options_from_config(run, corpus, config_file):
    config_file('[index]\nexclude = ["notes"]\nmax-size = 100000\n')
    result = run("index", "--dry-run", corpus)
    assert result.exit_code == 0, result.output
    assert not any("cooking" in line for line in result.stdout.splitlines())
    assert len(result.stdout.splitlines()) == 2


def test_searcher_config_prints_values_and_where_they_come_from(run, config_file, monkeypatch, index_location):
    path = config_file("# mine\n[query]\nper-file = 1\n\n[index]\nexclude = [\"*.tmp.md\"]\n")
    out = run("config").stdout
    assert out.splitlines()[0] == f"# config file: {path} ($XDG_CONFIG_HOME/searcher/config.toml)"
    lines = {line.split("#")[0].strip(): line.rsplit("# ", 1)[1] for line in out.splitlines()
             if " = " in line and not line.startswith("#")}
    assert lines["per-file = 1"] == f"{path}:3"
    assert lines['exclude = ["*.tmp.md"]'] == f"{path}:6"
    assert lines["limit = 10"] if "limit = 10" in lines else True
    assert lines[f'index = "{index_location}"'] == "$SEARCHER_INDEX"
    data = json.loads(run("config", "--json").stdout)
    assert data["commands"]["query"]["per-file"] == {"value": 1, "from": f"{path}:3"}
    assert data["commands"]["query"]["context"] == {"value": None, "from": "default"}
    assert data["commands"]["show"]["context"] == {"value": 0, "from": "default"}
    assert json.loads(run("--no-config", "config", "--json").stdout)["config_file"] is None


def test_printed_settings_are_a_valid_config(run, config_file, tmp_path, monkeypatch):
    """What `searcher config` prints can be saved and read back as a config file."""
    config_file('[query]\nper-file = 2\ncolor = "never"\n')
    printed = run("config").stdout
    saved = tmp_path / "saved.toml"
    saved.write_text(printed, encoding="utf-8")
    monkeypatch.setenv("SEARCHER_CONFIG", str(saved))
    again = run("config", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["commands"]["query"]["per-file"]["value"] == 2


@pytest.mark.parametrize("text, message", [
    ("[query]\nlimit = 0\n", ":2: [query] limit: 0 is not in the range x>=1"),
    ("[query]\nlimit = 3\nlimt = 4\n", ":3: [query] limt: no such option of 'searcher query'"),
    ("\n[qury]\nlimit = 3\n", ":2: [qury]: no such command"),
    ("[query]\nlimit = \n", ":2: Invalid value"),
    ('[query]\ncolor = "blue"\n', ":2: [query] color: 'blue' is not one of"),
    ("[query]\nfix = 1\n", ":2: [query] fix: should be true or false"),
    ('[query]\nlimit = "many"\n', ":2: [query] limit: 'many' is not a valid integer"),
    ("[query]\nper-file = [1, 2]\n", ":2: [query] per-file: takes one value, not a list"),
    ('[index]\nmax-size = "huge"\n', ":2: [index] max-size:"),
    ("query = 3\n", ":1: query: should be a table"),
    ("[query]\n[query.sub]\nx = 1\n", ":2: [query] sub: no such option of 'searcher query'"),
    ("[query]\nlimit = {n = 1}\n", ":2: [query] limit: should be a single value or a list of values"),
])
def test_a_bad_config_is_one_line_naming_file_line_and_key(run, indexed, config_file, text, message):
    path = config_file(text)
    result = run("query", "rice")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"searcher: error: {path}")
    assert message in result.stderr
    assert run("--no-config", "query", "rice").exit_code == 0


def test_max_size_in_config_is_checked_like_the_option(run, corpus, config_file):
    config_file('[index]\nmax-size = "huge"\n')
    result = run("index", corpus)
    assert result.exit_code == 2
    assert "max-size" in result.stderr


def test_a_missing_searcher_config_file_is_an_error(run, tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCHER_CONFIG", str(tmp_path / "nope.toml"))
    result = run("status")
    assert result.exit_code == 2
    assert "nope.toml: no such file (named by $SEARCHER_CONFIG)" in result.stderr


def test_a_config_that_is_not_utf8_is_an_error(run, config_file):
    path = config_file("")
    path.write_bytes(b"[query]\nlimit = 3 # \xff\n")
    result = run("config")
    assert result.exit_code == 2
    assert f"{path}:2: not UTF-8 text" in result.stderr
