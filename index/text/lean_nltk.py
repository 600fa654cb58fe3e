"""nltk's Snowball stemmer without importing nltk as a whole.

A query whose words are not all in the index's stem table (index/text/stemtable.py),
for instance a question with a word the corpus never had, must stem them with
nltk's Snowball stemmer. ``from nltk.stem.snowball import SnowballStemmer``
runs ``nltk/__init__.py``, which imports most of nltk: about 0.3-0.4 s here, more
than everything else a cold ``searcher query`` does.

The stemmer itself needs only six small modules of nltk (snowball, porter, the
stemmer base class and helpers, nltk.redos and nltk.termsec). ``snowball_stem``
loads those from nltk's own files (and their cached bytecode) under private
names, with an ``__import__`` of their own that hands them each other instead of
importing the ``nltk`` package: about 30 ms. It is nltk's code, run unchanged, so
it stems exactly as nltk does (tests/test_lean_nltk.py compares them); nothing
is put in ``sys.modules``, so a later ``import nltk`` gets the real package.
If nltk's layout ever differs from what this expects, it imports nltk the usual way.
"""

from __future__ import annotations

import builtins
import os

# Module -> file in the nltk package, for every nltk module the stemmer imports.
_FILES = {
    "nltk.redos": "redos.py",
    "nltk.termsec": "termsec.py",
    "nltk.stem.api": "stem/api.py",
    "nltk.stem.util": "stem/util.py",
    "nltk.stem.porter": "stem/porter.py",
    "nltk.stem.snowball": "stem/snowball.py",
}
_PREFIX = "_searcher_lean_"

_snowball = None  # the lean nltk.stem.snowball module, once loaded


def snowball_stem(language: str):
    """nltk's ``SnowballStemmer(language).stem``."""
    global _snowball
    if _snowball is None:
        try:
            _snowball = _Loader().load("nltk.stem.snowball")
        except Exception:  # noqa: BLE001 - any surprise: nltk the usual way
            from nltk.stem import snowball

            _snowball = snowball
    return _snowball.SnowballStemmer(language).stem


class _Stub:
    """What ``from nltk.<module> import <names>`` gets: the names, loaded lean."""


class _Loader:
    def __init__(self):
        import importlib.util

        spec = importlib.util.find_spec("nltk")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("nltk is not installed")
        self.root = list(spec.submodule_search_locations)[0]
        self.modules: dict = {}
        self.builtins = dict(builtins.__dict__, __import__=self._import)

    def load(self, name: str):
        module = self.modules.get(name)
        if module is None:
            import importlib.util

            path = os.path.join(self.root, _FILES[name])
            spec = importlib.util.spec_from_file_location(_PREFIX + name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            module.__dict__["__builtins__"] = self.builtins  # its imports of nltk come here
            self.modules[name] = module
            spec.loader.exec_module(module)
        return module

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0 or not (name == "nltk" or name.startswith("nltk.")):
            return builtins.__import__(name, globals, locals, fromlist, level)
        if not fromlist:
            raise ImportError(f"{name}: not in the lean nltk")
        found = _Stub()
        for attr in fromlist:
            if f"{name}.{attr}" in _FILES:
                value = self.load(f"{name}.{attr}")
            elif name in _FILES:
                value = getattr(self.load(name), attr)
            elif (name, attr) == ("nltk.corpus", "stopwords"):
                value = None  # used only by SnowballStemmer(ignore_stopwords=True), which searcher never asks for
            else:
                raise ImportError(f"{name}.{attr}: not in the lean nltk")
            setattr(found, attr, value)
        return found
