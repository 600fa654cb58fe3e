"""Cold-start benchmark: a fresh ``searcher query`` process per query, on the plain path and
in resident mode (README "Resident mode"; the server already warm), in the same run.

    python benchmarks/coldstart.py                     # the seeds and the Python 3.11 HTML docs
    python benchmarks/coldstart.py --folder DIR --set benchmarks/realfolder/python-docs.json
    python benchmarks/coldstart.py --exe /path/to/venv/bin/searcher --reuse

Each query runs ``--rounds`` times in each mode, the two modes alternating so that both see
the same load; the outputs (stdout, stderr, exit status) of the two modes are compared
every time. The table gives median and p95 wall time per query kind, and how often the
outputs differed (it should be never). Indexes are written under ``--out`` (reused with
``--reuse``). Also timed: an interpreter that does nothing (``python -c pass``), the floor
of any fresh process.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

# A user's installed package has its bytecode compiled (pip does it at install): a timed child
# that may not write bytecode (PYTHONDONTWRITEBYTECODE, set on some machines) would compile
# every module on every cold query instead.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parents[1] / "shared" / "corpus" / "seeds"
PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
PYTHON_SET = HERE / "realfolder" / "python-docs.json"
SEED_QUERIES = [
    ("keywords", "japan"), ("keywords", "security cooperation"), ("keywords", "prime minister lithuania"),
    ("phrase", '"rule of law"'), ("phrase", '"strategic partnership"'), ("phrase", '"foreign minister"'),
    ("question", "what did japan and latvia agree about supporting ukraine"),
    ("question", "how will lithuania and japan deepen their strategic partnership"),
    ("question", "which countries discussed energy security and cyber defence"),
]
KINDS = ("keywords", "phrase", "question")


def searcher_exe(given: str | None) -> str:
    if given:
        return given
    exe = shutil.which("searcher", path=str(Path(sys.executable).parent))
    if not exe:
        sys.exit("no searcher console script next to this Python: pip install -e . (or give --exe)")
    return exe


def timed(cmd: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env)
    return time.perf_counter() - start, done


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Server:
    """The resident server of one index, started and warmed up for the timed runs."""

    def __init__(self, exe: str, index_dir: Path, env: dict, log: Path):
        self.exe, self.index_dir, self.log = exe, index_dir, log
        self.env = dict(env, SEARCHER_RESIDENT="1", SEARCHER_RESIDENT_LOG=str(log),
                        SEARCHER_RESIDENT_IDLE="900")

    def answered(self) -> int:
        try:
            return self.log.read_text().count(" answered ")
        except FileNotFoundError:
            return 0

    def start(self, words: str) -> None:
        deadline = time.monotonic() + 120
        while True:
            before = self.answered()
            subprocess.run([self.exe, "query", "--index", str(self.index_dir), words], capture_output=True,
                           env=self.env)
            if self.answered() > before:
                return
            if time.monotonic() > deadline:
                sys.exit(f"the resident server of {self.index_dir} did not start: see {self.log}")
            time.sleep(0.2)

    def stop(self) -> None:
        try:
            lines = self.log.read_text().splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            if " serving " in line:
                try:
                    os.kill(int(line.split()[1]), signal.SIGTERM)
                except ProcessLookupError:
                    pass


def run_folder(name: str, exe: str, index_dir: Path, queries, rounds: int, log: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCHER_RESIDENT")}
    env.setdefault("NLTK_DATA", "/nonexistent")
    plain_env = dict(env, SEARCHER_RESIDENT="0")
    log.unlink(missing_ok=True)
    server = Server(exe, index_dir, env, log)
    server.start(queries[0][1])
    times = {(kind, mode): [] for kind in KINDS for mode in ("plain", "resident")}
    differ = 0
    served = server.answered()
    try:
        for _ in range(rounds):
            for kind, text in queries:
                cmd = [exe, "query", "--index", str(index_dir), text]
                plain_time, plain = timed(cmd, plain_env)
                resident_time, resident = timed(cmd, server.env)
                times[kind, "plain"].append(plain_time)
                times[kind, "resident"].append(resident_time)
                if (plain.returncode, plain.stdout, plain.stderr) != (resident.returncode, resident.stdout,
                                                                      resident.stderr):
                    differ += 1
    finally:
        served = server.answered() - served
        server.stop()
    runs = rounds * len(queries)
    print(f"\n{name}: {len(queries)} queries x {rounds} rounds; resident answers: {served} of {runs}; "
          f"outputs that differed: {differ}")
    print("| kind | plain median / p95 | resident median / p95 |")
    print("|---|---|---|")
    for kind in KINDS:
        plain, resident = times[kind, "plain"], times[kind, "resident"]
        if plain:
            print(f"| {kind} | {statistics.median(plain) * 1000:.0f} / {p95(plain) * 1000:.0f} ms "
                  f"| {statistics.median(resident) * 1000:.0f} / {p95(resident) * 1000:.0f} ms |")
    try:
        inside = [float(m) for m in re.findall(r" answered .*, (\d+) ms$", log.read_text(), re.M)]
    except FileNotFoundError:
        inside = []
    if inside:
        print(f"(the server's own time per answer, from its log: median {statistics.median(inside):.0f} ms, "
              f"p95 {p95(inside):.0f} ms; the rest is the client's start-up and the socket)")
    every_plain = [t for k in KINDS for t in times[k, "plain"]]
    every_resident = [t for k in KINDS for t in times[k, "resident"]]
    print(f"| all | {statistics.median(every_plain) * 1000:.0f} / {p95(every_plain) * 1000:.0f} ms "
          f"| {statistics.median(every_resident) * 1000:.0f} / {p95(every_resident) * 1000:.0f} ms |")
    return times


def ensure_index(exe: str, folder: Path, index_dir: Path, reuse: bool) -> None:
    if reuse and (index_dir / "searcher.json").exists():
        return
    if index_dir.exists():
        shutil.rmtree(index_dir)
    env = dict(os.environ, NLTK_DATA=os.environ.get("NLTK_DATA", "/nonexistent"))
    env.pop("SEARCHER_RESIDENT", None)
    start = time.perf_counter()
    subprocess.run([exe, "index", "--index", str(index_dir), "-q", str(folder)], check=True, env=env)
    print(f"indexed {folder} in {time.perf_counter() - start:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exe", help="the searcher console script to time (default: this venv's)")
    parser.add_argument("--folder", type=Path, help="one folder to time (default: the seeds and the Python docs)")
    parser.add_argument("--set", type=Path, default=None,
                        help="queries for --folder: a realfolder.py query set (default: the seed queries)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("/tmp/searcher-coldstart"))
    parser.add_argument("--reuse", action="store_true", help="reuse the indexes under --out")
    args = parser.parse_args()
    exe = searcher_exe(args.exe)
    args.out.mkdir(parents=True, exist_ok=True)
    python = Path(exe).read_text(errors="replace").splitlines()[0].removeprefix("#!").strip()
    nothing = [timed([python, "-c", "pass"], dict(os.environ))[0] for _ in range(11)]
    print(f"searcher: {exe}\n`{python} -c pass`: median {statistics.median(nothing) * 1000:.0f} ms")

    if args.folder:
        targets = [(args.folder.name, args.folder, args.set)]
    else:
        targets = [("seeds", SEEDS, None)]
        if PYTHON_DOCS.is_dir():
            targets.append(("python-docs", PYTHON_DOCS, PYTHON_SET))
        else:
            print(f"{PYTHON_DOCS} is missing (apt-get install -y python3.11-doc): timing the seeds only")
    for name, folder, query_set in targets:
        if not folder.is_dir():
            print(f"{folder} is missing: skipped")
            continue
        if query_set is None:
            queries = SEED_QUERIES
        else:
            queries = [(q["kind"], q["text"]) for q in json.loads(query_set.read_text())["queries"]]
        index_dir = args.out / f"{name}-index"
        ensure_index(exe, folder, index_dir, args.reuse)
        run_folder(name, exe, index_dir, queries, args.rounds, args.out / f"{name}-resident.log")


if __name__ == "__main__":
    main()
