"""Resident mode (searcher/launcher.py, searcher/resident.py): the same output, exit status
and bytes as the plain path, through the real entry point in fresh processes; the server
started on demand, reading the index as it is now, exiting when idle or when its socket
goes; sockets that are not this user's left alone; a server that dies mid-way costs nothing
but time. Every server a test starts is stopped by its fixture.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from searcher import launcher
from searcher.index.runs.writer import build_index

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX") or not hasattr(socket, "SO_PEERCRED"),
                                reason="resident mode needs Unix sockets with SO_PEERCRED")

# The console script's entry point, in a fresh interpreter.
LAUNCH = [sys.executable, "-c", "from searcher.launcher import main; main()"]
WAIT_SECONDS = 60  # a bound on waiting for a server to start or stop, never an assertion of speed


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie nobody reaps (the server is double-forked) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def wait_until(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.02)


class Resident:
    """Runs the entry point with and without resident mode, and keeps track of the servers."""

    def __init__(self, tmp_path: Path, index_dir: Path, cwd: Path):
        self.index_dir = index_dir
        self.cwd = cwd
        self.log = tmp_path / "resident.log"
        self.socket = index_dir / launcher.SOCKET_NAME
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("SEARCHER_") and k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
        self.env.update(SEARCHER_INDEX=str(index_dir), NLTK_DATA="/nonexistent", HOME=str(home),
                        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"), XDG_DATA_HOME=str(tmp_path / "xdg-data"),
                        SEARCHER_RESIDENT_LOG=str(self.log), SEARCHER_RESIDENT_IDLE="120", TERM="xterm")

    def run(self, *args, resident: bool | None = True, env=None, **kwargs) -> subprocess.CompletedProcess:
        """``searcher ARGS``; ``resident`` None: $SEARCHER_RESIDENT unset."""
        environment = dict(self.env, **(env or {}))
        if resident is not None:
            environment["SEARCHER_RESIDENT"] = "1" if resident else "0"
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("cwd", self.cwd)
        return subprocess.run(LAUNCH + [str(a) for a in args], env=environment, timeout=120, **kwargs)

    def lines(self, word: str) -> list[str]:
        try:
            text = self.log.read_text()
        except FileNotFoundError:
            return []
        return [line for line in text.splitlines() if f" {word}" in line]

    def answered(self) -> int:
        return len(self.lines("answered"))

    def servers(self) -> list[int]:
        return [int(line.split()[1]) for line in self.lines("serving")]

    def start(self) -> int:
        """Starts a server (a query on the plain path spawns it) and waits until it serves."""
        self.run("query", "rice")
        wait_until(lambda: self.lines("ready"), "the server's warm-up")
        wait_until(self.socket.exists, "the socket")
        return self.servers()[-1]

    def stop(self):
        for pid in self.servers():
            if not _gone(pid):
                os.kill(pid, signal.SIGTERM)
        for pid in self.servers():
            wait_until(lambda: _gone(pid), f"server {pid} to exit")


@pytest.fixture
def resident(tmp_path, corpus, index_location):
    build_index([corpus], index_location, jobs=1)
    helper = Resident(tmp_path, index_location, corpus)
    yield helper
    helper.stop()


def same(a: subprocess.CompletedProcess, b: subprocess.CompletedProcess):
    assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)


QUERIES = [
    ["query", "cooperation", "security", "-n", "2"],
    ["query", "zeppelin"],  # nothing found: exit status 1
    ["query", "--explain", "kamikava"],  # stderr before and after stdout: did you mean
    ["query", "--limit", "0", "rice"],  # usage error: exit status 2
    ["query", "--bogus", "rice"],  # an option the launcher does not know
    ["query", "--json", "security"],
    ["query", "--color", "always", "-C", "1", "rice"],
    ["query", "-l0", "rice"],
    ["query", "--vimgrep", '"rule of law"'],
    ["query", "title:(unbalanced"],
    ["--no-config", "query", "--index", "../index", "--help"],
]


def test_resident_answers_are_byte_for_byte_the_plain_ones(resident):
    resident.start()
    answered = resident.answered()
    for args in QUERIES:
        same(resident.run(*args), resident.run(*args, resident=False))
    served = resident.answered() - answered
    assert served == len(QUERIES) - 1  # all but --bogus, which the launcher leaves to the plain path
    plain = resident.run("query", "rice", resident=False)
    assert plain.returncode == 0 and b"cooking.txt:" in plain.stdout


def test_the_client_environment_decides_width_and_paths(resident, tmp_path):
    resident.start()
    same(resident.run("query", "--help", env={"COLUMNS": "40"}),
         resident.run("query", "--help", env={"COLUMNS": "40"}, resident=False))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for cwd in (elsewhere, resident.cwd / "notes"):  # paths are shown relative to the client's folder
        same(resident.run("query", "rice", cwd=cwd), resident.run("query", "rice", cwd=cwd, resident=False))


@pytest.mark.skipif(not hasattr(signal, "SIGPIPE"), reason="no SIGPIPE on this platform")
def test_a_closed_output_pipe_ends_a_resident_query_as_a_plain_one(resident):
    resident.start()
    before = resident.answered()
    results = []
    for mode in (True, False):
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader is gone before the command writes
        try:
            results.append(resident.run("query", "rice", resident=mode, stdout=write_end, stderr=subprocess.PIPE,
                                        capture_output=False))
        finally:
            os.close(write_end)
    assert [(r.returncode, r.stderr) for r in results] == [(-signal.SIGPIPE, b"")] * 2
    assert resident.answered() == before + 1


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals here")
def test_on_a_terminal_the_output_is_the_plain_one(resident):
    """Colour, the results header and hyperlinks follow the client's terminal."""
    resident.start()

    def on_terminal(resident_mode: bool, env=None) -> tuple[int, bytes]:
        leader, follower = os.openpty()
        try:
            done = resident.run("query", "rice", resident=resident_mode, stdout=follower, stderr=subprocess.PIPE,
                                capture_output=False, env=env)
        finally:
            os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        # The header's time is the only part that may differ.
        return done.returncode, re.sub(rb"\d+\.\d\d s", b"T s", b"".join(chunks)), done.stderr

    before = resident.answered()
    code, output, _ = coloured = on_terminal(True)
    assert coloured == on_terminal(False)
    sgr = re.compile(rb"\x1b\[[0-9;]*m")  # colour and bold
    assert sgr.search(output) and b"\x1b]8;;file://" in output and b"passage" in output
    for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        code, output, _ = plain = on_terminal(True, env)
        assert plain == on_terminal(False, env) and not sgr.search(output)
    assert resident.answered() == before + 3


