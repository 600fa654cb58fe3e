"""whoosh behind one door (index/storage/whoosh_private.py): no other module of searcher
imports whoosh's private structures, and another whoosh release is refused with
one line.

The posting-block decoder the door holds is covered where it is read: ranking
(tests/test_ranking.py), phrases (tests/test_phrases.py) and merges
(tests/test_merge.py) compare it with whoosh's own reading.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOOR = ROOT / "index" / "storage" / "whoosh_private.py"

# whoosh's public API, which any module may use: module -> the names it may take from
# it ("*": any public name of the module that is not itself a module).
PUBLIC = {
    "whoosh.query": "*",
    "whoosh.qparser": "*",
    "whoosh.fields": "*",
    "whoosh.analysis": "*",
    "whoosh.scoring": "*",
    "whoosh.index": {"open_dir", "create_in", "exists_in", "EmptyIndexError"},
}


def _public_name(module: str, name: str) -> bool:
    allowed = PUBLIC.get(module)
    if allowed is None:
        return False
    if allowed != "*":
        return name in allowed
    if name.startswith("_"):
        return False
    value = getattr(importlib.import_module(module), name, None)
    return value is not None and not inspect.ismodule(value)


def private_uses(source: str) -> list[str]:
    """What a module's source takes from whoosh outside PUBLIC: imports of other
    modules or names, and attributes of an imported public module that are not public."""
    found = []
    aliases: dict[str, str] = {}  # local name -> the whoosh module it stands for
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "whoosh" or alias.name.startswith("whoosh."):
                    found.append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "whoosh":
                for alias in node.names:
                    module = f"whoosh.{alias.name}"
                    if module in PUBLIC:
                        aliases[alias.asname or alias.name] = module
                    else:
                        found.append(f"from whoosh import {alias.name}")
            elif node.module.startswith("whoosh."):
                for alias in node.names:
                    if not _public_name(node.module, alias.name):
                        found.append(f"from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and not _public_name(aliases[node.value.id], node.attr)):
            found.append(f"{aliases[node.value.id]}.{node.attr}")
    return found


def _modules():
    for folder in ("searcher", "index"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path != DOOR:
                yield path


def test_only_the_door_takes_whoosh_private_structures():
    offenders = {}
    for path in _modules():
        uses = private_uses(path.read_text(encoding="utf-8"))
        if uses:
            offenders[str(path.relative_to(ROOT))] = uses
    assert not offenders, f"whoosh privates outside index/storage/whoosh_private.py: {offenders}"


def test_the_door_is_where_those_privates_are():
    """The walk sees the door's own imports as private: the rule is not vacuous."""
    uses = private_uses(DOOR.read_text(encoding="utf-8"))
    assert "from whoosh.codec.whoosh3 import W3LeafMatcher" in uses
    assert "from whoosh.filedb.compound import CompoundStorage" in uses
    assert len(list(_modules())) > 40


@pytest.mark.parametrize("source, expected", [
    ("from whoosh.codec.whoosh3 import W3Codec", ["from whoosh.codec.whoosh3 import W3Codec"]),
    ("import whoosh.writing", ["import whoosh.writing"]),
    ("from whoosh import columns", ["from whoosh import columns"]),
    ("from whoosh.index import TOC, open_dir", ["from whoosh.index import TOC"]),
    ("from whoosh.qparser import syntax", ["from whoosh.qparser import syntax"]),
    ("from whoosh import qparser\nqparser.syntax.GroupNode", ["whoosh.qparser.syntax"]),
    ("from whoosh import index as wi\nwi.TOC.read(s, 'MAIN')\nwi.open_dir('x')", ["whoosh.index.TOC"]),
    ("from whoosh import query as wq\nwq._private", ["whoosh.query._private"]),
    ("def f():\n    from whoosh.util.numeric import byte_to_length",
     ["from whoosh.util.numeric import byte_to_length"]),
    ("from whoosh import query as wq, qparser\nwq.Term('body', 'x')\nqparser.OrGroup", []),
    ("from whoosh.fields import ID, TEXT\nfrom whoosh.analysis import Filter", []),
    ("from whoosh.index import open_dir, EmptyIndexError", []),
])
def test_private_uses_are_found(source, expected):
    assert private_uses(source) == expected


# ---- another whoosh release: one line, exit 2


