"""Peak RSS of merging every segment of an index into one (index/storage/merge.py).

The merged segment's files are written but not published (no new table of contents) and
deleted afterwards, so the index is left as it was. RSS of this process and of the merge's
forked half is summed every 0.05 s, as benchmarks/speed.py sums a run's process tree.

Usage:
    NLTK_DATA=/nonexistent .venv/bin/python benchmarks/merge_memory.py INDEX_DIR [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import threading
import time


def tree_rss_mb(pid: int) -> float:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(x) for x in f.read().split())
        except (OSError, StopIteration):
            pass
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("index_dir")
    parser.add_argument("--workers", type=int, default=2, help="processes writing postings, as a run's last merge")
    parser.add_argument("--indexname", default="MAIN")
    args = parser.parse_args()

    from searcher.index.storage.merge import merge_segments
    from searcher.index.storage.whoosh_private import TOC, open_file_index

    peak, done = [0.0], threading.Event()

    def sample():
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_rss_mb(os.getpid()))

    toc = TOC.read(open_file_index(args.index_dir, args.indexname).storage, args.indexname)
    before = set(os.listdir(args.index_dir))
    threading.Thread(target=sample, daemon=True).start()
    started, cpu = time.perf_counter(), os.times()
    try:
        merge_segments(args.index_dir, args.indexname, toc.schema, toc.segments, args.workers)
    finally:
        done.set()
        for name in set(os.listdir(args.index_dir)) - before:
            os.remove(os.path.join(args.index_dir, name))
    end = os.times()
    passages = sum(s.doc_count_all() - s.deleted_count() for s in toc.segments)
    print(f"{len(toc.segments)} segments, {passages} passages: peak RSS {peak[0]:.0f} MB, "
          f"{time.perf_counter() - started:.1f} s wall, "
          f"{sum(end[:4]) - sum(cpu[:4]):.1f} s CPU (user and system, with the forked half)")


if __name__ == "__main__":
    main()