def test_the_server_reads_the_index_as_it_is_now(resident, corpus):
    resident.start()
    assert resident.run("query", "zeppelin").returncode == 1
    (corpus / "notes" / "cooking.txt").write_text("Notes on cooking\n\nThe zeppelin hovered over the rice.\n")
    build_index([corpus], resident.index_dir, jobs=1)
    # The server reopens the index on its next tick (it turns queries away meanwhile).
    wait_until(lambda: len(resident.lines("opened the index")) == 2, "the server to reopen the index")
    before = resident.answered()
    done = resident.run("query", "zeppelin")
    assert done.returncode == 0 and b"zeppelin" in done.stdout
    assert resident.answered() == before + 1
    same(done, resident.run("query", "zeppelin", resident=False))
    # A file changed after indexing: marked [changed] by the resident answer too.
    (corpus / "lithuania.md").write_text("# Something else entirely\n")
    same(resident.run("query", "Kishida"), resident.run("query", "Kishida", resident=False))


def test_a_server_exits_when_idle_and_removes_its_socket(resident):
    resident.env["SEARCHER_RESIDENT_IDLE"] = "0.2"
    resident.run("query", "rice")  # starts one
    wait_until(lambda: resident.lines("exit:"), "the idle server to exit")
    assert resident.lines("ready") and [line.split(" ", 2)[2] for line in resident.lines("exit:")] == [
        "exit: idle for 0.2 s"]
    wait_until(lambda: _gone(resident.servers()[0]), "its process to end")
    assert not resident.socket.exists()


