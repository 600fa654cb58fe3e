"""benchmarks/same_index.py: two indexes of the same files compare equal, and a change shows."""

from benchmarks import same_index
from searcher.index.runs.writer import build_index

TEXT = ("Wings stall at high angles of attack. The flow separates near the tip, e.g. at Mach 0.8.\n\n"
        "Dr. Smith measured the pressure in 1996. Boundary layers thicken downstream.\n")


def test_same_contents_and_a_changed_file(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(3):
        (docs / f"d{n}.txt").write_text(f"Report {n}\n\n" + TEXT * (n + 1))
    build_index([docs], tmp_path / "a", jobs=1)
    build_index([docs], tmp_path / "b", jobs=1)
    assert same_index.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert capsys.readouterr().out.startswith("same: ")

    (docs / "d1.txt").write_text("Report 1\n\nThe pressure rose. Nothing else was measured.\n")
    build_index([docs], tmp_path / "b", jobs=1)  # the old passages are deleted, not gone from the segment
    assert same_index.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "passages only in A: 1, only in B: 0" in out and "postings of ('body', b'downstream') differ" in out
