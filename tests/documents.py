"""Helpers shared by the segment-writer tests: whoosh documents of texts, a segment's terms."""

from __future__ import annotations

from searcher.index.runs.builder import passage_documents


def documents_of(folder, texts):
    docs = []
    for number, text in enumerate(texts):
        path = folder / f"doc{number}.txt"
        path.write_text(text, encoding="utf-8")
        docs.extend(passage_documents(str(path)))
    return docs


def term_rows(reader) -> list[tuple]:
    """Each term of a whoosh segment reader: (field, term, its term info's statistics...,
    [(docnum, weight, value)] of its postings), in term order."""
    from searcher.index.storage.whoosh_private import use_searcher_readers

    use_searcher_readers()  # terms held flat are read through the patched SegmentReader.postings
    rows = []
    for fieldname, text in reader.all_terms():
        info = reader.term_info(fieldname, text)
        matcher = reader.postings(fieldname, text)
        postings = []
        while matcher.is_active():
            postings.append((matcher.id(), matcher.weight(), matcher.value()))
            matcher.next()
        rows.append((fieldname, text, info.weight(), info.doc_frequency(), info.min_length(),
                     info.max_length(), info.max_weight(), info.min_id(), info.max_id(), postings))
    return rows