def _run_with_whoosh_version(version, argv, env_extra=None):
    code = textwrap.dedent(f"""
        import sys
        import whoosh
        whoosh.__version__ = {version!r}
        from searcher.cli import main
        sys.argv = ["searcher", *{argv!r}]
        main()
    """)
    env = dict(os.environ, NLTK_DATA="/nonexistent", **(env_extra or {}))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_another_whoosh_version_is_one_line_and_exit_2(corpus, index_location):
    from searcher.index.runs.writer import build_index

    build_index([corpus], index_location, jobs=1)
    for argv in (["query", "--index", str(index_location), "rice"],
                 ["index", "--index", str(index_location), str(corpus)]):
        done = _run_with_whoosh_version((2, 7, 5), argv)
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        assert done.stdout == ""
        lines = done.stderr.splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("searcher: error: searcher needs whoosh 2.7.4, but whoosh 2.7.5 is installed")
        assert "Traceback" not in done.stderr
    same = _run_with_whoosh_version((2, 7, 4), ["query", "--index", str(index_location), "rice"])
    assert same.returncode == 0 and "cooking" in same.stdout, same.stderr


def test_the_version_is_checked_on_import(monkeypatch):
    import whoosh

    from searcher.index.storage import whoosh_private
    from searcher.index.errors import IndexingError

    monkeypatch.setattr(whoosh, "__version__", (2, 7, 3))
    monkeypatch.delitem(sys.modules, "searcher.index.storage.whoosh_private")
    with pytest.raises(IndexingError, match=r"^searcher needs whoosh 2\.7\.4, but whoosh 2\.7\.3 is installed"):
        importlib.import_module("searcher.index.storage.whoosh_private")
    assert whoosh_private.UnsupportedWhoosh.__mro__[1] is IndexingError


# ---- the patches: applied once, by one function


def test_patches_are_applied_by_one_idempotent_function():
    from whoosh.codec import base, whoosh3

    from searcher.index.storage import whoosh_private

    whoosh_private.use_searcher_readers()
    patched = (base.Segment.open_compound_file, whoosh3.W3LeafMatcher.skip_to, whoosh3.loads)
    whoosh_private.use_searcher_readers()
    assert (base.Segment.open_compound_file, whoosh3.W3LeafMatcher.skip_to, whoosh3.loads) == patched
    assert whoosh3.W3LeafMatcher.skip_to is whoosh_private._skip_to is not whoosh_private.whoosh_skip_to


# ---- one cache per reader


def test_one_cache_per_reader_holds_what_searcher_keeps(corpus, index_location):
    from searcher.index.storage.flatpostings import flat_postings
    from searcher.index.storage.whoosh_private import reader_cache
    from searcher.index.runs.writer import build_index
    from searcher.engine.search import SearchSession
    from searcher.engine.statistics import statistics

    build_index([corpus], index_location, jobs=1)
    with SearchSession(index_location) as session:
        session.search('rice "energy security"')
        reader = session.searcher.reader()
        segment = reader.leaf_readers()[0][0] if not reader.is_atomic() else reader
        assert reader_cache(reader)["statistics"] is statistics(reader)
        assert reader_cache(segment)["flat postings"] is flat_postings(segment) is not None
        assert reader_cache(reader) is reader_cache(reader)
    assert reader_cache(3) == {} and reader_cache(3) is not reader_cache(3)  # no attributes: nothing kept


def test_a_flat_matchers_block_maximum_is_taken_once():
    """whoosh's collector asks a matcher's block maximum at every step where it could skip;
    a flat term is one block, so taking the maximum each time made `path:x common`
    quadratic in the postings."""
    from array import array

    from searcher.index.storage.flatpostings import FlatTerm
    from searcher.index.storage.whoosh_private import FlatMatcher

    class Counted(array):
        reads = 0

        def __iter__(self):
            Counted.reads += 1
            return super().__iter__()

    tfs = Counted("B", [1, 3, 2, 1])
    matcher = FlatMatcher(FlatTerm(array("I", [0, 4, 9, 11]), tfs, array("I", [0]), array("B", range(7))))
    copies = [matcher.copy() for _ in range(3)]
    assert all(m.block_max_weight() == 3.0 for m in [matcher, *copies] for _ in range(50))
    assert Counted.reads <= 1 + len(copies)
    matcher.skip_to(9)
    assert (matcher.id(), matcher.weight(), matcher.block_max_weight()) == (9, 2.0, 3.0)
