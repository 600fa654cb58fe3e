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

from searcher.index.errors import SkipFile

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
    | frozenset({".docx", ".odt", ".epub", ".eml", ".mbox"})
)
# Compressed files of a supported type (Debian gzips its docs: README.md.gz, changelog.gz).
GZIP_SUFFIXES = frozenset({".gz"})
# "README.Debian", "NEWS.Debian": a capitalised word after the dot names a variant, not a
# file type; such names, like names without a dot (README, copyright), are sniffed as text.
_NAME_PART = re.compile(r"\.[A-Z][a-z]+")


def document_format(name: str) -> str | None:
    """How a file called ``name`` is read: "text", "markdown", "rst", "html", "pdf",
    "sniff" (no type in the name: text if it looks like text), "gz:<inner format>",
    or None (not a format searcher reads)."""
    stem, ext = os.path.splitext(os.path.basename(name))
    lower = ext.lower()
    if lower in GZIP_SUFFIXES:
        inner = document_format(stem)
        return f"gz:{inner}" if inner and not inner.startswith("gz:") else None
    if lower in TEXT_SUFFIXES and stem.lower().endswith(RST_SOURCE_SUFFIXES[0][:-4]):
        return "rst"
    for suffixes, kind in _FORMATS:
        if lower in suffixes:
            return kind
    if lower in CONTAINER_SUFFIXES:
        return CONTAINER_SUFFIXES[lower]
    if (not ext and not stem.startswith(".")) or _NAME_PART.fullmatch(ext):
        return "sniff"  # but not ".gitignore", ".bashrc": settings, not documents
    return None

