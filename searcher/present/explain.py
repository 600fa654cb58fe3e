"""``--explain``: how a query was understood, in words a user can check against the results."""

from __future__ import annotations

from searcher.engine import plan as query_plan
from searcher.index.text.analysis import WORD_PATTERN
from searcher.index.storage.schema import SEARCHABLE_FIELDS
from searcher.engine.plan import CHARACTER, FUZZY, PREFIX, Other, Pattern, Phrase, Word
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
    plan = query_plan.plan_of(parsed, reader)
    typed = parsed.text if typed is None else typed
    lines = [f"query: {typed}"]
    read_as = parsed.read_as or parsed.text
    if read_as != " ".join(typed.split()):
        lines.append(f"read as{f' ({how})' if how else ''}: {read_as}")
    lines.extend(f"note: {note}" for note in plan.notes)
    if schema is not None:
        analysed = _analysed_words(parsed.read_as or parsed.text, schema)
        if analysed:
            lines.append("words: " + ", ".join(analysed))
    if parsed.stopwords:
        lines.append("ignored common words: " + ", ".join(parsed.stopwords)
                     + " (quote a phrase to keep them)")
    lines.append("matches passages with:")
    lines.extend(INDENT + line for line in _tree(plan.root, reader is not None))
    if plan.filters:
        lines.append("only in:")
        lines.extend(INDENT + f.describe() for f in plan.filters)
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
        parts.append(node.field + (f" ×{node.boost:g}" if node.boost != 1.0 else ""))
    return "in " + ", ".join(parts)


def _leaf_key(node):
    """What a leaf looks for regardless of its field: leaves alike but for the field merge into one line."""
    kind = type(node)
    if kind is Phrase:
        return (kind, node.ordered, node.words, node.slop)
    if kind is Pattern:
        return (kind, node.kind, node.stemmed, node.text, node.maxdist)
    if kind is Word:
        return (kind, node.text)
    if kind is Other and node.text:
        return (kind, type(node.source), node.text)
    return None


def _describe_leaf(node, expansions: bool, alike=()) -> str:
    """``alike``: the same leaf in other fields, described with it (a pattern is cut short
    if its expansion was cut short in any of them)."""
    kind = type(node)
    if kind is Phrase:
        if node.ordered and node.slop <= 1:
            return f'the phrase "{" ".join(node.words)}"'
        return f"{', '.join(node.words)} within {node.slop} words of each other (any order)"
    if kind is Word:
        return f"the word {node.text}"
    if kind is Other:
        return node.description
    if node.kind == CHARACTER:  # searcher/parse/cjk.py: bigrams and run ends it starts
        return f"the character {node.text} anywhere in a word"
    if node.kind == FUZZY:
        text = f"words within {node.maxdist} edit{'s' if node.maxdist > 1 else ''} of {node.text}"
    elif node.kind == PREFIX:
        text = f"words starting with {node.text}"
    else:  # WILDCARD
        text = f"words matching {node.text}"
    if expansions:
        text += _expansions(node, any(other.truncated for other in alike if type(other) is Pattern))
    return text


def _expansions(node: Pattern, truncated: bool = False) -> str:
    if node.words is None:  # a pattern whoosh cannot expand
        return ""
    words = sorted(set(node.marks))
    cut = node.truncated or truncated  # the query's expansion budget ran out (searcher/parse/query.py)
    if not words:
        return " (none found: cut short)" if cut else " (none in the index)"
    more = f", … {len(words) - MAX_EXPANSIONS} more" if len(words) > MAX_EXPANSIONS else ""
    if cut:
        more += "; cut short: the pattern matches more words than one query may search"
    return " (" + ", ".join(words[:MAX_EXPANSIONS]) + more + ")"


def _tree(node, expansions: bool) -> list[str]:
    kind = type(node)
    if query_plan.is_leaf(node):
        if node.field is not None:
            return [f"{_describe_leaf(node, expansions)} {_fields([node])}"]
        return [_describe_leaf(node, expansions)]
    if kind is query_plan.Not:
        return ["NOT"] + _indented(node.child, expansions)
    if kind is query_plan.AndNot:
        return _tree(node.a, expansions) + ["but NOT"] + _indented(node.b, expansions)
    if kind is query_plan.AndMaybe:
        return (["ALL of (required)"] + _indented(node.a, expansions) + ["ranked higher with"]
                + _indented(node.b, expansions))
    if kind is query_plan.Require:
        return _tree(node.a, expansions) + ["and also"] + _indented(node.b, expansions)
    if kind is query_plan.And:
        return ["ALL of"] + [line for sub in node.children for line in _indented(sub, expansions)]
    groups = _same_but_field(node.children)  # (an Or)
    if len(groups) == 1 and len(groups[0]) > 1:
        return [f"{_describe_leaf(groups[0][0], expansions, groups[0])} {_fields(groups[0])}"]
    lines = ["ANY of (more matches rank higher)"]
    for group in groups:
        if len(group) > 1:
            lines.append(f"{INDENT}{_describe_leaf(group[0], expansions, group)} {_fields(group)}")
        else:
            lines.extend(_indented(group[0], expansions))
    return lines


def _same_but_field(nodes) -> list[list]:
    """Alternatives grouped where they look for the same thing in different fields ("secur in title, body")."""
    groups: dict = {}
    for node in nodes:
        key = _leaf_key(node) if query_plan.is_leaf(node) else None
        groups.setdefault(key if key is not None else id(node), []).append(node)
    return list(groups.values())


def _indented(node, expansions: bool) -> list[str]:
    return [INDENT + line for line in _tree(node, expansions)]
