"""Whoosh documents (passages) of texts written as files: shared by the segment-writer tests."""

from __future__ import annotations

from index.builder import passage_documents


def documents_of(folder, texts):
    docs = []
    for number, text in enumerate(texts):
        path = folder / f"doc{number}.txt"
        path.write_text(text, encoding="utf-8")
        docs.extend(passage_documents(str(path)))
    return docs
