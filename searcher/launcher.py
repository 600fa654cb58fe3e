"""The ``searcher`` command's entry point: ``searcher query`` through a resident process
when resident mode is on and one is listening; everything else as always (searcher/cli.py).

A fresh Python spends about 200 ms importing click, whoosh and the query code before a
query starts. In resident mode (README "Resident mode": ``SEARCHER_RESIDENT=1``,
``[query] resident = true`` in the config file, or ``--resident``) this module, which
imports only the standard library, sends the command line, the working folder, the
environment and what the terminal is to a process that has those imports done
(searcher/resident.py), through the Unix socket ``resident.sock`` in the index folder, and
writes back the bytes it printed, in order, and exits with its status.

Nothing depends on it: whatever this module cannot decide for sure (several indexes,
``--refresh``, an option it does not know, a config file it cannot read), and any failure
of the resident path (no server, one that does not answer, a socket that is not this
user's, no AF_UNIX) falls back to running the command here, with the same output and exit
status. When no server listens, one is started in the background and this query runs here.
"""

from __future__ import annotations

import os
import stat
import sys

import _signal  # (not signal, which imports enum: the launcher imports little)


def exit_interrupted(signum, frame):
    os.write(2, b"searcher: interrupted\n")
    os._exit(130)


def quit_on_interrupt():
    """Until the command line takes over Ctrl-C (searcher/cli.py), it ends the process
    with "searcher: interrupted" and status 130: a Ctrl-C while Python imports the query
    code (most of a query's first 300 ms) gave a KeyboardInterrupt traceback. A SIGINT
    ignored (a command started in the background by a shell) stays ignored."""
    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        _signal.signal(_signal.SIGINT, exit_interrupted)


RESIDENT_ENV = "SEARCHER_RESIDENT"
SOCKET_NAME = "resident.sock"
META_NAME = "searcher.json"  # index/store.py: a folder holding it is an index
HELLO = b"searcher-resident 1\n"
# How long a client waits for the server's hello before running the query itself: the
# server answers at once unless it is still importing, right after it started.
HELLO_SECONDS = 1.0
# AF_UNIX addresses hold about 108 bytes: a longer socket path is reached from its folder.
_SHORT_PATH = 100

# `searcher query`'s options (searcher/cli.py), as its parser reads them: those taking a
# value, and flags. An option not listed here sends the command to the plain path, so one
# added to the CLI and not here costs speed, never correctness (tests/test_resident.py
# checks the two lists against the command).
QUERY_VALUES = frozenset({
    "--index", "-n", "--limit", "--page", "--offset", "--per-file", "-C", "--context", "--sort",
    "--changed-within", "-I", "--indexes", "--hyperlink-format", "--color",
})
QUERY_FLAGS = frozenset({
    "-l", "--files", "-0", "--null", "--vimgrep", "--json", "-F", "--literal", "--phrase", "--explain",
    "--fix", "--expand", "--no-expand", "--refresh", "--all", "--no-collapse", "--resident", "--no-resident",
    "-h", "--help",
})
# Several indexes, or a query that first writes the index: the plain path.
PLAIN_ONLY = frozenset({"-I", "--indexes", "--all", "--refresh"})
_ON = ("1", "true", "yes", "on")


class _Unsure(Exception):
    """Something the launcher cannot decide for sure: the plain path decides it."""


def main() -> None:
    quit_on_interrupt()  # the console script's first call: only the standard library is imported
    status = None
    try:
        status = run_resident(sys.argv[1:])
    except KeyboardInterrupt:
        # As the command line reports a Ctrl-C during a query (searcher/cli.py).
        os.write(2, b"searcher: interrupted\n")
        os._exit(130)
    except Exception:  # any failure of the resident path: the plain path answers
        status = None
    if status is not None:
        sys.exit(status)
    from searcher.cli import main as cli_main

    cli_main()