def test_a_server_exits_when_its_socket_is_removed(resident):
    pid = resident.start()
    resident.socket.unlink()
    wait_until(lambda: _gone(pid), "the server to notice its socket is gone")
    assert not resident.socket.exists()


def test_a_killed_server_leaves_a_socket_the_next_client_replaces(resident):
    pid = resident.start()
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: _gone(pid), "the killed server")
    assert resident.socket.exists()  # stale: nothing listens
    before = resident.answered()
    same(resident.run("query", "rice"), resident.run("query", "rice", resident=False))
    assert resident.answered() == before  # answered on the plain path, which started a new server
    wait_until(lambda: len(resident.servers()) == 2 and resident.socket.exists(), "a new server")
    wait_until(lambda: len(resident.lines("ready")) == 2, "its warm-up")
    resident.run("query", "rice")
    assert resident.answered() == before + 1


def test_a_server_that_dies_mid_request_costs_nothing_but_time(resident):
    """A socket of this user's whose server takes the request and closes: the plain path answers."""
    resident.index_dir.chmod(0o700)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(str(resident.socket))
    finally:
        os.umask(old)
    listener.listen(4)
    requests = []

    def serve_badly():
        conn, _ = listener.accept()
        with conn:
            conn.sendall(launcher.HELLO)
            requests.append(conn.recv(1 << 20))
            conn.sendall(launcher.pack([(b"stdout", b"half an answer")]))  # and dies: no status

    thread = threading.Thread(target=serve_badly)
    thread.start()
    try:
        done = resident.run("query", "rice")
    finally:
        thread.join(timeout=WAIT_SECONDS)
        listener.close()
    assert requests and b"rice" in requests[0]
    same(done, resident.run("query", "rice", resident=False))
    assert resident.servers() == []


@pytest.mark.parametrize("kind", ["mode", "file", "owner"])
def test_a_socket_that_is_not_this_users_own_is_never_used(resident, kind):
    if kind == "owner" and os.getuid() != 0:
        pytest.skip("making a file of another user's needs root")
    old = os.umask(0o177 if kind == "owner" else 0o111)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if kind == "file":
            resident.socket.write_bytes(b"")
            resident.socket.chmod(0o600)
        else:
            listener.bind(str(resident.socket))
            listener.listen(4)
            if kind == "owner":
                os.chown(resident.socket, 65534, 65534)
    finally:
        os.umask(old)
    listener.settimeout(0.01)
    try:
        same(resident.run("query", "rice"), resident.run("query", "rice", resident=False))
        if kind != "file":
            with pytest.raises(socket.timeout):
                listener.accept()  # the client never connected
        assert resident.socket.exists() and resident.servers() == []
    finally:
        listener.close()


@pytest.mark.skipif(os.getuid() != 0, reason="a server of another user's needs root to make")
def test_a_server_of_another_user_is_never_sent_a_request(resident):
    """The socket file passes the checks (this user's, 0600), but the process listening on it
    runs as another user (SO_PEERCRED says so): the client sends it nothing."""
    old = os.umask(0o177)
    try:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(resident.socket))
    finally:
        os.umask(old)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # listens as nobody: SO_PEERCRED reports the uid of listen()
        try:
            os.setgid(65534)
            os.setuid(65534)
            listener.listen(4)
            os.write(write_end, b"l")
            listener.settimeout(WAIT_SECONDS)
            conn, _ = listener.accept()
            conn.settimeout(1.0)
            try:
                conn.sendall(launcher.HELLO)
                got = conn.recv(1 << 16)
            except OSError:
                got = b""
            os.write(write_end, b"R" if got else b"-")
        finally:
            os._exit(0)
    try:
        assert os.read(read_end, 1) == b"l"
        same(resident.run("query", "rice"), resident.run("query", "rice", resident=False))
        assert os.read(read_end, 1) == b"-"
    finally:
        os.waitpid(pid, 0)
        listener.close()
        os.close(read_end)
        os.close(write_end)


