"""What ignore files cost the walk of `searcher index` (index/runs/walker.py, index/runs/ignore.py).

Makes a tree of N small files (default 100,000: 100 folders of 10 subfolders of 100 files,
.md, .txt and others) once, then times the walk, best of --repeat, in these settings:

- ``--no-ignore``: ignore files not read at all;
- the default with no ignore file anywhere;
- a root .gitignore of 40 patterns (a typical project's);
- that, plus a .ignore in each of the 100 folders and a .searcherignore in each of the
  1,000 subfolders (5 patterns each, some negated): the worst case of nesting.

Usage:
    python benchmarks/ignore.py [--files 100000] [--tree /tmp/searcher-ignore-tree] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from searcher.index.runs.walker import FoundFile, walk  # noqa: E402

GITIGNORE = """\
# a typical project's
__pycache__/
*.py[cod]
*$py.class
*.so
build/
develop-eggs/
dist/
downloads/
eggs/
.eggs/
lib64/
parts/
sdist/
var/
wheels/
*.egg-info/
.installed.cfg
*.egg
*.manifest
*.spec
pip-log.txt
htmlcov/
.tox/
.coverage
.cache
nosetests.xml
coverage.xml
*.cover
.hypothesis/
*.mo
*.pot
*.log
local_settings.py
instance/
.scrapy
docs/_build/
target/
.ipynb_checkpoints
node_modules/
*.tmp.md
"""
FOLDER_IGNORE = "*.bak\ndraft-*.md\n!draft-keep.md\n/scratch/\n*~\n"
SUBFOLDER_IGNORE = "*.old.txt\n!important.old.txt\nnotes-[0-9].md\ncache/\n**/tmp/*.md\n"
SUFFIXES = [".md", ".txt", ".md", ".txt", ".log", ".tmp.md", ".rst", ".html"]


def make_tree(root: Path, files: int) -> None:
    marker = root / f".made-{files}"
    if marker.exists():
        return
    folders, subfolders = 100, 10
    per = max(1, files // (folders * subfolders))
    for f in range(folders):
        for s in range(subfolders):
            d = root / f"f{f:03d}" / f"s{s:02d}"
            d.mkdir(parents=True, exist_ok=True)
            for n in range(per):
                (d / f"doc{n:04d}{SUFFIXES[n % len(SUFFIXES)]}").write_text(f"harbour {f} {s} {n}\n")
    marker.write_text("")


def set_ignore_files(root: Path, level: int) -> None:
    for path in root.rglob("*"):
        if path.name in (".gitignore", ".ignore", ".searcherignore"):
            path.unlink()
    if level >= 1:
        (root / ".gitignore").write_text(GITIGNORE)
    if level >= 2:
        for folder in root.iterdir():
            if folder.is_dir():
                (folder / ".ignore").write_text(FOLDER_IGNORE)
                for sub in folder.iterdir():
                    if sub.is_dir():
                        (sub / ".searcherignore").write_text(SUBFOLDER_IGNORE)


def timed_walk(root: Path, repeat: int, **options) -> tuple[float, float, int]:
    """(best wall time, best CPU time, files found): CPU time too, as on a busy machine the
    wall time mostly measures waiting for a core."""
    best, best_cpu, count = float("inf"), float("inf"), 0
    for _ in range(repeat):
        started, c0 = time.perf_counter(), time.process_time()
        count = sum(1 for item in walk([root], **options) if isinstance(item, FoundFile))
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, best_cpu, count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--tree", type=Path, default=Path("/tmp/searcher-ignore-tree"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    args.tree.mkdir(parents=True, exist_ok=True)
    make_tree(args.tree, args.files)
    total = sum(len(names) for _, _, names in os.walk(args.tree))
    print(f"tree: {args.tree} ({total} files)\n")
    print("| setting | walk s, wall | walk s, CPU | files found | CPU added per file (µs) |")
    print("|---|---|---|---|---|")
    set_ignore_files(args.tree, 0)
    _, base, found = timed_walk(args.tree, args.repeat, ignore=False)
    print(f"| --no-ignore | {_:.2f} | {base:.2f} | {found} | |")
    for level, label in [(0, "no ignore files"), (1, "root .gitignore, 40 patterns"),
                         (2, "+ .ignore in 100 folders, .searcherignore in 1,000 subfolders")]:
        set_ignore_files(args.tree, level)
        wall, cpu, found = timed_walk(args.tree, args.repeat)
        print(f"| {label} | {wall:.2f} | {cpu:.2f} | {found} | {(cpu - base) / total * 1e6:.1f} |")
    set_ignore_files(args.tree, 0)


if __name__ == "__main__":
    main()
