"""A document's outline: its section headings as (line, level, text), lines 1-based.

Functions over raw text (Markdown, reStructuredText) and over a PDF's bookmarks. Readers
call them to fill ``Document.headings``; passage building gives each passage the nearest
heading before it (index/text/passages.py). Heading text is cleaned of inline markup and kept
short: it is shown beside the document title of every hit.
"""

from __future__ import annotations

import re

# A heading longer than this is cut (with "…"): it is a label, not a paragraph.
MAX_HEADING_CHARS = 120
# Bookmarks read from one PDF at most: an outline is a table of contents, and a
# pathological file must not make reading it slow.
MAX_PDF_BOOKMARKS = 20_000

Heading = tuple[int, int, str]


def clean_heading(text: str) -> str:
    """Heading text as prose: inline markup of Markdown and reST dropped, spaces collapsed."""
    text = _RST_ROLE.sub(lambda m: _role_text(m.group(1)), text)
    text = _MD_IMAGE_OR_LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    text = _MD_ATTRIBUTES.sub("", text)
    text = _INLINE_MARKS.sub(lambda m: m.group(2), text)
    # Backslash escapes (reST and Markdown): "with\ -statement" reads "with-statement", "\*" a star.
    text = _ESCAPE.sub(lambda m: "" if m.group(1).isspace() else m.group(1), text)
    text = " ".join(text.split()).strip()
    if len(text) > MAX_HEADING_CHARS:
        text = text[: MAX_HEADING_CHARS - 1].rstrip() + "…"
    return text


# :mod:`!asyncio`, :func:`~os.path.join`, :ref:`label <target>`: the text a reader sees.
_RST_ROLE = re.compile(r":[\w.+-]+(?::[\w.+-]+)?:`([^`]*)`")
_MD_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_MD_ATTRIBUTES = re.compile(r"[ \t]*\{[#.][^{}]*\}[ \t]*$")
# ``code``, `code`, **strong**, __strong__, *emphasis*: the marks go, the words stay.
_INLINE_MARKS = re.compile(r"(``|`|\*\*|__|\*)(\S(?:.*?\S)?)\1")
_ESCAPE = re.compile(r"\\(.)")


def _role_text(content: str) -> str:
    explicit = re.match(r"(.*?)\s*<[^<>]*>$", content)  # `text <target>`
    if explicit and explicit.group(1):
        return explicit.group(1)
    if content.startswith("~"):  # Sphinx shows only the last part of ~os.path.join
        return content[1:].rsplit(".", 1)[-1]
    return content.lstrip("!")


# --- Markdown ---------------------------------------------------------------

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HTML_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1\s*>", re.IGNORECASE)
# Lines a setext underline cannot turn into a heading: list items, quotes, tables, HTML.
_NOT_SETEXT_TEXT = re.compile(r"^ {0,3}(?:[-+*>|<]|\d{1,9}[.)](?:[ \t]|$))")


def markdown_headings(text: str) -> tuple[Heading, ...]:
    """ATX (``## Title``) and setext (underlined) headings, and one-line HTML ``<hN>``s.

    Front matter and fenced code blocks are skipped: ``# comment`` in a shell block is
    not a heading.
    """
    lines = text.split("\n")
    found: list[Heading] = []
    start = _front_matter_end(lines)
    fence = None  # the opening fence's character and length while inside a code block
    paragraph_start = None  # index of the first line of the paragraph being read
    for i in range(start, len(lines)):
        line = lines[i]
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= fence[1] \
                    and not line.strip()[len(opening.group(1)):].strip():
                fence = None
            continue
        if opening:
            fence = (opening.group(1)[0], len(opening.group(1)))
            paragraph_start = None
            continue
        if not line.strip():
            paragraph_start = None
            continue
        atx = _ATX.match(line)
        if atx:
            heading = clean_heading(atx.group(2) or "")
            if heading:
                found.append((i + 1, len(atx.group(1)), heading))
            paragraph_start = None
            continue
        underline = _SETEXT.match(line)
        if underline and paragraph_start is not None:
            words = " ".join(lines[paragraph_start:i])
            heading = clean_heading(words)
            if heading:
                level = 1 if underline.group(1)[0] == "=" else 2
                found.append((paragraph_start + 1, level, heading))
            paragraph_start = None
            continue
        if paragraph_start is None:
            html = _HTML_HEADING.search(line)
            if html and clean_heading(html.group(2)):
                found.append((i + 1, int(html.group(1)), clean_heading(html.group(2))))
                continue
            # Indented code and list items, quotes, tables never become setext headings.
            if line.startswith(("    ", "\t")) or _NOT_SETEXT_TEXT.match(line):
                continue
            paragraph_start = i
        elif _NOT_SETEXT_TEXT.match(line):
            paragraph_start = None  # a list or quote interrupts the paragraph
    return tuple(found)


