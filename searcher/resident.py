"""The resident query process: ``searcher query`` without a fresh interpreter's imports
(README "Resident mode"; the client is searcher/launcher.py).

One server per index folder, started by a client that found none, listening on
``<index>/resident.sock``. It imports the command line once and runs a few queries to warm
it up; then each request is answered by a child forked from it, so that every query starts
from the same state, as a fresh process would, with the imports done: the child takes on
the client's working folder, environment, umask and arguments, prints into buffers that
stand for the client's stdout and stderr (a terminal or not, their encoding, the terminal's
size), runs the same click command the plain path runs, and sends back what it printed, in
order, with the exit status. Each query opens the index anew, so an index changed since the
server started is read as it is now.

The server exits when it has been idle for ``$SEARCHER_RESIDENT_IDLE`` seconds (default
600), when its socket file is removed or replaced, when the code it imported changes on
disk, and on SIGTERM; it removes the socket file only while that file is its own.

Security: the socket is created mode 0600 in an index folder owned by this user that other
users cannot write to; the server answers only peers of its own uid (SO_PEERCRED), and the
client talks only to a socket of its own uid and mode and to a server of its own uid.
Opening an index runs no code (index/storage/safepickle.py), here as on the plain path.
"""

from __future__ import annotations

import gc
import io
import os
import signal
import socket
import stat
import sys
import threading
import time

from searcher.launcher import HELLO, META_NAME, SOCKET_NAME, pack, receive_all, startup_environment, unpack

IDLE_ENV = "SEARCHER_RESIDENT_IDLE"
DEFAULT_IDLE_SECONDS = 600
LOG_ENV = "SEARCHER_RESIDENT_LOG"
MAX_CHILDREN = 4
# A client sends its request at once: one that does not is dropped after this long.
REQUEST_SECONDS = 10
# Queries run once in the server before it serves, for the imports they make and the caches
# they fill that depend on no file (compiled patterns, tables); a keyword query, a phrase and
# a question (which expands).
WARM_UP = (["the"], ['"of the"'], ["how", "do", "I", "find", "the", "words", "in", "a", "file"])


def main() -> None:
    serve(sys.argv[1])


def log(message: str) -> None:
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {os.getpid()} {message}\n".encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def idle_seconds() -> float:
    try:
        return max(float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_SECONDS)), 0.0)
    except ValueError:
        return DEFAULT_IDLE_SECONDS


def folder_is_safe(folder: str) -> bool:
    """An index folder of this user's that other users cannot write to."""
    try:
        info = os.stat(folder)
        os.stat(os.path.join(folder, META_NAME))
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o002


def peer_uid(conn) -> int:
    import struct

    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                          struct.calcsize("3i")))
    return uid


