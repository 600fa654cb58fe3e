import codecs
import os

import pytest
from hypothesis import given, settings, strategies as st

from searcher.index.errors import SkipFile
from searcher.index.reading.reader import (
    SUPPORTED_SUFFIXES,
    decode_text,
    format_size,
    read_document,
)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


def skip_reason(path, **kwargs):
    with pytest.raises(SkipFile) as info:
        read_document(path, **kwargs)
    return str(info.value)


def make_pdf(pages, title=None):
    """A minimal hand-written PDF: each string is one Helvetica text line, each list one page."""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        None,  # the page tree, filled in once the pages are numbered
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    kids = []
    for lines in pages:
        ops = ["BT", "/F1 12 Tf", "72 720 Td"]
        for i, line in enumerate(lines):
            if i:
                ops.append("0 -16 Td")
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj")
        ops.append("ET")
        stream = "\n".join(ops)
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {len(objects)} 0 R >>"
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    info = ""
    if title is not None:
        objects.append(f"<< /Title ({title}) >>")
        info = f" /Info {len(objects)} 0 R"
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return out


# --- plain text and encodings -------------------------------------------------

def test_plain_text_keeps_lines_and_has_no_title(tmp_path):
    doc = read_document(write(tmp_path, "a.txt", "first line\nsecond line\n"))
    assert doc.text == "first line\nsecond line\n"
    assert doc.title is None
    assert doc.page_starts == ()
    assert doc.path.endswith("a.txt")


@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-32-le", codecs.BOM_UTF32_LE),
    ("utf-32-be", codecs.BOM_UTF32_BE),
])
def test_unicode_with_bom(tmp_path, encoding, bom):
    text = "Café “naïve” 日本語\nline two\n"
    doc = read_document(write(tmp_path, "a.txt", bom + text.encode(encoding)))
    assert doc.text == text  # and no U+FEFF left at the start


def test_cp1252_curly_quotes(tmp_path):
    text = "He said “hello” — it’s café time… €5"
    doc = read_document(write(tmp_path, "a.txt", text.encode("cp1252")))
    assert doc.text == text


def test_bytes_cp1252_leaves_undefined_fall_back_to_latin1():
    data = b"some ordinary words \x81 then \x8d and \x93quoted\x94"
    assert decode_text(data) == "some ordinary words \x81 then \x8d and “quoted”"


def test_crlf_and_lone_cr_become_newlines(tmp_path):
    doc = read_document(write(tmp_path, "a.txt", b"one\r\ntwo\rthree\n\nfive\r\n"))
    assert doc.text == "one\ntwo\nthree\n\nfive\n"
    assert doc.text.split("\n")[4] == "five"


def test_utf16_with_odd_trailing_byte_does_not_raise(tmp_path):
    data = codecs.BOM_UTF16_LE + "hello".encode("utf-16-le") + b"\x00\xd8"
    assert read_document(write(tmp_path, "a.txt", data)).text.startswith("hello")


def test_file_without_suffix_is_read_as_text(tmp_path):
    doc = read_document(write(tmp_path, "README", "plain words"))
    assert doc.text == "plain words"


def test_enormous_single_line(tmp_path):
    line = "word " * 400_000
    doc = read_document(write(tmp_path, "big.txt", line))
    assert doc.text == line
    assert doc.text.count("\n") == 0


# --- things that are skipped --------------------------------------------------

def test_nul_bytes_mean_binary(tmp_path):
    assert skip_reason(write(tmp_path, "a.txt", b"ELF\x00\x01\x02 words")) == "binary file"


def test_utf16_without_bom_looks_binary(tmp_path):
    assert skip_reason(write(tmp_path, "a.txt", "hello".encode("utf-16-le"))) == "binary file"


def test_many_control_characters_mean_binary(tmp_path):
    assert skip_reason(write(tmp_path, "a.txt", bytes(range(1, 32)) * 50 + b"text")) == "binary file"


def test_a_few_control_characters_are_fine(tmp_path):
    text = "\x1b[1mbold\x1b[0m\fnext page\ttabbed\n" * 20
    assert read_document(write(tmp_path, "a.txt", text)).text == text


