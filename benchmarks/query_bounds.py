"""Query-cost bounds (issue 13): hostile queries against ordinary ones, on one index.

Each query runs as the installed `searcher query QUERY --json` in a fresh process,
as a user runs it, with a time limit; the table gives its wall and CPU time (the
CPU time is what to compare on a busy machine), peak RSS
(the child's ru_maxrss), exit status and the first line of its error. The
ordinary rows are the corpus's own query sets (see corpus.py), timed the same
way, so a bound that slows ordinary queries shows in the same table.

Usage:
    python benchmarks/corpus.py build benchmarks/data/cranfield-7500 --docs 7500
    searcher index --index benchmarks/out/idx-7500 benchmarks/data/cranfield-7500/docs
    python benchmarks/query_bounds.py --index benchmarks/out/idx-7500 \
        --queries benchmarks/data/cranfield-7500/queries.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HOSTILE = {
    "fuzzy distance 999999999": "river~999999999",
    "fuzzy long word": "islandlagoon~999999999",
    "fuzzy distance 2": "aerodynamic~2",
    "1,000-letter word": "a" * 1000,
    "10,000-letter word": "ab" * 5000,
    "1,000-letter fuzzy": "b" * 1000 + "~2",
    "title: x40": "title:" * 40 + "wing",
    "wildcard *": "*a*",
    "wildcard **kwargs": "**kwargs",
    "*args **kwargs": "*args **kwargs",
    "prefix a*": "a*",
    "many prefixes": " ".join(f"{c}*" for c in "abcdefghijklmnopqrstuvwxyz"),
    "many fuzzies": " ".join(f"flow{c}~2" for c in "abcdefghijklmnopqrst"),
    "pasted text 20k chars": ("the boundary layer separates near the leading edge of the wing " * 320),
    "10,000 words": " ".join(["flow", "wing", "shock", "heat"] * 2500),
    "deep parentheses": "(" * 500 + "wing" + ")" * 500,
    "long phrase": '"' + " ".join(["the boundary layer"] * 200) + '"',
}


def run(index: str, query: str, timeout: float) -> dict:
    command = [shutil.which("searcher") or "searcher", "query", "--index", index, "--json", "--", query]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            return {"seconds": timeout, "cpu": usage.ru_utime + usage.ru_stime,
                    "rss_mb": usage.ru_maxrss / 1024, "exit": "timeout", "error": ""}
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    error = proc.stderr.read().strip().splitlines()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024, "exit": proc.returncode,
            "error": error[0][:90] if error else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--queries", help="queries.json of corpus.py: ordinary queries to time")
    parser.add_argument("--sample", type=int, default=10, help="ordinary queries per set")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--json", dest="json_out", help="write the raw rows here")
    args = parser.parse_args()

    rows = []
    print(f"{'query':34} {'wall s':>7} {'CPU s':>6} {'MB':>6} {'exit':>7}  error")
    for name, query in HOSTILE.items():
        row = {"name": name, **run(args.index, query, args.timeout)}
        rows.append(row)
        print(f"{name:34} {row['seconds']:7.2f} {row['cpu']:6.2f} {row['rss_mb']:6.0f} {row['exit']!s:>7}  "
              f"{row['error']}", flush=True)
    if args.queries:
        with open(args.queries, encoding="utf-8") as f:
            sets = json.load(f)
        for set_name, queries in sets.items():
            times, cpus, rss = [], [], []
            for query in queries[:args.sample]:
                row = run(args.index, query, args.timeout)
                times.append(row["seconds"])
                cpus.append(row["cpu"])
                rss.append(row["rss_mb"])
            row = {"name": f"ordinary {set_name} (median of {len(times)})", "seconds": statistics.median(times),
                   "cpu": statistics.median(cpus), "worst_cpu": max(cpus), "rss_mb": max(rss)}
            rows.append(row)
            print(f"{row['name']:34} {row['seconds']:7.2f} {row['cpu']:6.2f} {row['rss_mb']:6.0f} {'':>7}  "
                  f"worst CPU {max(cpus):.2f} s", flush=True)
    worst = max(rows, key=lambda r: r["cpu"])
    print(f"worst: {worst['name']} {worst['cpu']:.2f} CPU s; peak RSS {max(r['rss_mb'] for r in rows):.0f} MB",
          file=sys.stderr)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