def test_no_server_for_a_folder_others_can_write_to(resident):
    resident.index_dir.chmod(0o777)
    try:
        same(resident.run("query", "rice"), resident.run("query", "rice", resident=False))
        assert not resident.socket.exists() and resident.servers() == []
    finally:
        resident.index_dir.chmod(0o755)


def test_resident_mode_is_off_unless_asked_for(resident):
    resident.run("query", "rice", resident=None)
    resident.run("query", "rice", resident=False)
    resident.run("query", "rice", env={"SEARCHER_RESIDENT": "no"}, resident=None)
    config = Path(resident.env["XDG_CONFIG_HOME"]) / "searcher" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[query]\nresident = true\n")
    resident.run("query", "rice", resident=False)  # $SEARCHER_RESIDENT=0 wins over the config file
    resident.run("query", "--no-resident", "rice")  # the command line wins over both
    resident.run("--no-config", "query", "rice", resident=None)  # the config file ignored
    assert resident.servers() == [] and not resident.socket.exists()


def test_the_config_file_and_the_flag_turn_it_on(resident):
    config = Path(resident.env["XDG_CONFIG_HOME"]) / "searcher" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[query]\nresident = true\nlimit = 1\n")
    done = resident.run("query", "rice", resident=None)
    assert done.returncode == 0
    wait_until(lambda: resident.lines("ready"), "the server started by the config file")
    wait_until(resident.socket.exists, "the socket")
    before = resident.answered()
    same(resident.run("query", "rice", resident=None), done)
    assert resident.answered() == before + 1
    config.write_text("[query]\nlimit = 1\n")
    same(resident.run("query", "--resident", "rice", resident=None), done)
    same(resident.run("query", "--resident", "rice", resident=False), done)  # the flag wins
    assert resident.answered() == before + 3


# --- the launcher's reading of the command line, against click's --------------------------

def query_command():
    from searcher.cli import cli

    return cli.commands["query"]


def test_the_launcher_knows_every_query_option_and_whether_it_takes_a_value():
    values, flags = set(), set()
    for param in query_command().params:
        if isinstance(param, click.Option):
            (flags if param.is_flag or param.count else values).update(param.opts + param.secondary_opts)
    assert values == set(launcher.QUERY_VALUES)
    assert flags | {"-h", "--help"} == set(launcher.QUERY_FLAGS)


TOKENS = st.sampled_from([
    "--index", "-n", "--limit=3", "--json", "-l", "-0", "-l0", "-ln", "-n2", "-C", "--color", "never", "always",
    "idx", "notes", "~/x", "./here", "", "-", "--", "words", "more words", "--explain", "-F", "--resident",
    "--no-resident", "-I", "--all", "--index=", "--index=other", "5", "--sort", "path", "--bogus", "-x",
])


@given(st.lists(TOKENS, max_size=8))
def test_the_launcher_reads_the_index_option_as_click_does(args):
    options = launcher.read_query_options(args)
    if options is None:
        return  # the plain path: nothing to agree on
    try:
        ctx = query_command().make_context("query", list(args), resilient_parsing=True)
    except click.ClickException:
        return  # click refuses it: the server refuses it the same way
    assert options.get("--index") == ctx.params.get("index_dir")
    several = ctx.params.get("index_names") is not None or ctx.params.get("all_indexes")
    assert bool(set(options) & {"-I", "--indexes", "--all"}) == bool(several)


