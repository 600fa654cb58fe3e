"""Markdown and reStructuredText read as prose, line for line.

Snippets should show what a reader of the rendered page sees: ``open()``, not
``:func:`open```; no ``.. currentmodule:: asyncio``, no ``****`` underlines, no
front matter. Each function rewrites its input one line at a time and never
adds or removes a line, so line N of the result is line N of the file and hits
still point to ``file:line``. (Columns can move: markup is removed from inside
lines.)

A parser (docutils, markdown-it) would give a tree without the lines of inline
text and fail on Sphinx's own directives; the rewriting here only removes what
is markup and keeps every word, so an unknown construct stays readable text.
"""

from __future__ import annotations

import re

# --- Markdown ---------------------------------------------------------------

_MD_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MD_ATX = re.compile(r"^( {0,3})#{1,6}(?=[ \t]|$)[ \t]*(.*?)(?:[ \t]+#+)?[ \t]*$")
# Setext underlines, thematic breaks, table separator rows: nothing a reader reads.
_MD_RULE = re.compile(r"^ {0,3}(?:=+|-+|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})[ \t]*$")
_MD_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?\|?[ \t]*$")
_MD_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S+.*$")
_MD_QUOTE = re.compile(r"^([ \t]*>)+[ \t]?")
_MD_LIST = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
_MD_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]+)>")
_HTML_COMMENT = re.compile(r"<!--.*?-->")
_HTML_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>")
_MD_CODE = re.compile(r"(`+)(.+?)\1")
_MD_STRONG_EM = re.compile(r"(\*\*\*|\*\*|\*)(?=\S)(.+?)(?<=\S)\1")
# Underscores mark emphasis only at word edges: snake_case names stay whole.
_MD_UNDERSCORE = re.compile(r"(?<![\w_])(___|__|_)(?=\S)(.+?)(?<=\S)\1(?![\w_])")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
_MD_ATTRIBUTES = re.compile(r"[ \t]*\{[#.][^{}]*\}[ \t]*$")


def markdown_prose(text: str) -> str:
    """Markdown as the words a reader sees; same number of lines."""
    lines = text.split("\n")
    out = []
    start = _front_matter_end(lines)
    out.extend("" for _ in range(start))
    fence = None
    for line in lines[start:]:
        opening = _MD_FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
                out.append("")
            else:
                out.append(line)  # code is kept as written
            continue
        if opening:
            fence = opening.group(1)
            out.append("")
            continue
        out.append(_markdown_line(line))
    return "\n".join(out)


def _markdown_line(line: str) -> str:
    if _MD_RULE.match(line) or _MD_TABLE_RULE.match(line) or _MD_LINK_DEFINITION.match(line):
        return ""
    atx = _MD_ATX.match(line)
    if atx:
        line = atx.group(1) + _MD_ATTRIBUTES.sub("", atx.group(2))
    line = _MD_QUOTE.sub("", line)
    line = _MD_LIST.sub(r"\1", line)
    if line.lstrip().startswith("|") or line.count("|") >= 2 and "`" not in line:
        line = line.replace("|", " ")
    return markdown_inline(line)


def markdown_inline(line: str) -> str:
    codes = []

    def keep_code(match):  # code spans are literal: no emphasis or links inside
        codes.append(match.group(2).strip() if match.group(2).strip() else match.group(2))
        return f"\x00{len(codes) - 1}\x00"

    line = _MD_CODE.sub(keep_code, line)
    line = _HTML_COMMENT.sub("", line)
    line = _MD_IMAGE.sub(r"\1", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_AUTOLINK.sub(r"\1", line)
    line = _HTML_TAG.sub("", line)
    line = _MD_STRONG_EM.sub(r"\2", line)
    line = _MD_UNDERSCORE.sub(r"\2", line)
    line = _MD_ESCAPE.sub(r"\1", line)
    if codes:
        line = re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], line)
    return line


def _front_matter_end(lines: list[str]) -> int:
    """Lines taken by YAML (---) or TOML (+++) front matter at the top, else 0."""
    if not lines or lines[0].strip() not in ("---", "+++"):
        return 0
    closing = ("---", "...") if lines[0].strip() == "---" else ("+++",)
    for i in range(1, min(len(lines), 500)):
        if lines[i].strip() in closing:
            return i + 1
    return 0


# --- reStructuredText -------------------------------------------------------

