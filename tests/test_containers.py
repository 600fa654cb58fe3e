"""Office documents, e-books and mail, generated here, indexed through the CLI (issue 12)."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage

import pytest

from searcher.index.errors import SkipFile
from searcher.index.reading.reader import read_document

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def zip_of(members: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def make_docx(paragraphs, title=None) -> bytes:
    body = "".join(
        f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>'
        if style else f"<w:p><w:r><w:t>{text}</w:t></w:r><w:r><w:tab/><w:t>tabbed</w:t></w:r></w:p>"
        for style, text in paragraphs)
    members = {
        "[Content_Types].xml": "<Types/>",
        "word/document.xml": f"<w:document {W}><w:body>{body}</w:body></w:document>",
        "word/styles.xml": f'<w:styles {W}><w:style w:styleId="berschrift1"><w:name w:val="heading 1"/>'
                           "</w:style></w:styles>",
    }
    if title:
        members["docProps/core.xml"] = (
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
            f' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title></cp:coreProperties>')
    return zip_of(members)


def make_odt(title="Field notes") -> bytes:
    ns = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' \
         'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    content = (f"<office:document-content {ns}><office:body><office:text>"
               '<text:h text:outline-level="1">Wetland birds</text:h>'
               "<text:p>The heron<text:s text:c=\"2\"/>waits in the reeds.</text:p>"
               '<text:h text:outline-level="2">Waders</text:h>'
               "<text:p>Curlews probe the mud<text:line-break/>at low tide.</text:p>"
               "</office:text></office:body></office:document-content>")
    meta = ('<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>{title}</dc:title>'
            "</office:meta></office:document-meta>")
    return zip_of({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": content,
                   "meta.xml": meta})


def make_epub() -> bytes:
    chapter = ("<html xmlns='http://www.w3.org/1999/xhtml'><head><title>c{n}</title></head><body>"
               "<h1>Chapter {n}</h1><p>{text}</p></body></html>")
    return zip_of({
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                                  '<rootfiles><rootfile full-path="OEBPS/book.opf"/></rootfiles></container>',
        "OEBPS/book.opf": '<package xmlns="http://www.idpf.org/2007/opf" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                          "<metadata><dc:title>The Lighthouse</dc:title></metadata><manifest>"
                          '<item id="c1" href="one.xhtml" media-type="application/xhtml+xml"/>'
                          '<item id="c2" href="text/two.xhtml" media-type="application/xhtml+xml"/>'
                          '</manifest><spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>',
        "OEBPS/one.xhtml": chapter.format(n=1, text="The keeper climbed the stairs at dusk."),
        "OEBPS/text/two.xhtml": chapter.format(n=2, text="A storm broke over the sandbar."),
    })


def make_eml(subject="Quarterly budget", body="The budget meeting moves to Thursday.", html=False) -> bytes:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "Ann <ann@example.org>"
    message["To"] = "bob@example.org"
    if html:
        message.set_content("<html><body><nav>Menu</nav><p>" + body + "</p></body></html>", subtype="html")
    else:
        message.set_content(body)
    return bytes(message)


def write(tmp_path, name, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_docx_paragraphs_headings_and_title(tmp_path):
    doc = read_document(write(tmp_path, "report.docx", make_docx(
        [("Heading1", "Results"), (None, "Yields rose by a third."), ("berschrift1", "Ausblick")],
        title="Harvest report")))
    assert doc.title == "Harvest report"
    assert doc.text.split("\n") == ["Results", "Yields rose by a third.\ttabbed", "Ausblick"]
    assert doc.headings == ((1, 1, "Results"), (3, 1, "Ausblick"))


def test_odt_paragraphs_headings_and_title(tmp_path):
    doc = read_document(write(tmp_path, "notes.odt", make_odt()))
    assert doc.title == "Field notes"
    assert doc.text.split("\n") == ["Wetland birds", "The heron  waits in the reeds.", "Waders",
                                    "Curlews probe the mud at low tide."]
    assert doc.headings == ((1, 1, "Wetland birds"), (3, 2, "Waders"))


def test_epub_chapters_in_spine_order_with_headings(tmp_path):
    doc = read_document(write(tmp_path, "book.epub", make_epub()))
    assert doc.title == "The Lighthouse"
    lines = doc.text.split("\n")
    assert doc.text.index("keeper climbed") < doc.text.index("storm broke")
    assert [h[2] for h in doc.headings] == ["Chapter 1", "Chapter 2"]
    for line, _, text in doc.headings:
        assert text in lines[line - 1]


def test_eml_headers_and_body(tmp_path):
    doc = read_document(write(tmp_path, "mail.eml", make_eml()))
    assert doc.title == "Quarterly budget"
    assert doc.text.startswith("Subject: Quarterly budget\nFrom: Ann <ann@example.org>\nTo: bob@example.org")
    assert "The budget meeting moves to Thursday." in doc.text
    html = read_document(write(tmp_path, "html.eml", make_eml(body="Lunch is at noon.", html=True)))
    assert "Lunch is at noon." in html.text and "<p>" not in html.text


def test_mbox_messages_each_with_its_subject(tmp_path):
    mbox = (b"From ann@example.org Mon Jan  1 00:00:00 2024\n" + make_eml("First", "Alpha text.")
            + b"\n\nFrom bob@example.org Tue Jan  2 00:00:00 2024\n" + make_eml("Second", "Beta text.\n>From here on."))
    for name in ("archive.mbox", "inbox"):
        doc = read_document(write(tmp_path, name, mbox))
        assert [h[2] for h in doc.headings] == ["First", "Second"]
        assert "Alpha text." in doc.text and "Beta text." in doc.text and "From here on." in doc.text


@pytest.mark.parametrize("name", ["bad.docx", "bad.odt", "bad.epub"])
def test_damaged_archives_are_skipped_with_a_reason(tmp_path, name):
    with pytest.raises(SkipFile, match="damaged"):
        read_document(write(tmp_path, name, b"PK\x03\x04 not really a zip"))


def test_zip_bomb_is_skipped(tmp_path, monkeypatch):
    import searcher.index.reading.containers

    monkeypatch.setattr(searcher.index.reading.containers, "MAX_INFLATED", 1024 * 1024)
    big = make_docx([(None, "word " * 400_000)])
    with pytest.raises(SkipFile, match="inflates past 1 MiB"):
        read_document(write(tmp_path, "bomb.docx", big))


def test_formats_through_the_cli(tmp_path, run):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "report.docx").write_bytes(make_docx([("Heading1", "Results"), (None, "Yields of quinoa rose.")]))
    (root / "notes.odt").write_bytes(make_odt())
    (root / "book.epub").write_bytes(make_epub())
    (root / "mail.eml").write_bytes(make_eml())
    (root / "broken.docx").write_bytes(b"PK\x03\x04 broken")
    result = run("index", root, "--verbose")
    assert result.exit_code == 0, result.output
    assert "indexed 4 files" in result.output
    assert f"skipped {root / 'broken.docx'}: damaged DOCX (not a zip archive)" in result.output
    for word, name in (("quinoa", "report.docx"), ("curlews", "notes.odt"), ("sandbar", "book.epub"),
                       ("thursday", "mail.eml")):
        hit = run("query", word, "--color", "never")
        assert hit.exit_code == 0 and hit.output.startswith(f"{root / name}:"), (word, hit.output)
