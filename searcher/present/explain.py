"""``--explain``: how a query was understood, in words a user can check against the results."""

from __future__ import annotations

from whoosh import query as wq

from searcher.index.text.analysis import WORD_PATTERN
from searcher.index.storage.schema import SEARCHABLE_FIELDS
from searcher.parse.query import ParsedQuery
from searcher.parse.reading import OPERATORS

INDENT = "  "
# Patterns can expand to many words; show this many of them.
MAX_EXPANSIONS = 8


def explain(parsed: ParsedQuery, schema=None, reader=None, typed: str | None = None, how: str = "") -> list[str]:
    """Lines describing ``parsed``: reading notes, analysed words, and the query tree.

    With ``schema`` the typed words are shown with their analysed forms; with
    ``reader`` patterns (``cooperat*``, ``ryce~``) show the words they expand to.
    ``typed`` is what the user typed when ``parsed`` was made from it some
    other way (``how``: "--literal", "--fix").
    """
    typed = parsed.text if typed is None else typed
    lines = [f"query: {typed}"]
    read_as = parsed.read_as or parsed.text
    if read_as != " ".join(typed.split()):
        lines.append(f"read as{f' ({how})' if how else ''}: {read_as}")
    lines.extend(f"note: {note}" for note in parsed.notes)
    if schema is not None:
        analysed = _analysed_words(parsed.read_as or parsed.text, schema)
        if analysed:
            lines.append("words: " + ", ".join(analysed))
    if parsed.stopwords:
        lines.append("ignored common words: " + ", ".join(parsed.stopwords)
                     + " (quote a phrase to keep them)")
    lines.append("matches passages with:")
    lines.extend(INDENT + line for line in _tree(parsed.query, reader))
    if parsed.filters:
        lines.append("only in:")
        lines.extend(INDENT + f.describe() for f in parsed.filters)
    return lines


def _analysed_words(text: str, schema) -> list[str]:
    """``typed → stem`` for each distinct word, so stemming and folding are visible."""
    analyzer = schema["body"].analyzer
    shown = []
    for match in WORD_PATTERN.finditer(text):
        word = match.group()
        before, after = text[match.start() - 1:match.start()], text[match.end():match.end() + 1]
        # Operators, field names, and the words of patterns and ~N/^N suffixes are not analysed.
        field_name = after == ":" and word.lower() in SEARCHABLE_FIELDS
        if word in OPERATORS or field_name or after in ("*", "?", "~") or before in ("~", "^", "*", "?"):
            continue
        stems = " ".join(t.text for t in analyzer(word, mode="query"))  # (CJK: the bigrams a query uses)
        entry = word if stems == word else f"{word} → {stems}"
        if stems and entry not in shown:
            shown.append(entry)
    return shown


def _fields(nodes) -> str:
    parts = []
    for node in nodes:
        boost = getattr(node, "boost", 1.0)
        parts.append(node.fieldname + (f" ×{boost:g}" if boost != 1.0 else ""))
    return "in " + ", ".join(parts)


def _leaf_key(node):
    """What a leaf looks for regardless of its field: leaves alike but for the field merge into one line."""
    if isinstance(node, wq.Phrase):
        return (type(node), tuple(node.words), node.slop)
    if isinstance(node, (wq.Term, wq.PatternQuery)) or hasattr(node, "text"):
        return (type(node), getattr(node, "text", None), getattr(node, "maxdist", None))
    return None


def _describe_leaf(node, reader) -> str:
    if isinstance(node, wq.Phrase):
        if getattr(node, "ordered", True) and node.slop <= 1:
            return f'the phrase "{" ".join(node.words)}"'
        return f"{', '.join(node.words)} within {node.slop} words of each other (any order)"
    if isinstance(node, wq.FuzzyTerm):
        text = f"words within {node.maxdist} edit{'s' if node.maxdist > 1 else ''} of {node.text}"
    elif type(node).__name__ == "CJKChar":  # searcher/parse/cjk.py: bigrams and run ends it starts
        return f"the character {node.text} anywhere in a word"
    elif isinstance(node, wq.Prefix):
        text = f"words starting with {node.text}"
    elif isinstance(node, wq.Wildcard):
        text = f"words matching {node.text}"
    elif isinstance(node, wq.Every):
        return "every passage"
    elif isinstance(node, wq.Term):
        return f"the word {node.text}"
    else:
        return str(node)
    if reader is not None:
        text += _expansions(node, reader)
    return text


def _expansions(node, reader) -> str:
    try:
        words = sorted({t.decode("utf-8") if isinstance(t, bytes) else t for _, t in
                        node.existing_terms(reader, expand=True)})
    except Exception:  # a pattern whoosh cannot expand
        return ""
    if not words:
        return " (none in the index)"
    more = f", … {len(words) - MAX_EXPANSIONS} more" if len(words) > MAX_EXPANSIONS else ""
    if getattr(node, "truncated", False):  # the query's expansion budget ran out (searcher/parse/query.py)
        more += "; cut short: the pattern matches more words than one query may search"
    return " (" + ", ".join(words[:MAX_EXPANSIONS]) + more + ")"


def _tree(node, reader) -> list[str]:
    if node.is_leaf():
        if hasattr(node, "fieldname") and not isinstance(node, wq.Every):
            return [f"{_describe_leaf(node, reader)} {_fields([node])}"]
        return [_describe_leaf(node, reader)]
    if isinstance(node, wq.Not):
        return ["NOT"] + _indented(node.query, reader)
    if isinstance(node, wq.AndNot):
        return _tree(node.a, reader) + ["but NOT"] + _indented(node.b, reader)
    if isinstance(node, wq.AndMaybe):
        return ["ALL of (required)"] + _indented(node.a, reader) + ["ranked higher with"] + _indented(node.b, reader)
    if isinstance(node, wq.Require):
        return _tree(node.a, reader) + ["and also"] + _indented(node.b, reader)
    if isinstance(node, wq.And):
        return ["ALL of"] + [line for sub in node.subqueries for line in _indented(sub, reader)]
    if isinstance(node, wq.Or):
        groups = _same_but_field(node.subqueries)
        if len(groups) == 1 and len(groups[0]) > 1:
            return [f"{_describe_leaf(groups[0][0], reader)} {_fields(groups[0])}"]
        lines = ["ANY of (more matches rank higher)"]
        for group in groups:
            if len(group) > 1:
                lines.append(f"{INDENT}{_describe_leaf(group[0], reader)} {_fields(group)}")
            else:
                lines.extend(_indented(group[0], reader))
        return lines
    return [str(node)]


def _same_but_field(nodes) -> list[list]:
    """Alternatives grouped where they look for the same thing in different fields ("secur in title, body")."""
    groups: dict = {}
    for node in nodes:
        key = _leaf_key(node) if node.is_leaf() else None
        groups.setdefault(key if key is not None else id(node), []).append(node)
    return list(groups.values())


def _indented(node, reader) -> list[str]:
    return [INDENT + line for line in _tree(node, reader)]