_RST_ADORNMENT = re.compile(r"""^([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])\1{2,}[ \t]*$""")
_RST_DIRECTIVE = re.compile(r"^([ \t]*)\.\.[ \t]+(?:([\w.+-]+(?::[\w.+-]+)*)::)[ \t]*(.*)$")
_RST_SUBSTITUTION_DEF = re.compile(r"^([ \t]*)\.\.[ \t]+\|([^|]+)\|[ \t]+([\w.+-]+)::[ \t]*(.*)$")
_RST_EXPLICIT = re.compile(r"^([ \t]*)\.\.(?:[ \t]|$)")  # comments, targets, footnotes
_RST_OPTION = re.compile(r"^[ \t]+:[\w][\w .+-]*:(?:[ \t].*)?$")
_RST_ROLE = re.compile(r":[\w.+-]+(?::[\w.+-]+)?:`((?:[^`\\]|\\.)*)`")
_RST_REFERENCE = re.compile(r"`([^`<]*?)(?:\s*<[^<>`]*>)?`__?(?!\w)")
_RST_INTERPRETED = re.compile(r"(?<![`\w])`([^`]+)`(?![`\w])")
_RST_LITERAL = re.compile(r"``(.+?)``")
_RST_STRONG_EM = re.compile(r"(?<![\w*])(\*\*|\*)(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_RST_SUBSTITUTION = re.compile(r"\|([\w .-]+)\|(?:__?)?")
_RST_ESCAPE = re.compile(r"\\(.)")
_RST_FOOTNOTE_REF = re.compile(r"[ \t]*\[(?:#[\w-]*|\*|\d+|[\w-]+)\]_(?!\w)")

# Directives whose words a reader of the page sees as labels.
_ADMONITIONS = {
    "note": "Note", "warning": "Warning", "tip": "Tip", "hint": "Hint", "important": "Important",
    "caution": "Caution", "danger": "Danger", "attention": "Attention", "error": "Error",
    "seealso": "See also", "todo": "Todo",
    "versionadded": "Added in version", "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version", "deprecated-removed": "Deprecated since version",
}
# Directives that render nothing a reader reads (their body neither).
_SILENT = frozenset({
    "toctree", "index", "raw", "include", "literalinclude", "highlight", "currentmodule",
    "module", "sectionauthor", "moduleauthor", "codeauthor", "contents", "tabularcolumns",
    "testsetup", "testcleanup", "meta", "image", "default-role", "role", "only", "ifconfig",
    "autosummary", "automodule", "autoclass", "autofunction", "automethod", "autodata",
    "audit-event", "audit-event-table", "impl-detail", "program", "option-list", "glossary-sort",
    "title", "sectnum", "target-notes", "footer", "header", "class",
})
_CODE = frozenset({"code-block", "sourcecode", "code", "doctest", "productionlist", "testcode", "testoutput"})
# "only" and "ifconfig" wrap real text; only their first line goes.
_SILENT_HEAD_ONLY = frozenset({"only", "ifconfig", "impl-detail", "class"})


def rst_prose(text: str) -> str:
    """reStructuredText as the words a reader sees; same number of lines."""
    lines = text.split("\n")
    out: list[str] = []
    skip_indent = None  # body of a silent directive or a comment: lines indented deeper
    options_indent = None  # a directive's ":option:" lines come first in its body
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not line.strip() or indent > skip_indent:
                out.append("")
                continue
            skip_indent = None
        if options_indent is not None:
            if line.strip() and indent > options_indent and _RST_OPTION.match(line):
                out.append("")
                continue
            if line.strip():
                options_indent = None
        if _RST_ADORNMENT.match(line) or line.strip() == "::":
            out.append("")
            continue
        substitution = _RST_SUBSTITUTION_DEF.match(line)
        if substitution:
            out.append("")
            if substitution.group(3) != "replace":
                skip_indent = len(substitution.group(1))
            continue
        directive = _RST_DIRECTIVE.match(line)
        if directive:
            lead, name, args = directive.groups()
            short = name.rsplit(":", 1)[-1].lower()
            options_indent = len(lead)
            if short in _SILENT:
                out.append("")
                if short not in _SILENT_HEAD_ONLY:
                    skip_indent = len(lead)
                continue
            label = _ADMONITIONS.get(short)
            if label and label.endswith("version"):  # "Added in version 3.2"
                out.append(lead + f"{label} {rst_inline(args)}".rstrip())
            elif label:  # "Note: ..."
                out.append(lead + f"{label}: {rst_inline(args)}".rstrip())
            elif short in _CODE:  # the argument is a language name; the code below is kept
                out.append("")
            else:  # object descriptions (function, class, ...), tables, figures: their words
                out.append(lead + rst_inline(args))
            continue
        if _RST_EXPLICIT.match(line):  # comment, hyperlink target, footnote, citation
            body = line.split("..", 1)[1].strip()
            footnote = re.match(r"\[(?:#[\w-]*|\*|\d+|[\w-]+)\][ \t]+(.*)", body)
            if footnote:
                out.append(line[: len(line) - len(line.lstrip())] + rst_inline(footnote.group(1)))
                continue
            out.append("")
            skip_indent = indent
            continue
        out.append(rst_inline(_literal_marker(line)))
    return "\n".join(out)


def _literal_marker(line: str) -> str:
    # "Example::" introduces a literal block and reads "Example:"; " ::" at the end is silent.
    if line.endswith("::"):
        stripped = line[:-2]
        return stripped.rstrip() if stripped.endswith((" ", "\t")) else stripped + ":"
    return line


def rst_inline(line: str) -> str:
    literals = []

    def keep_literal(match):
        literals.append(match.group(1))
        return f"\x00{len(literals) - 1}\x00"

    line = _RST_LITERAL.sub(keep_literal, line)
    line = _RST_ROLE.sub(lambda m: _role_text(m.group(1)), line)
    line = _RST_REFERENCE.sub(lambda m: m.group(1) or "", line)
    line = _RST_INTERPRETED.sub(r"\1", line)
    line = _RST_STRONG_EM.sub(r"\2", line)
    line = _RST_SUBSTITUTION.sub(r"\1", line)
    line = _RST_FOOTNOTE_REF.sub("", line)
    line = _RST_ESCAPE.sub(lambda m: "" if m.group(1).isspace() else m.group(1), line)  # "with\ -statement"
    if literals:
        line = re.sub("\x00(\\d+)\x00", lambda m: literals[int(m.group(1))], line)
    return line


def _role_text(content: str) -> str:
    """:ref:`text <target>` -> text; :func:`~os.path.join` -> join; :mod:`!asyncio` -> asyncio."""
    content = content.replace("\\`", "`")
    explicit = re.match(r"(.*?)\s*<[^<>]*>$", content, re.S)
    if explicit and explicit.group(1):
        return explicit.group(1)
    if content.startswith("~"):
        return content[1:].rsplit(".", 1)[-1]
    return content.lstrip("!")
