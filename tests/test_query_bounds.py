"""What one query may cost (issue 13): size bounds, capped edit distance, bounded
pattern expansion, and named one-line errors for anything a user can type.

The bounds are checked by counting (words expanded, distance used, clock reads),
never by timing; benchmarks/query_bounds.py measures the time and memory.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from searcher.index.errors import IndexingError
from searcher.parse import query as query_module
from searcher.errors import QueryError
from searcher.parse.query import (
    MAX_EDIT_DISTANCE, MAX_FUZZY_LETTERS, MAX_NESTING, MAX_PASTED_CHARS, MAX_QUERY_CHARS, MAX_QUERY_WORDS,
    MAX_WORD_LETTERS, BoundedFuzzy, leaves,
)
from searcher.engine.search import SearchSession

# Words sharing a prefix ("flow" + letters): more than a small expansion cap.
FLOW_WORDS = [f"flow{a}{b}" for a in "abcdefgh" for b in "abcdefgh"]


@pytest.fixture
def code_and_flow(tmp_path, run):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "python.txt").write_text(
        "Calling conventions\n\nA function may take *args and **kwargs; the rest is keyword only.\n",
        encoding="utf-8")
    (root / "flow.txt").write_text("Flow words\n\n" + " ".join(FLOW_WORDS) + "\n", encoding="utf-8")
    (root / "river.txt").write_text("Rivers\n\nThe river meets the lagoon by the island.\n", encoding="utf-8")
    result = run("index", root)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def session(code_and_flow, index_location):
    with SearchSession(index_location) as s:
        yield s


def _one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("searcher: error: "), result.output
    assert "unexpected" not in lines[0]
    for fragment in fragments:
        assert fragment in lines[0]


def test_edit_distance_is_capped_and_explained(session, run):
    parsed = session.parse("river~999999999")
    fuzzy = [leaf for leaf in leaves(parsed.query) if isinstance(leaf, BoundedFuzzy)]
    assert fuzzy and {leaf.maxdist for leaf in fuzzy} == {MAX_EDIT_DISTANCE}
    result = run("query", "--explain", "river~999999999")
    assert result.exit_code == 0
    assert f"searched within {MAX_EDIT_DISTANCE}" in result.output
    assert "river.txt" in result.output


def test_fuzzy_finds_words_within_the_distance(session):
    assert [hit.path.rsplit("/", 1)[1] for hit in session.search("rivr~1").hits] == ["river.txt"]
    assert [hit.path.rsplit("/", 1)[1] for hit in session.search("lagon~").hits] == ["river.txt"]


def test_a_long_word_is_not_looked_up_by_edits(session):
    word = "x" * (MAX_FUZZY_LETTERS + 1)
    parsed = session.parse(f"{word}~2")
    assert not any(isinstance(leaf, BoundedFuzzy) for leaf in leaves(parsed.query))
    assert any("not by edits" in note for note in parsed.notes)


@pytest.mark.parametrize("pattern", ["flow*", "flow?a", "flo*a", "flowaa~2"])
def test_an_expansion_stops_at_its_word_count(session, monkeypatch, pattern):
    monkeypatch.setattr(query_module, "MAX_EXPANSION", 5)
    parsed = session.parse(pattern)
    reader = session.searcher.reader()
    patterns = [leaf for leaf in leaves(parsed.query) if hasattr(leaf, "truncated")]
    assert patterns
    for leaf in patterns:
        words = [text for _, text in leaf.existing_terms(reader, expand=True)]
        assert len(words) <= 5
    assert any(leaf.truncated for leaf in patterns)
    assert session.search(pattern).hits  # what was expanded is still searched


def test_an_expansion_stops_at_its_deadline(session, monkeypatch):
    class Clock:
        now = 0.0

        def monotonic(self):
            self.now += 1.0  # every reading of the clock is a second later
            return self.now

    monkeypatch.setattr(query_module, "time", Clock())
    monkeypatch.setattr(query_module, "MAX_EXPANSION", 10_000)
    monkeypatch.setattr(query_module, "_CLOCK_EVERY", 1)
    parsed = session.parse("?low*")  # a scan of the whole word list
    reader = session.searcher.reader()
    patterns = [leaf for leaf in leaves(parsed.query) if hasattr(leaf, "truncated")]
    assert patterns
    for leaf in patterns:
        words = list(leaf._btexts(reader))
        assert leaf.truncated and len(words) <= 1


def test_an_expansion_is_read_once_per_reader(session, monkeypatch):
    from searcher.parse.query import parse_query

    parsed = parse_query("flow*", session.schema)  # (session.parse expands it at once)
    reader = session.searcher.reader()
    leaf = next(leaf for leaf in leaves(parsed.query) if hasattr(leaf, "truncated") and leaf.fieldname == "body")
    calls = []
    original = type(leaf)._candidates

    def counting(self, ixreader):
        calls.append(1)
        return original(self, ixreader)

    monkeypatch.setattr(type(leaf), "_candidates", counting)
    first = list(leaf._btexts(reader))
    assert list(leaf._btexts(reader)) == first and len(calls) == 1
    assert len(first) == len(FLOW_WORDS)


def test_the_patterns_of_a_query_share_one_budget(session, monkeypatch):
    monkeypatch.setattr(query_module, "MAX_EXPANSION", 10)
    parsed = session.parse("flowa* flowb* flowc* flowd*")
    reader = session.searcher.reader()
    patterns = [leaf for leaf in leaves(parsed.query) if hasattr(leaf, "truncated")]
    assert len(patterns) >= 4
    assert sum(len(list(leaf._btexts(reader))) for leaf in patterns) == 10


def test_a_pattern_of_many_words_matches_every_passage_holding_one(session, monkeypatch):
    wide = {hit.path for hit in session.search("flow*", per_file=None, limit=50).hits}
    monkeypatch.setattr(query_module, "SCORED_EXPANSION", 1_000)
    scored = {hit.path for hit in session.search("flow*", per_file=None, limit=50).hits}
    assert wide == scored and any(path.endswith("flow.txt") for path in wide)


@pytest.mark.parametrize("text, fragment", [
    ("a" * (MAX_WORD_LETTERS + 1), "letters"),
    ("ab" * 5000, "has no words"),  # pasted: its one "word" is no word
    ("x" * (MAX_QUERY_CHARS + 1), "has no words"),
    ("river " * (MAX_PASTED_CHARS // 6 + 1), "too long"),
    ("(" * (MAX_NESTING + 1) + "river" + ")" * (MAX_NESTING + 1), "parentheses"),
    ("(" * 500 + "river" + ")" * 500, "parentheses"),
])
def test_oversized_queries_are_refused_in_one_line(code_and_flow, run, session, text, fragment):
    _one_line_error(run("query", "--", text), fragment)
    with pytest.raises(QueryError, match=fragment):
        session.search(text)


def test_a_pasted_text_is_searched_as_its_distinct_words(session, run):
    """Past 200 words or 2,000 characters a query is pasted text: its quotes, parentheses,
    operators and field names are not syntax, each word counts once, and no spelling hint
    repeats the whole text back."""
    text = ('He said: "the lagoon (by the island) -- AND the river" OR NOT title: rivers? '
            + "the river meets the lagoon " * 60 + 'and a stray quote " and ( too')
    assert len(text.split()) > MAX_QUERY_WORDS
    result = run("query", "--json", "--explain", "--", text)
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert hits and hits[0]["path"].endswith("river.txt")
    assert "searched as plain words, each once" in result.output
    assert "did you mean" not in result.output
    read_as = session.parse(text).read_as.split()
    assert len(read_as) == len(set(read_as)) and {"lagoon", "island", "river", "stray"} <= set(read_as)
    assert not {"AND", "OR", "NOT", '"', "("} & set(read_as)


def test_a_pasted_text_of_many_distinct_words_keeps_the_first_ones(session):
    words = [f"w{i:04}x" for i in range(MAX_QUERY_WORDS + 50)]
    parsed = session.parse(" ".join(["lagoon"] + words))
    assert parsed.read_as.split() == ["lagoon"] + words[:MAX_QUERY_WORDS - 1]
    assert any(f"the first {MAX_QUERY_WORDS} of {MAX_QUERY_WORDS + 51}" in note for note in parsed.notes)


def test_repeated_field_prefixes_read_as_one(session, run):
    result = run("query", "--json", "title:" * 40 + "rivers")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[0])["path"].endswith("river.txt")


@pytest.mark.parametrize("typed", ["*args **kwargs", "**kwargs", "f(*args, **kwargs)"])
def test_starred_names_are_the_names(session, run, typed):
    result = run("query", "--json", "--explain", "--", typed)
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [hit["path"].rsplit("/", 1)[1] for hit in hits] == ["python.txt"]
    assert "not a pattern" in result.output


_QUERY_PIECES = st.sampled_from([
    "river", "flow", "lagoon", "kwargs", "the", "AND", "OR", "NOT", "-", "+", "*", "**", "?", "~", "~2",
    "~999", '"', "(", ")", "title:", "body:", "path:", "note:", "^2", "^", ":", "\\", "[", "]", "{", "}",
    "é", "\u202e", "\x00", " ", " ", "/", "'", "x" * 40, "ANDNOT", "1", "0.5",
])
_QUERIES = st.lists(_QUERY_PIECES, min_size=1, max_size=12).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_QUERIES)
def test_random_queries_raise_only_named_errors(session, text):
    try:
        session.search(text, limit=3)
    except (QueryError, IndexingError) as exc:
        message = str(exc)
        assert message and "\n" not in message


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_QUERIES)
def test_the_cli_answers_as_the_library_does(session, run, text):
    try:
        library = [hit.path for hit in session.search(text, limit=10).hits]
        error = None
    except (QueryError, IndexingError) as exc:
        library, error = [], str(exc)
    result = run("query", "--json", "--", text)
    if error is not None:
        assert result.exit_code == 2 and error in result.output
    else:
        lines = [line for line in result.output.splitlines() if line.startswith("{")]
        assert [json.loads(line)["path"] for line in lines] == library
        assert result.exit_code == (0 if library else 1)


def test_a_pattern_is_expanded_over_the_whole_index_not_per_segment(tmp_path, run):
    # Two runs make two segments. The first holds 1,000 words starting with "pq": expanded
    # segment by segment, the first segment alone spent the query's budget of words and
    # the second segment's "pa" was never searched.
    import itertools
    import string

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    words = ["pq" + "".join(t) for t in itertools.islice(itertools.product(string.ascii_lowercase, repeat=3), 1000)]
    (first / "many.txt").write_text("Many words\n\n" + " ".join(words) + "\n", encoding="utf-8")
    (second / "one.txt").write_text("One word\n\nThe word pa is here.\n", encoding="utf-8")
    index = tmp_path / "index"
    assert run("index", "--index", index, first).exit_code == 0
    assert run("index", "--index", index, second).exit_code == 0
    result = run("query", "--index", index, "p*", "-l")
    assert result.exit_code == 0, result.output
    assert "one.txt" in result.stdout


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_QUERY_PIECES, min_size=MAX_QUERY_WORDS + 1, max_size=MAX_QUERY_WORDS * 3))
def test_random_pasted_texts_raise_only_named_errors(session, pieces):
    try:
        session.search(" ".join(pieces), limit=3)
    except (QueryError, IndexingError) as exc:
        message = str(exc)
        assert message and "\n" not in message
