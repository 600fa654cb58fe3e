"""Read one file into plain text: pick the format, decode the bytes, find a title.

Line numbers matter more than prettiness here: every format keeps line N of
``Document.text`` at line N of the file on disk (HTML: the line of the source
where that text appears; PDF: pages joined with "\\n"), so results can point
to ``path:line``.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass

from index.errors import SkipFile

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

TEXT_SUFFIXES = frozenset({".txt", ".text"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
RST_SUFFIXES = frozenset({".rst", ".rest"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
PDF_SUFFIXES = frozenset({".pdf"})
# Sphinx copies each page's source beside its HTML as "_sources/page.rst.txt".
RST_SOURCE_SUFFIXES = (".rst.txt",)
SUPPORTED_SUFFIXES = (
    TEXT_SUFFIXES | MARKDOWN_SUFFIXES | RST_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
)

# How much of the file the binary sniffing looks at.
SNIFF_SIZE = 8192
# Text with more control characters than this (per character sniffed) is binary.
MAX_CONTROL_RATIO = 0.10


@dataclass(frozen=True)
class Document:
    path: str
    text: str
    title: str | None
    page_starts: tuple[int, ...] = ()
    # The document's outline: (line, level, heading text), sorted by line, lines 1-based in
    # ``text``; level 1 is the highest. Readers fill what their format marks as headings.
    headings: tuple[tuple[int, int, str], ...] = ()


def format_size(n: int) -> str:
    """``20971520`` -> ``"20 MiB"``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            break
        n /= 1024
    return f"{n:.1f}".removesuffix(".0") + f" {unit}"


def too_large_reason(max_bytes: int) -> str:
    return f"larger than {format_size(max_bytes)} (raise --max-size)"


_SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"500K"``, ``"20M"``, ``"1G"``, ``"1.5MiB"``, ``"4096"`` -> bytes; ValueError if malformed."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a size such as 500K, 20M or 1G")
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[unit.upper()])


