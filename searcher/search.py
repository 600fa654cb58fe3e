"""Running a query against an index: ranked passages with highlight spans."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.store import open_index, read_meta
from searcher.query import ParsedQuery, parse_query
from searcher.snippets import Fragment, Span, fragments, highlight_spans, match_terms


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


@dataclass
class SearchResult:
    query: ParsedQuery
    hits: list[Hit]
    total: int  # passages matching, before the per-file cap and the limit


def make_weighting():
    from whoosh import scoring

    return scoring.BM25F(B=0.75, K1=1.2)


def search(index_dir, text: str, *, limit: int = 10, offset: int = 0, per_file: int | None = 3) -> SearchResult:
    """The best passages for ``text``: at most ``per_file`` from one file (None: no cap)."""
    meta = read_meta(index_dir)
    ix = open_index(index_dir)
    parsed = parse_query(text, ix.schema, meta.language)
    with ix.searcher(weighting=make_weighting()) as searcher:
        kwargs = {}
        if per_file:
            kwargs = {"collapse": "file", "collapse_limit": per_file}
        results = searcher.search(parsed.query, limit=offset + limit, **kwargs)
        terms = match_terms(parsed.query, searcher.reader())
        body_analyzer = ix.schema["body"].analyzer
        title_analyzer = ix.schema["title"].analyzer
        hits = []
        for result in list(results)[offset:offset + limit]:
            stored = result.fields()
            body = stored.get("body", "")
            title = stored.get("title", "")
            spans = highlight_spans(body, "body", body_analyzer, terms)
            hits.append(Hit(
                path=stored["file"],
                title=title,
                start_line=stored.get("start_line", 1),
                end_line=stored.get("end_line", 1),
                position=stored.get("position", 0),
                page=stored.get("page"),
                score=result.score,
                text=body,
                spans=spans,
                title_spans=highlight_spans(title, "title", title_analyzer, terms),
                fragments=fragments(body, spans),
            ))
        total = results.estimated_length() if hasattr(results, "estimated_length") else len(results)
    return SearchResult(parsed, hits, total)
