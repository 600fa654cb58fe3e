"""Readers for SMART-format test collections (Cranfield, CACM, CISI, MED, ...).

Documents are records introduced by ``.I <id>`` and split into fields by marker
lines ``.T`` (title), ``.A`` (authors), ``.B`` (bibliography), ``.W`` (abstract
/ text), ``.X`` (cross references) and a few rarer ones.  Any field may be
missing or empty.  A marker repeated inside one record (Cranfield has a few
garbled records like that) appends to the field rather than replacing it, so
no text is silently lost.  CRLF line ends are tolerated everywhere.

Queries are ``.I``/``.W`` records.  Two numberings exist in the wild:

* ``position``: the query's 1-based position in the file.  Cranfield's
  ``cranqrel`` numbers its 225 queries this way, although ``cran.qry`` gives
  them ``.I`` ids 001, 002, 004, 008, ...
* ``id``: the ``.I`` id itself (leading zeros dropped), as CACM and CISI do.

:func:`detect_numbering` picks whichever numbering the qrels' query ids fit.

Relevance judgements ("qrels") come either as ``qid docid [code]`` lines or as
TREC ``qid iteration docid rel`` lines.  They are turned into *gains*: a gain of
0 means not relevant, a positive gain is relevant and is what graded nDCG adds
up.  Two gradings are supported:

* ``cranfield``: codes 1 (complete answer) .. 4 (minimal interest), lower is
  better, -1 = not relevant.  Gain = 5 - code, so 1->4, 2->3, 3->2, 4->1;
  codes outside 1..4 get gain 0.
* ``gain``: the value already is a gain (TREC style: higher is better,
  0 or negative = not relevant).  A line without a value is gain 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

# Cranfield codes are "lower is better"; 5 - code maps 1..4 onto gains 4..1.
CRANFIELD_BEST_CODE = 1
CRANFIELD_WORST_CODE = 4

GRADINGS = ("cranfield", "gain")
NUMBERINGS = ("position", "id")

_MARKER = re.compile(r"^\.([A-Z])(?:\s+(\S.*?))?\s*$")

# Marker letter -> SmartDocument attribute.  Unknown markers (e.g. CACM's .N,
# .K, .C) are read but not kept.
_DOCUMENT_FIELDS = {
    "T": "title",
    "A": "authors",
    "B": "bibliography",
    "W": "abstract",
    "X": "cross_references",
}

Qrels = Dict[str, Dict[str, int]]


class CollectionFormatError(ValueError):
    """A collection file that cannot be read as SMART data; the message says where."""


@dataclass(frozen=True)
class SmartDocument:
    doc_id: str
    title: str = ""
    authors: str = ""
    bibliography: str = ""
    abstract: str = ""
    cross_references: str = ""


@dataclass(frozen=True)
class SmartQuery:
    number: int
    """1-based position of the query in its file."""
    smart_id: str
    """The ``.I`` id as written in the file (e.g. ``"004"``)."""
    text: str

    def key(self, numbering: str) -> str:
        """The id under which qrels judge this query, for the given numbering."""
        if numbering == "position":
            return str(self.number)
        if numbering == "id":
            return normalise_id(self.smart_id)
        raise ValueError(f"unknown query numbering {numbering!r}; expected one of {NUMBERINGS}")


def normalise_id(raw: str) -> str:
    """Ids compare as written, except that numeric ids drop leading zeros ("004" == "4")."""
    raw = raw.strip()
    if raw.isdigit():
        return str(int(raw))
    return raw


def _read_lines(path: Path) -> List[str]:
    # errors="replace": old collections contain stray bytes; they must not stop a benchmark.
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return text.splitlines()  # splits on \r\n, \n and lone \r alike


def _records(path: Path) -> Iterator[Tuple[str, Dict[str, List[str]]]]:
    """Yield ``(id, {marker: [lines]})`` for each ``.I`` record of a SMART file."""
    record_id: Optional[str] = None
    fields: Dict[str, List[str]] = {}
    current: Optional[str] = None
    for line_number, line in enumerate(_read_lines(path), start=1):
        match = _MARKER.match(line)
        if match and match.group(1) == "I":
            if record_id is not None:
                yield record_id, fields
            record_id = (match.group(2) or "").strip()
            if not record_id:
                raise CollectionFormatError(f"{path}:{line_number}: '.I' without an id")
            fields = {}
            current = None
        elif match and match.group(2) is None:
            current = match.group(1)
            fields.setdefault(current, [])
        elif record_id is None:
            if line.strip():
                raise CollectionFormatError(
                    f"{path}:{line_number}: text before the first '.I' record; not a SMART file?"
                )
        elif current is not None:
            fields[current].append(line)
        # Text between ".I" and the first field marker is ignored: no field owns it.
    if record_id is not None:
        yield record_id, fields


def _join(lines: Iterable[str]) -> str:
    return "\n".join(line.rstrip() for line in lines).strip()


def read_documents(path: Path) -> List[SmartDocument]:
    """All documents of a SMART document file, in file order."""
    documents = []
    for record_id, fields in _records(Path(path)):
        values = {
            attribute: _join(fields.get(marker, ()))
            for marker, attribute in _DOCUMENT_FIELDS.items()
        }
        documents.append(SmartDocument(doc_id=normalise_id(record_id), **values))
    if not documents:
        raise CollectionFormatError(f"{path}: no '.I' records found")
    return documents


def read_queries(path: Path) -> List[SmartQuery]:
    """All queries of a SMART query file, in file order, numbered 1..N by position."""
    queries = []
    for position, (record_id, fields) in enumerate(_records(Path(path)), start=1):
        text = " ".join(_join(fields.get("W", ())).split())
        queries.append(SmartQuery(number=position, smart_id=record_id, text=text))
    if not queries:
        raise CollectionFormatError(f"{path}: no '.I' records found")
    return queries


def gain_for(value: Optional[float], grading: str) -> int:
    """Turn a qrels relevance value into a gain (0 = not relevant)."""
    if grading == "cranfield":
        if value is None:
            return 1
        code = int(value)
        if CRANFIELD_BEST_CODE <= code <= CRANFIELD_WORST_CODE:
            return 5 - code
        return 0
    if grading == "gain":
        if value is None:
            return 1
        return max(int(value), 0)
    raise ValueError(f"unknown grading {grading!r}; expected one of {GRADINGS}")


def _parse_number(text: str, path: Path, line_number: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise CollectionFormatError(
            f"{path}:{line_number}: relevance value {text!r} is not a number"
        ) from None


def _qrels_rows(path: Path) -> List[Tuple[int, List[str]]]:
    rows = []
    for line_number, line in enumerate(_read_lines(path), start=1):
        columns = line.split()
        if columns:
            rows.append((line_number, columns))
    return rows


def _is_trec_layout(rows: List[Tuple[int, List[str]]]) -> bool:
    """True for ``qid iteration docid rel``; False for SMART ``qid docid [0 0]``.

    Both have four columns in the wild (CACM/CISI write ``qid docid 0 0``).  TREC
    files have a constant iteration column and a varying document column; SMART
    files have a varying document column and constant zeros after it.
    """
    if not rows or any(len(columns) != 4 for _, columns in rows):
        return False
    second = {columns[1] for _, columns in rows}
    trailing = {(columns[2], columns[3]) for _, columns in rows}
    if len(second) == 1 and len(trailing) > 1:
        return True
    if len(trailing) == 1 and len(second) > 1:
        return False
    return len(second) == 1


def read_qrels(path: Path, grading: str = "cranfield") -> Qrels:
    """``{query id: {doc id: gain}}``; judged-not-relevant documents are kept with gain 0."""
    if grading not in GRADINGS:
        raise ValueError(f"unknown grading {grading!r}; expected one of {GRADINGS}")
    path = Path(path)
    rows = _qrels_rows(path)
    trec = _is_trec_layout(rows)
    qrels: Qrels = {}
    for line_number, columns in rows:
        if trec:
            query_id, doc_id, value = columns[0], columns[2], columns[3]
        elif len(columns) == 2:
            query_id, doc_id, value = columns[0], columns[1], None
        elif len(columns) == 3:
            query_id, doc_id, value = columns
        elif len(columns) == 4:
            # SMART "qid docid 0 0": the trailing columns carry no grade.
            query_id, doc_id, value = columns[0], columns[1], None
        else:
            raise CollectionFormatError(
                f"{path}:{line_number}: expected 'qid docid [rel]' or 'qid 0 docid rel', "
                f"got {len(columns)} columns"
            )
        number = None if value is None else _parse_number(value, path, line_number)
        gain = gain_for(number, grading)
        judged = qrels.setdefault(normalise_id(query_id), {})
        doc_key = normalise_id(doc_id)
        # A document judged twice keeps its best grade.
        judged[doc_key] = max(gain, judged.get(doc_key, 0))
    if not qrels:
        raise CollectionFormatError(f"{path}: no relevance judgements found")
    return qrels


def detect_numbering(queries: List[SmartQuery], qrels: Qrels) -> str:
    """``"position"`` or ``"id"``: which query numbering the qrels' query ids fit better.

    When both fit equally (e.g. ids are exactly 1..N) the two numberings agree
    and ``position`` is returned.
    """
    judged = set(qrels)
    by_position = sum(1 for query in queries if query.key("position") in judged)
    by_id = sum(1 for query in queries if query.key("id") in judged)
    return "id" if by_id > by_position else "position"


def keyed_queries(queries: List[SmartQuery], numbering: str) -> List[Tuple[str, str]]:
    """``[(query id as the qrels know it, query text)]`` in file order."""
    return [(query.key(numbering), query.text) for query in queries]