def test_empty_file(tmp_path):
    assert skip_reason(write(tmp_path, "a.txt", b"")) == "empty file"


def test_whitespace_only_file(tmp_path):
    assert skip_reason(write(tmp_path, "a.txt", codecs.BOM_UTF8 + b" \n\t\n")) == "no text"


def test_larger_than_max_bytes(tmp_path):
    path = write(tmp_path, "a.txt", "x" * 2048)
    assert skip_reason(path, max_bytes=1024) == "larger than 1 KiB (raise --max-size)"
    assert read_document(path, max_bytes=2048).text == "x" * 2048


def _fstat_saying(size):
    real = os.fstat

    def fstat(fd):
        st = real(fd)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid,
                               size, st.st_atime, st.st_mtime, st.st_ctime))
    return fstat


@pytest.mark.parametrize("sniffed", [False, True])
def test_file_that_grew_since_fstat_is_read_whole(tmp_path, monkeypatch, sniffed):
    from searcher.index.reading import reader

    text = "".join(f"line {n} of a file still being written\n" for n in range(2000))  # 76 KB
    path = tmp_path / ("grows" if sniffed else "grows.txt")
    path.write_text(text)
    monkeypatch.setattr(reader.os, "fstat", _fstat_saying(100))
    assert read_document(path).text == text


def test_file_that_grew_past_max_bytes_since_fstat_is_too_large(tmp_path, monkeypatch):
    from searcher.index.reading import reader

    path = tmp_path / "grows.txt"
    path.write_text("x" * 5000)
    monkeypatch.setattr(reader.os, "fstat", _fstat_saying(10))
    with pytest.raises(SkipFile, match="larger than"):
        read_document(path, max_bytes=1000)


def test_format_size():
    assert format_size(20 * 1024 * 1024) == "20 MiB"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(100) == "100 bytes"


def test_directory_is_skipped(tmp_path):
    assert skip_reason(str(tmp_path)) == "is a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files with mode 000")
def test_permission_denied(tmp_path):
    path = write(tmp_path, "secret.txt", "text")
    os.chmod(path, 0)
    try:
        assert skip_reason(path) == "permission denied"
    finally:
        os.chmod(path, 0o600)


# --- Markdown and reStructuredText --------------------------------------------

def test_markdown_title_is_first_level_one_heading_and_text_is_prose_line_for_line(tmp_path):
    source = (
        "[![build](badge.svg)](ci)\n"
        "\n"
        "```sh\n"
        "# not a heading: a shell comment\n"
        "```\n"
        "## Section before the title\n"
        "# Real Title #\n"
        "Body *text*.\n"
    )
    doc = read_document(write(tmp_path, "a.md", source))
    assert doc.title == "Real Title"
    assert doc.text.split("\n") == [
        "build", "", "", "# not a heading: a shell comment", "", "Section before the title",
        "Real Title", "Body text.", ""]


def test_markdown_setext_heading(tmp_path):
    doc = read_document(write(tmp_path, "a.markdown", "intro\n\nThe Title\n=========\n\ntext\n"))
    assert doc.title == "The Title"
    doc = read_document(write(tmp_path, "b.md", "text\n\nSubtitle\n---\n"))
    assert doc.title == "Subtitle"


def test_markdown_front_matter_title(tmp_path):
    doc = read_document(write(tmp_path, "a.md", '---\ntitle: "Front Matter"\n---\n# Heading\n'))
    assert doc.title == "Front Matter"


def test_markdown_falls_back_to_lower_level_heading_then_none(tmp_path):
    assert read_document(write(tmp_path, "a.md", "text\n\n### Only h3\n")).title == "Only h3"
    assert read_document(write(tmp_path, "b.md", "no headings here\n")).title is None


def test_rst_title(tmp_path):
    source = "Some intro\n\nDocument Title\n==============\n\nSection\n-------\n"
    doc = read_document(write(tmp_path, "a.rst", source))
    assert doc.title == "Document Title"
    assert doc.text.split("\n") == ["Some intro", "", "Document Title", "", "", "Section", "", ""]


