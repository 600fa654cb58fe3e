"""searcher: full-text search for the terminal."""

import os as _os

__version__ = "0.1.0"

# The indexing side is installed as searcher/index/ (setup.cfg's package_dir); in the
# source tree it is the top-level folder index/, beside this one. Run from the tree
# (tests, an editable install), that folder is where ``searcher.index`` comes from.
_here = _os.path.dirname(_os.path.abspath(__file__))
if not _os.path.isdir(_os.path.join(_here, "index")):
    _tree = _os.path.dirname(_here)
    if _os.path.isfile(_os.path.join(_tree, "index", "__init__.py")):
        __path__.append(_tree)
