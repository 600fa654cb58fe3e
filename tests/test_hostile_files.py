"""One bad file never sinks a run: huge paragraphs, analysis that times out, PDF bombs,
extractors past their time or memory limit (issue 13)."""

from __future__ import annotations

import os
import time
import zlib

import pytest

from searcher.index.text import passages
from searcher.index.errors import SkipFile
from searcher.index.reading.isolate import run_isolated


def flate_pdf(content: bytes) -> bytes:
    """A one-page PDF whose content stream is ``content``, Flate-compressed."""
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_long_paragraphs_are_cut_before_sentence_splitting(monkeypatch):
    monkeypatch.setenv("SEARCHER_MAX_PARAGRAPH", "1000")
    text = "\n".join(f"log line {n} with no blank line between" for n in range(2000))
    spans = list(passages._paragraph_spans(text))
    assert all(end - start <= 1000 for start, end in spans)
    assert "".join(text[s:e] for s, e in spans) == text  # nothing lost, nothing doubled
    # cut at line breaks when there are some
    assert all(text[e - 1] == "\n" for s, e in spans[:-1])


def test_single_line_paragraph_is_cut_at_spaces(monkeypatch):
    monkeypatch.setenv("SEARCHER_MAX_PARAGRAPH", "1000")
    text = "word " * 3000
    spans = list(passages._paragraph_spans(text))
    assert len(spans) > 10 and all(end - start <= 1000 for start, end in spans)
    assert all(text[e - 1] == " " for s, e in spans[:-1])


def test_huge_single_line_file_is_indexed_with_its_neighbour(tmp_path, run, monkeypatch):
    monkeypatch.setenv("SEARCHER_MAX_PARAGRAPH", "2000")
    root = tmp_path / "docs"
    root.mkdir()
    (root / "one_line.txt").write_text("The river runs. " * 20_000 + "Final zanzibar sentence.")
    (root / "ordinary.txt").write_text("An ordinary file about lagoons.\n")
    result = run("index", root)
    assert result.exit_code == 0, result.output
    assert "indexed 2 files" in result.output
    hit = run("query", "zanzibar", "--color", "never")
    assert hit.exit_code == 0 and f"{root / 'one_line.txt'}:1:" in hit.output


def test_a_file_whose_analysis_times_out_is_skipped_and_the_run_goes_on(tmp_path, run, monkeypatch):
    import searcher.index.runs.builder

    real = searcher.index.runs.builder.split_passages

    def slow_punkt(text):
        if "poison" in text:  # what nltk's 5 s regex limit raises inside Punkt
            raise TimeoutError("regex match timed out after 5.0s")
        return real(text)

    monkeypatch.setattr(searcher.index.runs.builder, "split_passages", slow_punkt)
    root = tmp_path / "docs"
    root.mkdir()
    (root / "bad.log.txt").write_text("poison line\n" * 100)
    (root / "good.txt").write_text("A good file about lagoons.\n")
    result = run("index", root, "--verbose")
    assert result.exit_code == 0, result.output
    assert "indexed 1 files" in result.output
    assert "bad.log.txt: could not be processed (TimeoutError" in result.output
    assert run("query", "lagoons").exit_code == 0


def test_pdf_whose_stream_inflates_past_the_bound_is_skipped(tmp_path, run):
    root = tmp_path / "docs"
    root.mkdir()
    text = b"BT /F1 12 Tf 72 700 Td (Hello bomb world) Tj ET\n"
    (root / "bomb.pdf").write_bytes(flate_pdf(text + b" " * (40 * 1024 * 1024)))
    (root / "fine.pdf").write_bytes(flate_pdf(b"BT /F1 12 Tf 72 700 Td (Hello fine world) Tj ET\n"))
    result = run("index", root, "--verbose")
    assert result.exit_code == 0, result.output
    assert "bomb.pdf: PDF stream inflates past 32 MiB" in result.output
    assert "indexed 1 files" in result.output
    assert run("query", "fine").exit_code == 0


def _sleep_forever():
    time.sleep(600)


def _allocate(n):
    return len(bytearray(n))


def _fail():
    raise ValueError("bad\nthing")


def test_isolated_extractor_past_its_time_is_killed(monkeypatch):
    monkeypatch.setenv("SEARCHER_EXTRACT_SECONDS", "0.2")
    with pytest.raises(SkipFile, match="took longer than 0.2s"):
        run_isolated(_sleep_forever, what="PDF")


def test_isolated_extractor_past_its_memory_is_stopped(monkeypatch):
    monkeypatch.setenv("SEARCHER_EXTRACT_MEMORY", "64M")
    with pytest.raises(SkipFile, match="needs more than 64 MiB of memory"):
        run_isolated(_allocate, 4 * 1024**3, what="PDF")
    assert run_isolated(_allocate, 1024, what="PDF") == 1024


def test_isolated_extractor_errors_become_one_line_reasons():
    with pytest.raises(SkipFile) as info:
        run_isolated(_fail, what="EPUB")
    assert str(info.value) == "unreadable EPUB: bad thing"


def test_isolated_extractor_works_past_a_thousand_open_descriptors():
    """A long-lived process (a test run, a program using the library) may hold more than
    1023 descriptors: select() refused the extractor's pipe then ("filedescriptor out of
    range"), and every PDF was skipped."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1100:
        pytest.skip("cannot open 1100 descriptors here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1100) if soft != resource.RLIM_INFINITY else soft, hard))
    held = []
    try:
        while not held or held[-1] < 1030:
            held.append(os.open(os.devnull, os.O_RDONLY))
        assert run_isolated(_allocate, 1024, what="PDF") == 1024
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
