"""Seeded fault fuzzing of a real index, through the CLI as a user runs it.

Builds a small index of a generated corpus (several segments, a deleted file, every
kind of file an index folder holds), then damages each file of it in many ways (bit
flips, truncation, zero-fill, appended junk, a file of another index, deletion, no
read permission, a folder in its place), one damage at a time on a fresh copy, and
runs query kinds, ``show``, ``status`` and ``index`` (incremental, then ``--rebuild``)
on it. Every command must end with exit status 0, 1 or 2 within its time, never a
traceback or an "unexpected" error, and nothing raw on the terminal; after
``--rebuild`` the index must answer again.

    NLTK_DATA=/nonexistent .venv/bin/python benchmarks/fuzz_faults.py --seed 1 --cases 400

tests/test_fuzz_faults.py runs a few cases of it on every test run.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORDS = ("security cooperation japan latvia harbour tide gauge observation ministers pledged "
         "rule law order energy summit defence partnership rice cooking patience lid serving "
         "bilateral region international strengthen counterpart invasion strategic leaders "
         "cyber treaty information sharing relations president agreed september").split()

# Exit statuses a command may end with: found, nothing, error. 130 only when interrupted.
ALLOWED = {0, 1, 2}
# What must never be printed: a traceback, an error the CLI did not expect, raw escapes.
FORBIDDEN = re.compile(r"Traceback|unexpected [A-Za-z]*Error|unexpected [A-Za-z]*Exception|\x1b|\x00")


def write_corpus(root: Path, rng: random.Random, files: int = 40) -> None:
    """Text, Markdown and HTML files of generated sentences; titles, sections, phrases."""
    for i in range(files):
        kind = ("txt", "md", "html")[i % 3]
        folder = root / ("notes" if i % 2 else "papers") / f"part{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        paragraphs = []
        for _ in range(rng.randint(2, 6)):
            sentences = []
            for _ in range(rng.randint(2, 5)):
                words = [rng.choice(WORDS) for _ in range(rng.randint(5, 14))]
                sentences.append(" ".join(words).capitalize() + ".")
            paragraphs.append(" ".join(sentences))
        if i % 5 == 0:
            paragraphs.append("They pledged to uphold the rule of law and the international order.")
        title = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {i}"
        if kind == "txt":
            text = title + "\n\n" + "\n\n".join(paragraphs) + "\n"
        elif kind == "md":
            text = f"# {title}\n\n" + "\n\n".join(
                f"## Section {j}\n\n{p}" for j, p in enumerate(paragraphs)) + "\n"
        else:
            body = "".join(f"<h2>Part {j}</h2><p>{p}</p>" for j, p in enumerate(paragraphs))
            text = f"<html><head><title>{title}</title></head><body><main>{body}</main></body></html>"
        (folder / f"doc{i:03}.{kind}").write_text(text, encoding="utf-8")


def run_cli(args: list[str], timeout: float) -> tuple[int, str, str]:
    """One CLI command in this process (click's runner): exit status, stdout, stderr.
    A command past ``timeout`` seconds is stopped by SIGALRM and reported as a hang."""
    from click.testing import CliRunner

    from searcher.cli import cli

    class Hang(BaseException):
        pass

    def alarm(signum, frame):
        raise Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        result = CliRunner().invoke(cli, args, catch_exceptions=True)
    except Hang:
        return -1, "", f"hang: no answer within {timeout} s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        # A command's readers (mapped segment files, a descriptor each) are freed with its
        # reference cycles: collected now, or thousands of commands in one process (the
        # test suite) run out of descriptors, as no command run as a process can.
        gc.collect()
    if isinstance(result.exception, Hang):
        return -1, "", f"hang: no answer within {timeout} s"
    code = result.exit_code
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        stderr += "Traceback (escaped the CLI):\n" + "".join(
            traceback.format_exception(type(result.exception), result.exception, result.exception.__traceback__))
    return code, result.stdout, stderr


@dataclass
class Case:
    """One damage to one file of the index."""

    target: str  # the file's name in the index folder (or "<name>:<inner>" for a part of a compound file)
    kind: str
    detail: str = ""
    failures: list = field(default_factory=list)

    def __str__(self):
        return f"{self.kind} {self.target} {self.detail}".strip()


def compound_parts(path: Path) -> dict[str, tuple[int, int]]:
    """The files inside a compound segment file: name -> (offset, length)."""
    from searcher.index.storage.whoosh_private import CompoundStorage
    from whoosh.filedb.structfile import StructFile

    with open(path, "rb") as f:
        storage = CompoundStorage(StructFile(f), use_mmap=False)
        parts = {name: storage.range(name) for name in storage.list()}
    return parts


def damage_bytes(data: bytes, kind: str, rng: random.Random, start: int, length: int) -> tuple[bytes, str]:
    """``data`` with one damage inside [start, start+length)."""
    data = bytearray(data)
    if length <= 0:
        return bytes(data) + b"junk", "appended (empty part)"
    if kind == "flip":
        flips = []
        for _ in range(rng.choice((1, 1, 2, 8))):
            at = start + rng.randrange(length)
            bit = rng.randrange(8)
            data[at] ^= 1 << bit
            flips.append(f"{at}.{bit}")
        return bytes(data), "bits " + ",".join(flips)
    if kind == "byte":
        at = start + rng.randrange(length)
        value = rng.choice((0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        data[at] = value
        return bytes(data), f"byte {at}={value}"
    if kind == "zero":
        at = start + rng.randrange(length)
        n = min(rng.choice((4, 16, 256, 4096)), start + length - at)
        data[at:at + n] = bytes(n)
        return bytes(data), f"zeroed {at}+{n}"
    if kind == "truncate":
        at = start + rng.randrange(length)
        return bytes(data[:at]), f"cut at {at}"
    if kind == "junk":
        junk = bytes(rng.randrange(256) for _ in range(rng.choice((1, 7, 100, 5000))))
        return bytes(data) + junk, f"{len(junk)} junk bytes appended"
    raise ValueError(kind)


BYTE_KINDS = ("flip", "flip", "flip", "byte", "zero", "truncate", "junk")
FILE_KINDS = ("delete", "unreadable", "directory", "swap", "empty")


def make_cases(index_dir: Path, rng: random.Random, count: int) -> list[Case]:
    """``count`` damages, spread over every file of the index and, for compound segment
    files, over every file inside them (the flat postings, the terms, the stored fields...)."""
    targets: list[tuple[str, int, int]] = []  # (target, start, length)
    # Segment names are random: order by role and size, so that a seed gives the same cases.
    def role(path: Path):
        return re.sub(r"_[0-9a-z]{16}", "_SEG", path.name), path.stat().st_size

    for path in sorted(index_dir.iterdir(), key=role):
        if not path.is_file() and not path.is_socket():
            continue
        size = path.stat().st_size if path.is_file() else 0
        targets.append((path.name, 0, size))
        if path.suffix == ".seg":
            for inner, (offset, length) in sorted(compound_parts(path).items()):
                targets.append((f"{path.name}:{inner}", offset, length))
    cases = []
    for n in range(count):
        target, start, length = targets[n % len(targets)]
        if ":" in target or rng.random() < 0.8:
            cases.append(Case(target, rng.choice(BYTE_KINDS), detail=f"@{start}+{length}"))
        else:
            cases.append(Case(target, rng.choice(FILE_KINDS)))
    return cases


def apply(case: Case, index_dir: Path, other_index: Path, rng: random.Random) -> None:
    name = case.target.split(":")[0]
    path = index_dir / name
    if case.kind in BYTE_KINDS:
        start, length = map(int, case.detail[1:].split("+"))
        data, what = damage_bytes(path.read_bytes(), case.kind, rng, start, length)
        path.write_bytes(data)
        case.detail += " " + what
    elif case.kind == "delete":
        path.unlink()
    elif case.kind == "unreadable":
        path.chmod(0)
    elif case.kind == "directory":
        path.unlink()
        path.mkdir()
        (path / "x").write_text("x")
    elif case.kind == "empty":
        path.write_bytes(b"")
    elif case.kind == "swap":
        # The file of the same role in another index (segments and tables by suffix).
        suffix = path.suffix
        same = [p for p in sorted(other_index.iterdir()) if p.is_file() and p.suffix == suffix]
        if same:
            shutil.copyfile(same[0], path)
            case.detail = f"with {same[0].name} of another index"
        else:
            path.unlink()
            case.detail = "(no counterpart: deleted)"


def commands(corpus: Path, sample: Path) -> list[list[str]]:
    """Query kinds and the other commands, as a user types them."""
    rel = str(sample)
    return [
        ["query", "security"],
        ["query", '"rule of law"'],
        ["query", "how did the ministers pledged to uphold the rule of law and the international order"],
        ["query", "--", "japan -latvia"],
        ["query", "path:notes", "harbour"],
        ["query", "title:security"],
        ["query", "coop*"],
        ["query", '"harbour tide"~5'],
        ["query", "--json", "energy summit"],
        ["query", "-l", "rice"],
        ["query", "--sort", "path", "-n", "50", "observation"],
        ["query", "--fix", "securty"],
        ["query", "-C", "2", "cyber"],
        ["show", rel],
        ["show", f"{rel}:3", "security"],
        ["status"],
        ["status", "--json"],
    ]


def check(case: Case, args: list[str], result: tuple[int, str, str], allowed=ALLOWED) -> None:
    code, out, err = result
    text = out + err
    problem = None
    if code not in allowed:
        problem = f"exit status {code}"
    elif FORBIDDEN.search(text):
        problem = "forbidden output"
    elif code == 2 and not err.startswith("searcher") and "error" not in err:
        problem = "error without a message"
    if problem:
        case.failures.append((args, problem, code, text[-3000:]))


def run_case(case: Case, base: Path, other: Path, corpus: Path, sample: Path, workdir: Path,
             rng: random.Random, timeout: float, reindex: bool = True) -> Case:
    index_dir = workdir / "index"
    if index_dir.exists():
        _remove(index_dir)
    shutil.copytree(base, index_dir, symlinks=True)
    apply(case, index_dir, other, rng)
    os.environ["SEARCHER_INDEX"] = str(index_dir)
    try:
        for args in commands(corpus, sample):
            check(case, args, run_cli(args, timeout))
        if reindex:
            args = ["index", "-q", "--jobs", "1", str(corpus)]
            check(case, args, run_cli(args, timeout * 3))
            check(case, ["query", "security"], run_cli(["query", "security"], timeout))
            args = ["index", "-q", "--jobs", "1", "--rebuild", str(corpus)]
            result = run_cli(args, timeout * 3)
            check(case, args, result, allowed={0})
            if result[0] == 0:
                check(case, ["query", "security"], run_cli(["query", "security"], timeout), allowed={0})
                check(case, ["query", '"rule of law"'], run_cli(["query", '"rule of law"'], timeout), allowed={0})
    finally:
        _remove(index_dir)
    return case


def _remove(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        try:
            if not path.is_symlink():
                path.chmod(stat.S_IRWXU)
        except OSError:
            pass
    shutil.rmtree(folder, ignore_errors=True)


def build(workdir: Path, seed: int) -> tuple[Path, Path, Path, Path]:
    """The corpus, its index (two runs: two segments and a deleted file), and another index."""
    rng = random.Random(seed)
    corpus = workdir / "corpus"
    write_corpus(corpus, rng)
    base = workdir / "base"
    os.environ["SEARCHER_INDEX"] = str(base)
    doomed = corpus / "papers" / "part0" / "doc000.txt"
    later = sorted(corpus.rglob("*.md"))[:6]
    held = {p: p.read_bytes() for p in later}
    for p in later:
        p.unlink()
    for args in (["index", "-q", "--jobs", "1", str(corpus)],):
        code, _, err = run_cli(args, 120)
        assert code == 0, err
    for p, data in held.items():
        p.write_bytes(data)
    doomed.unlink()
    code, _, err = run_cli(["index", "-q", "--jobs", "1", str(corpus)], 120)
    assert code == 0, err
    other_corpus = workdir / "other-corpus"
    write_corpus(other_corpus, random.Random(seed + 1), files=7)
    other = workdir / "other"
    os.environ["SEARCHER_INDEX"] = str(other)
    code, _, err = run_cli(["index", "-q", "--jobs", "1", str(other_corpus)], 120)
    assert code == 0, err
    sample = sorted(corpus.rglob("*.txt"))[0]
    return corpus, base, other, sample


def fuzz(seed: int, cases: int, timeout: float = 20.0, reindex_every: int = 1, log=None,
         keep: Path | None = None, only: int | None = None) -> list[Case]:
    """Runs ``cases`` damages; returns those that failed. ``keep`` and ``only``: apply
    case number ``only`` (from 1) to a copy of the index at ``keep``, with its corpus
    beside it, and run nothing (to look into a failure with --debug)."""
    os.environ.setdefault("NLTK_DATA", "/nonexistent")
    os.environ.pop("SEARCHER_RESIDENT", None)
    with tempfile.TemporaryDirectory(prefix="searcher-fuzz-") as tmp:
        workdir = Path(tmp)
        os.environ["XDG_CONFIG_HOME"] = str(workdir / "config")
        os.environ["XDG_DATA_HOME"] = str(workdir / "data")
        corpus, base, other, sample = build(workdir, seed)
        rng = random.Random(seed)
        failed = []
        for n, case in enumerate(make_cases(base, rng, cases)):
            if keep is not None:
                if n + 1 == only:
                    shutil.rmtree(keep, ignore_errors=True)
                    shutil.copytree(workdir, keep, symlinks=True, ignore=shutil.ignore_patterns("index"))
                    apply(case, keep / "base", keep / "other", random.Random(f"{seed}-{n}"))
                    print(f"{keep / 'base'}: {case}; its corpus: {keep / 'corpus'}")
                    return []
                continue
            run_case(case, base, other, corpus, sample, workdir, random.Random(f"{seed}-{n}"), timeout,
                     reindex=n % reindex_every == 0)
            if case.failures:
                failed.append(case)
            if log:
                log(f"{n + 1}/{cases} {case}: {'FAIL ' + str(len(case.failures)) if case.failures else 'ok'}")
        return failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds a command may take")
    parser.add_argument("--reindex-every", type=int, default=1,
                        help="run 'index' and 'index --rebuild' on every Nth case (they are the slow part)")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--keep", type=Path, help="with --only: where to leave the damaged index")
    parser.add_argument("--only", type=int, help="with --keep: the case (from 1) to apply")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.reindex_every < 1:
        parser.error("--cases and --reindex-every must be at least 1")
    started = time.monotonic()
    failed = fuzz(args.seed, args.cases, args.timeout, args.reindex_every,
                  log=(lambda line: print(line, file=sys.stderr)) if args.verbose else None,
                  keep=args.keep, only=args.only)
    if args.keep is not None:
        return 0
    for case in failed:
        print(f"FAILED {case}")
        for cmd, problem, code, text in case.failures:
            print(f"  searcher {' '.join(cmd)}: {problem} (exit {code})")
            print("    " + text.strip().replace("\n", "\n    ")[-1500:])
    print(f"{args.cases - len(failed)}/{args.cases} cases passed, seed {args.seed}, "
          f"{time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
