"""The main content of an HTML page as text, kept on the source lines it comes from.

Each piece of text lands on the line it has in the HTML source, so a result
found in the text points to the right line of the file.

Navigation, sidebars, headers and footers are left out, so "Previous topic"
or a sidebar's table of contents does not rank (issue 12). Two ways, measured
on the Python docs (benchmarks/realfolder.py):

* a page that marks its content (``<main>``, ``role="main"``, ``<article>``:
  Sphinx, MkDocs, most site generators and blogs) gives exactly that region,
  minus the ``<nav>``, ``<aside>``, ``<header>``, ``<footer>`` and navigation
  roles inside it;
* any other page goes to trafilatura's main-content extractor (a maintained
  library made for boilerplate removal: of trafilatura, resiliparse,
  readability-lxml and jusText it kept the most of the content, 92 % against
  87, 71 and 45, with 0.5 % of its text from outside it), and the stretch of
  the page from the first to the last block whose words it kept is the
  content. (Its text has no source lines; this matching gives them back, and
  the stretch keeps the headings and short blocks it leaves out.)

Either way ``<nav>``, ``<aside>``, page-level ``<header>``/``<footer>`` and the
ARIA navigation roles are dropped. ``main_only=False`` gives all visible text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Content of these is never shown to a reader of the page.
_HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript"})
# Tags that separate words even when source has no whitespace between them:
# "<td>a</td><td>b</td>" reads as "a b", not "ab". Each also starts a new block.
_BREAKING_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "img", "li", "main", "nav", "ol", "option", "p", "pre",
    "section", "table", "td", "th", "tr", "ul", "caption", "summary", "details",
})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Elements that are never a page's content (HTML's own semantics and ARIA roles).
_BOILERPLATE_TAGS = frozenset({"nav", "aside", "header", "footer"})
_BOILERPLATE_ROLES = frozenset({"navigation", "complementary", "banner", "contentinfo", "search"})
# Void elements never get an end tag: they must not count as open.
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
    "param", "source", "track", "wbr",
})
_MARKS_CONTENT = re.compile(r"<main[\s>]|\brole\s*=\s*[\"']?main\b|<article[\s>]", re.IGNORECASE)


def html_to_text(source: str, main_only: bool = True):
    """(text, title, headings) of an HTML page: its main content, each piece on its source line.

    ``headings`` are (line, level, text) of the h1-h6 in the text kept.
    """
    semantic = main_only and bool(_MARKS_CONTENT.search(source))
    parser = _VisibleTextParser(semantic)
    parser.feed(source)
    parser.close()
    title = " ".join("".join(parser.title_parts).split()) or None
    pieces = parser.pieces
    if semantic and not any(text.strip() for block, _, text in pieces if block is not None):
        semantic = False  # the marked region is empty (a stub <main>): fall back
        parser = _VisibleTextParser(False)
        parser.feed(source)
        parser.close()
        pieces = parser.pieces
    if semantic:
        keep = [piece for piece in pieces if piece[0] is not None]
    elif main_only:
        keep = _main_pieces(source, pieces, parser.headings)
    else:
        keep = pieces
    text, headings = _assemble(keep, parser.headings)
    return text, title, headings


def _main_pieces(source: str, pieces, headings):
    """The pieces from the first to the last block whose words trafilatura's main-content
    extraction kept (all of them if it kept nothing)."""
    try:
        main = _extract_main(source)
    except Exception:  # a library failure on one page must not lose the page
        return [piece for piece in pieces if piece[0] is not None] or pieces
    main_words = _words(main)
    if not main_words:
        return pieces
    pairs_kept = set(zip(main_words, main_words[1:]))
    words_kept = set(main_words)
    blocks: dict[int, list[str]] = {}
    for block, _, text in pieces:
        blocks.setdefault(block, []).extend(_words(text))
    matched = []
    for block, words in blocks.items():
        if block is None or not words:
            continue
        pairs = list(zip(words, words[1:]))
        if pairs:
            found = sum(pair in pairs_kept for pair in pairs) / len(pairs)
        else:
            found = 1.0 if words[0] in words_kept else 0.0
        if found >= 0.5:
            matched.append(block)
    if not matched:
        return [piece for piece in pieces if piece[0] is not None] or pieces
    # Content is one stretch of the page: what lies between two kept blocks (a list, a
    # table, a code block the extractor judged too link-dense or short) is content too.
    first, last = min(matched), max(matched)
    # trafilatura takes the page's heading as its title, out of the text: keep the
    # headings just above the content (only empty blocks between).
    heading_blocks = {heading[3] for heading in headings}
    probe = first - 1
    while probe >= 0 and not blocks.get(probe):
        probe -= 1
    if probe in heading_blocks:
        first = probe
    kept = [piece for piece in pieces if piece[0] is not None and first <= piece[0] <= last]
    return kept if any(_words(piece[2]) for piece in kept) else pieces


def _extract_main(source: str) -> str:
    import logging

    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # it logs every page it finds thin
    return trafilatura.extract(
        source, include_tables=True, include_comments=False, favor_recall=True, deduplicate=False,
    ) or ""


_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _assemble(pieces, headings):
    """Join kept pieces, each on its source line; the headings of the kept blocks."""
    out, line, last_block = [], 1, None
    kept_blocks = set()
    for block, start_line, text in pieces:
        kept_blocks.add(block)
        if start_line > line:
            out.append("\n" * (start_line - line))
            line = start_line
        elif block != last_block and out and not out[-1][-1:].isspace():
            out.append(" ")  # dropped text between two kept blocks must not glue their words
        out.append(text)
        line += text.count("\n")
        last_block = block
    kept_headings = tuple(
        (hline, level, htext) for hline, level, htext, block in headings
        if block in kept_blocks and htext
    )
    return "".join(out), kept_headings


class _VisibleTextParser(HTMLParser):
    """Collects pieces of text: (block id, or None outside the content region; source line; text)."""

    def __init__(self, semantic: bool):
        super().__init__(convert_charrefs=True)
        self.semantic = semantic
        self.pieces: list[tuple[int | None, int, str]] = []
        self.headings: list[tuple[int, int, str, int]] = []
        self.title_parts: list[str] = []
        self.hidden_depth = 0
        self.in_head = False
        self.in_title = False
        self.title_done = False  # an <svg> in the body may have a <title> too
        self.block = 0
        self.open: list[tuple[str, str | None]] = []  # (tag, "main"/"drop"/None)
        self.open_tags: dict[str, int] = {}  # how many of each tag ``open`` holds
        self.main_depth = 0
        self.drop_depth = 0
        self.heading: list | None = None  # [line, level, parts, block]

    def _region(self, tag, attrs):
        attrs = dict(attrs)
        role = (attrs.get("role") or "").lower()
        if role in _BOILERPLATE_ROLES or (tag in _BOILERPLATE_TAGS and not (tag == "header" and self.main_depth)):
            return "drop"  # an article's own <header> holds its title: kept
        if tag in ("main", "article") or role == "main":
            return "main"
        return None

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS:
            self.hidden_depth += 1
            return
        if tag == "head":
            self.in_head = True
        elif tag == "body":
            # </head> and even </title> may be missing
            self.in_head = self.in_title = False
        elif tag == "title":
            self.in_title = not self.title_done
            return
        if tag in _BREAKING_TAGS:
            self.block += 1
        if tag not in _VOID:
            region = self._region(tag, attrs)
            # Only regions, and elements named like an open region (to find its end tag),
            # are tracked: a page of 100,000 unclosed <p>s must not make each end tag a scan.
            if region is not None or self.open_tags.get(tag):
                self.open.append((tag, region))
                self.open_tags[tag] = self.open_tags.get(tag, 0) + 1
            if region == "main":
                self.main_depth += 1
            elif region == "drop":
                self.drop_depth += 1
        if tag in _HEADINGS and self.heading is None:
            self.heading = [None, _HEADINGS[tag], [], self.block]

    def handle_startendtag(self, tag, attrs):
        if tag in _BREAKING_TAGS:
            self.block += 1

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS:
            self.hidden_depth = max(0, self.hidden_depth - 1)
            return
        if tag == "head":
            self.in_head = False
        elif tag == "title":
            self.in_title = False
            self.title_done = True
            return
        if tag in _BREAKING_TAGS:
            self.block += 1
        # Close up to the matching open element (HTML lets end tags imply others).
        if self.open_tags.get(tag):
            for i in range(len(self.open) - 1, -1, -1):
                if self.open[i][0] == tag:
                    for name, region in self.open[i:]:
                        self.open_tags[name] -= 1
                        if region == "main":
                            self.main_depth -= 1
                        elif region == "drop":
                            self.drop_depth -= 1
                    del self.open[i:]
                    break
        if tag in _HEADINGS and self.heading is not None and self.heading[1] == _HEADINGS[tag]:
            line, level, parts, block = self.heading
            self.heading = None
            if line is not None:
                # "¶": the permalink anchor Sphinx and MkDocs put after each heading.
                text = " ".join("".join(parts).split()).rstrip("¶").rstrip()
                self.headings.append((line, level, text, block))

    def handle_data(self, data):
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.hidden_depth or self.in_head:
            return
        line = self.getpos()[0]
        if self.drop_depth or (self.semantic and not self.main_depth):
            block = None
        else:
            block = self.block
        if self.heading is not None and block is not None:
            if self.heading[0] is None and data.strip():
                self.heading[0] = line + data[: len(data) - len(data.lstrip())].count("\n")
            self.heading[2].append(data)
        self.pieces.append((block, line, data))