NAMES = st.one_of(st.sampled_from(["", "default", "notes", ".", "..", "~", "~/idx", "a/b", "-x", "x" * 65, "ok.v2"]),
                  st.text(alphabet="ab.-_/~", max_size=6))


@given(NAMES)
def test_the_launcher_finds_the_index_folder_as_the_cli_does(value):
    from searcher.indexes import resolve

    assert launcher.index_folder(value) == resolve(value)


def test_the_launcher_leaves_what_it_cannot_be_sure_of_to_the_plain_path(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCHER_RESIDENT", "1")
    for args in (["query", "-I", "a,b", "x"], ["query", "--all", "x"], ["query", "--refresh", "x"],
                 ["--debug", "query", "x"], ["index", "."], ["query", "--nope", "x"], ["--version"],
                 ["query", "--index"]):
        assert launcher.run_resident(args) is None
    monkeypatch.setenv("_SEARCHER_COMPLETE", "bash_complete")
    assert launcher.run_resident(["query", "x"]) is None


def test_a_resident_answer_imports_neither_click_nor_whoosh(resident, tmp_path):
    """The client is the standard library alone: the imports are the server's."""
    resident.start()
    modules = tmp_path / "modules.txt"
    code = ("import atexit, sys\n"
            f"atexit.register(lambda: open({str(modules)!r}, 'w').write('\\n'.join(sys.modules)))\n"
            "from searcher.launcher import main\nmain()\n")
    before = resident.answered()
    done = subprocess.run([sys.executable, "-c", code, "query", "rice"], capture_output=True, cwd=resident.cwd,
                          env=dict(resident.env, SEARCHER_RESIDENT="1"), timeout=120)
    assert done.returncode == 0 and b"cooking.txt:" in done.stdout
    assert resident.answered() == before + 1
    imported = set(modules.read_text().split())
    assert not {m for m in imported if m.split(".")[0] in ("click", "whoosh", "nltk", "json")}
    assert {m for m in imported if m.startswith("searcher")} == {"searcher", "searcher.launcher"}


def test_the_searcher_command_starts_at_the_launcher():
    setup = (Path(__file__).resolve().parents[1] / "setup.cfg").read_text()
    assert re.search(r"^\s*searcher = searcher\.launcher:main\s*$", setup, re.M)


def test_while_the_server_warms_up_clients_are_turned_away_not_kept_waiting(tmp_path):
    from searcher.resident import _turning_away

    path = str(tmp_path / "s.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    with _turning_away(listener) as turning:
        for _ in range(2):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(WAIT_SECONDS)
            client.connect(path)
            assert client.recv(16) == b""  # closed with no hello: the client answers on its own
            client.close()
    assert not turning.thread.is_alive() and listener.gettimeout() is None
    listener.close()


def test_a_child_uses_the_servers_open_index_only_while_it_is_unchanged(corpus, index_location, monkeypatch):
    """(In-process: what a forked child does.) A query on another version of the index than
    the one the server opened opens the index itself, as the plain path does."""
    import gc

    import searcher.session
    from searcher.resident import OpenIndex

    monkeypatch.setattr(searcher.session, "Session", searcher.session.Session)  # put back afterwards
    build_index([corpus], index_location, jobs=1)
    opened = OpenIndex(str(index_location))
    try:
        opened.refresh()
    finally:
        gc.unfreeze()
    reusing = searcher.session.Session
    assert opened.session is not None and reusing(str(index_location)) is opened.session
    opened.use_if_current()
    assert reusing(str(index_location)) is opened.session
    (corpus / "notes" / "cooking.txt").write_text("Notes on cooking\n\nThe zeppelin hovered over the rice.\n")
    build_index([corpus], index_location, jobs=1)
    opened.use_if_current()
    fresh = reusing(str(index_location))
    assert fresh is not opened.session
    assert fresh.search("zeppelin").hits and not opened.session.search("zeppelin").hits
    fresh.close()
    opened.session.close()
