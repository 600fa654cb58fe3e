"""Do two indexes of the same files hold the same thing? For changes to indexing that
must not change what is indexed (issue 14's speed work).

Compares what queries can see, independent of how passages are spread over segments:
every live passage's stored fields and field lengths, and every term of every field with
its postings (passage, weight, positions), passages named by (file, position).

    python benchmarks/same_index.py INDEX_A INDEX_B

Prints "same" and exits 0, or lists the first differences and exits 1.
"""

from __future__ import annotations

import hashlib
import sys


def contents(index_dir: str) -> tuple[dict, dict]:
    """({passage: (stored fields, field lengths)}, {(field, term): digest of its postings})."""
    from searcher.index.storage.store import open_whoosh, read_meta

    ix = open_whoosh(index_dir, read_meta(index_dir).indexname)
    passages, postings = {}, {}
    with ix.reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()] if hasattr(reader, "leaf_readers") else [reader]
        for leaf in leaves:
            names = {}
            files = leaf.column_reader("file")  # not stored with the passage since schema 5
            scorable = [name for name, field in leaf.schema.items() if field.scorable]
            for docnum in range(leaf.doc_count_all()):
                if leaf.is_deleted(docnum):
                    continue
                stored = leaf.stored_fields(docnum)
                stored.setdefault("file", files[docnum])
                key = (stored["file"], stored["position"])
                names[docnum] = key
                lengths = tuple(leaf.doc_field_length(docnum, name, 0) for name in scorable)
                if key in passages:
                    raise SystemExit(f"{index_dir}: passage {key} twice")
                passages[key] = (sorted(stored.items()), lengths)
            terms: dict[tuple, list] = {}
            for fieldname, btext in leaf.all_terms():
                field = leaf.schema[fieldname]
                matcher = leaf.postings(fieldname, btext)
                rows = terms.setdefault((fieldname, btext), [])
                while matcher.is_active():
                    docnum = matcher.id()
                    if docnum in names:
                        positions = list(matcher.value_as("positions")) if field.format.supports("positions") else None
                        rows.append((names[docnum], matcher.weight(), positions))
                    matcher.next()
            for term, rows in terms.items():
                if rows:
                    postings.setdefault(term, []).extend(rows)
    return passages, {term: hashlib.sha256(repr(sorted(rows)).encode()).hexdigest()
                      for term, rows in postings.items()}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-3].strip(), file=sys.stderr)
        return 2
    (pa, ta), (pb, tb) = contents(argv[0]), contents(argv[1])
    problems = []
    if pa.keys() != pb.keys():
        problems.append(f"passages only in A: {len(pa.keys() - pb.keys())}, only in B: {len(pb.keys() - pa.keys())}")
    problems += [f"passage {k} differs: {pa[k]!r:.200} vs {pb[k]!r:.200}" for k in sorted(pa.keys() & pb.keys())
                 if pa[k] != pb[k]][:10]
    if ta.keys() != tb.keys():
        only_a, only_b = sorted(ta.keys() - tb.keys()), sorted(tb.keys() - ta.keys())
        problems.append(f"terms only in A: {len(only_a)} {only_a[:5]}, only in B: {len(only_b)} {only_b[:5]}")
    problems += [f"postings of {k} differ" for k in sorted(ta.keys() & tb.keys()) if ta[k] != tb[k]][:10]
    if problems:
        print("\n".join(problems))
        return 1
    print(f"same: {len(pa)} passages, {len(ta)} terms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
