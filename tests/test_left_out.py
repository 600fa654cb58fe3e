"""Compressed and extensionless files are read; every run says what it left out (issue 12)."""

from __future__ import annotations

import gzip

from searcher.index.runs.leftout import extension_of, summary_lines


def test_gzipped_and_extensionless_files_are_indexed(tmp_path, run):
    root = tmp_path / "doc"
    root.mkdir()
    (root / "README.md.gz").write_bytes(gzip.compress(b"# Frobnicator\n\nThe frobnicator polishes widgets.\n"))
    (root / "changelog.gz").write_bytes(gzip.compress(b"frob (1.2) unstable; urgency=low\n\n  * Fix the quuxification.\n"))
    (root / "changelog.Debian.gz").write_bytes(gzip.compress(b"frob (1.2-1) Debian packaging of zorblax.\n"))
    (root / "copyright").write_text("Copyright 2024 Jane Doe. Licensed under the Xyzzy licence.\n")
    (root / "program").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    (root / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = run("index", root)
    assert result.exit_code == 0, result.output
    assert "indexed 4 files" in result.output
    assert "binary file" in result.output  # summary, not a line per file
    for word, name in (("widgets", "README.md.gz"), ("quuxification", "changelog.gz"),
                       ("zorblax", "changelog.Debian.gz"), ("xyzzy", "copyright")):
        hit = run("query", word, "--color", "never")
        assert hit.exit_code == 0 and hit.output.startswith(f"{root / name}:"), (word, hit.output)


def test_a_named_md_gz_is_read_not_called_binary(tmp_path, run):
    path = tmp_path / "NEWS.md.gz"
    path.write_bytes(gzip.compress("# News\n\nVersion 2 adds a café.\n".encode()))
    result = run("index", path)
    assert result.exit_code == 0 and "binary" not in result.output
    assert run("query", "cafe").exit_code == 0


def test_gzip_bomb_and_damaged_gzip_are_left_out_with_reasons(tmp_path, run):
    root = tmp_path / "doc"
    root.mkdir()
    (root / "bomb.txt.gz").write_bytes(gzip.compress(b"a" * (3 * 1024 * 1024)))
    (root / "broken.txt.gz").write_bytes(gzip.compress(b"some text here\n" * 50)[:40])
    (root / "fine.txt").write_text("fine words\n")
    result = run("index", root, "--max-size", "1M", "--verbose")
    assert result.exit_code == 0, result.output
    assert f"skipped {root / 'bomb.txt.gz'}: inflates to more than 1 MiB (raise --max-size)" in result.output
    assert f"skipped {root / 'broken.txt.gz'}: damaged gzip file" in result.output
    assert "indexed 1 files" in result.output


def test_summary_counts_by_reason_and_type_and_verbose_lists_files(tmp_path, run):
    root = tmp_path / "doc"
    root.mkdir()
    for n in range(30):
        (root / f"empty{n:02}.txt").write_bytes(b"")
    for n in range(3):
        (root / f"empty{n}.md").write_bytes(b"")
    for n in range(4):
        (root / f"image{n}.png").write_bytes(b"\x89PNG")
    (root / "real.txt").write_text("real text\n")
    result = run("index", root)
    assert result.exit_code == 0, result.output
    assert "skipped /" not in result.output  # no line per file without --verbose
    assert len(result.output.splitlines()) < 8
    assert "left out 37 files (--verbose lists them):" in result.output
    assert "  33 empty file (30 .txt, 3 .md)" in result.output
    assert "  4 not a supported format (4 .png)" in result.output
    again = run("index", root, "--verbose")  # unchanged files keep their reasons
    assert again.output.count("skipped /") == 33
    assert "  33 empty file (30 .txt, 3 .md)" in again.output


def test_extension_of():
    assert extension_of("/a/README.md.gz") == ".md.gz"
    assert extension_of("/a/changelog.gz") == ".gz"
    assert extension_of("/a/copyright") == "(no extension)"
    assert extension_of("/a/Page.HTML") == ".html"


def test_summary_lines_group_detail_reasons_and_cap_types():
    skipped = [(f"f{n}.{ext}", "unreadable PDF: bad xref" if n % 2 else "unreadable PDF: eof")
               for n, ext in enumerate(["a", "b", "c", "d", "e", "f", "g"])]
    assert summary_lines(skipped, max_types=3) == ["  7 unreadable PDF (1 .a, 1 .b, 1 .c, 4 other)"]