def test_rst_overlined_title_and_none(tmp_path):
    doc = read_document(write(tmp_path, "a.rst", "=========\n  Title\n=========\n\nbody\n"))
    assert doc.title == "Title"
    assert read_document(write(tmp_path, "b.rst", "just a paragraph\n")).title is None


# --- HTML -----------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html>
<head>
  <title>Caf&eacute; &amp; Bar</title>
  <style>body { color: red }</style>
  <script>var hidden = "<p>not text</p>";</script>
</head>
<body>
<h1>Menu</h1>
<p>Fish &amp; chips, cr&egrave;me br&ucirc;l&eacute;e &#8212; <b>bold</b>ly
priced</p><script>
ignored()
</script>
<table><tr><td>left</td><td>right</td></tr></table>
<!-- a comment -->
<p
  class="x">after a tag split over lines</p>
</body>
</html>
"""


def test_html_visible_text_title_and_entities(tmp_path):
    doc = read_document(write(tmp_path, "page.html", HTML))
    assert doc.title == "Café & Bar"
    for hidden in ("color", "hidden", "not text", "ignored", "a comment", "Café"):
        assert hidden not in doc.text
    words = doc.text.split()
    assert "Fish & chips, crème brûlée —" in " ".join(words)
    assert "boldly" in words  # inline tags do not split words
    assert "left" in words and "right" in words  # cells do not run together


def test_html_text_stays_on_its_source_line(tmp_path):
    doc = read_document(write(tmp_path, "page.htm", HTML))
    lines = doc.text.split("\n")
    source_lines = HTML.split("\n")
    for word in ("Menu", "chips", "priced", "right", "after"):
        source_line = next(i for i, line in enumerate(source_lines) if word in line)
        assert word in lines[source_line], word


def test_html_without_head_or_closing_tags(tmp_path):
    doc = read_document(write(tmp_path, "a.html", "<title>T</title><body><p>one<p>two"))
    assert doc.title == "T"
    assert doc.text.split() == ["one", "two"]


def test_html_svg_title_in_body_does_not_replace_page_title(tmp_path):
    source = "<title>Page</title><body><svg><title>icon</title></svg><p>text</p>"
    doc = read_document(write(tmp_path, "a.html", source))
    assert doc.title == "Page"
    assert "text" in doc.text.split()


def test_html_unclosed_title_does_not_swallow_the_body(tmp_path):
    doc = read_document(write(tmp_path, "a.html", "<title>Page<body><p>text</p>"))
    assert doc.title == "Page"
    assert doc.text.split() == ["text"]


def test_html_with_only_script_has_no_text(tmp_path):
    assert skip_reason(write(tmp_path, "a.html", "<script>x()</script>")) == "no text"


# --- PDF --------------------------------------------------------------------------

def test_pdf_pages_and_title(tmp_path):
    data = make_pdf([["Hello world (one)", "second line"], [], ["Page three text"]], title="My Title")
    doc = read_document(write(tmp_path, "a.pdf", data))
    assert doc.title == "My Title"
    lines = doc.text.split("\n")
    assert lines[0] == "Hello world (one)"
    assert lines[1] == "second line"
    assert doc.page_starts == (1, 3, 4)
    assert lines[doc.page_starts[2] - 1] == "Page three text"


def test_pdf_without_title_metadata(tmp_path):
    doc = read_document(write(tmp_path, "a.pdf", make_pdf([["only page"]])))
    assert doc.title is None
    assert doc.page_starts == (1,)


def test_pdf_detected_by_content_when_suffix_unknown(tmp_path):
    doc = read_document(write(tmp_path, "download", make_pdf([["inside"]])))
    assert doc.text == "inside"


def test_pdf_without_text_layer(tmp_path):
    path = write(tmp_path, "scan.pdf", make_pdf([[], []]))
    assert skip_reason(path) == "no text layer (scanned PDF?)"


def test_broken_pdf(tmp_path):
    assert skip_reason(write(tmp_path, "a.pdf", b"%PDF-1.4\nnot really")).startswith("unreadable PDF")


def test_encrypted_pdf(tmp_path):
    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(100, 100)
    try:
        writer.encrypt("secret", algorithm="RC4-128")
    except Exception as exc:  # pragma: no cover - depends on pypdf's optional crypto
        pytest.skip(f"pypdf cannot encrypt here: {exc}")
    path = str(tmp_path / "locked.pdf")
    writer.write(path)
    assert skip_reason(path) == "encrypted PDF"


def test_supported_suffixes():
    assert {".txt", ".md", ".rst", ".html", ".htm", ".pdf"} <= SUPPORTED_SUFFIXES


# --- property: decoding gives back the text, line for line ----------------------

ENCODINGS = {
    "utf-8": lambda s: s.encode("utf-8"),
    "utf-8-bom": lambda s: codecs.BOM_UTF8 + s.encode("utf-8"),
    "utf-16-le-bom": lambda s: codecs.BOM_UTF16_LE + s.encode("utf-16-le"),
    "utf-16-be-bom": lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"),
    "utf-32-bom": lambda s: s.encode("utf-32"),
}

# No control characters except tab and form feed (they would make a file look
# binary), no CR/LF inside a line, no surrogates, no U+FEFF (it is a BOM at the start).
line_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufeff"
    ) | st.sampled_from("\t\f"),
    max_size=30,
)
line_ending = st.sampled_from(["\n", "\r\n", "\r"])


@given(lines=st.lists(line_text, max_size=15), ending=line_ending,
       encoding=st.sampled_from(sorted(ENCODINGS)))
def test_decoding_round_trips_line_for_line(lines, ending, encoding):
    text = decode_text(ENCODINGS[encoding](ending.join(lines)))
    assert text == "\n".join(lines)
    if lines:
        assert text.split("\n") == lines


cp1252_char = st.characters(
    blacklist_categories=("Cc", "Cs"),
).filter(lambda ch: _encodes_cp1252(ch))


def _encodes_cp1252(ch):
    try:
        ch.encode("cp1252")
        return True
    except UnicodeEncodeError:
        return False


# Western text as people write it: accented letters between ASCII ones. (Runs of
# high bytes may be another legacy script, which goes to the charset detector.)
western_word = st.builds(
    lambda head, accent, tail: head + accent + tail,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC ,.", max_size=6),
    st.text(alphabet=cp1252_char.filter(lambda ch: ord(ch) > 127), max_size=1),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6),
)


@settings(deadline=None)  # the first example imports charset-normalizer
@given(lines=st.lists(st.lists(western_word, max_size=6).map("".join), max_size=15), ending=line_ending)
def test_cp1252_round_trips_when_not_utf8(lines, ending):
    data = ending.join(lines).encode("cp1252")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert decode_text(data).split("\n") == ("\n".join(lines)).split("\n")
    else:  # ASCII (or accidentally valid UTF-8): read as UTF-8, which is what a user would want
        assert decode_text(data) == data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def test_one_bad_byte_in_utf8_keeps_the_rest_utf8(tmp_path):
    good = "Le café est chaud. Naïve façade, crème brûlée.\n" * 3
    doc = read_document(write(tmp_path, "a.txt", good.encode() + b"one bad \xff byte\n"))
    assert doc.text.startswith(good)
    assert "cafÃ©" not in doc.text
    assert doc.text.endswith("one bad \ufffd byte\n")


@pytest.mark.parametrize("encoding, text", [
    ("cp1251", "Привет, как дела? Это тестовый текст на русском языке, достаточно длинный. " * 4),
    ("shift_jis", "これは日本語のテキストです。検索エンジンのテスト。" * 4),
    ("cp1252", "Le café est chaud. Naïve façade, crème brûlée, où êtes-vous, garçon? " * 4),
])
def test_legacy_encodings_are_detected(tmp_path, encoding, text):
    assert read_document(write(tmp_path, "a.txt", text.encode(encoding))).text == text


def test_short_latin1_is_not_guessed_as_another_script(tmp_path):
    assert read_document(write(tmp_path, "a.txt", "caf\xe9 na\xefve".encode("latin-1"))).text == "café naïve"
