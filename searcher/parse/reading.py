"""Reading what people type: ordinary punctuation given its everyday meaning.

Runs before the query parser, so that no query a person types fails or
silently turns into an operator: typographic quotes are quotes, an unclosed
quote runs to the end, a trailing ``?`` is a question mark, ``note:`` is a
word unless it names a field, an AND/OR/NOT with nothing to join is ignored,
``NOT NOT x`` is x. Each such reading is returned as a note, which
``--explain`` prints. Also the texts of ``--literal`` and ``--phrase``, which
bypass the query language altogether.
"""

from __future__ import annotations

import re

from searcher.index.text.analysis import WORD_PATTERN
from searcher.index.storage.schema import SEARCHABLE_FIELDS

INFIX_OPERATORS = ("AND", "OR")
OPERATORS = INFIX_OPERATORS + ("NOT",)

# Typographic double quotes people paste from documents and chat.
_DOUBLE_QUOTES = str.maketrans({c: '"' for c in "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e\uff02"})
# The names a query may use as fields, as a regex alternation.
FIELD_NAMES = "|".join(SEARCHABLE_FIELDS)
# A known field name followed by spaces ("title: latvia") still applies to the next word.
_FIELD_THEN_SPACE = re.compile(rf"(?<![\w:])({FIELD_NAMES}):[ \t]+(?=[^\s)])", re.IGNORECASE)
_UNKNOWN_FIELD = re.compile(rf"(?<![\w:])(?!(?:{FIELD_NAMES}):)([^\W\d_]\w*):(?!//)", re.IGNORECASE)
_REPEATED_FIELD = re.compile(rf"(?<![\w:])((?:{FIELD_NAMES}):)(?:\1)+", re.IGNORECASE)
# After a word, a closing bracket or a quote: "(MEDLARS)?" and "'Ulysses'?" end questions too.
_TRAILING_QUESTION_MARK = re.compile(r"(?<=[\w)\]}'])\?+(?=[\s)\]}]|$)")
_LONE_WILDCARD = re.compile(r"(?<!\S)[?*]+(?!\S)")
# Stars stuck to the front of a name, as code writes *args and **kwargs (also after
# a +, - or field prefix): the name, not a pattern over the whole word list.
_STARRED_NAME = re.compile(r"(?:(?<=^)|(?<=[\s(+\-:]))\*+(?=[^\W\d]\w*)")
# The units of a query for spotting dangling operators: phrases, parentheses, other words.
_QUERY_TOKEN = re.compile(r'"[^"]*"(?:~\d+)?|[()]|[^\s()"]+')


def _split_quotes(text: str, notes: list[str]) -> list[str]:
    """Segments alternating outside/inside double quotes, with an unclosed quote resolved."""
    parts = text.split('"')
    if len(parts) % 2 == 0:  # an odd number of quotes: the last one is unclosed
        tail = parts[-1]
        if WORD_PATTERN.search(tail):
            notes.append(f'the quote before "{tail.strip()}" is not closed: read as a phrase to the end')
        else:
            notes.append("ignored an unmatched quote")
            parts[-2] = parts[-2] + tail
            parts.pop()
    return parts


def _read_outside_quotes(segment: str, notes: list[str]) -> str:
    def known_field_then_space(match):
        notes.append(f"'{match.group(0).strip()}' applies to the word after it")
        return match.group(1).lower() + ":"

    def unknown_field(match):
        notes.append(f"'{match.group(0)}' is not a field ({', '.join(SEARCHABLE_FIELDS)}): "
                     "searched as a word")

    def question_mark(match):
        notes.append("a '?' ending a word is a question mark, not a wildcard")
        return ""

    def repeated_field(match):
        notes.append(f"'{match.group(1)}' repeated is '{match.group(1)}' once")
        return match.group(1)

    segment = _REPEATED_FIELD.sub(repeated_field, segment)
    segment = _FIELD_THEN_SPACE.sub(known_field_then_space, segment)
    for match in _UNKNOWN_FIELD.finditer(segment):
        unknown_field(match)
    def starred_name(match):
        name = re.match(r"\w+", segment[match.end():]).group()
        notes.append(f"'{match.group()}{name}': a '*' before a name is how code writes it "
                     f"(*args, **kwargs), not a pattern: read as {name}")
        return ""

    segment = _TRAILING_QUESTION_MARK.sub(question_mark, segment)
    segment = _STARRED_NAME.sub(starred_name, segment)
    return _LONE_WILDCARD.sub(" ", segment)