def _listening(name: str) -> bool:
    """Whether a server of this user's answers at ``name``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(name)
        return peer_uid(probe) == os.getuid()
    except OSError:
        return False
    finally:
        probe.close()


def serve(folder: str) -> None:
    if not hasattr(socket, "AF_UNIX") or not hasattr(socket, "SO_PEERCRED"):
        return
    folder = os.path.abspath(folder)
    if not folder_is_safe(folder):
        log(f"not serving {folder}: not an index folder of this user's that only this user can write to")
        return
    os.umask(0o177)  # the socket is made mode 0600, with no moment of another mode
    os.chdir(folder)  # bound by its name in the folder: a long path does not fit an AF_UNIX address
    if _listening(SOCKET_NAME):
        return  # another server was started meanwhile
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    temporary = f"{SOCKET_NAME}.{os.getpid()}.tmp"
    try:
        listener.bind(temporary)
        listener.listen(16)
        os.rename(temporary, SOCKET_NAME)  # in place at once, even over a stale socket
    except OSError as exc:
        listener.close()
        try:
            os.unlink(temporary)
        except OSError:
            pass
        log(f"not serving {folder}: {exc}")
        return
    os.chdir("/")
    path = os.path.join(folder, SOCKET_NAME)
    bound = os.lstat(path)
    identity = (bound.st_dev, bound.st_ino)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log(f"serving {folder}")
    why = "stopped"
    try:
        why = _serve(listener, folder, path, identity)
    except Exception as exc:  # its clients answer on the plain path meanwhile; the log says why
        why = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        listener.close()
        if _own_socket(path, identity):
            try:
                os.unlink(path)
            except OSError:
                pass
        log(f"exit: {why}")


def _own_socket(path: str, identity) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) == identity


def _serve(listener, folder: str, path: str, identity) -> str:
    startup = startup_environment(os.environb)
    from searcher.index.storage.lean_whoosh import import_whoosh

    import_whoosh()  # as the plain path's main() does, before anything else imports whoosh
    opened = OpenIndex(folder, listener)
    opened.refresh()
    code = _code_files()
    idle = idle_seconds()
    listener.settimeout(min(1.0, max(idle / 4, 0.05)))
    log("ready")
    children: set[int] = set()
    last = time.monotonic()
    while True:
        _reap(children, block=False)
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            if not _own_socket(path, identity):
                return "the socket file was removed or replaced"
            if not children and time.monotonic() - last >= idle:
                return f"idle for {idle:g} s"
            opened.refresh()
            continue
        with conn:
            last = time.monotonic()
            try:
                if peer_uid(conn) != os.getuid():
                    continue
            except OSError:
                continue
            if _code_files() != code:
                return "the searcher code changed on disk"
            while len(children) >= MAX_CHILDREN:
                _reap(children, block=True)
            try:
                conn.sendall(HELLO)
            except OSError:
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                _child(conn, startup, opened)  # never returns
            children.add(pid)
        opened.refresh()  # (when the index changed: under steady queries there may be no idle tick)
        last = time.monotonic()


def _reap(children: set[int], block: bool) -> None:
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)
            if block:
                return


def _code_files() -> dict:
    """(modification time, size) of every file of searcher's modules loaded here."""
    found = {}
    for name, module in list(sys.modules.items()):
        if name == "searcher" or name.startswith("searcher."):
            path = getattr(module, "__file__", None)
            if path:
                try:
                    info = os.stat(path)
                    found[path] = (info.st_mtime_ns, info.st_size)
                except OSError:
                    found[path] = None
    return found


class _Stream(io.RawIOBase):
    """One of the client's output streams: what is written is kept, in order with the
    other's, for the client to write."""

    def __init__(self, chunks: list, name: bytes, tty: bool, fd: int):
        super().__init__()
        self._chunks, self._name, self._tty, self._fd = chunks, name, tty, fd

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        if data:
            if self._chunks and self._chunks[-1][0] == self._name:
                self._chunks[-1] = (self._name, self._chunks[-1][1] + data)
            else:
                self._chunks.append((self._name, data))
        return len(data)

    def isatty(self) -> bool:
        return self._tty

    def fileno(self) -> int:
        # The client's descriptor number, for shutil.get_terminal_size (which asks
        # os.get_terminal_size, answered with the client's size below); nothing writes to it.
        return self._fd


def _text_stream(chunks: list, name: bytes, fields: dict, fd: int):
    raw = _Stream(chunks, name, fields.get(name + b".tty") == b"1", fd)
    return io.TextIOWrapper(raw, encoding=fields[name + b".encoding"].decode(),
                            errors=fields[name + b".errors"].decode(), write_through=True)


def _terminal_size(fields: dict):
    sizes = {}
    for fd, name in ((1, b"stdout"), (2, b"stderr")):
        value = fields.get(name + b".size")
        if value:
            columns, lines = (int(v) for v in value.split())
            sizes[fd] = os.terminal_size((columns, lines))

    def get_terminal_size(fd: int = 1):
        if fd not in sizes:
            raise OSError(25, "Inappropriate ioctl for device")
        return sizes[fd]

    return get_terminal_size


