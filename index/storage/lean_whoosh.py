"""Importing whoosh without two imports it makes at start-up and searcher never uses.

whoosh 2.7.4 imports, at module level:

- ``whoosh.compat``: ``from urllib.request import urlretrieve``, which pulls in
  http.client, email, ssl and socket (about 25-30 ms), for a name no whoosh
  code calls;
- ``whoosh.query.terms``: ``from whoosh.lang.morph_en import variations``, a
  module that compiles hundreds of regular expressions when imported (about
  10-15 ms), used only by the ``Variations`` query, which searcher does not use.

``import_whoosh()`` imports those two whoosh modules while stand-in modules sit
in ``sys.modules`` for urllib.request and whoosh.lang.morph_en, then removes the
stand-ins. Nothing is lost: the names whoosh binds are functions that import
the real module and call the real function when called, and any later import
of either module gets the real one. It is a no-op if whoosh or either module
is already imported, and it runs in the CLI's ``main()`` only, before anything
else is imported and before any thread is started (another thread importing
urllib.request meanwhile would get the stand-in).

whoosh is pinned to 2.7.4 (its last release), so these two imports do not move.
"""

from __future__ import annotations

import importlib
import sys
import types

_STAND_INS = (
    # (module, name whoosh imports from it)
    ("urllib.request", "urlretrieve"),
    ("whoosh.lang.morph_en", "variations"),
)
_IMPORTS = ("whoosh.compat", "whoosh.query")


def _deferred(module: str, name: str):
    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = f"{module}.{name}, imported on first call."
    return call


def import_whoosh() -> None:
    if any(name in sys.modules for name in _IMPORTS) or any(m in sys.modules for m, _ in _STAND_INS):
        return
    stand_ins = {}
    for module, name in _STAND_INS:
        stand_in = types.ModuleType(module, "A stand-in while whoosh is imported (index/storage/lean_whoosh.py).")
        setattr(stand_in, name, _deferred(module, name))
        stand_ins[module] = stand_in
    sys.modules.update(stand_ins)
    try:
        for module in _IMPORTS:
            __import__(module)  # not importlib.import_module, which -X importtime does not see
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]
