"""Several indexes searched as one: ``searcher query -I notes,papers`` or ``--all``.

Each index answers with its own hits, and they are merged by score, so the scores must
compare: BM25's statistics are made those of all the indexes together. For the ranking
engine (searcher/engine/ranking.py) each index's statistics get the passage and file counts of
all of them, length norms over the average lengths of all of them, and, for each query
term, its passage and file frequencies summed over all of them (a first walk of the
term's postings, which the scoring walk then reuses). For queries whoosh scores
(structured queries the engine cannot score) each index's searcher gets an idf and average field lengths
over all the readers (when one index cannot give the query to the ranking engine, whoosh
scores it in all of them). Query expansion is off: each index would add words of its own,
and the scores would no longer compare. Near-duplicates (``collapse``) are grouped within
each index, not across them.
"""

from __future__ import annotations

import math
from heapq import merge

from searcher.index.storage.whoosh_private import reader_cache
from searcher.engine.search import SearchResult
from searcher.session import Session


class MultiSession:
    """Opened indexes, searched together; ``search`` as SearchSession's."""

    def __init__(self, named_dirs: list[tuple[str, str]]):
        self.sessions = [(name, Session(folder)) for name, folder in named_dirs]
        self.index_dir = self.sessions[0][1].index_dir
        self.meta = self.sessions[0][1].meta

    def close(self) -> None:
        for _, session in self.sessions:
            session.close()

    def parse(self, text):
        return self.sessions[0][1].parse(text)

    def search(self, text: str, *, limit: int = 10, offset: int = 0, per_file: int | None = 3,
               highlight: bool = True, exact_total: bool = False, expand: bool | None = None,
               filters=(), sort: str = "score", collapse: bool = True) -> SearchResult:
        plans = [(session, session.parse(text)) for _, session in self.sessions]
        scored = [session.engine_terms(parsed) for session, parsed in plans]
        engine = all(fields is not None for fields in scored)
        for session, _ in plans:  # else whoosh scores the query in every index, so that the scores compare
            session.whoosh_scores = not engine
        if engine:
            self._share_engine_statistics([(session, fields) for (session, _), fields in zip(plans, scored)])
        else:
            self._share_whoosh_statistics()
        results = []
        for name, session in self.sessions:
            result = session.search(text, limit=offset + limit, offset=0, per_file=per_file,
                                    highlight=highlight, exact_total=exact_total, expand=False,
                                    filters=filters, sort=sort, collapse=collapse)
            for hit in result.hits:
                hit.index = name
            results.append(result)
        hits = list(merge(*[r.hits for r in results], key=self._sort_key(sort, results)))
        return SearchResult(results[0].query, hits[offset:offset + limit],
                            sum(r.total for r in results) if exact_total else None,
                            ranked=sum(r.ranked for r in results),
                            count=lambda: sum(r.total for r in results))

    def _sort_key(self, sort, results):
        if sort == "path":
            return lambda hit: (hit.path, hit.start_line)
        if sort == "modified":
            from searcher.parse.filters import file_mtimes

            mtimes = {}
            for (_, session), result in zip(self.sessions, results):
                mtimes.update(file_mtimes(session.index_dir, session.meta, {h.path for h in result.hits}))
            return lambda hit: -mtimes.get(hit.path, 0)
        return lambda hit: -hit.score

    # ------------------------------------------------------------ the ranking engine

    def _share_engine_statistics(self, planned) -> None:
        from searcher.index.storage.rankstats import FIELDS, RankStats, _set_norms
        from searcher.engine import ranking
        from searcher.engine.statistics import Statistics, statistics

        own = [(session, fields, session.searcher.reader()) for session, fields in planned]
        datas = [statistics(reader)._data for _, _, reader in own]
        passages = sum(d.passages for d in datas) or 1
        files = sum(d.live_files for d in datas) or 1
        avg_passage = {f: sum(d.avg_passage_length[f] * d.passages for d in datas) / passages for f in FIELDS}
        avg_file = {f: sum(d.avg_file_length[f] * d.live_files for d in datas) / files for f in FIELDS}
        shared: dict = {}
        for (session, fields, reader), data in zip(own, datas):
            common = RankStats()
            common.__dict__.update(data.__dict__)
            common.avg_passage_length = {f: avg_passage[f] or 1.0 for f in FIELDS}
            common.avg_file_length = {f: avg_file[f] or 1.0 for f in FIELDS}
            _set_norms(common)  # the norms of lengths against the averages of all the indexes
            stats = Statistics(reader, common)
            stats.passages, stats.file_count = passages, files
            stats.walks, stats.shared_counts = {}, shared
            reader_cache(reader)["statistics"] = stats  # what the engine's statistics(reader) returns
            for fieldname, (_, terms) in fields.items():
                if fieldname not in reader.schema:
                    continue
                fieldobj = reader.schema[fieldname]
                for key, weight in terms.items():
                    if weight <= 0:
                        continue
                    key = ranking.term_key(fieldobj, key)
                    blocks, df, file_tf = ranking.term_walk(stats, fieldname, key)
                    counts = (df, len(file_tf), *ranking.term_totals(blocks, file_tf))
                    before = shared.get((fieldname, key), (0, 0, 0.0, 0.0))
                    shared[(fieldname, key)] = tuple(map(sum, zip(before, counts)))

    # ------------------------------------------------------------ whoosh's scoring

    def _share_whoosh_statistics(self) -> None:
        searchers = [session.searcher for _, session in self.sessions]
        readers = [s.reader() for s in searchers]
        count = sum(r.doc_count_all() for r in readers) or 1
        lengths: dict[str, float] = {}

        def idf(fieldname, text):
            df = sum(r.doc_frequency(fieldname, text) for r in readers)
            return math.log(count / (df + 1)) + 1.0  # whoosh's own idf, over every index

        def avg_field_length(fieldname, default=None):
            if fieldname not in lengths:
                lengths[fieldname] = sum(r.field_length(fieldname) for r in readers if fieldname in r.schema)
            return lengths[fieldname] / count

        for searcher in searchers:
            searcher.idf = idf
            searcher.avg_field_length = avg_field_length
