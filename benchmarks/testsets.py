"""Readers for the test collections in ../shared/eval that are not plain SMART files.

Each folder's SOURCE.md describes where the data comes from and its quirks; the
loaders here follow it:

* ``npl/`` (NPL = "Vaswani"): ``doc-text``, ``query-text`` and ``rlv-ass`` hold blocks
  ended by a line holding only ``/`` (indented in doc-text and rlv-ass). A block's first
  line is its id, the rest its text (or the ids of the relevant documents). The text
  is lower case without punctuation; there is no title field, so title = "".
* ``scifact/`` (BEIR's scifact test split): ``scifact.zip`` holds CSV exports.
  Documents: every row of ``corpus_train.csv``; the abstract is the printed form of
  an array of sentence strings (``['First.'\\n 'Second.']``), read back with Python's
  tokenizer so that quotes inside sentences survive. Queries: the distinct claims
  of ``claims_validation.csv`` (SciFact's dev set is BEIR's test set). Qrels: every
  id in a claim's ``cited_doc_ids``, gain 1.
* SMART collections (Cranfield, MED, CACM, CISI) are read by ``benchmarks/smart.py``.
"""

from __future__ import annotations

import ast
import csv
import io
import re
import tokenize
import zipfile
from pathlib import Path
from typing import Dict, List, Tuple

from benchmarks import smart


class TestsetFormatError(ValueError):
    """A collection file that does not have the layout its SOURCE.md describes."""


def _slash_blocks(path: Path) -> List[Tuple[str, str]]:
    """``(id, text)`` of each ``/``-terminated block of an NPL file."""
    blocks = []
    lines: List[str] = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip() == "/":
            if lines:
                head, rest = lines[0].strip(), lines[1:]
                if not head.isdigit():
                    raise TestsetFormatError(f"{path}: block starts with {head[:30]!r}, not an id")
                blocks.append((str(int(head)), "\n".join(part.strip() for part in rest).strip()))
            lines = []
        elif line.strip() or lines:
            lines.append(line)
    if not blocks:
        raise TestsetFormatError(f"{path}: no '/'-terminated blocks")
    return blocks


def read_npl(directory: Path):
    """(documents, [(query id, text)], qrels) of the NPL collection."""
    directory = Path(directory)
    documents = [smart.SmartDocument(doc_id=doc_id, abstract=text)
                 for doc_id, text in _slash_blocks(directory / "doc-text")]
    queries = [(query_id, " ".join(text.split())) for query_id, text in _slash_blocks(directory / "query-text")]
    qrels: Dict[str, Dict[str, int]] = {}
    for query_id, text in _slash_blocks(directory / "rlv-ass"):
        qrels[query_id] = {str(int(doc_id)): 1 for doc_id in text.split()}
    return documents, queries, qrels


def sentences(printed: str) -> List[str]:
    """The strings of a printed array of strings: ``['a.'\\n 'b.']`` -> ``['a.', 'b.']``."""
    found = []
    tokens = tokenize.generate_tokens(io.StringIO(printed).readline)
    try:
        for token in tokens:
            if token.type == tokenize.STRING:
                found.append(ast.literal_eval(token.string))
    except (tokenize.TokenError, SyntaxError, ValueError) as exc:
        raise TestsetFormatError(f"unreadable abstract {printed[:40]!r}: {exc}") from None
    return found


def _csv_rows(archive: zipfile.ZipFile, name: str) -> List[Dict[str, str]]:
    with archive.open(name) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


def read_scifact(directory: Path):
    """(documents, [(query id, claim)], qrels) of BEIR's scifact test split."""
    path = Path(directory) / "scifact.zip"
    with zipfile.ZipFile(path) as archive:
        corpus = _csv_rows(archive, "corpus_train.csv")
        claims = _csv_rows(archive, "claims_validation.csv")
    documents = [smart.SmartDocument(doc_id=row["doc_id"].strip(), title=" ".join(row["title"].split()),
                                     abstract=" ".join(sentences(row["abstract"])))
                 for row in corpus]
    queries: Dict[str, str] = {}
    qrels: Dict[str, Dict[str, int]] = {}
    for row in claims:  # one row per (claim, evidence document): the claim repeats
        query_id = row["id"].strip()
        queries.setdefault(query_id, row["claim"].strip())
        judged = qrels.setdefault(query_id, {})
        # a printed array: "[ 5152028 11705328]" (blanks between ids, no commas)
        for doc_id in re.findall(r"\d+", row["cited_doc_ids"]):
            judged[str(int(doc_id))] = 1
    return documents, sorted(queries.items(), key=lambda item: int(item[0])), qrels
