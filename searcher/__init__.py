"""searcher: full-text search for the terminal."""

import os as _os

__version__ = "0.1.0"

# The library (README "Using it from Python"): imported when first used, so that the
# command line's start-up does not pay for what it does not need.
__all__ = ["Session", "SearchResult", "Hit", "build_index", "SearcherError", "QueryError", "IndexingError",
           "__version__"]
_EXPORTS = {
    "Session": "searcher.session",
    "SearchResult": "searcher.engine.search",
    "Hit": "searcher.engine.search",
    "build_index": "searcher.index.runs.writer",
    "SearcherError": "searcher.index.errors",
    "QueryError": "searcher.errors",
    "IndexingError": "searcher.index.errors",
}


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'searcher' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__():
    return sorted(set(globals()) | set(__all__))

# The indexing side is installed as searcher/index/ (setup.cfg's package_dir); in the
# source tree it is the top-level folder index/, beside this one. Run from the tree
# (tests, an editable install), that folder is where ``searcher.index`` comes from.
_here = _os.path.dirname(_os.path.abspath(__file__))
if not _os.path.isdir(_os.path.join(_here, "index")):
    _tree = _os.path.dirname(_here)
    if _os.path.isfile(_os.path.join(_tree, "index", "__init__.py")):
        __path__.append(_tree)
