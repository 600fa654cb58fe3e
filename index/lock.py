"""One writer per index: an OS file lock held for a whole `searcher index` run.

whoosh locks the index only while one of its writers is open, but a run
commits several times and updates the manifest between commits, so the run
holds its own lock from start to end. It is an flock()/msvcrt lock on a file
in the index folder: the OS drops it when the process dies, however it dies,
so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from index.errors import IndexLocked

LOCK_NAME = "searcher.lock"


class RunLock:
    def __init__(self, index_dir: str | os.PathLike):
        self.path = Path(index_dir) / LOCK_NAME
        self.fd: int | None = None

    def acquire(self, timeout: float = 0.0, poll: float = 0.1) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; raise IndexLocked if another run holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        try:
            while not _try_lock(fd):
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

    def release(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            _unlock(fd)
            os.close(fd)

    def close_in_child(self) -> None:
        """In a forked worker: drop the inherited descriptor without unlocking the parent's lock."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def is_held_elsewhere(self) -> bool:
        """True while some other process holds the lock (checked without blocking)."""
        if not self.path.exists():
            return False
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError:
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
