"""The benchmark corpus generator is deterministic and its queries match its documents."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

CORPUS_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "corpus.py"


def _load_corpus_module():
    spec = importlib.util.spec_from_file_location("benchmark_corpus", CORPUS_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus_module()

pytestmark = pytest.mark.skipif(
    not (corpus.CRANFIELD_DIR / "cran.all.1400").exists(), reason="shared Cranfield collection not available"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    manifest = corpus.build(out, docs=60)
    return out, manifest


def _texts(out):
    return {p.relative_to(out): p.read_text() for p in sorted((out / "docs").rglob("*.txt"))}


def test_build_writes_one_file_per_document_with_title_and_body(built):
    out, manifest = built
    texts = _texts(out)
    assert len(texts) == manifest.docs == 60
    assert manifest.total_bytes == sum(len(t.encode()) for t in texts.values())
    for text in texts.values():
        title, blank, first = text.split("\n")[:3]
        assert title and blank == "" and first


def test_documents_are_deterministic_and_a_smaller_corpus_is_a_prefix(built, tmp_path):
    out, _ = built
    corpus.build(tmp_path, docs=20)
    small = _texts(tmp_path)
    big = _texts(out)
    assert small == {name: big[name] for name in small}


def test_documents_differ(built):
    out, _ = built
    texts = list(_texts(out).values())
    assert len(set(texts)) == len(texts)


def test_rebuild_with_same_parameters_is_a_no_op(built):
    out, manifest = built
    before = (out / "manifest.json").stat().st_mtime_ns
    assert corpus.build(out, docs=60) == manifest
    assert (out / "manifest.json").stat().st_mtime_ns == before


def test_queries_occur_in_the_corpus(built):
    out, _ = built
    queries = json.loads((out / "queries.json").read_text())
    flat = [" ".join(t.split()).lower() for t in _texts(out).values()]
    assert queries["phrases"] and queries["keywords"] and queries["questions"]
    for phrase in queries["phrases"]:
        assert phrase.startswith('"') and any(phrase.strip('"').lower() in t for t in flat)
    for keywords in queries["keywords"]:
        words = keywords.split()
        assert 1 <= len(words) <= 3
        # the words of one keyword query come from one document, so AND matches something
        assert any(all(re.search(rf"\b{w}\b", t) for w in words) for t in flat)
    for question in queries["questions"]:
        assert 10 <= len(question.split()) <= 20 and "?" not in question


def test_rare_words_are_deterministic_and_distinct():
    words = [corpus.rare_word(i) for i in range(5000)]
    assert len(set(words)) == len(words)
    assert all(w.isalpha() for w in words)


@pytest.mark.skipif(not (corpus.EVAL_DIR / "med" / "MED.ALL").exists(), reason="shared MED collection not available")
def test_collections_corpus_writes_each_document_once_per_replica(tmp_path):
    manifest = corpus.build_collections(tmp_path, 2, ["med"])
    files = sorted((tmp_path / "docs").rglob("*.txt"))
    assert manifest["files"] == len(files) == 2 * 1033
    first, copy = tmp_path / "docs" / "r00" / "med", tmp_path / "docs" / "r01" / "med"
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in copy.iterdir())
    text = (first / "1.txt").read_text()
    assert text == (copy / "1.txt").read_text() and text.endswith("\n") and len(text.split()) > 20
    queries = json.loads((tmp_path / "queries.json").read_text())
    assert queries["keywords"] and queries["phrases"] and queries["questions"]
    # the same parameters again: nothing is rewritten
    (first / "1.txt").write_text("changed")
    assert corpus.build_collections(tmp_path, 2, ["med"]) == manifest
    assert (first / "1.txt").read_text() == "changed"
    with pytest.raises(SystemExit):  # other parameters over an existing build: refused, not mixed
        corpus.build_collections(tmp_path, 3, ["med"])


def test_packed_files_hold_the_same_documents_in_order(built, tmp_path):
    out, _ = built
    manifest = corpus.build(tmp_path, docs=60, docs_per_file=7)
    packed = sorted((tmp_path / "docs").rglob("*.txt"))
    assert manifest.files == len(packed) == 9  # 8 files of 7 and one of 4
    singles = list(_texts(out).values())
    # a blank line between two documents, in a file and across files alike
    assert "\n".join(p.read_text() for p in packed) == "\n".join(singles)
    assert manifest.total_bytes == sum(p.stat().st_size for p in packed)


def test_parallel_build_writes_the_same_files(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    corpus.build(one, docs=40, docs_per_file=3)
    corpus.build(two, docs=40, docs_per_file=3, jobs=2)
    assert _texts(one) == _texts(two)
    assert (one / "queries.json").read_text() == (two / "queries.json").read_text()


def test_wrap_is_greedy_and_keeps_every_word():
    text = "alpha " * 30 + "x" * 100 + " omega"
    lines = corpus.wrap(text.strip())
    assert " ".join(lines).split() == text.split()
    for line, following in zip(lines, lines[1:]):
        # a line ends only where the next word would not fit
        assert len(line) <= corpus.WRAP_COLUMNS or " " not in line
        assert len(line) + 1 + len(following.split(" ")[0]) > corpus.WRAP_COLUMNS


def test_rare_words_replace_about_the_rate_of_inner_words():
    import random

    sentence = "Start " + " ".join(["plain"] * 2000) + " end."
    rng = random.Random(5)
    words = corpus._sprinkle_rare_words(sentence, rng, 0.05).split(" ")
    assert words[0] == "Start" and words[-1] == "end."
    replaced = sum(w != "plain" for w in words[1:-1])
    assert 60 <= replaced <= 140  # 5 % of 2000 = 100; far outside means the gaps are wrong
    assert corpus._sprinkle_rare_words(sentence, random.Random(5), 0.0) == sentence
