"""Unpickling what an index folder holds without running code from it.

whoosh stores its table of contents (the schema and the list of segments), its
posting blocks, term infos and stored fields as pickles, and searcher's own
readers (searcher/engine/ranking.py, searcher/engine/phrases.py, index/storage/merge.py) decode the
posting blocks too. A pickle can name any importable callable and call it, so
plain ``pickle.loads`` on a folder someone shared would run whatever its files
name. Every pickle read from an index goes through ``loads`` / ``load`` here:
a pickle may name only the classes an index of searcher holds (``allowed()``),
anything else is refused with ``UnsafeIndex`` before it is imported.

``allowed()`` is the one place that knows where those classes live. Indexes name
searcher's analysis classes by the module path they had when the index was
written (``index.analysis``, later ``searcher.index.analysis``); the table maps
those old paths, and the classes' present one, to the classes themselves, so the
package can move and old indexes keep opening.

index/storage/whoosh_private.py's ``use_searcher_readers()`` makes whoosh's readers use
``loads``/``load``; it is called wherever searcher opens an index, before any read.
"""

from __future__ import annotations

import pickle

from searcher.index.errors import IndexDamaged

# Bytes that the opcodes fetching a callable begin with: GLOBAL "c", INST "i",
# STACK_GLOBAL, EXT1, EXT2, EXT4. Every other way of calling something needs a
# callable one of those put on the stack, so a pickle holding none of these bytes
# (as data or opcode) cannot run anything, and plain pickle.loads reads it at C speed.
_FETCHES_CALLABLE = (b"c", b"i", b"\x93", b"\x82", b"\x83", b"\x84")


class UnsafeIndex(IndexDamaged):
    """An index file names code that no searcher index holds: refused, never imported."""

    def __init__(self, module: str, name: str, where: str = "an index file"):
        self.module, self.name = module, name
        super().__init__(
            f"{where} names {ascii(f'{module}.{name}'[:120])}, which no searcher index holds: "
            "searcher refused to load it (the folder was not made by searcher, or was altered); "
            "remove the folder or rebuild it with 'searcher index --rebuild PATH...'"
        )


_allowed: dict[tuple[str, str], object] | None = None


def allowed() -> dict[tuple[str, str], object]:
    """(module, name) as a pickle names it -> the object it stands for.

    The names are those whoosh 2.7.4 and searcher write into an index (schema,
    fields, analyzers, formats, columns, segments, and the builtins pickle
    protocol 2 spells as ``__builtin__``/``_codecs``). Built on first use: the
    whoosh modules are imported by then, as an index is being opened.
    """
    global _allowed
    if _allowed is None:
        import _codecs
        import collections

        from searcher.index.text import analysis
        from searcher.index.storage import whoosh_private

        table: dict[tuple[str, str], object] = {}

        def add(module_names, objects):
            for obj in objects:
                for module in module_names:
                    table[(module, obj.__name__)] = obj

        # Protocol 2 writes bytes as _codecs.encode(text, "latin1") and sets and
        # ints under their Python 2 module name.
        add(("_codecs",), (_codecs.encode,))
        add(("builtins", "__builtin__"), (int, float, str, bytes, set, frozenset, list, dict, tuple, bool))
        add(("collections",), (collections.defaultdict,))
        table.update(whoosh_private.pickled_classes())
        # searcher's analysis classes: under the module paths indexes were written
        # with ("index.analysis", then "searcher.index.analysis", before the package
        # moved) and where they live now.
        add(tuple(dict.fromkeys(("index.analysis", "searcher.index.analysis", analysis.WordTokenizer.__module__))),
            (analysis.WordTokenizer, analysis.SnowballStemFilter))
        _allowed = table
    return _allowed


class _Restricted(pickle.Unpickler):
    def find_class(self, module, name):
        obj = allowed().get((module, name))
        if obj is None:
            raise UnsafeIndex(module, name)
        return obj


class _Input:
    """A bytes object as the file a reused unpickler reads.

    ``peek`` hands the C unpickler the whole pickle at once, so it reads from
    memory with two Python calls per pickle rather than one per opcode.
    """

    __slots__ = ("data", "pos")

    def __init__(self):
        self.data = b""
        self.pos = 0

    def peek(self, _n=0):
        return self.data[self.pos:]

    def read(self, n=-1):
        start = self.pos
        self.pos = len(self.data) if n is None or n < 0 else min(len(self.data), start + n)
        return self.data[start:self.pos]

    def readinto(self, buffer):
        chunk = self.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)

    def readline(self):
        end = self.data.find(b"\n", self.pos)
        start, self.pos = self.pos, (len(self.data) if end < 0 else end + 1)
        return self.data[start:self.pos]


_idle: list[tuple[_Input, _Restricted]] = []  # unpicklers to reuse: building one costs more than a small load


def _load_prefix(data: bytes) -> tuple[object, int]:
    try:
        source, unpickler = _idle.pop()
    except IndexError:
        source = _Input()
        unpickler = _Restricted(source)
    source.data, source.pos = data, 0
    obj = unpickler.load()  # after an error the pair is dropped, whatever state it is in
    consumed = source.pos
    source.data = b""
    # The C unpickler keeps what it peeked beyond the pickle's end and would read
    # it next time: reuse it only when it took everything.
    if consumed == len(data):
        unpickler.memo.clear()
        _idle.append((source, unpickler))
    return obj, consumed


def loads(data):
    """``pickle.loads`` for bytes read from an index: only ``allowed()`` names."""
    if type(data) is not bytes:
        data = bytes(data)
    c, i, stack_global, ext1, ext2, ext4 = _FETCHES_CALLABLE
    if not (c in data or i in data or stack_global in data or ext1 in data or ext2 in data or ext4 in data):
        return pickle.loads(data)
    return _load_prefix(data)[0]


def loads_prefix(data) -> tuple[object, int]:
    """The pickle at the start of ``data`` and how many bytes it took."""
    return _load_prefix(bytes(data))


def load(file):
    """``pickle.load`` for a file of an index: only ``allowed()`` names."""
    return _Restricted(file).load()