# Read by index/reading/containers.py in index/reading/isolate.py's child process.
CONTAINER_SUFFIXES = {".docx": "docx", ".odt": "odt", ".epub": "epub", ".eml": "eml", ".mbox": "mbox"}
_FORMATS = (
    (TEXT_SUFFIXES, "text"),
    (MARKDOWN_SUFFIXES, "markdown"),
    (RST_SUFFIXES, "rst"),
    (HTML_SUFFIXES, "html"),
    (PDF_SUFFIXES, "pdf"),
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
    # A path named explicitly is tried whatever its name: as text, if it looks like text.
    kind = document_format(path) or "sniff"
    data = _read_bytes(path, max_bytes, sniff=kind == "sniff")
    if not data:
        raise SkipFile("empty file")
    if kind.startswith("gz:"):
        data, kind = gunzip(data, max_bytes), kind[3:]
        if not data:
            raise SkipFile("empty file")
    elif data[:2] == b"\x1f\x8b" and kind == "sniff":
        raise SkipFile("compressed file of an unknown type")
    if kind == "pdf" or (kind == "sniff" and data.startswith(b"%PDF-")):
        return _read_pdf(path, data)
    if kind == "sniff" and data.startswith(b"From ") and b"\nFrom: " in data[:SNIFF_SIZE]:
        kind = "mbox"  # a mailbox ("inbox", "sent") rarely has an extension
    if kind in CONTAINER_SUFFIXES.values():
        return _read_container(path, kind, data)
    headings = ()
    if kind == "html":
        from searcher.index.reading.html_text import html_to_text  # html.parser is only loaded for HTML files

        text, title, headings = html_to_text(decode_html(data))
    elif kind == "markdown":
        from searcher.index.reading.markup import markdown_prose
        from searcher.index.reading.outline import markdown_headings

        raw = decode_text(data)
        title, headings, text = markdown_title(raw), markdown_headings(raw), markdown_prose(raw)
    elif kind == "rst":
        from searcher.index.reading.markup import rst_prose
        from searcher.index.reading.outline import rst_headings

        raw = decode_text(data)
        headings, text = rst_headings(raw), rst_prose(raw)
        title = headings[0][2] if headings else rst_title(raw)  # the first title, as prose
    else:
        text, title = decode_text(data), None
    if not text.strip():
        raise SkipFile("no text")
    return Document(path=path, text=text, title=title, headings=headings)


def _read_container(path: str, kind: str, data: bytes) -> Document:
    from searcher.index.reading.containers import extract
    from searcher.index.reading.isolate import run_isolated

    what = "mailbox" if kind == "mbox" else kind.upper()
    text, title, headings = run_isolated(extract, kind, data, what=what,
                                         preload=("searcher.index.reading.containers", "email.parser", "searcher.index.reading.html_text"))
    if not text.strip():
        raise SkipFile("no text")
    return Document(path=path, text=text, title=title, headings=headings)


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """The content of gzip ``data`` (all members), at most ``max_bytes`` of it, else SkipFile."""
    import zlib

    out, size = [], 0
    while data:
        inflater = zlib.decompressobj(wbits=31)
        try:
            chunk = inflater.decompress(data, max_bytes + 1 - size)
        except zlib.error:
            raise SkipFile("damaged gzip file") from None
        out.append(chunk)
        size += len(chunk)
        if size > max_bytes or inflater.unconsumed_tail:
            raise SkipFile(f"inflates to more than {format_size(max_bytes)} (raise --max-size)")
        if not inflater.eof:
            raise SkipFile("damaged gzip file (truncated)")
        data = inflater.unused_data.lstrip(b"\x00")  # members may be followed by padding
    return b"".join(out)


# Opened without waiting: opening a FIFO for reading blocks until a writer comes, and
# the type is only known for sure once the file is open (it may have been swapped since a walk).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


def _read_bytes(path: str, max_bytes: int, sniff: bool = False) -> bytes:
    """The file's bytes; with ``sniff``, SkipFile("binary file") from its first block alone
    (a folder of executables without extensions is not read whole)."""
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
            head = f.read(SNIFF_SIZE) if sniff else b""
            if sniff and b"\x00" in head and not head.startswith(_NUL_BOMS + (b"%PDF-",)):
                raise SkipFile("binary file")
            # Read one byte past the cap: the file may have grown since fstat. The size
            # fstat saw is read first: read(n) allocates n bytes before reading, and
            # n = the cap (20 MiB) for a file of 600 bytes cost more than the rest of
            # reading it (nearly half of read_document's time over 19k short files).
            want = max_bytes + 1 - len(head)
            data = f.read(min(want, max(size - len(head), 0) + 1))
            if len(data) < want and len(data) > size - len(head):  # grew since fstat
                data += f.read(want - len(data))
            data = head + data
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


# UTF-16 and UTF-32 text is full of NULs: its BOM says so.
_NUL_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _decode_cp1252(data: bytes) -> str:
    text = data.decode("cp1252", errors="surrogateescape")
    for byte in _CP1252_UNDEFINED:
        text = text.replace(chr(0xDC00 + byte), chr(byte))
    return text


_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v\x1b")

# A well-formed UTF-8 sequence of two to four bytes (RFC 3629: no overlongs, no surrogates).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
# Text in a legacy 8-bit encoding almost never forms valid UTF-8 sequences by chance
# (it would take "Ã©"-like pairs), so a file with at least this many valid sequences
# per invalid byte is UTF-8 with a few damaged bytes, and is decoded as such.
UTF8_MAJORITY = 4
# How much of a non-UTF-8 file the charset detector looks at.
DETECT_SIZE = 64 * 1024
MIN_DETECT_BYTES = 16
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")


def _decode_not_utf8(data: bytes) -> str:
    """Bytes that are not valid UTF-8: mostly-UTF-8 with replacement, else the detected charset."""
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - data.count("\ufffd".encode())
    valid = len(_UTF8_MULTIBYTE.findall(data))
    if valid >= UTF8_MAJORITY * max(invalid, 1) or (valid and valid >= invalid and valid >= 32):
        return text
    encoding = _detect_charset(data[:DETECT_SIZE])
    if encoding:
        try:
            return data.decode(encoding, errors="replace")
        except LookupError:
            pass
    return _decode_cp1252(data)


def _detect_charset(sample: bytes) -> str | None:
    """charset-normalizer's pick for a legacy-encoded sample, or None to fall back to cp1252.

    Short samples of Western text are ambiguous (cp1252, latin-1, cp1250 ... all
    decode them); cp1252 is the common case there, so the detector is only
    followed when it finds a script other than Latin.
    """
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return None
    # A few stray high bytes say nothing about a script: the detector guesses wildly there.
    # Accented Latin letters stand alone between ASCII ones ("crème brûlée"); Cyrillic,
    # Greek or CJK text has its high bytes in runs. Only the latter goes to the detector.
    runs = _HIGH_RUN.findall(sample)
    high = sum(map(len, runs))
    if high < MIN_DETECT_BYTES or high < 1.5 * len(runs):
        return None
    best = from_bytes(sample).best()
    if best is None or set(best.alphabets) <= {"Basic Latin", "Latin-1 Supplement", "Latin Extended-A"}:
        return None
    try:  # files here are 8-bit or ASCII-compatible multibyte (a UTF-16 file has a BOM or NULs)
        if b"Az09 .\n".decode(best.encoding) != "Az09 .\n":
            return None
    except (LookupError, UnicodeDecodeError):
        return None
    return best.encoding


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
            text = _decode_not_utf8(data)
    if _looks_binary(text[:SNIFF_SIZE]):
        raise SkipFile("binary file")
    return normalise_newlines(text)


# HTML's encoding prescan (WHATWG "prescan a byte stream"), reduced to the two
# forms pages use: <meta charset=X> and <meta http-equiv=Content-Type content="...; charset=X">.
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
# Labels the HTML standard maps to windows-1252: pages that say latin-1 mean cp1252.
_HTML_CP1252 = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "windows-1252", "cp1252"})