def _drop_dangling_operators(text: str, notes: list[str]) -> str:
    """Remove AND/OR/NOT that have nothing to join or negate ("rice AND", "AND OR x")."""
    tokens = list(_QUERY_TOKEN.finditer(text))
    dangling = []
    kept_values: list[str] = []
    cancelled = set()
    for i, token in enumerate(tokens):
        value = token.group()
        if i in cancelled:
            continue
        if value not in OPERATORS:
            kept_values.append(value)
            continue
        if value == "NOT" and i + 1 < len(tokens) and tokens[i + 1].group() == "NOT":
            # Two negations cancel ("NOT NOT rice" is rice); whoosh cannot parse them.
            dangling.extend((token, tokens[i + 1]))
            cancelled.add(i + 1)
            continue
        before = kept_values[-1] if kept_values else None
        after = tokens[i + 1].group() if i + 1 < len(tokens) else None
        if value in INFIX_OPERATORS:
            ok = before not in (None, "(", *OPERATORS) and after not in (None, ")", *INFIX_OPERATORS)
        else:  # NOT
            ok = after not in (None, ")", *INFIX_OPERATORS)
        if ok:
            kept_values.append(value)
        else:
            dangling.append(token)
    for token in sorted(dangling, key=lambda t: t.start(), reverse=True):
        text = text[:token.start()] + text[token.end():]
    for token in sorted(dangling, key=lambda t: t.start()):
        notes.append(f"ignored '{token.group()}': it has nothing to "
                     f"{'negate' if token.group() == 'NOT' else 'join'}")
    return text


def _note_unbalanced_parentheses(text: str, notes: list[str]) -> None:
    depth = 0
    for token in _QUERY_TOKEN.finditer(text):
        if token.group() == "(":
            depth += 1
        elif token.group() == ")":
            if depth == 0:
                notes.append("ignored an unmatched ')'")
            else:
                depth -= 1
    if depth:
        notes.append("an unclosed '(' runs to the end of the query")


# In a text all in capitals, AND, OR and NOT look like every other word: a pasted heading or
# a shouted question ("DESIGN OF BAND PASS FILTERS AND AMPLIFIERS") means them as words.
# A short one ("RICE AND BEANS") may still be an operator typed in caps lock.
SHOUTED_WORDS = 5
_OPERATOR_WORD = re.compile(r"(?<![\w-])(AND|OR|NOT)(?![\w-])")


def _shouted_operators(text: str, notes: list[str]) -> str:
    if any(c.islower() for c in text) or len(WORD_PATTERN.findall(text)) < SHOUTED_WORDS:
        return text
    read, count = _OPERATOR_WORD.subn(lambda m: m.group().lower(), text)
    if count:
        notes.append("AND, OR and NOT read as words: the query is all in capitals")
    return read


def read_query(text: str) -> tuple[str, list[str]]:
    """``text`` with ordinary punctuation given its plain meaning, and notes saying how."""
    notes: list[str] = []
    text = _shouted_operators(text.translate(_DOUBLE_QUOTES), notes)
    parts = _split_quotes(text, notes)
    for i in range(0, len(parts), 2):
        parts[i] = _read_outside_quotes(parts[i], notes)
    if len(parts) % 2 == 0:
        parts.append("")  # close the unclosed quote at the end
    text = '"'.join(parts)
    text = _drop_dangling_operators(text, notes)
    _note_unbalanced_parentheses(text, notes)
    return " ".join(text.split()), list(dict.fromkeys(notes))


def literal_text(text: str) -> str:
    """A query for the words of ``text`` with no operators: punctuation inside a word makes a phrase."""
    pieces = []
    for chunk in text.split():
        words = [w.lower() for w in WORD_PATTERN.findall(chunk)]
        if len(words) > 1:
            pieces.append('"' + " ".join(words) + '"')
        elif words:
            pieces.append(words[0])
    return " ".join(pieces)


def phrase_text(text: str) -> str:
    """A query for the words of ``text`` as one exact phrase."""
    words = [w.lower() for w in WORD_PATTERN.findall(text)]
    return '"' + " ".join(words) + '"' if words else ""
