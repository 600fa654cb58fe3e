"""Shared fixtures: every test gets its own index location and a tiny corpus written for it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

# The same examples on every run: a property test that fails does so on every machine, not by luck.
# Nor by timing: hypothesis's per-example deadline and its "generation too slow" check depend on
# how busy the machine is (a shared 2-core runner at load 13 failed the latter once).
settings.register_profile("deterministic", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("deterministic")

from searcher.cli import cli

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "seeds"

CORPUS = {
    "japan_latvia.txt": (
        "Japan and Latvia strengthen cooperation\n"
        "\n"
        "Japanese Foreign Minister Yoko Kamikawa met her Latvian counterpart in Tokyo. "
        "They reaffirmed bilateral cooperation in supporting Ukraine against Russia’s invasion.\n"
        "\n"
        "Both ministers spoke of security in the Indo-Pacific and the Euro-Atlantic region. "
        "They pledged to uphold the rules-based international order and the rule of law.\n"
    ),
    "lithuania.md": (
        "# Prime Minister Šimonytė visits Tokyo\n"
        "\n"
        "Prime Minister Ingrida Šimonytė met Fumio Kishida in 2023. "
        "Lithuania and Japan agreed to deepen their strategic partnership.\n"
        "\n"
        "The leaders discussed energy security, cyber defence and the G7 summit.\n"
    ),
    "notes/cooking.txt": (
        "Notes on cooking rice\n"
        "\n"
        "Rinse the rice twice. Cook it slowly with a lid on. "
        "Let the rice rest before serving; cooking rice well takes patience.\n"
    ),
}


@pytest.fixture(autouse=True, scope="session")
def private_tempdir(tmp_path_factory):
    """whoosh's in-memory indexes write their scratch folder as <tempdir>/MAIN.tmp: a fixed
    name, which two test runs on one machine would otherwise share and delete under each other."""
    import tempfile

    saved = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("tempfiles"))
    yield
    tempfile.tempdir = saved


@pytest.fixture(autouse=True)
def index_location(tmp_path, monkeypatch):
    """Point the index at a temp dir, so no test touches a real index."""
    location = tmp_path / "index"
    monkeypatch.setenv("SEARCHER_INDEX", str(location))
    monkeypatch.setenv("NLTK_DATA", "/nonexistent")
    monkeypatch.delenv("NO_COLOR", raising=False)
    # No test reads the user's config file (searcher/config.py).
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("SEARCHER_CONFIG", raising=False)
    # No test starts a resident query process unless it means to (tests/test_resident.py).
    for name in ("SEARCHER_RESIDENT", "SEARCHER_RESIDENT_LOG", "SEARCHER_RESIDENT_IDLE"):
        monkeypatch.delenv(name, raising=False)
    return location


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    for name, text in CORPUS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def indexed(corpus, runner) -> Path:
    result = runner.invoke(cli, ["index", str(corpus)])
    assert result.exit_code == 0, result.output
    return corpus


@pytest.fixture
def run(runner):
    """Invoke the CLI in-process; returns click's Result."""

    def invoke(*args, **kwargs):
        return runner.invoke(cli, [str(a) for a in args], **kwargs)

    return invoke


@pytest.fixture
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/corpus/seeds is not present")
    return SEEDS


def pytest_configure(config):
    os.environ.setdefault("NLTK_DATA", "/nonexistent")
