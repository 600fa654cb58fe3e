"""`searcher watch`: a real process watching a folder keeps the index current, takes the
index's lock for each run, and stops cleanly on Ctrl-C (SIGINT) and SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from searcher.cli import cli

# How long to wait for something the watcher should do: generous, since the machine may be
# busy. The tests poll for the result and never depend on how long it took.
PATIENCE = 60.0


def _default_sigint():
    # A shell starting pytest in the background makes it ignore SIGINT, and children
    # inherit that: the watcher must get Ctrl-C as a user's terminal would send it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Watcher:
    def __init__(self, args, env):
        self.proc = subprocess.Popen([sys.executable, "-m", "searcher", "watch", *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     preexec_fn=_default_sigint)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, text: str, count: int = 1):
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            if sum(text in line for line in self.lines) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} x{count} from searcher watch; it said: {self.lines}")

    def stop(self, sig=signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(PATIENCE)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.reader.join(5)


@pytest.fixture
def env(index_location, tmp_path):
    environment = dict(os.environ, SEARCHER_INDEX=str(index_location), NLTK_DATA="/nonexistent",
                       XDG_CONFIG_HOME=str(tmp_path / "xdg-config"))
    environment.pop("SEARCHER_CONFIG", None)
    root = str(Path(__file__).resolve().parents[1])
    environment["PYTHONPATH"] = root + os.pathsep + environment.get("PYTHONPATH", "")
    return environment


def until(predicate, what: str):
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def found_files(runner, word) -> set[str]:
    result = runner.invoke(cli, ["query", "-l", word])
    return {os.path.basename(line) for line in result.stdout.splitlines()}


def test_watch_indexes_new_changed_and_deleted_files_then_stops_on_ctrl_c(corpus, env, runner):
    watcher = Watcher(["--debounce", "0.2", corpus], env)
    try:
        watcher.wait_for_line("searcher: watching")
        watcher.wait_for_line("3 added")  # the catch-up run
        assert found_files(runner, "rice") == {"cooking.txt"}
        (corpus / "notes" / "risotto.txt").write_text("Risotto\n\nStir the rice often.\n", encoding="utf-8")
        until(lambda: "risotto.txt" in found_files(runner, "rice"), "the new file is found")
        (corpus / "notes" / "cooking.txt").write_text("Notes on boiling pasta\n", encoding="utf-8")
        until(lambda: "cooking.txt" in found_files(runner, "pasta"), "the changed file is found")
        (corpus / "lithuania.md").unlink()
        until(lambda: "lithuania.md" not in found_files(runner, "tokyo"), "the deleted file is gone")
    finally:
        status = watcher.stop(signal.SIGINT)
    assert status == 0, watcher.lines
    assert watcher.lines[-1] == "searcher: stopped watching"
    assert not any("Traceback" in line for line in watcher.lines)
    assert runner.invoke(cli, ["status"]).exit_code == 0  # the index is whole


def test_watch_without_paths_watches_the_index_folders_and_stops_on_sigterm(indexed, env, runner):
    watcher = Watcher(["--debounce", "0.2"], env)
    try:
        watcher.wait_for_line(f"searcher: watching {indexed}")
        watcher.wait_for_line("0 added, 0 updated, 0 removed")  # nothing to catch up
        (indexed / "harbour.md").write_text("# Harbour\n\nThe harbour lights.\n", encoding="utf-8")
        until(lambda: "harbour.md" in found_files(runner, "harbour"), "the new file is found")
    finally:
        status = watcher.stop(signal.SIGTERM)
    assert status == 0, watcher.lines
    assert watcher.lines[-1] == "searcher: stopped watching"


def test_watch_keeps_the_ignore_rules_and_never_indexes_its_own_index(corpus, env, runner, tmp_path):
    index_inside = corpus / ".idx"  # an index inside the watched folder: its writes are not changes
    env = dict(env, SEARCHER_INDEX=str(index_inside))
    (corpus / ".searcherignore").write_text("drafts/\n", encoding="utf-8")
    watcher = Watcher(["--debounce", "0.2", corpus], env)
    try:
        watcher.wait_for_line("3 added")
        (corpus / "drafts").mkdir()
        (corpus / "drafts" / "rice.txt").write_text("Draft about rice.\n", encoding="utf-8")
        (corpus / "rice2.txt").write_text("More rice.\n", encoding="utf-8")
        runner_env = {"SEARCHER_INDEX": str(index_inside)}
        until(lambda: "rice2.txt" in {os.path.basename(line) for line in runner.invoke(
            cli, ["query", "-l", "rice"], env=runner_env).stdout.splitlines()}, "the new file is found")
        time.sleep(1.0)  # a run started by the index's own writes would show up as another line
        runs = [line for line in watcher.lines if " added, " in line]
        assert len(runs) == 2, watcher.lines
        files = {os.path.basename(line) for line in runner.invoke(cli, ["query", "-l", "rice"],
                                                                   env=runner_env).stdout.splitlines()}
        assert files == {"cooking.txt", "rice2.txt"}  # not drafts/rice.txt
    finally:
        assert watcher.stop() == 0


def test_watch_waits_for_a_run_that_holds_the_lock(corpus, env, runner, index_location):
    from searcher.index.runs.lock import RunLock

    assert runner.invoke(cli, ["index", str(corpus)]).exit_code == 0
    lock = RunLock(index_location)
    lock.acquire()
    watcher = Watcher(["--debounce", "0.2", corpus], env)
    try:
        watcher.wait_for_line("searcher: watching")
        (corpus / "rice2.txt").write_text("More rice.\n", encoding="utf-8")
        time.sleep(1.0)
        assert "rice2.txt" not in found_files(runner, "rice")  # no run while the lock is held
        lock.release()
        until(lambda: "rice2.txt" in found_files(runner, "rice"), "the run after the lock is released")
    finally:
        lock.release()
        assert watcher.stop() == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_while_a_run_finishes_stops_the_watcher_after_the_commit(corpus, env, runner, tmp_path, sig):
    """Ctrl-C or SIGTERM after a run's last commit, before the run has returned: the stop
    request is not lost in the run (which would end as if none came, and the watcher watch
    on), and SIGTERM stops a run as gently as Ctrl-C."""
    from searcher.index.runs.writer import HANDSHAKE_ENV

    handshake = tmp_path / "handshake"  # the run waits after its commit until interrupted
    handshake.mkdir()
    watcher = Watcher(["--debounce", "0.2", corpus], dict(env, **{HANDSHAKE_ENV: str(handshake)}))
    try:
        watcher.wait_for_line("searcher: watching")
        until(lambda: (handshake / "committed-1").exists(), "the catch-up run commits its files")
    finally:
        status = watcher.stop(sig)
    assert status == 0, watcher.lines
    assert watcher.lines[-1] == "searcher: stopped watching", watcher.lines
    assert watcher.lines[-2].startswith("searcher: interrupted a run: kept 3 of the 3 files this run was reading")
    assert watcher.lines[-2].endswith("nothing is left to read")
    assert found_files(runner, "rice") == {"cooking.txt"}  # what the run committed answers


def test_watch_with_nothing_to_watch_is_an_error(run):
    result = run("watch")
    assert result.exit_code == 2
    assert "nothing to watch" in result.stderr


def test_watch_of_a_missing_path_is_an_error(run, tmp_path):
    result = run("watch", tmp_path / "nope")
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr
