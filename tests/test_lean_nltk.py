"""nltk's Snowball stemmer loaded without nltk as a whole (index/text/lean_nltk.py) stems as nltk does."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searcher.index.text import lean_nltk
from searcher.index.text.analysis import SNOWBALL_LANGUAGES

WORDS = ("running obeyed generalization caresses flies dies mules denied agreed owned humbled sized "
         "meeting stating itemization sensational traditional reference colonizer plotted "
         "aeroelastic incompressible hypersonic "
         "maisons mangerons continuellement häuser aufeinanderfolgenden bibliotecas cantaremos "
         "книги пробовать kirjoittaminen lövenskiölds kurssien أولئك الكتاب fényképezőgépek "
         "i a y e 's ''".split())


@pytest.fixture(scope="module")
def nltk_snowball():
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer


@pytest.mark.parametrize("language", SNOWBALL_LANGUAGES)
def test_the_lean_stemmer_stems_as_nltk(language, nltk_snowball):
    lean, full = lean_nltk.snowball_stem(language), nltk_snowball(language).stem
    assert [lean(w) for w in WORDS] == [full(w) for w in WORDS]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SNOWBALL_LANGUAGES),
       st.text(st.characters(whitelist_categories=("Ll",), max_codepoint=0x24F) | st.sampled_from("'-"),
               min_size=1, max_size=14))
def test_the_lean_stemmer_stems_any_word_as_nltk(nltk_snowball, language, word):
    assert lean_nltk.snowball_stem(language)(word) == nltk_snowball(language).stem(word)


def test_loading_it_imports_no_nltk_module():
    code = textwrap.dedent("""
        import sys
        from searcher.index.text.lean_nltk import snowball_stem
        print(snowball_stem("english")("obeyed"), snowball_stem("french")("maisons"))
        print(sorted(m for m in sys.modules if m == "nltk" or m.startswith("nltk.")))
        from nltk.stem.snowball import SnowballStemmer  # the real package still imports
        print(SnowballStemmer("english").stem("obeyed"), SnowballStemmer.__module__)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, NLTK_DATA="/nonexistent"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["obey maison", "[]", "obey nltk.stem.snowball"]


def test_an_unexpected_nltk_layout_falls_back_to_importing_nltk(monkeypatch):
    monkeypatch.setattr(lean_nltk, "_snowball", None)
    monkeypatch.setitem(lean_nltk._FILES, "nltk.stem.util", "no/such/file.py")
    assert lean_nltk.snowball_stem("english")("obeyed") == "obey"
    assert lean_nltk._snowball.__name__ == "nltk.stem.snowball"
