"""A check shared by the tests of the segment writers: a segment's flat postings
(index/storage/flatpostings.py) are exactly the postings whoosh reads from its blocks."""

from __future__ import annotations

from searcher.index.storage.flatpostings import FLAT_FIELDS, flat_postings, flat_term


def flat_postings_of(reader) -> dict:
    """{(field, term): [(docnum, tf, positions)]} of the flat postings of a SegmentReader."""
    found = {}
    for fieldname, btext in reader.all_terms():
        if fieldname in FLAT_FIELDS:
            term = flat_term(reader, fieldname, btext)
            if term is not None:
                found[fieldname, btext] = list(zip(term.ids, term.tfs,
                                                   map(list, term.position_lists(list(range(len(term.ids)))))))
    return found


def whoosh_postings_of(reader) -> dict:
    """The same, read through whoosh's matchers."""
    found = {}
    for fieldname, btext in reader.all_terms():
        if fieldname in FLAT_FIELDS:
            matcher = reader.postings(fieldname, btext)
            postings = []
            while matcher.is_active():
                positions = list(matcher.value_as("positions"))
                postings.append((matcher.id(), len(positions), positions))
                matcher.next()
            found[fieldname, btext] = postings
    return found


def assert_flat_postings_complete(reader) -> None:
    """The segment has flat postings, and they hold every term of the flat fields as whoosh does."""
    assert flat_postings(reader) is not None
    assert flat_postings_of(reader) == whoosh_postings_of(reader)
