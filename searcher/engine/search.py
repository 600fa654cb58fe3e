"""Running a query against an index: ranked passages with highlight spans."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import repeat
from operator import add

from searcher.index.storage.store import open_index, read_meta
from searcher.engine import plan as query_plan, ranking
from searcher.engine.plan import QueryPlan, plan as make_plan
from searcher.parse.query import ParsedQuery, parse_query
from searcher.present.snippets import Fragment, Span, fragments, highlight_spans, match_terms
from searcher.engine.statistics import passage_file, statistics


@dataclass
class Hit:
    path: str
    title: str
    start_line: int
    end_line: int
    position: int
    page: int | None
    score: float
    text: str
    spans: list[Span]  # matches in ``text``
    title_spans: list[Span]
    fragments: list[Fragment] = field(default_factory=list)
    stale: bool = False  # the file changed since it was indexed (searcher/engine/freshness.py)
    index: str | None = None  # the index's name, when several are searched (searcher/engine/multi.py)
    section: str | None = None  # the nearest heading above the passage
    section_spans: list[Span] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)  # near-duplicates in other files, best first


@dataclass(frozen=True)
class Copy:
    """A passage of another file that is a near-duplicate of a hit (searcher/engine/duplicates.py)."""

    path: str
    start_line: int
    page: int | None


class SearchResult:
    """The hits of one query, and how many passages match it.

    ``total`` (passages matching, before the per-file cap and the limit) is
    counted the first time it is read, unless the search was asked for it (``exact_total``):
    whoosh skips the blocks of postings that cannot reach the top hits, so an
    exact count means running the query again.
    """

    def __init__(self, query: ParsedQuery, hits: list[Hit], total: int | None = None, *,
                 ranked: int | None = None, count=None):
        self.query = query
        self.hits = hits
        self.ranked = len(hits) if ranked is None else ranked  # passages ranked: a lower bound of total
        # Query expansion: None when it did not run, else the words (stems) it added, best first.
        self.expansion: list[str] | None = None
        self.question = False  # read as a natural-language question (expanded unless --no-expand)
        self._total = total
        self._count = count

    @property
    def total(self) -> int:
        if self._total is None:
            self._total = self._count()
            self._count = None
        return self._total

    def __repr__(self):
        total = self._total if self._total is not None else "not counted"
        return f"SearchResult(query={self.query.text!r}, hits={len(self.hits)}, total={total})"


@dataclass
class _Loose:
    """What the ranking engine ranks for loose words (see ``SearchSession._plan``)."""

    terms: dict  # {stem, or tuple of stems (a phrase): weight}
    question: bool  # a natural-language question: expanded unless asked not to
    excluded: list  # (fieldname, stem or tuple of stems) of the passages left out


def _field_terms(plan: QueryPlan) -> dict | None:
    """{fieldname: (field weight, {key: weight})} the engine scores a structured query by
    (``QueryPlan.scored_terms``); None when it cannot score it."""
    fields = plan.scored_terms()
    if fields is None:
        return None
    weights = dict(ranking.FIELDS)
    # (Nothing to score: the query's words are not in this index, and it matches nothing.)
    return {name: (weights[name], words) for name, words in fields.items()}


def _global_ids(segments, ids_of, found: set[int] | None = None) -> set[int]:
    """Global docnums of what ``ids_of(segment)`` gives (each a segment's lists of its own
    docnums), added to ``found``."""
    found = set() if found is None else found
    for seg in segments:
        offset = seg.offset
        for ids in ids_of(seg):
            found.update(map(add, ids, repeat(offset)) if offset else ids)
    return found


def _passages_holding(segments, fieldname: str, key, found: set[int] | None = None) -> set[int]:
    """Global docnums of the passages of ``segments`` holding ``key`` (bytes, a phrase's
    tuple or a ranking.AnyOf), added to ``found``."""
    return _global_ids(segments, lambda seg: (ids for ids, _ in ranking._postings(seg, fieldname, key)), found)


def _matching_passages(query, searcher) -> set[int]:
    """Global docnums of the passages ``query`` (a QueryPlan, or a whoosh query) matches
    (deleted ones too: the engine's postings leave those out). Words, phrases, proximity
    and patterns joined by AND, OR, NOT, +, - are set algebra over the engine's postings,
    much faster than whoosh's matcher tree; anything else is left to whoosh."""
    from searcher.engine.phrases import match_near

    reader = searcher.reader()
    root = query.root if isinstance(query, QueryPlan) else make_plan(query, reader).root
    schema = reader.schema
    segments = statistics(reader).segments

    def postings(fieldname: str, key) -> set[int]:
        return _passages_holding(segments, fieldname, key)

    def match(node) -> set[int]:
        kind = type(node)
        if kind is query_plan.Or:
            return set().union(*map(match, node.children))
        if kind is query_plan.And:  # (x AND NOT y: x less y, without the set of every passage)
            positive = [sub for sub in node.children if type(sub) is not query_plan.Not]
            negative = [sub.child for sub in node.children if type(sub) is query_plan.Not]
            if not positive:  # only negations: every passage but theirs
                return set(range(reader.doc_count_all())).difference(*map(match, negative))
            first, *rest = positive
            found = match(first).intersection(*map(match, rest))
            return found.difference(*map(match, negative)) if found and negative else found
        if kind is query_plan.AndNot:
            return match(node.a) - match(node.b)
        if kind is query_plan.Require:
            return match(node.a) & match(node.b)
        if kind is query_plan.AndMaybe:
            return match(node.a)
        if kind is query_plan.Not:  # (whoosh's own matchers mishandle negations in docs_for_query)
            return set(range(reader.doc_count_all())) - match(node.child)
        fieldname = node.field
        if fieldname in schema:
            if kind is query_plan.Word:
                return postings(fieldname, schema[fieldname].to_bytes(node.text))
            if kind is query_plan.Phrase and node.exact and node.words:
                key = node.words if len(node.words) > 1 else node.words[0]
                return postings(fieldname, ranking.term_key(schema[fieldname], key))
            if kind is query_plan.Phrase and not node.ordered and node.words:
                return _global_ids(segments, lambda seg: [match_near(seg.reader, fieldname, node.words, node.slop)])
            if kind is query_plan.Pattern and node.words is not None:
                words = node.words

                def pattern_ids(seg):  # (the pattern's words in each segment)
                    held = words if seg.reader is reader else [w for w in words if (fieldname, w) in seg.reader]
                    return (ids for ids, _ in ranking._postings(seg, fieldname, ranking.AnyOf(held))) if held else ()

                return _global_ids(segments, pattern_ids)
        source = getattr(node, "source", None)  # (a word in a field this index lacks: nothing)
        return set(searcher.docs_for_query(source)) if source is not None else set()

    return match(root)


def make_weighting():
    from whoosh import scoring

    return scoring.BM25F(B=0.75, K1=1.2)


class SearchSession:
    """An index opened once to answer many queries.

    The metadata, the schema (with its stem tables) and one whoosh searcher are
    read once, instead of on every query. Use it as a context manager, or call
    ``close()``.
    """

    def __init__(self, index_dir):
        self.index_dir = index_dir
        self.meta = read_meta(index_dir)
        self.ix = open_index(index_dir, self.meta)
        self.schema = self.ix.schema
        self._searcher = None
        self.closed = False
        # True: every query is scored by whoosh's BM25F, not the ranking engine (searcher/engine/multi.py,
        # when another index searched with this one cannot give the query to the engine).
        self.whoosh_scores = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def searcher(self):
        if self.closed:
            raise RuntimeError("the search session is closed")
        if self._searcher is None:
            self._searcher = self.ix.searcher(weighting=make_weighting())
        return self._searcher

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self.closed = True

    def parse(self, text: str) -> ParsedQuery:
        from searcher.parse.query import expand_patterns

        parsed = parse_query(text, self.schema, self.meta.language)
        reader = self.searcher.reader()
        expand_patterns(parsed.query, reader)
        parsed.plan = make_plan(parsed, reader)
        return parsed

    def search(self, text: str, *, limit: int = 10, offset: int = 0, per_file: int | None = 3,
               highlight: bool = True, exact_total: bool = False, expand: bool | None = None,
               filters=(), sort: str = "score", collapse: bool = False) -> SearchResult:
        """The best passages for ``text``: at most ``per_file`` from one file (None: no cap).

        ``highlight=False`` skips the highlight spans and fragments (``searcher query -l``);
        ``exact_total=True`` counts the matching passages now (else on first use of ``total``).
        ``filters`` (searcher/parse/filters.py) apply with those in ``text``; ``sort`` orders
        every match by "modified" or "path" instead of the score before the page is cut;
        ``collapse`` makes near-duplicates of a better hit in other files its ``copies``
        instead of hits of their own.
        """
        if sort != "score":
            return self._search_sorted(text, limit, offset, per_file, highlight, expand, filters, sort)
        parsed = self.parse(text)
        if filters:
            parsed.filters = tuple(parsed.filters) + tuple(filters)
            parsed.plan = replace(parsed.plan, filters=parsed.filters)
        loose = None if self.whoosh_scores else self._plan(parsed)
        if loose is not None:  # ``expand``: on, off, or None for natural-language questions only
            result = self._search_loose(parsed, loose, limit, offset, per_file, highlight, expand, collapse)
            if exact_total:
                result.total  # noqa: B018 - counted now, while the session is open
            return result
        result = None if self.whoosh_scores else self._search_structured(parsed, limit, offset, per_file,
                                                                          highlight, collapse)
        if result is not None:
            if exact_total:
                result.total  # noqa: B018 - counted now, while the session is open
            return result
        searcher = self.searcher
        kwargs = {}
        if per_file:
            kwargs = {"collapse": "file", "collapse_limit": per_file}
        if parsed.filters:
            kwargs["mask"] = self._filtered_out(searcher.reader(), parsed.filters)
        results = None

        def best(n: int) -> list[tuple[int, float]]:
            nonlocal results
            results = searcher.search(parsed.query, limit=n, **kwargs)
            # Not list(results): list() asks len(), which counts every match (the whole query again).
            return [(docnum, score) for score, docnum in results.top_n]

        terms = match_terms(parsed.plan) if highlight else None
        hits = self._hits(best, offset, limit, collapse, terms)

        def count_matches() -> int:
            if self.closed:
                raise RuntimeError("SearchResult.total read after its session was closed: search with exact_total=True")
            return len(results)  # exact: whoosh counts the matches past the limit too

        total = count_matches() if exact_total else None
        return SearchResult(parsed, hits, total, ranked=results.scored_length(), count=count_matches)

    def _hits(self, best, offset: int, limit: int, collapse: bool, terms) -> list[Hit]:
        """The hits ``offset`` to ``offset + limit`` of the ranking ``best(n)`` gives (its
        first n passages as (docnum, score)); ``terms``: what to highlight, None for nothing.

        Collapsing asks for ``limit`` more passages than shown, and more again in the rare
        case that copies leave the page short.
        """
        stored_fields = self._stored_fields
        if not collapse:
            rows = best(offset + limit)[offset:offset + limit]
            return [self._hit(stored_fields(docnum), score, terms) for docnum, score in rows]
        from searcher.engine.duplicates import group_copies

        want = offset + 2 * limit
        while True:
            rows = best(want)
            stored = [stored_fields(docnum) for docnum, _ in rows]
            groups = group_copies([s.get("body", "") for s in stored], [s["file"] for s in stored])
            if len(groups) >= offset + limit or len(rows) < want:
                break
            want *= 2
        hits = []
        for group in groups[offset:offset + limit]:
            first = group[0]
            hit = self._hit(stored[first], rows[first][1], terms)
            hit.copies = [Copy(stored[i]["file"], stored[i].get("start_line", 1), stored[i].get("page"))
                          for i in group[1:]]
            hits.append(hit)
        return hits

    def _stored_fields(self, docnum: int) -> dict:
        """A passage's stored fields, with its file's path under ``file``."""
        stored = self.searcher.stored_fields(docnum)
        if "file" not in stored:
            stored["file"] = passage_file(self.searcher.reader(), docnum)
        return stored

    def _hit(self, stored: dict, score: float, terms) -> Hit:
        body = stored.get("body", "")
        title = stored.get("title", "")
        title_analyzer = self.schema["title"].analyzer
        highlight = terms is not None
        spans = highlight_spans(body, "body", self.schema["body"].analyzer, terms) if highlight else []
        return Hit(
            path=stored["file"], title=title,
            start_line=stored.get("start_line", 1), end_line=stored.get("end_line", 1),
            position=stored.get("position", 0), page=stored.get("page"),
            score=score, text=body, spans=spans,
            title_spans=highlight_spans(title, "title", title_analyzer, terms) if highlight else [],
            fragments=fragments(body, spans) if highlight else [],
            **_section(stored, title_analyzer, terms),
        )

    def _stopwords(self) -> frozenset[str]:
        """The language's stopwords, stemmed: left out of query expansion."""
        stopwords = getattr(self, "_stemmed_stopwords", None)
        if stopwords is None:
            from searcher.parse.query import _stemmed_stopwords

            stopwords = self._stemmed_stopwords = _stemmed_stopwords(self.schema, self.meta.language)
        return stopwords

    def _plan(self, parsed: ParsedQuery) -> _Loose | None:
        """How the ranking engine answers loose words; None for a structured query.

        The engine's own case is loose words and exact phrases OR-ed over title and body,
        less the passages holding any of the words or phrases excluded (``-word``,
        ``NOT "a phrase"``). Anything else (+word, AND, fields, patterns, ``"a b"~N``)
        has its passages chosen by its operators (``_search_structured``).
        """
        plan = self._plan_of(parsed)
        q, excluded = plan.exclusions()
        if excluded is None:
            return None
        loose = query_plan.loose_words(q)
        if loose is not None:
            return _Loose(loose, ranking.is_question(loose), excluded)
        # In a question, "two-dimensional" is two of its words rather than a phrase to match,
        # and a quoted title ('the film "Blade Runner"') adds the phrase to its words: it is
        # still a question, expanded like one. A quoted phrase counts as one word of it, so
        # that a long phrase alone, or with a word or two, is still a phrase lookup.
        question = query_plan.loose_words(q, self._stopwords())
        if question is not None and ranking.is_question(question):
            if not plan.quoted:
                return _Loose(question, True, excluded)
            typed = query_plan.loose_words(q, phrases=True) or {}
            if ranking.is_question(typed):
                question.update((key, weight) for key, weight in typed.items() if type(key) is tuple)
                return _Loose(question, True, excluded)
        # Words and exact phrases: a phrase is scored like a word, with the number of
        # times the passage (file) holds it as its frequency.
        terms = query_plan.loose_words(q, phrases=True)
        return _Loose(terms, False, excluded) if terms is not None else None

    def engine_terms(self, parsed: ParsedQuery) -> dict | None:
        """{fieldname: (field weight, {key: weight})} the ranking engine scores ``parsed``
        by (without expansion); None when whoosh scores it."""
        loose = self._plan(parsed)
        if loose is not None:
            terms = ranking.question_terms(loose.terms) if loose.question else loose.terms
            return {fieldname: (weight, terms) for fieldname, weight in ranking.FIELDS}
        return _field_terms(self._plan_of(parsed))

    def _plan_of(self, parsed: ParsedQuery) -> QueryPlan:
        if parsed.plan is None:  # (parsed elsewhere than by ``parse``)
            parsed.plan = make_plan(parsed, self.searcher.reader())
        return parsed.plan

    def _excluded_passages(self, reader, excluded) -> set[int] | None:
        """Global docnums of the passages holding any of the ``excluded`` terms."""
        if not excluded:
            return None
        found: set[int] = set()
        segments = statistics(reader).segments
        for fieldname, key in excluded:
            _passages_holding(segments, fieldname, ranking.term_key(reader.schema[fieldname], key), found)
        return found

    def _filtered_out(self, reader, filters) -> set[int]:
        from searcher.parse.filters import excluded_passages

        return excluded_passages(reader, self.index_dir, self.meta, filters)

    def _search_sorted(self, text, limit, offset, per_file, highlight, expand, filters, sort) -> SearchResult:
        """Every match, ordered by ``sort``; only the page shown is highlighted."""
        from searcher.parse.filters import file_mtimes, sort_hits

        result = self.search(text, limit=10**9, per_file=per_file, highlight=False, expand=expand, collapse=False,
                             filters=filters, exact_total=True)
        mtimes = file_mtimes(self.index_dir, self.meta, {hit.path for hit in result.hits}) \
            if sort == "modified" else None
        hits = sort_hits(result.hits, sort, mtimes)[offset:offset + limit]
        if highlight and hits:
            terms = match_terms(result.query.plan)
            for hit in hits:
                hit.spans = highlight_spans(hit.text, "body", self.schema["body"].analyzer, terms)
                hit.title_spans = highlight_spans(hit.title, "title", self.schema["title"].analyzer, terms)
                hit.fragments = fragments(hit.text, hit.spans)
        return SearchResult(result.query, hits, result.total, ranked=result.ranked)

    def _search_structured(self, parsed, limit, offset, per_file, highlight, collapse) -> SearchResult | None:
        """Operators, fields and patterns: whoosh finds the passages they let through, and
        the ranking engine scores those by the words looked for, as it scores loose words
        (``japan +security`` ranks its passages as ``japan security`` does). None when the
        query holds something the engine cannot score (whoosh then scores it)."""
        searcher = self.searcher
        reader = searcher.reader()
        fields = _field_terms(parsed.plan)
        if fields is None:
            return None
        include = _matching_passages(parsed.plan, searcher)
        exclude = self._filtered_out(reader, parsed.plan.filters) if parsed.plan.filters else None
        total = None

        def best(n: int) -> list[tuple[int, float]]:
            nonlocal total
            ranked, total = ranking.rank_fields(reader, fields, n, per_file, include=include, exclude=exclude)
            return [(r.docnum, r.score) for r in ranked]

        terms = match_terms(parsed.plan) if highlight else None
        hits = self._hits(best, offset, limit, collapse, terms)
        return SearchResult(parsed, hits, total, ranked=len(hits))

    def _search_loose(self, parsed, chosen: _Loose, limit, offset, per_file, highlight, expand,
                      collapse=False) -> SearchResult:
        """Loose words and phrases: the ranking engine's own scoring, with whole-file
        evidence (searcher/engine/ranking.py)."""
        searcher = self.searcher
        reader = searcher.reader()
        loose = ranking.question_terms(chosen.terms) if chosen.question else chosen.terms
        expansion = chosen.question if expand is None else expand
        exclude = self._excluded_passages(reader, chosen.excluded)
        if parsed.plan.filters:
            exclude = (exclude or set()) | self._filtered_out(reader, parsed.plan.filters)
        ranked = total = used = None
        from searcher.engine.expansion import rank

        def best(n: int) -> list[tuple[int, float]]:
            nonlocal ranked, total, used
            ranked, total, used = rank(reader, loose, n, per_file, expansion=expansion,
                                            stopwords=self._stopwords() if expansion else frozenset(),
                                            exclude=exclude, lazy_total=True)
            return [(r.docnum, r.score) for r in ranked]

        terms = match_terms(parsed.plan) if highlight else None
        hits = self._hits(best, offset, limit, collapse, terms)
        result = SearchResult(parsed, hits, ranked=len(ranked), count=total)  # total: counted when read
        result.question = chosen.question
        if expansion and used is not None:
            result.expansion = sorted((key for key in used if key not in loose and type(key) is str),
                                      key=lambda key: (-used[key], key))
        return result


def _section(stored: dict, analyzer, terms) -> dict:
    """A hit's section heading and its highlights (the words of the query, as in the title)."""
    section = stored.get("section")
    if not section:
        return {}
    return {"section": section,
            "section_spans": highlight_spans(section, "title", analyzer, terms) if terms is not None else []}


def search(index_dir, text: str, *, limit: int = 10, offset: int = 0, per_file: int | None = 3,
           highlight: bool = True, exact_total: bool = False, expand: bool | None = None,
           collapse: bool = False) -> SearchResult:
    """One query in a session of its own; see ``SearchSession.search``.

    The session stays open as long as the result is referenced, so that
    ``total`` can still be counted.
    """
    return SearchSession(index_dir).search(text, limit=limit, offset=offset, per_file=per_file,
                                           highlight=highlight, exact_total=exact_total, expand=expand,
                                           collapse=collapse)
