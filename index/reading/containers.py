"""Office documents, e-books and mail: .docx, .odt, .epub, .eml, mbox.

The standard library does the job: these formats are zip archives of XML
(.docx, .odt, .epub) or RFC 5322 text (mail), and zipfile, xml.etree and
email read them (measured in notes/docs.md; python-docx, odfpy and ebooklib
would add three dependencies for the same text). Each extractor runs in
index/reading/isolate.py's child process, with its time and memory limit, and reads at
most MAX_INFLATED bytes out of an archive, so a zip bomb is skipped with a
reason.

These formats have no lines of their own: line N of the text is the Nth
paragraph (a mail's headers come first), and that is where hits point.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree

from searcher.index.errors import SkipFile

# What one document may inflate to, all archive members together.
MAX_INFLATED = 256 * 1024 * 1024
# Messages read from one mbox at most.
MAX_MESSAGES = 100_000

Extracted = tuple[str, "str | None", tuple]  # text, title, headings


def extract(kind: str, data: bytes) -> Extracted:
    """The text, title and headings of a document of ``kind`` (see index/reading/reader.py)."""
    return _EXTRACTORS[kind](data)


# --- zip archives --------------------------------------------------------------

class _Archive:
    def __init__(self, data: bytes, what: str):
        self.what = what
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, EOFError):
            raise SkipFile(f"damaged {what} (not a zip archive)") from None
        self.read_bytes = 0

    def names(self) -> set[str]:
        return set(self.zip.namelist())

    def read(self, name: str) -> bytes:
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise SkipFile(f"damaged {self.what} (no {name})") from None
        if self.read_bytes + info.file_size > MAX_INFLATED:
            raise SkipFile(f"{self.what} inflates past {MAX_INFLATED // 1024**2} MiB")
        with self.zip.open(info) as member:
            # file_size is what the archive claims: read one byte more to catch a lie.
            content = member.read(MAX_INFLATED - self.read_bytes + 1)
        self.read_bytes += len(content)
        if self.read_bytes > MAX_INFLATED:
            raise SkipFile(f"{self.what} inflates past {MAX_INFLATED // 1024**2} MiB")
        return content

    def xml(self, name: str):
        try:
            return ElementTree.fromstring(self.read(name))
        except ElementTree.ParseError as exc:
            raise SkipFile(f"damaged {self.what} ({name}: {exc})") from None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _dc_title(root) -> str | None:
    for element in root.iter():
        if _local(element.tag) == "title" and element.text and element.text.strip():
            return " ".join(element.text.split())
    return None


def _join(paragraphs: list[tuple[str, int | None]]) -> tuple[str, tuple]:
    """Paragraphs (text, heading level or None) as lines; headings at their lines."""
    lines, headings = [], []
    for text, level in paragraphs:
        text = " ".join(text.split("\n"))
        lines.append(text)
        if level and text.strip():
            headings.append((len(lines), level, " ".join(text.split())))
    return "\n".join(lines), tuple(headings)


# .docx (Office Open XML) ---------------------------------------------------------

_DOCX_HEADING = re.compile(r"^(?:heading|berschrift|titre|titolo|encabezado)\s*(\d)$", re.IGNORECASE)


def extract_docx(data: bytes) -> Extracted:
    archive = _Archive(data, "DOCX")
    body = archive.xml("word/document.xml")
    styles = _docx_heading_styles(archive)
    paragraphs = []
    for element in body.iter():
        if _local(element.tag) != "p":
            continue
        parts, level = [], None
        for node in element.iter():
            name = _local(node.tag)
            if name == "t" and node.text:
                parts.append(node.text)
            elif name == "tab":
                parts.append("\t")
            elif name in ("br", "cr"):
                parts.append(" ")
            elif name == "pStyle":
                style = next((v for k, v in node.attrib.items() if _local(k) == "val"), "")
                level = styles.get(style) or _style_level(style)
            elif name == "outlineLvl":
                value = next((v for k, v in node.attrib.items() if _local(k) == "val"), "")
                level = int(value) + 1 if value.isdigit() and int(value) < 9 else level
        paragraphs.append(("".join(parts), level))
    title = None
    if "docProps/core.xml" in archive.names():
        title = _dc_title(archive.xml("docProps/core.xml"))
    text, headings = _join(paragraphs)
    return text, title, headings


def _style_level(style: str) -> int | None:
    if style.lower() == "title":
        return 1
    match = _DOCX_HEADING.match(style.replace("_", ""))
    return int(match.group(1)) if match and match.group(1) != "0" else None


def _docx_heading_styles(archive: _Archive) -> dict[str, int]:
    """Style ids whose name is "heading N" (ids are localised: "berschrift1", "Titre1")."""
    if "word/styles.xml" not in archive.names():
        return {}
    levels = {}
    for style in archive.xml("word/styles.xml").iter():
        if _local(style.tag) != "style":
            continue
        style_id = next((v for k, v in style.attrib.items() if _local(k) == "styleId"), None)
        name = next((next((v for k, v in child.attrib.items() if _local(k) == "val"), "")
                     for child in style if _local(child.tag) == "name"), "")
        level = _style_level(name.replace(" ", ""))
        if style_id and level:
            levels[style_id] = level
    return levels


# .odt (OpenDocument Text) --------------------------------------------------------

def extract_odt(data: bytes) -> Extracted:
    archive = _Archive(data, "ODT")
    content = archive.xml("content.xml")
    paragraphs = []

    def text_of(element) -> str:
        parts = [element.text or ""]
        for child in element:
            name = _local(child.tag)
            if name == "s":
                count = next((v for k, v in child.attrib.items() if _local(k) == "c"), "1")
                parts.append(" " * (int(count) if count.isdigit() else 1))
            elif name == "tab":
                parts.append("\t")
            elif name == "line-break":
                parts.append(" ")
            elif name not in ("note", "annotation"):
                parts.append(text_of(child))
            parts.append(child.tail or "")
        return "".join(parts)

    def walk(element):
        for child in element:
            name = _local(child.tag)
            if name == "h":
                level = next((v for k, v in child.attrib.items() if _local(k) == "outline-level"), "1")
                paragraphs.append((text_of(child), int(level) if level.isdigit() else 1))
            elif name == "p":
                paragraphs.append((text_of(child), None))
            else:
                walk(child)

    walk(content)
    title = _dc_title(archive.xml("meta.xml")) if "meta.xml" in archive.names() else None
    text, headings = _join(paragraphs)
    return text, title, headings


# .epub ------------------------------------------------------------------------------

def extract_epub(data: bytes) -> Extracted:
    from searcher.index.reading.html_text import html_to_text
    from searcher.index.reading.reader import decode_html

    archive = _Archive(data, "EPUB")
    container = archive.xml("META-INF/container.xml")
    rootfile = next((el.get("full-path") for el in container.iter() if _local(el.tag) == "rootfile"), None)
    if not rootfile:
        raise SkipFile("damaged EPUB (no package document)")
    package = archive.xml(rootfile)
    base = posixpath.dirname(rootfile)
    manifest = {}
    for item in package.iter():
        if _local(item.tag) == "item" and item.get("id") and item.get("href"):
            manifest[item.get("id")] = (item.get("href"), item.get("media-type", ""))
    spine = [item.get("idref") for item in package.iter() if _local(item.tag) == "itemref"]
    chunks, headings, line = [], [], 1
    for idref in spine:
        href, media = manifest.get(idref, (None, ""))
        if not href or "html" not in media:
            continue
        name = posixpath.normpath(posixpath.join(base, href.split("#", 1)[0]))
        if name not in archive.names():
            continue
        text, _, chapter_headings = html_to_text(decode_html(archive.read(name)), main_only=False)
        dropped = len(text) - len(text.lstrip("\n"))  # empty lines above the chapter's text
        text = text.strip("\n")
        if not text.strip():
            continue
        # Each chapter starts on a line of its own, its headings moved with it.
        headings.extend((line + h_line - 1 - dropped, level, h_text) for h_line, level, h_text in chapter_headings)
        chunks.append(text)
        line += text.count("\n") + 2
    title = _dc_title(package)
    return "\n\n".join(chunks), title, tuple(sorted(headings))


# --- mail ------------------------------------------------------------------------------

_MAIL_HEADERS = ("Subject", "From", "To", "Cc", "Date")


def extract_eml(data: bytes) -> Extracted:
    import email
    from email import policy

    message = email.message_from_bytes(data, policy=policy.default)
    text, subject = _message_text(message)
    return text, subject, ((1, 1, subject),) if subject else ()


def extract_mbox(data: bytes) -> Extracted:
    import email
    from email import policy

    chunks, headings, line = [], [], 1
    for number, raw in enumerate(_mbox_messages(data)):
        if number >= MAX_MESSAGES:
            break
        message = email.message_from_bytes(raw, policy=policy.default)
        text, subject = _message_text(message)
        if subject:
            headings.append((line, 1, subject))
        chunks.append(text)
        line += text.count("\n") + 2
    if not chunks:
        raise SkipFile("no messages")
    return "\n\n".join(chunks), None, tuple(headings)


def _mbox_messages(data: bytes):
    # mboxrd/mboxo: a message starts at a line "From " after an empty line (or the start).
    starts = [0] + [m.start() + 1 for m in re.finditer(rb"\n(?=From )", data)]
    for begin, end in zip(starts, starts[1:] + [len(data)]):
        chunk = data[begin:end]
        first_newline = chunk.find(b"\n")
        body = chunk[first_newline + 1:] if chunk.startswith(b"From ") else chunk
        if body.strip():
            yield re.sub(rb"(?m)^>(>*From )", rb"\1", body)


def _message_text(message) -> tuple[str, str | None]:
    """Headers a reader looks at, then the body (plain text preferred, else HTML's text)."""
    lines = []
    for name in _MAIL_HEADERS:
        try:
            value = message.get(name)
        except Exception:  # a malformed header must not lose the message
            value = None
        if value:
            lines.append(f"{name}: {' '.join(str(value).split())}")
    subject = None
    try:
        subject = " ".join(str(message.get("Subject") or "").split()) or None
    except Exception:
        pass
    body = _body(message)
    return "\n".join(lines) + ("\n\n" + body if body else ""), subject


def _body(message) -> str:
    from searcher.index.reading.reader import normalise_newlines

    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        return ""
    try:
        content = part.get_content()
    except Exception:  # unknown charset or broken transfer encoding: the raw payload
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        from searcher.index.reading.html_text import html_to_text

        content = html_to_text(content)[0]
    return normalise_newlines(content).strip("\n")


_EXTRACTORS = {
    "docx": extract_docx,
    "odt": extract_odt,
    "epub": extract_epub,
    "eml": extract_eml,
    "mbox": extract_mbox,
}