def run_resident(args: list[str]) -> int | None:
    """Answer ``searcher ARGS`` through the resident process: its exit status, or None for
    the plain path (nothing has been written then)."""
    command = _query_args(args)
    if command is None:
        return None
    no_config, query_args = command
    options = read_query_options(query_args)
    if options is None or PLAIN_ONLY.intersection(options):
        return None
    if "_SEARCHER_COMPLETE" in os.environ:  # shell completion: click's own mode
        return None
    wanted = _wanted(options)
    config = None
    if wanted is not False and not no_config:
        config = _config_query_table()  # read only when needed: one open() when there is none
    if not (wanted or (wanted is None and config and config.get("resident") is True)):
        return None
    # Which server to ask: the child it forks reads the options itself, so a wrong guess
    # here would cost speed, not correctness (a query on another index opens that index).
    given = options["--index"] if "--index" in options else (config or {}).get("index")
    return ask(os.path.abspath(index_folder(given)), args)


def _query_args(args: list[str]):
    """(--no-config given, the arguments after ``query``) for a ``searcher query``, else None."""
    no_config = False
    for number, arg in enumerate(args):
        if arg == "query":
            return no_config, args[number + 1:]
        if arg == "--no-config":
            no_config = True
        else:  # --debug (tracebacks), --help, --version, another command: the plain path
            return None
    return None


def read_query_options(args: list[str]) -> dict | None:
    """{option as typed: its value (True for a flag)}, the last occurrence winning, as click
    reads them; None when an argument is not an option this module knows."""
    seen: dict = {}
    number = 0
    while number < len(args):
        arg = args[number]
        number += 1
        if arg == "--":
            break
        if arg.startswith("--"):
            name, equals, value = arg.partition("=")
            if name in QUERY_VALUES:
                if not equals:
                    if number >= len(args):
                        return None
                    value = args[number]
                    number += 1
                seen[name] = value
            elif name in QUERY_FLAGS and not equals:
                seen[name] = True
            else:
                return None
        elif arg.startswith("-") and arg != "-":
            position = 1
            while position < len(arg):  # a cluster of short options: -l0, -n5, -ln 5
                name = "-" + arg[position]
                position += 1
                if name in QUERY_VALUES:
                    value = arg[position:]
                    if not value:
                        if number >= len(args):
                            return None
                        value = args[number]
                        number += 1
                    seen[name] = value
                    break
                if name not in QUERY_FLAGS:
                    return None
                seen[name] = True
    if "--resident" in seen or "--no-resident" in seen:
        # --resident/--no-resident is one flag: the last one given wins.
        last = max((i for i, a in enumerate(args) if a in ("--resident", "--no-resident")), default=None)
        seen.pop("--resident", None)
        seen.pop("--no-resident", None)
        if last is not None:
            seen["resident"] = args[last] == "--resident"
    return seen


def _wanted(options: dict) -> bool | None:
    """--resident/--no-resident, else $SEARCHER_RESIDENT; None when neither says (then the
    config file's ``[query] resident`` does, and without it resident mode is off)."""
    if "resident" in options:
        return options["resident"]
    env = os.environ.get(RESIDENT_ENV)
    if env is not None:
        return env.strip().lower() in _ON
    return None


def _config_path() -> str:
    """searcher/config.py's config_path(), without importing it."""
    given = os.environ.get("SEARCHER_CONFIG")
    if given:
        return given
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "searcher", "config.toml")


