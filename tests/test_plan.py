"""The query plan (searcher/engine/plan.py): what each kind of query asks for, read once from
whoosh's tree, and what matching, ranking, highlights, suggestions and --explain take from it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from searcher.errors import QueryError
from searcher.index.text.analysis import WORD_PATTERN
from searcher.index.storage.schema import make_schema
from searcher.engine.plan import (
    CHARACTER, FUZZY, PREFIX, WILDCARD, And, AndMaybe, AndNot, Not, Or, Pattern, Phrase, QueryPlan, Require, Word,
    loose_words, plan,
)
from searcher.parse.query import FIELD_BOOSTS, parse_query

SCHEMA = make_schema()


def plan_of(text: str) -> QueryPlan:
    return plan(parse_query(text, SCHEMA))


def both(text: str, boost: float = 1.0) -> set[Word]:
    """A loose word as the parser makes it: in the title (with its boost) and the body."""
    return {Word("title", text, boost * FIELD_BOOSTS["title"]), Word("body", text, boost)}


def test_loose_words_are_an_or_of_words_in_title_and_body():
    p = plan_of("rice cooker")
    assert type(p.root) is Or
    assert set(p.words) == both("rice") | both("cooker")
    assert not p.excluded and not p.phrases and not p.patterns and not p.filters
    assert p.loose and loose_words(p.root) == {"rice": 1.0, "cooker": 1.0}


def test_a_repeated_word_weighs_as_often_as_typed():
    p = plan_of("rice rice cooker")
    assert loose_words(p.root) == {"rice": 2.0, "cooker": 1.0}


def test_a_required_word_is_a_structure_not_a_weight():
    p = plan_of("rice +cooker")
    assert type(p.root) is AndMaybe  # cooker required, rice ranks higher
    assert set(p.words) == both("rice") | both("cooker")
    assert not p.loose
    # ... scored as the loose words are: the same weights (a title word's relative to the title boost).
    assert p.scored_terms() == plan_of("rice cooker").scored_terms() == {
        "body": {"rice": 1.0, "cooker": 1.0}, "title": {"rice": 1.0, "cooker": 1.0}}


def test_and_or_not_keep_their_tree():
    p = plan_of("rice AND (law OR NOT tokyo)")
    assert type(p.root) is And
    rice, rest = p.root.children
    assert type(rice) is Or and type(rest) is AndNot  # "law OR NOT tokyo": law without tokyo
    assert set(p.words) == both("rice") | both("law")
    assert set(p.excluded) == both("tokyo")
    assert not p.loose


def test_an_excluded_word_is_left_out_of_ranking_and_highlights():
    p = plan_of("rice -lid")
    assert type(p.root) is AndNot
    positive, excluded = p.exclusions()
    assert excluded and sorted(excluded) == [("body", "lid"), ("title", "lid")]
    assert loose_words(positive) == {"rice": 1.0}
    assert p.loose
    assert "lid" not in p.highlights()[0].get("body", set())
    assert p.excluded_words() == {"lid"}
    assert p.looked_up() == {"rice": {"title", "body"}, "lid": {"title", "body"}}  # (suggest checks both)


def test_a_negated_pattern_is_an_exclusion_the_engine_cannot_take():
    p = plan_of('rice -"the lid" -cook*')
    _, excluded = p.exclusions()
    assert excluded is None and not p.loose  # a pattern left out: the operators' matching
    assert {type(leaf) for leaf in p.excluded} == {Phrase, Pattern}
    assert p.excluded_words() == {"the", "lid", "cook"}


def test_a_phrase_keeps_its_stopwords_and_order():
    p = plan_of('"rule of law"')
    assert set(p.phrases) == {Phrase("title", ("rule", "of", "law"), 1, True, FIELD_BOOSTS["title"]),
                              Phrase("body", ("rule", "of", "law"), 1, True, 1.0)}
    assert all(phrase.exact for phrase in p.phrases) and not p.words
    assert loose_words(p.root) is None  # not words ...
    assert loose_words(p.root, phrases=True) == {("rule", "of", "law"): 1.0}  # ... but one term
    assert p.quoted and not plan_of("Indo-Pacific security").quoted


def test_a_proximity_phrase_is_unordered_and_scored_by_its_words():
    p = plan_of('"rule law"~3')
    assert {(ph.field, ph.words, ph.slop, ph.ordered) for ph in p.phrases} == {
        ("title", ("rule", "law"), 3, False), ("body", ("rule", "law"), 3, False)}
    assert not any(ph.exact for ph in p.phrases) and not p.loose
    assert p.scored_terms() == {"body": {"rule": 1.0, "law": 1.0}, "title": {"rule": 1.0, "law": 1.0}}
    assert sorted(p.highlights()[1]) == [("body", ("rule", "law"), 3, False), ("title", ("rule", "law"), 3, False)]


def test_a_field_word_keeps_its_own_boost():
    p = plan_of("title:rice^5")
    assert p.words == (Word("title", "rice", 5.0),)
    assert p.scored_terms() == {"title": {"rice": pytest.approx(5.0 / FIELD_BOOSTS["title"])}}
    # Typed apart from a loose word, a title word makes a field query: not loose words.
    mixed = plan_of("rice title:rice^5")
    assert loose_words(mixed.root) is None and not mixed.loose
    assert mixed.scored_terms()["title"]["rice"] == pytest.approx(1.0 + 5.0 / FIELD_BOOSTS["title"])


def test_a_path_word_is_not_for_the_engine_to_score():
    p = plan_of("path:notes")
    assert p.words == (Word("path", "notes", 1.0),)
    assert p.scored_terms() is None


@pytest.mark.parametrize("text, kind, pattern, maxdist, stemmed", [
    ("cooperat*", PREFIX, "cooperat", None, True),
    ("w?rd", WILDCARD, "w?rd", None, False),
    ("ryce~", FUZZY, "ryce", 1, False),
    ("ryce~2", FUZZY, "ryce", 2, False),
    ("京", CHARACTER, "京", None, False),
])
def test_patterns(text, kind, pattern, maxdist, stemmed):
    p = plan_of(text)
    assert {(pt.field, pt.kind, pt.text, pt.maxdist, pt.stemmed) for pt in p.patterns} == {
        ("title", kind, pattern, maxdist, stemmed), ("body", kind, pattern, maxdist, stemmed)}
    # Without an index a pattern has no words: nothing to score it by.
    assert all(pt.words is None for pt in p.patterns) and p.scored_terms() is None


def test_a_capped_fuzzy_word_is_noted_once():
    p = plan_of("rice~5")
    assert {pt.maxdist for pt in p.patterns} == {2}
    assert len(p.notes) == 1 and "searched within 2" in p.notes[0]


def test_filters_sit_in_the_plan():
    p = plan_of("rice ext:txt")
    assert [f.name for f in p.filters] == ["ext"] and set(p.words) == both("rice")


def test_a_bare_whoosh_query_has_a_plan_too():
    q = parse_query("rice -lid", SCHEMA).query
    assert plan(q).root == plan_of("rice -lid").root and plan(q).filters == ()


# ---------------------------------------------------------------- against an index


@pytest.fixture
def session(indexed, index_location):
    from searcher.engine.search import SearchSession

    with SearchSession(index_location) as s:
        yield s


def test_a_pattern_lists_the_words_it_matches_scored_as_one(session):
    from searcher.engine.ranking import AnyOf

    p = session.parse("cook*").plan
    words = {pt.field: pt.words for pt in p.patterns}
    assert words["body"] and all(word.startswith(b"cook") for word in words["body"])
    body = p.scored_terms()["body"]
    if len(words["body"]) > 1:
        assert list(body) == [AnyOf(words["body"])]
    else:
        assert list(body) == [words["body"][0].decode()]
    assert set(p.highlights()[0]["body"]) == {word.decode() for word in words["body"]}


def test_only_words_the_index_holds_are_marked(session):
    p = session.parse("rice zzyzzx").plan
    assert {w.text: w.indexed for w in p.words} == {"rice": True, "zzyzzx": False}
    assert p.highlights()[0]["body"] == {"rice"}


def test_the_session_plan_carries_the_filters_it_was_given(session):
    result = session.search("rice", filters=parse_query("rice ext:md", SCHEMA).filters)
    assert [f.name for f in result.query.plan.filters] == ["ext"]


# ---------------------------------------------------------------- an invariant

VOCABULARY = ["rice", "cooking", "law", "rules", "tokyo", "minister", "security", "the", "lids"]
PIECES = st.one_of(
    st.sampled_from(VOCABULARY),
    st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=3).map(lambda w: '"' + " ".join(w) + '"'),
    st.tuples(st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=3), st.integers(2, 5)).map(
        lambda t: '"' + " ".join(t[0]) + f'"~{t[1]}'),
    st.sampled_from(["title:rice", "body:law^3", "title:tokyo^2", "ric*", "law~1"]),
)


@st.composite
def queries(draw, depth=2):
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        piece = draw(PIECES) if depth == 0 or draw(st.booleans()) else "(" + draw(queries(depth=depth - 1)) + ")"
        parts.append(draw(st.sampled_from(["", "", "+", "-", "NOT "])) + piece)
        parts.append(draw(st.sampled_from([" ", " ", " AND ", " OR "])))
    return "".join(parts[:-1])


def _stems(text: str) -> set[str]:
    analyzer = SCHEMA["body"].analyzer
    return {token.text for word in WORD_PATTERN.findall(text) for token in analyzer(word)} | {
        token.text for token in analyzer(text, mode="query")}


@settings(max_examples=300, deadline=None)
@given(text=queries())
def test_what_is_highlighted_or_scored_was_typed_and_is_not_excluded(text):
    try:
        parsed = parse_query(text, SCHEMA)
    except QueryError:
        return
    p = plan(parsed)
    typed = _stems(parsed.read_as)
    marked, phrases = p.highlights()
    for words in marked.values():
        assert words <= typed, text
    for _, words, _, _ in phrases:
        assert set(words) <= typed, text
    # A word only ever excluded is neither marked nor scored nor ranked.
    positive = {leaf.text for leaf in p.words} | {word for ph in p.phrases for word in ph.words}
    only_excluded = p.excluded_words() - positive - {pt.text for pt in p.patterns}
    scored = p.scored_terms() or {}
    scored_words = {word for terms in scored.values() for key in terms
                    for word in (key if type(key) is tuple else (key,))}
    assert not only_excluded & set().union(*marked.values(), *(set(w) for _, w, _, _ in phrases)), text
    assert not only_excluded & scored_words, text
    root, excluded = p.exclusions()
    loose = loose_words(root, phrases=True) if excluded is not None else None
    if loose:
        assert not only_excluded & {w for key in loose for w in (key if type(key) is tuple else (key,))}, text
    # Every leaf is either looked for or excluded, never both.
    every = list(_all_leaves(p.root))
    assert len(every) == len(p.words) + len(p.phrases) + len(p.patterns) + len(p.others) + len(p.excluded)


def _all_leaves(node):
    if type(node) in (Or, And):
        for child in node.children:
            yield from _all_leaves(child)
    elif type(node) in (AndNot, AndMaybe, Require):
        yield from _all_leaves(node.a)
        yield from _all_leaves(node.b)
    elif type(node) is Not:
        yield from _all_leaves(node.child)
    else:
        yield node


def test_explain_says_a_pattern_was_cut_short_in_any_of_its_fields(corpus, run, monkeypatch):
    # The title holds one flow* word, the body many: with room for two words, the title's
    # expansion is whole and the body's is cut; the one line for both fields says so.
    from searcher.parse import query

    (corpus / "flow.txt").write_text("Flow\n\n" + " ".join(f"flow{a}{b}" for a in "abc" for b in "abc") + "\n")
    assert run("index", corpus).exit_code == 0
    monkeypatch.setattr(query, "MAX_EXPANSION", 2)
    monkeypatch.setattr(query, "EXPANSION_SECONDS", 1e9)  # (only the word budget cuts)
    err = run("query", "--explain", "flow*").stderr
    line = next(line for line in err.splitlines() if "words starting with flow" in line)
    assert "cut short" in line and line.rstrip().endswith("in title ×1.5, body"), err