def _front_matter_end(lines: list[str]) -> int:
    """Index of the first line after YAML (``---``) or TOML (``+++``) front matter; 0 if none."""
    if not lines or lines[0].strip() not in ("---", "+++"):
        return 0
    closers = ("---", "...") if lines[0].strip() == "---" else ("+++",)
    for i in range(1, len(lines)):
        if lines[i].strip() in closers:
            return i + 1
    return 0


# --- reStructuredText -------------------------------------------------------

_RST_ADORNMENT = re.compile(r"""^([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])\1+[ \t]*$""")
# docutils takes a line of 4 or more punctuation characters as an adornment; shorter
# ones only when at least as long as the title (so ``Hi\n==`` is a title).
_MIN_ADORNMENT = 4
_RST_DASHES = re.compile(r"(?<=\s)---(?=\s)")


def rst_headings(text: str) -> tuple[Heading, ...]:
    """Section titles: a line underlined (and maybe overlined) with one punctuation character.

    Levels follow docutils: each new adornment style (character, with or without an
    overline) met in the document is one level deeper than those met before it. Titles
    start in the first column, so nothing in literal blocks or directives' indented
    content is taken for one.
    """
    lines = text.split("\n")
    styles: dict[tuple[str, bool], int] = {}
    found: list[Heading] = []
    i, n = 0, len(lines)
    while i + 1 < n:
        line = lines[i]
        if not line.strip() or line[0].isspace() or (i and lines[i - 1].strip()):
            i += 1
            continue
        adorned = _RST_ADORNMENT.match(line)
        if adorned:
            # An overline: title text (which may be inset), then the same adornment again.
            if i + 2 < n and lines[i + 1].strip() and not _RST_ADORNMENT.match(lines[i + 1]) \
                    and lines[i + 2].rstrip() == line.rstrip() \
                    and len(line.rstrip()) >= len(lines[i + 1].rstrip()):
                _add_rst(found, styles, (adorned.group(1), True), i + 2, lines[i + 1])
                i += 3
                continue
        else:
            under = _RST_ADORNMENT.match(lines[i + 1])
            width = len(lines[i + 1].rstrip())
            if under and (width >= len(line.rstrip()) or width >= _MIN_ADORNMENT):
                _add_rst(found, styles, (under.group(1), False), i + 1, line)
                i += 2
                continue
        i += 1
    return tuple(found)


def _add_rst(found: list, styles: dict, style: tuple[str, bool], line: int, text: str) -> None:
    heading = clean_heading(_RST_DASHES.sub("\u2014", text))  # as docutils' smart quotes print it
    if heading:
        found.append((line, styles.setdefault(style, len(styles) + 1), heading))


# --- PDF --------------------------------------------------------------------

def pdf_headings(reader, pages: list[str], page_starts: tuple[int, ...]) -> tuple[Heading, ...]:
    """A PDF's bookmarks as headings: each on its page's line that shows its title, else
    on the page's first line. Level 1 is a top-level bookmark.

    ``pages`` are the pages' extracted texts and ``page_starts`` their first lines in the
    document's text. A damaged outline gives what could be read of it, never an error.
    """
    try:
        outline = reader.outline
    except Exception:  # pypdf raises many exception types on malformed outlines
        return ()
    found: list[tuple[int, int, int, str]] = []
    stack = [(iter(outline), 1)]
    seen = 0
    while stack and seen < MAX_PDF_BOOKMARKS:
        items, level = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
            continue
        if isinstance(item, list):
            stack.append((iter(item), level + 1))
            continue
        seen += 1
        title = clean_heading(str(getattr(item, "title", "") or ""))
        try:
            page = reader.get_destination_page_number(item)
        except Exception:
            continue
        if not title or page is None or not 0 <= page < len(pages):
            continue
        found.append((page, seen, level, title))
    headings = []
    for page, order, level, title in found:
        headings.append((page_starts[page] + _line_in_page(pages[page], title), level, title, order))
    headings.sort(key=lambda h: (h[0], h[3]))
    return tuple((line, level, title) for line, level, title, _ in headings)


_NON_WORD = re.compile(r"\W+")


def _line_in_page(page: str, title: str) -> int:
    """The 0-based line of ``page`` where ``title`` is printed (it may wrap onto the next
    line); 0 when the title is not found."""
    wanted = _NON_WORD.sub("", title.casefold())
    if not wanted:
        return 0
    lines = page.split("\n")
    for number, line in enumerate(lines):
        have = _NON_WORD.sub("", line.casefold())
        if not have:
            continue
        if wanted in have:
            return number
        if len(have) >= 3 and wanted.startswith(have) and number + 1 < len(lines):
            joined = have + _NON_WORD.sub("", lines[number + 1].casefold())
            if joined.startswith(wanted) or wanted in joined:
                return number
    return 0


# --- passages ---------------------------------------------------------------

def section_at(headings: tuple[Heading, ...], lines: list[int], line: int) -> str | None:
    """The text of the last heading at or before ``line``; ``lines`` are the headings' lines."""
    from bisect import bisect_right

    i = bisect_right(lines, line)
    return headings[i - 1][2] if i else None
