"""watchdog or watchfiles for `searcher watch`: measured on one tree (default: the 100,000-file
tree of benchmarks/ignore.py), each in a fresh interpreter:

- import time of the library;
- start: from starting to watch the tree until a change is seen (the first write is
  repeated every 50 ms until one is reported, so this includes setting up the watches);
- latency: from one more write until it is reported (the library's own debounce included,
  watchfiles' set to 50 ms);
- CPU time used while idle for 5 s, and the peak RSS.

Usage:
    python benchmarks/watchers.py [--tree /tmp/searcher-ignore-tree]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent(r'''
    import json, os, resource, sys, threading, time
    lib, tree = sys.argv[1], sys.argv[2]
    probe = os.path.join(tree, "watch-probe.md")
    t0 = time.perf_counter()
    if lib == "watchdog":
        from watchdog.observers import Observer
        from watchdog.events import FileSystemEventHandler
    else:
        import watchfiles
    imported = time.perf_counter() - t0
    seen = threading.Event()
    stop = threading.Event()
    if lib == "watchdog":
        class H(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.src_path.endswith("watch-probe.md"):
                    seen.set()
        observer = Observer()
        started = time.perf_counter()
        observer.schedule(H(), tree, recursive=True)
        observer.start()
    else:
        def run():
            for changes in watchfiles.watch(tree, stop_event=stop, debounce=50, step=10, rust_timeout=100):
                if any(p.endswith("watch-probe.md") for _, p in changes):
                    seen.set()
        started = time.perf_counter()
        threading.Thread(target=run, daemon=True).start()
    n = 0
    while not seen.is_set():
        with open(probe, "w") as f:
            f.write(str(n))
        n += 1
        seen.wait(0.05)
    ready = time.perf_counter() - started
    time.sleep(1.0)
    seen.clear()
    t = time.perf_counter()
    with open(probe, "w") as f:
        f.write("again")
    seen.wait(10)
    latency = time.perf_counter() - t
    c0 = time.process_time()
    time.sleep(5)
    idle_cpu = time.process_time() - c0
    os.remove(probe)
    stop.set()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"import_ms": imported * 1000, "ready_s": ready, "latency_ms": latency * 1000,
                      "idle_cpu_ms": idle_cpu * 1000, "rss_mb": rss}))
    os._exit(0)
''')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=Path("/tmp/searcher-ignore-tree"))
    args = parser.parse_args()
    files = sum(len(names) for _, _, names in os.walk(args.tree))
    print(f"tree: {args.tree} ({files} files)\n")
    print("| library | import ms | start (until a change is seen) s | latency ms | CPU idle 5 s, ms | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for lib in ("watchdog", "watchfiles"):
        done = subprocess.run([sys.executable, "-c", PROBE, lib, str(args.tree)], capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0:
            print(f"| {lib} | failed: {done.stderr.strip().splitlines()[-1:]} |")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {lib} | {r['import_ms']:.0f} | {r['ready_s']:.2f} | {r['latency_ms']:.0f} | "
              f"{r['idle_cpu_ms']:.0f} | {r['rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
