"""Visible text of an HTML page, kept on the source lines it comes from.

Each piece of text lands on the line it has in the HTML source, so a result
found in the text points to the right line of the file.
"""

from __future__ import annotations

from html.parser import HTMLParser


def html_to_text(source: str) -> tuple[str, str | None]:
    """Visible text of an HTML page, each piece on the line it has in the source."""
    parser = _VisibleTextParser()
    parser.feed(source)
    parser.close()
    title = " ".join("".join(parser.title_parts).split()) or None
    return "".join(parser.out), title


# Content of these is never shown to a reader of the page.
_HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript"})
# Tags that separate words even when source has no whitespace between them:
# "<td>a</td><td>b</td>" reads as "a b", not "ab".
_BREAKING_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "img", "li", "main", "nav", "ol", "option", "p", "pre",
    "section", "table", "td", "th", "tr", "ul",
})


class _VisibleTextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title_parts: list[str] = []
        self.line = 1  # line of the source the end of `out` is on
        self.hidden_depth = 0
        self.in_head = False
        self.in_title = False
        self.title_done = False  # an <svg> in the body may have a <title> too

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS:
            self.hidden_depth += 1
        elif tag == "head":
            self.in_head = True
        elif tag == "body":
            # </head> and even </title> may be missing
            self.in_head = self.in_title = False
        elif tag == "title":
            self.in_title = not self.title_done
        elif tag in _BREAKING_TAGS:
            self.out.append(" ")

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS:
            self.hidden_depth = max(0, self.hidden_depth - 1)
        elif tag == "head":
            self.in_head = False
        elif tag == "title":
            self.in_title = False
            self.title_done = True
        elif tag in _BREAKING_TAGS:
            self.out.append(" ")

    def handle_data(self, data):
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.hidden_depth or self.in_head:
            return
        source_line = self.getpos()[0]
        if source_line > self.line:
            self.out.append("\n" * (source_line - self.line))
            self.line = source_line
        self.out.append(data)
        self.line += data.count("\n")