def read_document(path, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Read ``path`` into a Document; raise SkipFile(reason) if it cannot be indexed."""
    path = os.fspath(path)
    data = _read_bytes(path, max_bytes)
    if not data:
        raise SkipFile("empty file")
    suffix = os.path.splitext(path)[1].lower()
    if suffix in PDF_SUFFIXES or (suffix not in SUPPORTED_SUFFIXES and data.startswith(b"%PDF-")):
        return _read_pdf(path, data)
    text = decode_text(data)
    headings = ()
    if suffix in HTML_SUFFIXES:
        from index.html_text import html_to_text  # html.parser is only loaded for HTML files

        text, title = html_to_text(text)
    elif suffix in MARKDOWN_SUFFIXES:
        from index.outline import markdown_headings

        title, headings = markdown_title(text), markdown_headings(text)
    elif suffix in RST_SUFFIXES or path.lower().endswith(RST_SOURCE_SUFFIXES):
        from index.outline import rst_headings

        headings = rst_headings(text)
        title = headings[0][2] if headings else rst_title(text)  # the first title, as prose
    else:
        title = None
    if not text.strip():
        raise SkipFile("no text")
    return Document(path=path, text=text, title=title, headings=headings)


# Opened without waiting: opening a FIFO for reading blocks until a writer comes, and
# the type is only known for sure once the file is open (it may have been swapped since a walk).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


def _read_bytes(path: str, max_bytes: int) -> bytes:
    try:
        fd = os.open(path, _OPEN_FLAGS)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError
            if not stat.S_ISREG(st.st_mode):
                # A FIFO, socket or device: reading it could block forever or never end.
                raise SkipFile("not a regular file", transient=True)
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
            size = st.st_size
            if size > max_bytes:
                raise SkipFile(too_large_reason(max_bytes), transient=True)
            # Read one byte past the cap: the file may have grown since fstat.
            data = f.read(max_bytes + 1)
    except PermissionError:
        raise SkipFile("permission denied", transient=True) from None
    except IsADirectoryError:
        raise SkipFile("is a directory", transient=True) from None
    except FileNotFoundError:
        raise SkipFile("no such file", transient=True) from None
    except OSError as exc:
        raise SkipFile((exc.strerror or str(exc)).lower(), transient=True) from None
    if len(data) > max_bytes:
        raise SkipFile(too_large_reason(max_bytes), transient=True)
    return data


# --- decoding ---------------------------------------------------------------

# UTF-32 first: its little-endian BOM starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Bytes cp1252 leaves undefined keep their latin-1 meaning (U+0081 ...), so
# decoding never fails: surrogateescape marks them, then they are swapped back.
_CP1252_UNDEFINED = tuple(
    b for b in range(0x80, 0xA0) if bytes([b]).decode("cp1252", "replace") == "\ufffd"
)


def _decode_cp1252(data: bytes) -> str:
    text = data.decode("cp1252", errors="surrogateescape")
    for byte in _CP1252_UNDEFINED:
        text = text.replace(chr(0xDC00 + byte), chr(byte))
    return text


_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v\x1b")


def decode_text(data: bytes) -> str:
    """Decode file bytes to text with "\\n" newlines; SkipFile("binary file") if not text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data.decode(encoding, errors="replace")
            break
    else:
        if b"\x00" in data[:SNIFF_SIZE]:
            raise SkipFile("binary file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_cp1252(data)
    if _looks_binary(text[:SNIFF_SIZE]):
        raise SkipFile("binary file")
    return normalise_newlines(text)


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# C0 controls but those of _ALLOWED_CONTROLS (\t \n \v \f \r ESC), DEL and the C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")


def _looks_binary(sample: str) -> bool:
    if not sample:
        return False
    controls = len(_CONTROL.findall(sample))
    return controls / len(sample) > MAX_CONTROL_RATIO


# --- titles -----------------------------------------------------------------

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_FRONT_MATTER_TITLE = re.compile(r"""^title:[ \t]*["']?(.*?)["']?[ \t]*$""")


def markdown_title(text: str) -> str | None:
    """Front-matter ``title:``, else the first level-1 heading, else the first heading."""
    lines = text.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() in ("---", "..."):
                start = i + 1
                break
            match = _FRONT_MATTER_TITLE.match(lines[i])
            if match and match.group(1):
                return match.group(1)
    first_heading = None
    in_fence = False  # "# comment" in a shell code block is not a heading
    for i in range(start, len(lines)):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        level, heading = None, None
        atx = _ATX_HEADING.match(line)
        if atx and atx.group(2):
            level, heading = len(atx.group(1)), atx.group(2)
        elif line.strip() and i + 1 < len(lines) and not line.startswith(("    ", "\t")):
            underline = _SETEXT_UNDERLINE.match(lines[i + 1])
            if underline:
                level, heading = (1 if underline.group(1)[0] == "=" else 2), line.strip()
        if heading:
            if level == 1:
                return heading
            first_heading = first_heading or heading
    return first_heading


_RST_ADORNMENT = re.compile(r"""^([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])\1{2,}[ \t]*$""")


def rst_title(text: str) -> str | None:
    """The first line of text underlined with a run of one punctuation character."""
    lines = text.split("\n")
    for i in range(len(lines) - 1):
        candidate = lines[i].strip()
        if (
            candidate
            and not _RST_ADORNMENT.match(candidate)
            and _RST_ADORNMENT.match(lines[i + 1])
            and len(lines[i + 1].rstrip()) >= len(candidate)
        ):
            return candidate
    return None


# --- PDF --------------------------------------------------------------------

def _read_pdf(path: str, data: bytes) -> Document:
    import io
    import logging

    import pypdf  # heavy: only loaded when a PDF is actually read

    # pypdf logs a warning for every small flaw in a PDF; they are not the user's problem.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _decrypts_with_empty_password(reader):
            raise SkipFile("encrypted PDF")
        pages = [normalise_newlines(page.extract_text() or "").rstrip() for page in reader.pages]
        metadata_title = reader.metadata.title if reader.metadata else None
    except SkipFile:
        raise
    except Exception as exc:  # pypdf raises many exception types on malformed files
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise SkipFile(f"unreadable PDF: {detail}") from None
    if not any(page.strip() for page in pages):
        raise SkipFile("no text layer (scanned PDF?)")
    page_starts, line = [], 1
    for page in pages:
        page_starts.append(line)
        line += page.count("\n") + 1
    title = metadata_title.strip() if isinstance(metadata_title, str) and metadata_title.strip() else None
    from index.outline import pdf_headings

    headings = pdf_headings(reader, pages, tuple(page_starts))
    return Document(path=path, text="\n".join(pages), title=title, page_starts=tuple(page_starts),
                    headings=headings)


def _decrypts_with_empty_password(reader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. AES without the optional cryptography package
        return False