def _config_query_table() -> dict | None:
    """The config file's ``[query]`` table as far as this module needs it (``resident``,
    ``index``, ``indexes``, ``all``); None without a config file. Raises _Unsure when the
    file cannot be read or parsed: the plain path reports that."""
    try:
        with open(_config_path(), "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        if os.environ.get("SEARCHER_CONFIG"):
            raise _Unsure("the config file named by $SEARCHER_CONFIG is missing") from None
        return None
    except OSError:
        raise _Unsure("unreadable config file") from None
    if b"resident" not in raw and b"index" not in raw and b"all" not in raw:
        return {}  # none of the keys read here (the common case: no TOML parser imported)
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        query = tomllib.loads(raw.decode("utf-8")).get("query", {})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        raise _Unsure("a config file that does not parse") from None
    if not isinstance(query, dict):
        raise _Unsure("[query] is not a table")
    if query.get("indexes") or query.get("all") or query.get("refresh"):
        raise _Unsure("several indexes, or --refresh, from the config file")
    index = query.get("index")
    if index is not None:
        if not isinstance(index, str):
            raise _Unsure("[query] index is not a string")
        query = dict(query, index=os.path.expanduser(index))
    return query


# --- where the index is: searcher/location.py and searcher/indexes.py, standard library only ---

_NAME_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_NAME_REST = _NAME_FIRST | frozenset("_.-")


def _data_home() -> str:
    return os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")


def default_index_folder() -> str:
    explicit = os.environ.get("SEARCHER_INDEX")
    if explicit:
        return os.path.expanduser(explicit)
    return os.path.join(_data_home(), "searcher", "index")


def _is_name(value: str) -> bool:
    return (0 < len(value) <= 64 and value[0] in _NAME_FIRST and all(c in _NAME_REST for c in value[1:]))


def index_folder(value: str | None) -> str:
    """The folder ``--index VALUE`` means (indexes.resolve): the default index, a path or a
    named index."""
    if not value:
        return default_index_folder()
    if (os.sep in value or (os.altsep or os.sep) in value or value.startswith("~")
            or value in (".", "..") or os.path.isdir(value) or not _is_name(value)):
        return os.path.expanduser(value)
    if value == "default":
        return default_index_folder()
    return os.path.join(_data_home(), "searcher", "indexes", value)


# --- the client ------------------------------------------------------------------------------

SERVER_CODE = "from searcher.resident import main; main()"


def startup_environment(environ) -> dict:
    """The variables an interpreter reads when it starts or imports (paths, locale, nltk's
    data): a server started with other values could answer otherwise, so it answers only
    clients whose values are its own (searcher/resident.py)."""
    return {k: v for k, v in environ.items()
            if k.startswith(b"PYTHON") or k in (b"NLTK_DATA", b"LANG", b"LANGUAGE", b"LC_ALL", b"LC_CTYPE")}


def pack(fields) -> bytes:
    """(name, value) pairs of bytes, each a 4-byte length and the bytes."""
    out = []
    for name, value in fields:
        for part in (name, value):
            out.append(len(part).to_bytes(4, "big"))
            out.append(part)
    return b"".join(out)


def unpack(data: bytes) -> list[tuple[bytes, bytes]]:
    parts = []
    position = 0
    while position < len(data):
        if position + 4 > len(data):
            raise ValueError("a truncated message")
        size = int.from_bytes(data[position:position + 4], "big")
        position += 4
        if position + size > len(data):
            raise ValueError("a truncated message")
        parts.append(data[position:position + size])
        position += size
    if len(parts) % 2:
        raise ValueError("a truncated message")
    return list(zip(parts[::2], parts[1::2]))


def _stream_fields(name: bytes, stream, fd: int):
    if stream is None or getattr(stream, "encoding", None) is None:
        raise _Unsure("no such stream")
    try:
        tty = os.isatty(fd)
    except OSError:
        tty = False
    try:
        size = os.get_terminal_size(fd)
        yield name + b".size", b"%d %d" % (size.columns, size.lines)
    except (OSError, ValueError):
        pass
    yield name + b".tty", b"1" if tty else b"0"
    yield name + b".encoding", stream.encoding.encode()
    yield name + b".errors", (stream.errors or "strict").encode()


def request(args: list[str]) -> bytes:
    """What the server needs to run ``searcher ARGS`` as this process would."""
    umask = os.umask(0o022)
    os.umask(umask)
    fields = [
        (b"cwd", os.fsencode(os.getcwd())),
        (b"umask", b"%d" % umask),
        # The same Python and the same environment (a venv's python and python3 are one)
        (b"executable", os.fsencode(os.path.realpath(sys.executable))),
        (b"prefix", os.fsencode(sys.prefix)),
        (b"version", sys.version.encode()),
    ]
    fields += _stream_fields(b"stdout", sys.stdout, 1)
    fields += _stream_fields(b"stderr", sys.stderr, 2)
    fields += [(b"arg", os.fsencode(arg)) for arg in args]
    fields += [(b"env", key + b"=" + value) for key, value in os.environb.items()]
    return pack(fields)


def _peer_uid(sock, _socket) -> int:
    creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # struct ucred: pid, uid, gid
    return int.from_bytes(creds[4:8], sys.byteorder)


def _connect(sock, folder: str, path: str) -> None:
    if len(os.fsencode(path)) <= _SHORT_PATH:
        sock.connect(path)
        return
    here = os.open(".", os.O_RDONLY)
    try:
        os.chdir(folder)
        sock.connect(SOCKET_NAME)
    finally:
        os.fchdir(here)
        os.close(here)


def _is_ours(info) -> bool:
    """A socket this user made, that only this user can use (as the server makes it)."""
    return (stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid()
            and stat.S_IMODE(info.st_mode) == 0o600)


def _remove_stale(path: str, info) -> None:
    """A socket nothing listens on: removed if it is still the one this client found."""
    try:
        now = os.lstat(path)
        if (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino) and _is_ours(now):
            os.unlink(path)
    except OSError:
        pass


def ask(folder: str, args: list[str]) -> int | None:
    """``searcher ARGS`` answered by the server of the index at ``folder``: its exit status
    once its output is written; None (nothing written) for the plain path."""
    import _socket

    if not hasattr(_socket, "AF_UNIX") or not hasattr(_socket, "SO_PEERCRED"):
        return None  # no Unix sockets, or no way to check who is listening
    path = os.path.join(folder, SOCKET_NAME)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        start_server(folder)
        return None
    if not _is_ours(info):
        return None  # not this user's, or others may use it: never talked to
    message = request(args)
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(HELLO_SECONDS)
        try:
            _connect(sock, folder, path)
        except (ConnectionRefusedError, FileNotFoundError):
            _remove_stale(path, info)
            start_server(folder)
            return None
        if _peer_uid(sock, _socket) != os.getuid():
            return None
        hello = b""
        while len(hello) < len(HELLO):
            part = sock.recv(len(HELLO) - len(hello))
            if not part:
                return None
            hello += part
        if hello != HELLO:
            return None
        sock.sendall(message)
        sock.shutdown(_socket.SHUT_WR)
        sock.settimeout(None)  # a query takes as long as it takes
        received = receive_all(sock)
    finally:
        sock.close()
    return _replay(unpack(received))


def receive_all(sock) -> bytes:
    """Everything the other end sends until it shuts its side down."""
    parts = []
    while True:
        part = sock.recv(1 << 16)
        if not part:
            return b"".join(parts)
        parts.append(part)


def _replay(response: list[tuple[bytes, bytes]]) -> int | None:
    """Writes what the server's run printed, in the order it printed it; its exit status."""
    fields = dict(response)
    if b"status" not in fields or b"fallback" in fields:
        return None
    status = int(fields[b"status"])
    if fields.get(b"sigpipe") == b"1":
        # The command let a closed pipe end it by SIGPIPE (console.end_on_closed_output).
        _signal.signal(_signal.SIGPIPE, _signal.SIG_DFL)
    for name, data in response:
        fd = {b"stdout": 1, b"stderr": 2}.get(name)
        if fd is None:
            continue
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except BrokenPipeError:
            return 1  # what click's main does when the output is closed
        except OSError as exc:
            # As the command line reports an error it did not expect (searcher/cli.py).
            note = f"searcher: error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)\n"
            try:
                os.write(2, note.encode("utf-8", "backslashreplace"))
            except OSError:
                pass
            return 2
    return status


def start_server(folder: str) -> None:
    """Starts the server of the index at ``folder`` in the background (a new session, no
    terminal, stdio on /dev/null): for an index folder of this user's that no other user
    can write to."""
    try:
        info = os.stat(folder)
        os.stat(os.path.join(folder, META_NAME))
    except OSError:
        return
    if info.st_uid != os.getuid() or info.st_mode & 0o002 or not sys.executable or not hasattr(os, "fork"):
        return
    flags = [f for f, on in (("-E", sys.flags.ignore_environment), ("-s", sys.flags.no_user_site),
                             ("-I", sys.flags.isolated)) if on]
    command = [sys.executable, *flags, "-c", SERVER_CODE, folder]
    pid = os.fork()
    if pid == 0:  # the child: starts the server as its own child, and exits
        try:
            os.setsid()
            if os.fork() == 0:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                os.chdir("/")  # never the user's folder: -c puts the working folder on sys.path
                os.execv(sys.executable, command)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