def _clear_file_caches() -> None:
    """Empties the caches of searcher's modules (the text of files, keyed by path): a child
    reads files as they are now, as a fresh process would."""
    for name, module in list(sys.modules.items()):
        if name == "searcher" or name.startswith("searcher."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                    value.cache_clear()


def _child(conn, startup: dict, opened: "OpenIndex") -> None:
    """Answers one request on ``conn``, then exits."""
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # As in any Python process: a command that wants SIGPIPE to end it says so (below).
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        conn.settimeout(REQUEST_SECONDS)
        request = receive_all(conn)
        try:
            response = _answer(unpack(request), startup, opened)
        except Exception as exc:  # the client runs the command itself, and shows any error
            response = pack([(b"fallback", f"{type(exc).__name__}: {exc}".encode("utf-8", "replace"))])
        conn.settimeout(None)
        conn.sendall(response)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


class _Fallback(Exception):
    pass


def _answer(request: list[tuple[bytes, bytes]], startup: dict, opened: "OpenIndex") -> bytes:
    started = time.perf_counter()
    fields = dict(request)
    if (fields.get(b"executable") != os.fsencode(os.path.realpath(sys.executable))
            or fields.get(b"prefix") != os.fsencode(sys.prefix) or fields.get(b"version") != sys.version.encode()):
        raise _Fallback("another Python")
    env = [value.partition(b"=") for name, value in request if name == b"env"]
    environ = {key: value for key, _, value in env}
    if startup_environment(environ) != startup:
        raise _Fallback("another start-up environment")
    args = [os.fsdecode(value) for name, value in request if name == b"arg"]

    os.environ.clear()
    for key, value in environ.items():
        os.environb[key] = value
    time.tzset()
    os.umask(int(fields[b"umask"]))
    os.chdir(fields[b"cwd"])
    sys.argv = ["searcher", *args]
    _clear_file_caches()
    opened.use_if_current()
    chunks: list = []
    out = _text_stream(chunks, b"stdout", fields, 1)
    err = _text_stream(chunks, b"stderr", fields, 2)
    # __stdout__ too: the command's checks that its output is the process's own hold, as
    # they do in a fresh process (console.end_on_closed_output).
    sys.stdout = sys.__stdout__ = out
    sys.stderr = sys.__stderr__ = err
    os.get_terminal_size = _terminal_size(fields)

    from searcher.cli import cli

    try:
        cli.main(args=args, prog_name="searcher")
        status = 0
    except SystemExit as exc:
        status = exc.code
    if status is None:
        status = 0
    if not isinstance(status, int):
        raise _Fallback("an exit status that is not a number")
    out.flush()
    err.flush()
    sigpipe = signal.getsignal(signal.SIGPIPE) == signal.SIG_DFL
    log(f"answered {' '.join(args)!r}: status {status}, {(time.perf_counter() - started) * 1000:.0f} ms")
    return pack([(b"status", b"%d" % status), (b"sigpipe", b"1" if sigpipe else b"0"), *chunks])


def index_state(folder: str) -> tuple:
    """What says which version of the index a folder holds: its metadata file and its
    tables of contents (a new one for every commit), by name, inode, time and size."""
    state = []
    for name in sorted(os.listdir(folder)):
        if name == META_NAME or name.endswith(".toc"):
            try:
                info = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            state.append((name, info.st_ino, info.st_mtime_ns, info.st_size))
    return tuple(state)


class OpenIndex:
    """The server's open Session of its index, warmed up by a few queries: a child whose
    query is on this index uses it (its readers, statistics and stem table already read)
    while the index is as it was when it was opened; otherwise the child opens the index
    itself, as the plain path does."""

    def __init__(self, folder: str, listener=None):
        self.folder = folder
        self.listener = listener
        self.state: tuple | None = None
        self.session = None

    def refresh(self) -> None:
        """(In the server) opens the index again if it changed since it was opened."""
        try:
            state = index_state(self.folder)
        except OSError:
            return
        if state == self.state:
            return
        with _turning_away(self.listener):
            self._open(state)
        # Logged once connections are served again (tests wait for this line to query).
        log("opened the index" if self.session is not None else "warmed up without the index")

    def _open(self, state: tuple) -> None:
        gc.unfreeze()
        self.state = None
        if self.session is not None:
            self.session.close()
            self.session = None
        reused = _reusing_session_class()
        reused.opened = None
        try:
            # The state is read before opening: an index that changes meanwhile is newer
            # than its recorded state, so children find them different and open it themselves.
            self.session = reused(self.folder)
            reused.opened = self.session
            self.state = state
        except Exception as exc:  # an index that cannot be opened now: children try themselves
            log(f"cannot open the index: {type(exc).__name__}: {exc}")
        _warm_up(self.folder)
        if self.session is not None:
            _close_connections(self.session)
        gc.collect()
        gc.freeze()  # children do not copy the pages of objects a collection would visit

    def use_if_current(self) -> None:
        """(In a child) keeps the open session for its index only if the index is unchanged."""
        reused = _reusing_session_class()
        try:
            current = self.state is not None and index_state(self.folder) == self.state
        except OSError:
            current = False
        if not current:
            reused.opened = None


class _turning_away:
    """While the server opens and warms up (seconds on a large index), a thread closes
    every connection at once, so that clients answer on the plain path straight away
    instead of waiting for a hello. The thread has ended before the server forks again."""

    def __init__(self, listener):
        self.listener = listener
        self.done = threading.Event()
        self.thread = None

    def _turn_away(self):
        while not self.done.is_set():
            try:
                conn, _ = self.listener.accept()
                conn.close()
            except OSError:  # the timeout
                pass

    def __enter__(self):
        if self.listener is not None:
            self.timeout = self.listener.gettimeout()
            self.listener.settimeout(0.05)
            self.thread = threading.Thread(target=self._turn_away, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.thread is not None:
            self.done.set()
            self.thread.join()
            self.listener.settimeout(self.timeout)


def _close_connections(session) -> None:
    """Closes the session's SQLite connections (the stem tables; what they loaded stays):
    SQLite's rule is that a connection is not carried across fork(), so each child opens
    its own on first use."""
    try:
        from searcher.index.text.stemtable import stem_filters

        for stem_filter in stem_filters(session.schema):
            table = getattr(stem_filter, "table", None)
            if table is not None:
                table.close()
    except Exception as exc:
        log(f"cannot close the stem tables: {type(exc).__name__}: {exc}")


def _reusing_session_class():
    """searcher.session.Session, replaced (once, in the server) by a subclass that returns
    the server's open session for its folder instead of opening the index again."""
    import searcher.session

    current = searcher.session.Session
    if getattr(current, "resident_reuse", False):
        return current

    class ResidentSession(current):
        resident_reuse = True
        opened = None

        def __new__(cls, index_dir):
            opened = cls.opened
            if opened is not None and not opened.closed:
                try:
                    same = os.path.samefile(os.path.expanduser(os.fspath(index_dir)), opened.index_dir)
                except OSError:
                    same = False
                if same:
                    return opened
            return super().__new__(cls)

        def __init__(self, index_dir):
            if self is not type(self).opened:
                super().__init__(index_dir)

    ResidentSession.__name__ = ResidentSession.__qualname__ = current.__name__
    ResidentSession.__module__ = current.__module__
    searcher.session.Session = ResidentSession
    return ResidentSession


def _warm_up(folder: str) -> None:
    """Runs WARM_UP on the index here, printing nowhere: for what a query imports, and
    for the caches of the open session."""
    from searcher.cli import cli

    saved = sys.stdout, sys.stderr
    try:
        for words in WARM_UP:
            sys.stdout = sys.stderr = io.StringIO()
            try:
                cli.main(args=["--no-config", "query", "--index", folder, "--color", "never", *words],
                         prog_name="searcher")
            except SystemExit:
                pass
            except Exception as exc:
                log(f"warm-up: {type(exc).__name__}: {exc}")
    finally:
        sys.stdout, sys.stderr = saved
    _clear_file_caches()
