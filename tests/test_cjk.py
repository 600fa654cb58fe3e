"""Chinese, Japanese and Korean: runs indexed as bigrams, found by words inside them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from searcher.index.text.analysis import WordTokenizer, fast_terms, make_text_analyzer
from searcher.index.text.cjk import pieces
from searcher.index.text.analysis import WORD_PATTERN
from searcher.console import ExitStatus

TEXTS = {
    "zh.txt": "北京大学\n\n北京大学是中国著名的高等学府，位于北京市海淀区。学生们在图书馆里认真学习。\n",
    "ja.txt": "東京タワー\n\n東京都庁は新宿にあります。私は毎朝コーヒーを飲みます。京都の寺は美しい。\n",
    "ko.txt": "한국어 공부\n\n서울은 대한민국의 수도입니다. 저는 한국어를 공부하고 있습니다.\n",
    "en.txt": "Tokyo notes\n\nA visit to Tokyo and Kyoto in spring.\n",
}


@pytest.fixture
def cjk(tmp_path, run):
    root = tmp_path / "cjk"
    root.mkdir()
    for name, text in TEXTS.items():
        (root / name).write_text(text, encoding="utf-8")
    result = run("index", root)
    assert result.exit_code == 0, result.output
    return root


def hits(run, query):
    result = run("query", query, "--json")
    assert result.exit_code in (ExitStatus.FOUND, ExitStatus.NOTHING_FOUND), result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def marked(hit) -> list[str]:
    return [h["text"] for h in hit["highlights"]]


@pytest.mark.parametrize("query, file, expected", [
    ("图书馆", "zh.txt", ["图书馆"]),  # a word inside a run of 30 characters
    ("海淀区", "zh.txt", ["海淀区"]),
    ("新宿", "ja.txt", ["新宿"]),
    ("コーヒー", "ja.txt", ["コーヒー"]),
    ("서울", "ko.txt", ["서울"]),
    ("대한민국", "ko.txt", ["대한민국"]),
    ("수도", "ko.txt", ["수도"]),
])
def test_a_word_inside_a_run_is_found_and_highlighted(cjk, run, query, file, expected):
    found = hits(run, query)
    assert found and found[0]["path"].endswith(file)
    body_hits = [h for h in found if h["start_line"] > 1] or found
    assert marked(body_hits[0]) == expected


def test_two_character_query_matches_inside_longer_runs(cjk, run):
    found = hits(run, "京都")
    # 京都 in 東京都庁 and in 京都の寺, both in ja.txt; never the Chinese 北京 (no 京都 bigram).
    assert {h["path"].rsplit("/", 1)[-1] for h in found} == {"ja.txt"}
    assert marked(found[0]).count("京都") == 2


def test_one_character_query_finds_the_character_anywhere_in_a_run(cjk, run):
    found = hits(run, "京")
    assert {h["path"].rsplit("/", 1)[-1] for h in found} == {"zh.txt", "ja.txt"}
    for hit in found:
        assert set(marked(hit)) == {"京"}, hit["text"]
    # The last character of a run, and a character starting a run.
    assert hits(run, "区") and set(marked(hits(run, "区")[0])) == {"区"}
    assert [h["path"].rsplit("/", 1)[-1] for h in hits(run, "서")] == ["ko.txt"]


def test_hangul_syllables_are_not_split(cjk, run):
    # 하 is not a prefix of 한: folding keeps syllables whole.
    found = hits(run, "하")
    assert found and set(marked(found[0])) == {"하"}
    assert all("하" in h["text"] for h in found)


def test_phrase_of_bigrams_is_adjacent(cjk, run):
    assert [h["path"].rsplit("/", 1)[-1] for h in hits(run, '"北京大学"')][:1] == ["zh.txt"]
    # 北京 and 大学 each occur, but not as 北京学.
    assert hits(run, "北京学") == []
    assert marked(hits(run, "東京都庁")[0]) == ["東京都庁"]


def test_latin_text_around_cjk_is_unchanged(cjk, run):
    assert [h["path"].rsplit("/", 1)[-1] for h in hits(run, "kyoto")] == ["en.txt"]


def test_index_tokens_positions_and_offsets():
    tokenizer = WordTokenizer(cjk=True)
    tokens = [(t.text, t.pos, t.startchar, t.endchar)
              for t in tokenizer("ab 東京都x", positions=True, chars=True, mode="index")]
    assert tokens == [("ab", 0, 0, 2), ("東京", 1, 3, 5), ("京都", 2, 4, 6), ("都", 3, 5, 6), ("x", 4, 6, 7)]
    query = [t.text for t in tokenizer("東京都", mode="query")]
    assert query == ["東京", "京都"]
    assert [t.text for t in tokenizer("京", mode="query")] == ["京"]


def test_old_tokenizers_keep_one_token_per_run():
    old = WordTokenizer.__new__(WordTokenizer)  # as unpickled from a schema-1 index: no cjk attribute
    assert [t.text for t in old("東京都 abc")] == ["東京都", "abc"]


cjk_text = st.text(alphabet=st.sampled_from(list("東京都北学한국어서울コーヒーが ab.'")), max_size=40)


@given(cjk_text)
def test_fast_terms_agree_with_the_analyzer_on_cjk(text):
    analyzer = make_text_analyzer("english")
    assert fast_terms(analyzer)(text) == [t.text for t in analyzer(text, mode="index")]


@given(cjk_text)
def test_every_character_of_a_run_starts_one_index_token(text):
    for match in WORD_PATTERN.finditer(text):
        starts = [start for _, start, _ in pieces(match.group(), match.start(), False, WORD_PATTERN)]
        assert len(starts) == len(set(starts))


def test_fast_segment_writer_keeps_its_fast_path():
    from searcher.index.storage.fastwrite import _field_plan
    from searcher.index.storage.schema import make_schema

    schema = make_schema("english")
    assert _field_plan("body", schema["body"]) is not None


def test_schema_one_index_still_answers(tmp_path, run, monkeypatch):
    import searcher.index.storage.schema as schema_module
    from searcher.index.text.analysis import SnowballStemFilter

    root = tmp_path / "old"
    root.mkdir()
    for name, text in TEXTS.items():
        (root / name).write_text(text, encoding="utf-8")
    with monkeypatch.context() as patched:  # the analysis of schema 1
        patched.setattr(schema_module, "make_text_analyzer",
                        lambda language="english": WordTokenizer() | SnowballStemFilter(language))
        patched.setattr(schema_module, "make_path_analyzer", lambda: WordTokenizer())
        assert run("index", root).exit_code == 0
    meta_path = next(p for p in (tmp_path / "index").iterdir() if p.name == "searcher.json")
    meta = json.loads(meta_path.read_text())
    meta["schema_version"] = 1
    meta_path.write_text(json.dumps(meta))
    assert [h["path"].rsplit("/", 1)[-1] for h in hits(run, "kyoto")] == ["en.txt"]
    # Its runs are whole tokens, as they were indexed: the whole run is found.
    assert [h["path"].rsplit("/", 1)[-1] for h in hits(run, "한국어")] == ["ko.txt"]
    status = run("status")
    assert "schema    1" in status.output


def test_cjk_pattern_and_explain(cjk, run):
    found = hits(run, "コー*")
    assert [h["path"].rsplit("/", 1)[-1] for h in found] == ["ja.txt"]
    assert marked(found[0]) == ["コー"]  # the bigram it starts, not every run ending in ー
    explained = run("query", "--explain", "東京都 京")
    assert "東京都 → 東京 京都" in explained.stderr
    assert "the character 京 anywhere in a word" in explained.stderr