def decode_html(data: bytes) -> str:
    """An HTML page's text: a BOM first, then its <meta charset>, then decode_text's guess."""
    if not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        match = _META_CHARSET.search(data[:4096])
        label = match.group(1).decode("ascii", "replace").lower() if match else ""
        if label in _HTML_CP1252:
            if b"\x00" in data[:SNIFF_SIZE]:
                raise SkipFile("binary file")
            return normalise_newlines(_decode_cp1252(data))
        if label and not label.replace("-", "").startswith(("utf8", "utf16", "utf32")):
            try:
                codec = codecs.lookup(label)
            except LookupError:
                codec = None
            if codec is not None:
                if b"\x00" in data[:SNIFF_SIZE]:
                    raise SkipFile("binary file")
                return normalise_newlines(data.decode(codec.name, errors="replace"))
    return decode_text(data)


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

# Bounds on one PDF, past which it is skipped with a reason (on top of index/reading/isolate.py's
# time and memory limits): bytes any one stream may inflate to, and pages read.
PDF_MAX_STREAM_BYTES = 32 * 1024 * 1024
PDF_MAX_PAGES = 20_000


def _read_pdf(path: str, data: bytes) -> Document:
    from searcher.index.reading.isolate import run_isolated

    pages, metadata_title, page_starts, headings = run_isolated(
        _extract_pdf, data, what="PDF", preload=("pypdf",))
    if not any(page.strip() for page in pages):
        raise SkipFile("no text layer (scanned PDF?)")
    title = metadata_title.strip() if isinstance(metadata_title, str) and metadata_title.strip() else None
    return Document(path=path, text="\n".join(pages), title=title, page_starts=page_starts,
                    headings=headings)


def _extract_pdf(data: bytes):
    """(pages' text, metadata title, pages' first lines, bookmarks as headings); runs in
    index/reading/isolate.py's child process."""
    import io
    import logging

    import pypdf  # heavy: only loaded when a PDF is actually read

    # pypdf logs a warning for every small flaw in a PDF; they are not the user's problem.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    _limit_pdf_streams(pypdf)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _decrypts_with_empty_password(reader):
            raise SkipFile("encrypted PDF")
        if len(reader.pages) > PDF_MAX_PAGES:
            raise SkipFile(f"PDF has more than {PDF_MAX_PAGES} pages")
        pages = [normalise_newlines(page.extract_text() or "").rstrip() for page in reader.pages]
        metadata_title = reader.metadata.title if reader.metadata else None
    except SkipFile:
        raise
    except Exception as exc:  # pypdf raises many exception types on malformed files
        if type(exc).__name__ == "LimitReachedError":
            raise SkipFile(f"PDF stream inflates past {format_size(PDF_MAX_STREAM_BYTES)}") from None
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise SkipFile(f"unreadable PDF: {detail}") from None
    page_starts, line = [], 1
    for page in pages:
        page_starts.append(line)
        line += page.count("\n") + 1
    from searcher.index.reading.outline import pdf_headings

    headings = pdf_headings(reader, pages, tuple(page_starts))
    title = str(metadata_title) if metadata_title is not None else None
    return pages, title, tuple(page_starts), headings


def _limit_pdf_streams(pypdf):
    """Cap what one stream may inflate to (pypdf's default is 75 MB per stream)."""
    limits = dict(
        zlib_maximum_output_length=PDF_MAX_STREAM_BYTES,
        lzw_maximum_output_length=PDF_MAX_STREAM_BYTES,
        run_length_maximum_output_length=PDF_MAX_STREAM_BYTES,
        array_based_stream_maximum_output_length=PDF_MAX_STREAM_BYTES,
        maximum_declared_stream_length=PDF_MAX_STREAM_BYTES,
    )
    try:
        from pypdf._configuration import overwrite_configuration  # pypdf >= 6.5
    except ImportError:
        from pypdf import filters  # older pypdf: module constants

        for name in ("ZLIB_MAX_OUTPUT_LENGTH", "LZW_MAX_OUTPUT_LENGTH", "MAX_DECLARED_STREAM_LENGTH"):
            if hasattr(filters, name):
                setattr(filters, name, PDF_MAX_STREAM_BYTES)
        return
    overwrite_configuration(**limits)


def _decrypts_with_empty_password(reader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. AES without the optional cryptography package
        return False
