"""One writer per index: an OS file lock held for a whole `searcher index` run.

whoosh locks the index only while one of its writers is open, but a run
commits several times and updates the manifest between commits, so the run
holds its own lock from start to end. It is an flock()/msvcrt lock on a file
in the index folder: the OS drops it when the process dies, however it dies,
so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from searcher.index.errors import IndexDamaged, IndexLocked

LOCK_NAME = "searcher.lock"


class RunLock:
    def __init__(self, index_dir: str | os.PathLike):
        self.path = Path(index_dir) / LOCK_NAME
        self.fd: int | None = None

    def acquire(self, timeout: float = 0.0, poll: float = 0.1, on_wait=None) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; raise IndexLocked if another run holds it.

        ``on_wait(message)`` is called once, as soon as it is clear that the lock is
        taken and there is time to wait: a silent wait looks like a hang.
        """
        fd = _open_lock_file(self.path, os.O_RDWR | os.O_CREAT)
        deadline = time.monotonic() + timeout
        told = False
        try:
            while not _try_lock(fd):
                if on_wait is not None and not told and timeout > 0:
                    told = True
                    holder = _read_pid(fd)
                    who = f"pid {holder}" if holder else "another process"
                    on_wait(f"waiting up to {timeout:g}s for {who}: another 'searcher index' "
                            f"is writing to {self.path.parent}")
                if time.monotonic() >= deadline:
                    holder = _read_pid(fd)
                    who = f" (pid {holder})" if holder else ""
                    waited = f"; waited {timeout:g}s" if timeout else ""
                    raise IndexLocked(
                        f"another 'searcher index' is writing to {self.path.parent}{who}{waited}: "
                        "try again when it has finished, or pass --wait SECONDS"
                    )
                time.sleep(poll)
        except BaseException:
            os.close(fd)
            raise
        # Only the holder's pid, for the message another run shows.
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def publish_state(self, state: str) -> None:
        """One line about the run (index/runs/writer.py's progress), after the pid, for
        queries that find the index being built; a write of a few bytes, so readers
        see the old line or the new one, and anything else parses as nothing."""
        if self.fd is None:
            return
        data = f"{os.getpid()}\n{state}\n".encode()
        try:
            os.pwrite(self.fd, data, 0)
            os.ftruncate(self.fd, len(data))
        except OSError:
            pass  # only a courtesy to readers: never a reason to fail a run

    def state(self) -> str | None:
        """The state line published by the run holding the lock, or None when no run holds it."""
        if not self.is_held_elsewhere():
            return None
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return lines[1] if len(lines) > 1 else ""

    def release(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            _unlock(fd)
            os.close(fd)

    def is_held_elsewhere(self) -> bool:
        """True while some other process holds the lock (checked without blocking)."""
        if not self.path.exists():
            return False
        try:
            fd = _open_lock_file(self.path, os.O_RDWR)
        except (OSError, IndexDamaged):
            return False
        try:
            if _try_lock(fd):
                _unlock(fd)
                return False
            return True
        finally:
            os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def _open_lock_file(path: Path, flags: int) -> int:
    """The lock file, opened: never through a symlink (a folder shared with others could
    point it at a file of yours, which the run would truncate), and only a regular file
    (a folder or a FIFO there failed with an error the run did not expect)."""
    try:
        fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0), 0o644)
    except OSError as exc:
        if os.path.islink(path) or os.path.isdir(path):
            raise IndexDamaged(f"{path} is not a regular file: remove it, then run again") from None
        raise IndexDamaged(f"the index's lock file {path} cannot be opened ({exc.strerror}): "
                           "remove it, then run again") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IndexDamaged(f"{path} is not a regular file: remove it, then run again")
    return fd


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return int(os.read(fd, 32).split()[0])
    except (OSError, ValueError, IndexError):
        return None


try:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
