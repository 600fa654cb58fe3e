"""Hostile options and queries, through the CLI: one escaped line, exit status 2, bounded work."""

from __future__ import annotations

import os

import pytest

from searcher.console import ExitStatus


@pytest.mark.parametrize("args", [
    ("query", "-n", "-1", "rice"),
    ("query", "--sort", "nope", "rice"),
    ("query", "--color", "\x1b[31m", "rice"),
    ("query", "--bogus", "rice"),
    ("query",),
    ("index",),
    ("index", "-j", "0", "."),
    ("nope",),
    ("show", "-C", "-1", "x"),
    ("watch", "--debounce", "-1"),
])
def test_a_usage_error_is_one_escaped_line(run, args):
    result = run(*args)
    assert result.exit_code == ExitStatus.ERROR
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("searcher: error: "), lines
    assert "--help" in lines[0] and "\x1b" not in result.output


@pytest.mark.parametrize("args", [("index", "--wait", "nan", "."), ("watch", "--debounce", "NaN"),
                                  ("index", "--commit-every", "nan", ".")])
def test_nan_seconds_are_refused(run, args):
    """No deadline is ever past nan: a run told to --wait nan for a lock waited for ever."""
    result = run(*args)
    assert result.exit_code == ExitStatus.ERROR and "is not a number of seconds" in result.output


def test_jobs_past_a_few_per_core_start_no_more_workers():
    from searcher.index.runs.writer import FileJob, MAX_WORKERS_PER_CORE, _choose_workers

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert _choose_workers(100_000, None) == MAX_WORKERS_PER_CORE * cores  # the merge's workers
    work = [FileJob.__new__(FileJob) for _ in range(1000)]
    assert _choose_workers(100_000, work) == MAX_WORKERS_PER_CORE * cores
    assert _choose_workers(2, work) == 2


_CTRL_C_IN_IMPORTS = """
import os, signal, sys
sys.argv = ["searcher", "query", "rice"]
from searcher.index.storage import lean_whoosh
real = lean_whoosh.import_whoosh

def interrupted_import():
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while whoosh and the query code are imported
    real()

lean_whoosh.import_whoosh = interrupted_import
from searcher.{module} import main
main()
"""


@pytest.mark.parametrize("module", ["cli", "launcher"])
def test_ctrl_c_while_the_code_is_imported_is_one_line_and_130(module, index_location):
    import signal
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", _CTRL_C_IN_IMPORTS.format(module=module)],
                            capture_output=True, text=True, timeout=120,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert result.returncode == ExitStatus.INTERRUPTED, result.stderr
    assert result.stderr == "searcher: interrupted\n"
