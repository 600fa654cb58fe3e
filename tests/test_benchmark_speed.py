"""The speed benchmark's options and table: a tiny end-to-end run through the real script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import speed

SPEED_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"
CRANFIELD = Path(__file__).resolve().parents[2] / "shared" / "eval" / "cranfield" / "cran.all.1400"


def _run(*args, tmp_path):
    return subprocess.run([sys.executable, str(SPEED_PY), *args, "--data", str(tmp_path / "data"),
                           "--out", str(tmp_path / "out"), "--json", str(tmp_path / "speed.json")],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("option", ["--query-count", "--docs-per-file", "--jobs"])
def test_counts_below_one_are_refused_in_one_line(option, tmp_path):
    run = _run("--docs", "5", option, "0", tmp_path=tmp_path)
    assert run.returncode == 2 and f"{option} must be at least 1" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "data").exists()


def test_table_shows_load_averages_and_reindex_memory():
    results = {"searcher": {"metrics": {"index_s": 2.0, "reindex_peak_rss_mb": 99.0, "keywords_p50_ms": 12.0},
                            "errors": {}, "load_averages": {"index": [1.0, 2.5], "warm": [2.5, 0.5]}}}
    table = speed.format_table(results)
    assert "re-index peak RSS (MB)" in table and " 99 " in table
    assert "warm 1-3 keywords p50 (ms)" in table and "<= 10 MISS" in table
    assert "load average (1 min) before/after, searcher: index 1.0/2.5, warm 2.5/0.5" in table


@pytest.mark.skipif(not CRANFIELD.exists(), reason="shared Cranfield collection not available")
def test_packed_corpus_query_count_and_skipped_phases(tmp_path):
    run = _run("--docs", "12", "--docs-per-file", "4", "--engines", "searcher", "--query-count", "2",
               "--cold", "0", "--no-reindex", tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert len(list((tmp_path / "data" / "cranfield-12-p4" / "docs").rglob("*.txt"))) == 3
    report = json.loads((tmp_path / "speed.json").read_text())
    assert list(report["results"]) == ["searcher"] and report["files"] == 3 and report["queries"] == {"keywords": 2, "phrases": 2, "questions": 2}
    metrics = report["results"]["searcher"]["metrics"]
    assert metrics["passages"] > 12 and "keywords_p50_ms" in metrics
    # CPU time of a query cannot exceed its wall time by more than the clocks' resolution
    assert 0 <= metrics["questions_cpu_p50_ms"] <= metrics["questions_p95_ms"] + 1
    assert "warm questions CPU p50 (ms)" in run.stdout
    assert "reindex_s" not in metrics and "cold_median_ms" not in metrics
    assert set(report["results"]["searcher"]["load_averages"]) == {"index", "warm"}
    assert "load average (1 min) before/after, searcher: index" in run.stdout
