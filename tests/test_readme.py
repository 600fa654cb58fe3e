"""The README's usage section, the CLI's --help and the README's example session agree.

A new option without a row in the README's options tables fails here, and so does a
documented option that no longer exists. The example session is replayed against the
test corpus. After a deliberate change of output, print the new session with

    NLTK_DATA=/nonexistent .venv/bin/python tests/test_readme.py
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HELP_OPTIONS = {"-h", "--help"}
SESSION_COMMANDS = [
    "searcher query security cooperation",
    "searcher query '\"rule of law\"'",
    "searcher query kamikava",
    "searcher query --fix kamikava",
    "searcher query --explain 'title:latvia AND security -china'",
]


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no '## {heading}' section"
    return match.group(1)


def documented_options() -> dict[str | None, set[str]]:
    """{command name (None: the group): options in its table}, from the Usage section."""
    usage = section(README.read_text(encoding="utf-8"), "Usage")
    found: dict[str | None, set[str]] = {}
    for match in re.finditer(r"^### `searcher(?: (\w+))?[^`]*`.*?\n(.*?)(?=^### |\Z)", usage, re.M | re.S):
        name, body = match.group(1), match.group(2)
        options = set()
        for row in re.findall(r"^\| (.*?) \|", body, re.M):
            options.update(re.findall(r"`(--?[A-Za-z0-9][\w-]*)", row))
        found[name] = options
    return found


def actual_options(command: click.Command) -> set[str]:
    ctx = click.Context(command, info_name=command.name)
    options = set()
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and not param.hidden:
            options.update(param.opts + param.secondary_opts)
    return options - HELP_OPTIONS


def visible_commands():
    from searcher.cli import cli

    return {name: cmd for name, cmd in cli.commands.items() if not cmd.hidden}


def test_every_command_has_a_usage_section():
    documented = documented_options()
    missing = set(visible_commands()) - set(documented)
    assert not missing, f"README Usage has no '### `searcher NAME`' section for: {sorted(missing)}"
    stale = {name for name in documented if name is not None} - set(visible_commands())
    assert not stale, f"README Usage documents commands that do not exist: {sorted(stale)}"


@pytest.mark.parametrize("name", [None, "index", "query", "show", "status", "config", "watch"])
def test_usage_tables_match_the_options_of_each_command(name):
    from searcher.cli import cli

    command = cli if name is None else visible_commands().get(name)
    if command is None:
        pytest.skip(f"no command {name}")
    documented = documented_options().get(name, set()) - HELP_OPTIONS
    actual = actual_options(command)
    assert actual - documented == set(), f"`searcher {name or ''}` options missing from the README table"
    assert documented - actual == set(), f"README documents options `searcher {name or ''}` does not have"


def test_every_command_and_option_has_help_with_examples():
    for name, command in visible_commands().items():
        assert command.help and "Examples:" in command.help, f"`searcher {name} --help` has no examples"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, f"`searcher {name} {param.opts[-1]}` has no help text"


def test_usage_examples_use_real_options():
    from searcher.cli import cli

    usage = section(README.read_text(encoding="utf-8"), "Usage")
    blocks = re.findall(r"```sh\n(.*?)```", usage, re.S)
    lines = [line.split(" #")[0].split("|")[0].split(" >")[0].strip() for block in blocks
             for line in block.splitlines() if line.startswith("searcher ")]
    assert lines
    for line in lines:
        args = shlex.split(line)[1:]
        command = cli.commands[args[0]]
        command.make_context(args[0], args[1:])  # raises on an unknown option or a bad value


def test_help_runs_for_every_command(run):
    assert run("--help").exit_code == 0
    for name in visible_commands():
        result = run(name, "--help")
        assert result.exit_code == 0 and "Examples:" in result.output, name


# ------------------------------------------------------------------ the example session


def run_session(root: Path) -> str:
    """Index the test corpus under ``root`` and run the session there; the transcript."""
    import os

    from click.testing import CliRunner

    from conftest import CORPUS
    from searcher.cli import cli

    for name, text in CORPUS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert runner.invoke(cli, ["index", "."]).exit_code == 0
        transcript = []
        for command in SESSION_COMMANDS:
            result = runner.invoke(cli, shlex.split(command)[1:], color=False)
            transcript.append(f"$ {command}\n{result.output}")
    finally:
        os.chdir(cwd)
    return "".join(transcript)


def test_example_session_is_real_output(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCHER_INDEX", str(tmp_path / "index"))
    text = section(README.read_text(encoding="utf-8"), "Example session")
    blocks = re.findall(r"```console\n(.*?)```", text, re.S)
    assert blocks, "README's example session has no ```console block"
    shown = "".join(blocks)
    root = tmp_path / "corpus"
    root.mkdir()
    assert shown == run_session(root), (
        "README's example session is out of date: print the new one with "
        "'python tests/test_readme.py' and check the difference is intended")


if __name__ == "__main__":
    import os
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SEARCHER_INDEX"] = os.path.join(tmp, "index")
        os.mkdir(os.path.join(tmp, "corpus"))
        print("```console\n" + run_session(Path(tmp) / "corpus") + "```")
