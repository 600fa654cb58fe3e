"""Start-up path of `searcher query`: the stem table keeps nltk unimported, whoosh imports lean.

Import checks run in a fresh interpreter (a subprocess), since this one has
long imported everything.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searcher.index.text.analysis import make_text_analyzer, stopwords_for
from searcher.index.text.stemtable import StemTable, table_path
from searcher.index.storage.store import open_index
from searcher.index.runs.writer import build_index
from searcher.engine.search import SearchSession, search

HARBOUR = {
    f"harbour{n}.txt": (
        f"Harbour notes {n}\n\n"
        "The harbour lights were burning brightly over the fishing boats. "
        f"Fishermen mended their nets while gulls circled the {word} pier.\n"
    )
    for n, word in enumerate(["old", "eastern", "crumbling", "wooden", "northern"])
}


@pytest.fixture
def harbour(tmp_path, index_location):
    root = tmp_path / "harbour"
    root.mkdir()
    for name, text in HARBOUR.items():
        (root / name).write_text(text, encoding="utf-8")
    build_index([root], index_location, jobs=1)
    return root


def run_fresh(code: str) -> list[str]:
    """Run ``code`` in a new interpreter; returns the lines it printed on stdout."""
    env = dict(os.environ, NLTK_DATA="/nonexistent")
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def nltk_stems(words, language="english"):
    from nltk.stem.snowball import SnowballStemmer

    stemmer = SnowballStemmer(language)
    return [stemmer.stem(word) for word in words]


def test_index_writes_a_stem_table_with_the_corpus_words_and_stopwords(harbour, index_location):
    path = table_path(index_location, "english")
    rows = dict(sqlite3.connect(path).execute("SELECT word, stem FROM stems"))
    for word in ("harbour", "lights", "burning", "brightly", "fishermen", "mended", "crumbling"):
        assert rows[word] == nltk_stems([word])[0]
    assert stopwords_for("english") <= set(rows)


def test_a_small_stem_table_is_loaded_whole_after_many_lookups(harbour, index_location, monkeypatch):
    from searcher.index.text.stemtable import StemTable

    path = table_path(index_location, "english")
    rows = dict(sqlite3.connect(path).execute("SELECT word, stem FROM stems"))
    words = sorted(rows)[:6] + ["nosuchwordhere"]
    one_by_one = [StemTable(path).get(word) for word in words]
    assert one_by_one == [rows.get(word) for word in words]
    monkeypatch.setattr(StemTable, "LOAD_AFTER", 3)
    table = StemTable(path)
    assert [table.get(word) for word in words] == one_by_one
    assert table._all == rows  # loaded at the third lookup, answering the rest from memory
    monkeypatch.setattr(StemTable, "LOAD_MAX_BYTES", 0)
    large = StemTable(path)
    assert [large.get(word) for word in words] == one_by_one and large._all is None


def test_query_path_does_not_import_nltk_when_the_table_has_every_word(harbour, index_location):
    lines = run_fresh(f"""
        import sys
        from searcher.cli import main
        sys.stderr = sys.stdout  # an error message shows in the assertion
        sys.argv = ["searcher", "query", "--index", {str(index_location)!r}, "harbour lights fishing"]
        try:
            main()
        except SystemExit as exc:
            print("exit", exc.code)
        print("nltk imported:", any(m == "nltk" or m.startswith("nltk.") for m in sys.modules))
    """)
    assert "exit 0" in lines, lines
    assert "nltk imported: False" in lines
    assert any("harbour" in line.lower() for line in lines)


def test_a_question_with_words_the_corpus_never_had_imports_no_nltk_package(harbour, index_location):
    """Unknown words are stemmed by nltk's Snowball code loaded on its own (index/text/lean_nltk.py),
    and the ranking statistics come from the file the indexing run saved (index/storage/rankstats.py)."""
    lines = run_fresh(f"""
        import sys
        from searcher.index.storage import rankstats
        from searcher.cli import main
        computed = []
        compute = rankstats.compute
        rankstats.compute = lambda *a, **k: computed.append(1) or compute(*a, **k)
        sys.stderr = sys.stdout
        sys.argv = ["searcher", "query", "--index", {str(index_location)!r},
                    "why were the zeppelins hopelessly moored beside the harbour lights"]
        try:
            main()
        except SystemExit as exc:
            print("exit", exc.code)
        print("nltk modules:", sorted(m for m in sys.modules if m == "nltk" or m.startswith("nltk.")))
        print("statistics computed:", bool(computed))
    """)
    assert "exit 0" in lines, lines
    assert "nltk modules: []" in lines
    assert "statistics computed: False" in lines


def test_lean_whoosh_import_defers_urllib_and_morph_en_without_losing_them():
    lines = run_fresh("""
        import sys
        from searcher.index.storage.lean_whoosh import import_whoosh
        import_whoosh()
        import whoosh.compat, whoosh.query.terms
        print("urllib.request loaded:", "urllib.request" in sys.modules)
        print("morph_en loaded:", "whoosh.lang.morph_en" in sys.modules)
        deferred = whoosh.query.terms.variations("rendering")
        from whoosh.lang.morph_en import variations
        print("same variations:", deferred == variations("rendering"))
        import urllib.request
        print("real urllib.request:", hasattr(urllib.request, "Request"))
        print("urlretrieve works:", whoosh.compat.urlretrieve.__name__ == "urlretrieve")
    """)
    assert lines == ["urllib.request loaded: False", "morph_en loaded: False", "same variations: True",
                     "real urllib.request: True", "urlretrieve works: True"]


UNSEEN = ["generously", "hopelessness", "nationalization", "zeppelins", "cooperatively", "running"]


def test_a_word_the_corpus_never_had_gets_nltks_stem(harbour, index_location):
    ix = open_index(index_location)
    analyzer = ix.schema["body"].analyzer
    table = StemTable(table_path(index_location, "english"))
    assert all(table.get(word) is None for word in UNSEEN)
    assert [t.text for t in analyzer(" ".join(UNSEEN))] == nltk_stems(UNSEEN)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abcdeginorsty'", min_size=1, max_size=12), max_size=8))
def test_table_backed_analysis_equals_plain_analysis(tmp_path_factory, words):
    index_dir = _shared_index(tmp_path_factory)
    text = " ".join(words) + " harbour fishing boats mended"
    backed = open_index(index_dir).schema["body"].analyzer
    plain = make_text_analyzer("english")
    assert [t.text for t in backed(text)] == [t.text for t in plain(text)]


_SHARED = {}


def _shared_index(tmp_path_factory):
    if "dir" not in _SHARED:
        root = tmp_path_factory.mktemp("shared-corpus")
        for name, text in HARBOUR.items():
            (root / name).write_text(text, encoding="utf-8")
        index_dir = tmp_path_factory.mktemp("shared-index")
        build_index([root], index_dir, jobs=1)
        _SHARED["dir"] = index_dir
    return _SHARED["dir"]


def _results(index_dir, text):
    result = search(index_dir, text, limit=10, exact_total=True)
    return [(h.path, h.start_line, h.spans, h.title_spans) for h in result.hits], result.total


@pytest.mark.parametrize("damage", ["missing", "garbage", "foreign", "wrong-table"])
def test_a_missing_or_damaged_table_changes_nothing_but_speed(harbour, index_location, damage):
    before = _results(index_location, "harbour lights mending nets")
    path = table_path(index_location, "english")
    path.unlink()
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    elif damage == "foreign":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('format', '999')")
        db.commit()
        db.close()
    elif damage == "wrong-table":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('format', '1')")
        db.commit()
        db.close()
    assert _results(index_location, "harbour lights mending nets") == before


def test_indexing_replaces_a_damaged_table(harbour, index_location):
    path = table_path(index_location, "english")
    path.write_bytes(b"garbage" * 1000)
    (harbour / "new.txt").write_text("Lighthouse keepers\n\nThe lighthouse keepers polished lenses.\n")
    build_index([harbour], index_location, jobs=1)
    table = StemTable(path)
    assert table.get("keepers") == "keeper"
    assert table.get("harbour") is None  # older words come back with --rebuild
    build_index([harbour], index_location, rebuild=True, jobs=1)
    assert StemTable(path).get("harbour") == "harbour"


def test_session_answers_like_one_off_searches(harbour, index_location):
    queries = ["harbour", '"fishing boats"', "gulls -wooden", "title:notes", "mend*"]
    with SearchSession(index_location) as session:
        for text in queries:
            kept = session.search(text, limit=3, exact_total=True)
            alone = search(index_location, text, limit=3)
            assert [(h.path, h.start_line, h.spans) for h in kept.hits] == \
                   [(h.path, h.start_line, h.spans) for h in alone.hits]
            assert kept.total == alone.total  # counted lazily for the one-off search
    with pytest.raises(RuntimeError):
        session.search("harbour")


def test_total_counts_every_match_past_the_limit(harbour, index_location):
    with SearchSession(index_location) as session:
        for text in ("harbour", '"harbour lights"'):
            result = session.search(text, limit=2, per_file=None)
            assert len(result.hits) == 2 and result.ranked <= result.total == 5
