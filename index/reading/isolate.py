"""Run one extractor on one file in a child process with a time and memory limit.

Parsers of container formats (PDF, .docx, .odt, .epub, mail) run code paths a
crafted or damaged file can drive into minutes of CPU or gigabytes of memory
(a 280 KB PDF whose streams inflate to 70 MB each). The indexing process must
survive any such file: the extractor runs in a forked child whose address
space is capped (RLIMIT_AS) and which is killed at the deadline, and whatever
goes wrong comes back as SkipFile with a reason, never as an exception that
ends the run.

Limits come from the environment so a test (or a user with a huge trusted
document) can move them: SEARCHER_EXTRACT_SECONDS (default 60) and
SEARCHER_EXTRACT_MEMORY (default 1G, over what the process already maps).
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time

from searcher.index.errors import SkipFile

DEFAULT_SECONDS = 60.0
DEFAULT_MEMORY = 1024**3


def limits() -> tuple[float, int]:
    from searcher.index.reading.reader import parse_size

    try:
        seconds = float(os.environ.get("SEARCHER_EXTRACT_SECONDS", DEFAULT_SECONDS))
    except ValueError:
        seconds = DEFAULT_SECONDS
    try:
        memory = parse_size(os.environ.get("SEARCHER_EXTRACT_MEMORY", "")) or DEFAULT_MEMORY
    except ValueError:
        memory = DEFAULT_MEMORY
    return max(seconds, 0.1), memory


def run_isolated(function, *args, what: str = "file", preload: tuple[str, ...] = ()):
    """``function(*args)`` in a child process; its result, or SkipFile if it fails or exceeds a limit.

    ``function`` may raise SkipFile itself; any other exception becomes
    "unreadable WHAT: detail". Modules in ``preload`` are imported here first, so
    each child inherits them instead of importing them again (pypdf: 0.3 s).
    Without fork (not POSIX) it runs in-process.
    """
    import importlib

    for name in preload:
        importlib.import_module(name)
    if not hasattr(os, "fork"):
        return _call(function, args, what)
    seconds, memory = limits()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        os.close(read_end)
        status = 0
        try:
            _limit_memory(memory)
            try:
                payload = ("ok", function(*args))
            except SkipFile as exc:
                payload = ("skip", str(exc))
            except MemoryError:
                payload = ("skip", f"{what} needs more than {_size(memory)} of memory to read")
            except RecursionError:
                payload = ("skip", f"unreadable {what}: nested too deeply")
            except Exception as exc:  # any parser bug or malformed-file error
                payload = ("skip", f"unreadable {what}: {_detail(exc)}")
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
        except BaseException:
            status = 1
        finally:
            os._exit(status)  # skip atexit handlers and buffers inherited from the parent
    os.close(write_end)
    return _collect(pid, read_end, seconds, memory, what)


def _collect(pid: int, fd: int, seconds: float, memory: int, what: str):
    chunks, deadline, timed_out = [], time.monotonic() + seconds, False
    # poll, not select: select refuses descriptors past 1023, which a long-lived process
    # (a test run, a program using the library) may have reached.
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            if not poller.poll(max(1, int(left * 1000))):
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    except BaseException:  # Ctrl-C: the child must not outlive us
        os.close(fd)
        _kill(pid)
        _reap(pid)
        raise
    os.close(fd)
    if timed_out:
        _kill(pid)
    _, status = _reap(pid)
    if timed_out:
        raise SkipFile(f"{what} took longer than {seconds:g}s to read (SEARCHER_EXTRACT_SECONDS)")
    data = b"".join(chunks)
    if not data:
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGKILL, signal.SIGSEGV):
            raise SkipFile(f"{what} needs more than {_size(memory)} of memory to read")
        raise SkipFile(f"unreadable {what}: the reader stopped")
    kind, value = pickle.loads(data)  # our own child's output
    if kind == "skip":
        raise SkipFile(value)
    return value


def _call(function, args, what):
    try:
        return function(*args)
    except SkipFile:
        raise
    except (MemoryError, RecursionError, Exception) as exc:
        raise SkipFile(f"unreadable {what}: {_detail(exc)}") from None


def _limit_memory(extra: int):
    try:
        import resource

        mapped = _mapped_bytes()
        limit = mapped + extra
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass  # no rlimits here: the deadline still holds


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _kill(pid: int):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int):
    while True:
        try:
            return os.waitpid(pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return pid, 0


def _detail(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _size(n: int) -> str:
    from searcher.index.reading.reader import format_size

    return format_size(n)

