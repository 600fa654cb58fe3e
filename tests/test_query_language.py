"""Queries people actually type: punctuation, unbalanced syntax, stray operators; --literal,
--phrase and --explain; what phrase and proximity hits highlight. All through the real CLI."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from passagefiles import file_of
from searcher.console import ExitStatus

AWKWARD = (
    "Programming notes\n"
    "\n"
    "Programming in C++ is hard; multi-agent systems are harder.\n"
    "\n"
    "The U.S. response, e.g. sanctions, came at 10:30 (see [draft] and {appendix}).\n"
    "Meeting note: 2023 budget review.\n"
)


@pytest.fixture
def awkward(corpus, run):
    (corpus / "awkward.txt").write_text(AWKWARD, encoding="utf-8")
    assert run("index", corpus).exit_code == 0
    return corpus


def hits_of(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def highlights(hit) -> list[str]:
    return [h["text"] for h in hit["highlights"]]


# query, exit status, the file of the first hit (or a piece of the error message).
# Each row is a decision documented in the README's "Query language" section.
AWKWARD_QUERIES = [
    ("C++", 0, "awkward.txt"),  # punctuation is not indexed: the word c
    ("multi-agent", 0, "awkward.txt"),  # joined words: the phrase "multi agent"
    ("Russia's", 0, "japan_latvia.txt"),
    ("Russia’s", 0, "japan_latvia.txt"),
    ("e.g.", 0, "awkward.txt"),
    ("U.S.", 0, "awkward.txt"),
    ('"rule of', 0, "japan_latvia.txt"),  # an unclosed quote runs to the end
    ('rice"', 0, "cooking.txt"),  # a quote with nothing after it is ignored
    ("rule (of", 0, "japan_latvia.txt"),  # an unclosed ( runs to the end
    ("rice)", 0, "cooking.txt"),  # an unmatched ) is ignored
    ("rice AND", 0, "cooking.txt"),  # an operator with nothing to join is ignored
    ("AND rice", 0, "cooking.txt"),
    ("rice NOT", 0, "cooking.txt"),
    ("rice AND OR cooking", 0, "cooking.txt"),
    ("note: 2023", 0, "awkward.txt"),  # note: is not a field: the words note and 2023
    ("note:2023", 0, "awkward.txt"),
    ("10:30", 0, "awkward.txt"),
    ("title: tokyo", 0, "lithuania.md"),  # a field name then a space still applies
    ("Title:tokyo", 0, "lithuania.md"),
    ("how do I cook rice?", 0, "cooking.txt"),  # a trailing ? is a question mark
    ("rice - cooking", 0, "cooking.txt"),  # a lone dash is a dash
    ("rice && cooking || lid", 0, "cooking.txt"),
    ("[draft]", 0, "awkward.txt"),  # brackets are not ranges
    ("{appendix}", 0, "awkward.txt"),
    ("“rule of law”", 0, "japan_latvia.txt"),  # typographic quotes are quotes
    ("«rule of law»", 0, "japan_latvia.txt"),
    ("rice^abc", 1, ""),  # not a boost: the words rice abc joined, as "rice-abc"
    ("rice^2 lid", 0, "cooking.txt"),
    ("cooperat*", 0, "japan_latvia.txt"),  # prefixes match stems: cooperation → cooper
    ("ryce~", 0, "cooking.txt"),
    ('"tokyo latvian"~3', 0, "japan_latvia.txt"),  # proximity in any order
    ("zeppelin", 1, ""),
    ("http://example.com", 1, ""),
    ("", 2, "empty query"),
    ("   ", 2, "empty query"),
    ("#", 2, "only punctuation"),
    ("*", 2, "only punctuation"),
    ("?", 2, "only punctuation"),
    ("()", 2, "only punctuation"),
    ('"', 2, "only punctuation"),
    ("AND", 2, "only operators"),
    ("NOT OR", 2, "only operators"),
    ("-rice", 2, "only excludes"),
    ("NOT rice", 2, "only excludes"),
]


@pytest.mark.parametrize("query, status, expected", AWKWARD_QUERIES)
def test_awkward_queries_have_a_sensible_answer(awkward, run, query, status, expected):
    result = run("query", "--json", "--", query)
    assert result.exit_code == status, (query, result.output)
    assert "Traceback" not in result.output and "unexpected" not in result.output
    if status == ExitStatus.FOUND:
        assert hits_of(result)[0]["path"].endswith(expected), query
    elif status == ExitStatus.ERROR:
        assert result.stdout == ""
        assert result.stderr.startswith("searcher: error: ") and expected in result.stderr, query
        assert len(result.stderr.strip().splitlines()) == 1


# Words, punctuation and operators in any order must never crash, and an error
# is only ever one of the explained ones.
PIECES = st.sampled_from([
    "rice", "cooking", "Tokyo", "law", "the", "of", "C++", "e.g.", "U.S.", "Russia’s", "multi-agent",
    '"', "(", ")", "AND", "OR", "NOT", "-", "+", ":", "?", "*", "~", "^", "~2", "^2", "title:", "note:",
    "path:", "[", "]", "{", "}", "\\", "/", "'", "“", "”", "!", ",", ".", "&&", "||", "-rice", "+lid",
    "ryce~", "cook*", "wom?n", "TO",
])
KNOWN_ERRORS = ("empty query", "only punctuation", "only operators", "stopwords", "only excludes",
                "nothing to search for")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(PIECES, max_size=6), glue=st.sampled_from([" ", ""]))
def test_any_mix_of_words_and_punctuation_is_handled(indexed, run, pieces, glue):
    result = run("query", "--json", "--", glue.join(pieces))
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == ExitStatus.ERROR:
        assert any(reason in result.stderr for reason in KNOWN_ERRORS), result.stderr


def test_documented_query_language_still_works(indexed, run):
    def paths(*query):
        return {h["path"].rsplit("/", 1)[-1] for h in hits_of(run("query", "--json", "--per-file", "0", "--", *query))}

    assert paths("japan AND latvia") == {"japan_latvia.txt"}
    assert paths("latvia OR rice") == {"japan_latvia.txt", "cooking.txt"}
    assert paths("security NOT energy") == {"japan_latvia.txt"}
    assert paths("security -energy") == {"japan_latvia.txt"}
    assert paths("+tokyo", "security") == {"japan_latvia.txt", "lithuania.md"}
    assert paths("(latvia OR lithuania) AND tokyo") == {"japan_latvia.txt", "lithuania.md"}
    assert paths("title:tokyo") == {"lithuania.md"}
    assert paths("path:notes") == {"cooking.txt"}
    assert paths("kamikava~") == {"japan_latvia.txt"}
    assert paths("kamikwa~2") == {"japan_latvia.txt"}
    assert paths('"japan latvia"~2') == {"japan_latvia.txt"}


def test_repeated_word_weighs_more(indexed, run):
    result = run("query", "--explain", "rice", "security", "security")
    assert "the word secur in title ×3, body ×2" in result.stderr
    assert "the word rice in title ×1.5, body\n" in result.stderr


# ------------------------------------------------------------------ --literal and --phrase


def test_literal_searches_plain_words_without_operators(awkward, run):
    # As a query, -rice would exclude rice and AND would be an operator.
    result = run("query", "--json", "--literal", "--", "-rice AND cooking?")
    assert result.exit_code == 0
    assert hits_of(result)[0]["path"].endswith("cooking.txt")
    # Not a field: the words title and tokyo, joined as typed.
    assert run("query", "title:tokyo").exit_code == ExitStatus.FOUND
    result = run("query", "--explain", "-F", "title:tokyo")
    assert result.exit_code == ExitStatus.NOTHING_FOUND
    assert 'read as (--literal): "title tokyo"' in result.stderr
    assert 'the phrase "titl tokyo"' in result.stderr
    result = run("query", "--json", "--literal", "C++ (draft)")
    assert hits_of(result)[0]["path"].endswith("awkward.txt")


def test_phrase_searches_the_words_as_one_phrase(indexed, run):
    result = run("query", "--json", "--phrase", "rule", "of", "law")
    hits = hits_of(result)
    assert [highlights(h) for h in hits] == [["rule of law"]]
    assert run("query", "--phrase", "law", "of", "rule").exit_code == ExitStatus.NOTHING_FOUND


def test_literal_and_phrase_together_is_a_usage_error(indexed, run):
    result = run("query", "--literal", "--phrase", "rice")
    assert result.exit_code == ExitStatus.ERROR


# ------------------------------------------------------------------ --explain


def test_explain_shows_analysis_fields_and_operators(indexed, run):
    result = run("query", "--explain", "--json", "title:latvia AND security -china")
    assert result.exit_code == 0
    err = result.stderr
    assert "security → secur" in err
    assert "ALL of" in err and "but NOT" in err
    assert "the word latvia in title" in err
    assert "the word secur in title ×1.5, body" in err
    # The explanation is on stderr: stdout stays JSON.
    assert all(json.loads(line) for line in result.stdout.splitlines())


def test_explain_shows_phrases_patterns_notes_and_stopwords(indexed, run):
    result = run("query", "--explain", '"rule of law" cooperat* ryce~ the note: rice?')
    err = result.stderr
    assert 'the phrase "rule of law"' in err
    assert "words starting with cooperat (cooper)" in err
    assert "words within 1 edit of ryce (rice)" in err
    assert "ignored common words: the" in err
    assert "'note:' is not a field" in err
    assert "question mark" in err
    assert err.index("query:") < err.index("matches passages with:")


def test_explain_comes_before_the_results(indexed, run):
    result = run("query", "--explain", "rice")
    assert result.output.index("matches passages with:") < result.output.index("cooking.txt")


def test_explain_names_proximity_as_any_order(indexed, run):
    result = run("query", "--explain", '"tokyo latvian"~3')
    assert "tokyo, latvian within 3 words of each other (any order)" in result.stderr


# ------------------------------------------------------------------ highlighting


def test_phrase_highlights_only_the_phrase(indexed, run):
    hit = hits_of(run("query", "--json", '"cooking rice"'))[0]
    # "rice" alone occurs twice more in the passage, and is not marked there.
    assert highlights(hit) == ["cooking rice", "cooking rice"]


def test_proximity_highlights_the_words_within_the_window(indexed, run):
    hit = hits_of(run("query", "--json", '"rice cook"~2'))[0]
    # "Rinse the rice twice. Cook" is a match (2 apart); "Let the rice rest" is not.
    assert highlights(hit) == ["cooking rice", "rice", "Cook", "cooking rice"]


def test_loose_word_and_phrase_together_mark_both(indexed, run):
    hit = hits_of(run("query", "--json", 'rule "rule of law"'))[0]
    assert highlights(hit) == ["rules", "rule of law"]


def test_proximity_matches_in_any_order_and_marks_both_words(indexed, run):
    hit = hits_of(run("query", "--json", '"tokyo latvian"~3'))[0]
    assert highlights(hit) == ["Latvian", "Tokyo"]
    assert run("query", '"tokyo latvian"~2').exit_code == ExitStatus.NOTHING_FOUND


# ------------------------------------------------------------------ phrases and exclusions on the ranking engine
#
# Loose words and exact phrases, with -word / NOT exclusions, are matched and ranked
# by the ranking engine (searcher/engine/ranking.py, searcher/engine/phrases.py). The passages they
# match must be exactly those whoosh's own matchers find for the same query.

PHRASEBOOK = (
    "The rule of law\n"
    "\n"
    "The rule of law binds the rulers. The rule of law, and the rule of law alone, "
    "keeps the rice price fair.\n"
    "\n"
    "A law of rice: cooking rice takes time. The rice cooker cooks the rice.\n"
    "\n"
    "Prime minister and foreign minister met in Tokyo to talk about the rule.\n"
)


@pytest.fixture
def phrasebook(corpus, run):
    (corpus / "phrasebook.txt").write_text(PHRASEBOOK, encoding="utf-8")
    assert run("index", corpus).exit_code == 0
    return corpus


def cli_matches(run, *query, options=()) -> set[tuple[str, int]]:
    """(path, first line) of every passage ``searcher query`` finds."""
    result = run("query", "--json", "--per-file", "0", "--limit", "1000", *options, "--", *query)
    assert result.exit_code in (ExitStatus.FOUND, ExitStatus.NOTHING_FOUND), result.output
    return {(hit["path"], hit["start_line"]) for hit in hits_of(result)}


def whoosh_matches(index_location, query: str) -> set[tuple[str, int]]:
    """The same for whoosh's own matching of the parsed query.

    ``a ANDNOT b`` is whoosh's matches of ``a`` less its matches of ``b``: whoosh's
    AndNotMatcher never checks its first posting against ``b`` when ``b`` starts at a
    lower docnum ("rice -rice -law" would find a passage with rice in it).
    """
    from whoosh import query as wq

    from searcher.engine.search import SearchSession

    with SearchSession(index_location) as session:
        def matches(q):
            if type(q) is wq.AndNot:
                return matches(q.a) - matches(q.b)
            return {(file_of(session.searcher.reader(), r.docnum), r["start_line"])
                    for r in session.searcher.search(q, limit=None)}

        return matches(session.parse(query).query)


def ranked_by_engine(index_location, query: str) -> bool:
    from searcher.engine.search import SearchSession

    with SearchSession(index_location) as session:
        return session._plan(session.parse(query)) is not None


ENGINE_QUERIES = [
    '"rule of law"',
    '"the rice"',
    '"rice cooker" cooking',
    '"rule of law" "prime minister" tokyo',
    "rice -lid",
    "rice NOT cooking",
    'law -"rule of law"',
    'minister NOT "foreign minister"',
    '"the rule" -"rule of law"',
    "rice -title:cooking",
    '"rice" -"the rice"',
    "Indo-Pacific security",
    "security -Indo-Pacific",
]


@pytest.mark.parametrize("query", ENGINE_QUERIES)
def test_engine_matches_the_passages_whoosh_matches(phrasebook, run, index_location, query):
    assert ranked_by_engine(index_location, query)
    assert cli_matches(run, query) == whoosh_matches(index_location, query)


WORDS = st.sampled_from(["rice", "law", "rule", "cooking", "minister", "tokyo", "security", "lid", "the"])
PHRASES = st.lists(WORDS, min_size=2, max_size=3).map(lambda words: '"' + " ".join(words) + '"')
ENGINE_PIECES = st.one_of(WORDS, PHRASES)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wanted=st.lists(ENGINE_PIECES, min_size=1, max_size=3),
       excluded=st.lists(ENGINE_PIECES, max_size=2), negation=st.sampled_from(["-", "NOT "]))
def test_any_words_phrases_and_exclusions_match_as_in_whoosh(phrasebook, run, index_location, wanted, excluded,
                                                             negation):
    query = " ".join(wanted + [negation + piece for piece in excluded])
    result = run("query", "--json", "--", query)
    if result.exit_code == ExitStatus.ERROR:  # only stopwords left
        assert "stopwords" in result.stderr or "only excludes" in result.stderr, result.stderr
        return
    assert cli_matches(run, query) == whoosh_matches(index_location, query), query


def test_a_phrase_ranks_the_file_that_says_it_most_first(corpus, run):
    (corpus / "many.txt").write_text("Rice cookers\n\nA rice cooker. Another rice cooker, a third rice cooker.\n")
    (corpus / "once.txt").write_text("Kitchen\n\nThe kitchen has a stove, a kettle, a sink and a rice cooker.\n")
    (corpus / "apart.txt").write_text("Rice\n\nRice is cooked in a cooker, rice by rice.\n")
    assert run("index", corpus).exit_code == 0
    hits = hits_of(run("query", "--json", '"rice cooker"'))
    assert [h["path"].rsplit("/", 1)[-1] for h in hits] == ["many.txt", "once.txt"]
    # Asked for, expansion adds the best files' words to the phrase.
    expanded = hits_of(run("query", "--json", "--expand", '"rice cooker"'))
    assert [h["path"].rsplit("/", 1)[-1] for h in expanded][:2] == ["many.txt", "once.txt"]
    # Only the phrase is marked, not "rice" or "cooker" alone.
    assert [highlights(h) for h in hits] == [["Rice cookers", "rice cooker", "rice cooker", "rice cooker"],
                                             ["rice cooker"]]


def test_a_question_reads_hyphenated_words_as_words_and_keywords_as_a_phrase(corpus, run, index_location):
    (corpus / "plates.txt").write_text("Plates\n\nDimensional analysis of two plates.\n")
    (corpus / "flow.txt").write_text("Flow\n\nTwo-dimensional flow over a wing.\n")
    assert run("index", corpus).exit_code == 0
    question = "how does two-dimensional flow separate over plates"
    assert {p.rsplit("/", 1)[-1] for p, _ in cli_matches(run, question)} == {"plates.txt", "flow.txt"}
    # Fewer words are keywords: "two-dimensional" is the phrase "two dimensional" there.
    assert {p.rsplit("/", 1)[-1] for p, _ in cli_matches(run, "two-dimensional plates")} == {"plates.txt",
                                                                                              "flow.txt"}
    assert {p.rsplit("/", 1)[-1] for p, _ in cli_matches(run, "two-dimensional")} == {"flow.txt"}


def test_a_question_with_an_excluded_word_leaves_out_its_passages(phrasebook, run, index_location):
    question = "what methods of cooking rice keep the rice price fair -cooker"
    assert ranked_by_engine(index_location, question)
    # Expansion adds words of the best passages: without it, the question's own words match.
    found = cli_matches(run, question, options=["--no-expand"])
    assert found and found == whoosh_matches(index_location, question)
    hits = hits_of(run("query", "--json", "--per-file", "0", "--limit", "1000", "--", question))
    assert len(hits) > len(found) and not any("cooker" in (h["title"] + h["text"]).lower() for h in hits)


NEAR_WORDS = st.sampled_from(["rice", "law", "rule", "of", "the", "minister", "tokyo", "security", "cooking"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(NEAR_WORDS, min_size=2, max_size=4), slop=st.integers(2, 12))
def test_proximity_matches_the_passages_whoosh_matches(phrasebook, index_location, words, slop):
    # searcher/engine/phrases.py's match_near against whoosh's own span matcher, on the same query.
    from searcher.engine.search import SearchSession, _matching_passages

    with SearchSession(index_location) as session:
        q = session.parse('"' + " ".join(words) + f'"~{slop}').query
        assert _matching_passages(q, session.searcher) == set(session.searcher.docs_for_query(q))


BOOLEAN_PIECES = st.one_of(NEAR_WORDS, st.sampled_from(["ric*", "min*", "law~1", '"rule of law"', "title:tokyo",
                                                         "body:rice", '"law rule"~3', "NOT cooking"]))


@st.composite
def boolean_queries(draw, depth=2):
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        piece = draw(BOOLEAN_PIECES) if depth == 0 or draw(st.booleans()) else \
            "(" + draw(boolean_queries(depth=depth - 1)) + ")"
        pieces.append(draw(st.sampled_from(["", "+", "-"])) + piece)
        pieces.append(draw(st.sampled_from([" ", " AND ", " OR ", " NOT "])))
    return "".join(pieces[:-1])


def reference_matches(q, searcher) -> set[int]:
    """What a query matches, by its plain boolean meaning over whoosh's matches of each word,
    phrase or pattern (whoosh's own AND NOT over an OR lets through passages holding the
    excluded words when asked for all its matches: ``-(japan law) security`` on the seeds)."""
    from whoosh import query as wq

    kind = type(q)
    if kind is wq.Or:
        return set().union(*(reference_matches(sub, searcher) for sub in q.subqueries))
    if kind is wq.And:
        found = [reference_matches(sub, searcher) for sub in q.subqueries]
        return found[0].intersection(*found[1:])
    if kind is wq.AndNot:
        return reference_matches(q.a, searcher) - reference_matches(q.b, searcher)
    if kind is wq.Require:
        return reference_matches(q.a, searcher) & reference_matches(q.b, searcher)
    if kind is wq.AndMaybe:
        return reference_matches(q.a, searcher)
    if kind is wq.Not:
        return set(range(searcher.doc_count_all())) - reference_matches(q.query, searcher)
    return set(searcher.docs_for_query(q))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=boolean_queries())
def test_operators_let_through_the_passages_they_mean(phrasebook, index_location, text):
    # The engine's set algebra over its own postings (search._matching_passages) against the
    # plain meaning of the query over whoosh's matches of its words.
    from searcher.errors import QueryError
    from searcher.engine.search import SearchSession, _matching_passages

    with SearchSession(index_location) as session:
        try:
            q = session.parse(text).query
        except QueryError:
            return
        assert _matching_passages(q, session.searcher) == reference_matches(q, session.searcher), text
