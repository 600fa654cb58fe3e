"""Near-duplicate hits collapse into one that names its copies (searcher/engine/duplicates.py)."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings, strategies as st

from searcher.console import ExitStatus
from searcher.engine.duplicates import are_copies, fingerprint, group_copies
from tests.test_outline import pdf_with_outline

PARAGRAPHS = [
    "The kettle module boils water for tea. Call boil() with a volume in millilitres and it "
    "returns when the water reaches one hundred degrees, or raises TimeoutError after ten minutes.",
    "Descaling keeps a kettle efficient. Run descale() once a month in hard-water areas; it fills "
    "the kettle with a citric acid solution and rinses it twice before the next boil.",
]
OTHER = ("Herons wade in shallow water and strike at fish with their long bills. "
         "They nest in colonies called heronries, high in the trees beside lakes and rivers.")


def test_a_page_and_its_source_are_copies_but_other_text_is_not():
    html = f"kettle — Boiling water¶ {PARAGRAPHS[0]}"
    rst = f".. function:: boil(volume)\n\n   {PARAGRAPHS[0].replace('boil()', ':func:`boil`')}"
    assert are_copies(fingerprint(html), fingerprint(rst))
    assert not are_copies(fingerprint(html), fingerprint(OTHER))
    assert not are_copies(fingerprint(""), fingerprint(""))


def test_passages_whose_boundaries_differ_are_still_copies():
    text = " ".join(PARAGRAPHS)
    first_and_a_half = text[: len(PARAGRAPHS[0]) + 60]
    assert are_copies(fingerprint(first_and_a_half), fingerprint(text))


def test_groups_keep_rank_order_and_never_join_two_passages_of_one_file():
    texts = [PARAGRAPHS[0], OTHER, PARAGRAPHS[0] + " ", PARAGRAPHS[0], PARAGRAPHS[1]]
    paths = ["a.html", "b.txt", "a.html", "a.rst.txt", "c.md"]
    assert group_copies(texts, paths) == [[0, 3], [1], [2], [4]]


texts_strategy = st.lists(
    st.tuples(st.sampled_from(PARAGRAPHS + [OTHER, "", "tea"]), st.sampled_from(["a", "b", "c"])),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(texts_strategy, st.integers(min_value=0, max_value=12))
def test_every_hit_is_in_one_group_and_groups_of_a_prefix_are_a_prefix(items, cut):
    texts, paths = [t for t, _ in items], [p for _, p in items]
    groups = group_copies(texts, paths)
    assert sorted(i for g in groups for i in g) == list(range(len(texts)))
    assert [g[0] for g in groups] == sorted(g[0] for g in groups)
    for g in groups:
        assert g == sorted(g) and paths[g[0]] not in [paths[i] for i in g[1:]]
    shorter = group_copies(texts[:cut], paths[:cut])
    assert [g[0] for g in shorter] == [g[0] for g in groups if g[0] < cut]


# --- through the CLI ------------------------------------------------------------------

@pytest.fixture
def two_forms(tmp_path):
    root = tmp_path / "docs"
    (root / "_sources" / "library").mkdir(parents=True)
    (root / "library").mkdir()
    body = "".join(f"<p>{p}</p>\n" for p in PARAGRAPHS)
    (root / "library" / "kettle.html").write_text(
        f"<html><head><title>kettle — Boiling water</title></head><body>\n<h1>kettle — Boiling water</h1>\n"
        f"{body}</body></html>\n", encoding="utf-8")
    (root / "_sources" / "library" / "kettle.rst.txt").write_text(
        ":mod:`kettle` --- Boiling water\n===============================\n\n"
        + "\n\n".join(p.replace("boil()", ":func:`boil`") for p in PARAGRAPHS) + "\n", encoding="utf-8")
    (root / "herons.txt").write_text(f"Herons\n\n{OTHER}\n", encoding="utf-8")
    pages = [["Kettle reference", *PARAGRAPHS[0].split(". ")], PARAGRAPHS[1].split(". ")]
    (root / "refman.pdf").write_bytes(pdf_with_outline(pages, []))
    (root / "fullrefman.pdf").write_bytes(pdf_with_outline([["Full manual", "Contents"], *pages], []))
    return root


def test_the_same_text_in_four_files_is_one_hit_naming_the_others(two_forms, run):
    assert run("index", two_forms).exit_code == 0
    result = run("query", "descale", "citric", "--color", "never", "--per-file", "1")
    assert result.exit_code == ExitStatus.FOUND
    heads = [line for line in result.output.splitlines() if line and not line.startswith(" ")]
    assert len(heads) == 1, result.output
    also = [line for line in result.output.splitlines() if line.strip().startswith("also in:")]
    assert len(also) == 1 and also[0].count(",") == 2 and "refman.pdf#page=1:1" in also[0]
    records = [json.loads(line) for line in run("query", "descale citric", "--json", "--per-file", "1").output.splitlines()]
    assert len(records) == 1
    named = {records[0]["path"]} | {copy["path"] for copy in records[0]["copies"]}
    assert {p.rsplit("/", 1)[-1] for p in named} == {"kettle.html", "kettle.rst.txt", "refman.pdf", "fullrefman.pdf"}
    assert all(copy["page"] for copy in records[0]["copies"] if copy["path"].endswith(".pdf"))


def test_no_collapse_and_file_lists_show_every_copy(two_forms, run):
    assert run("index", two_forms).exit_code == 0
    records = [json.loads(line) for line in
               run("query", "descale citric", "--json", "--per-file", "1", "--no-collapse").output.splitlines()]
    assert len(records) == 4 and all(record["copies"] == [] for record in records)
    assert len(run("query", "-l", "descale citric").output.split()) == 4


def test_collapsing_keeps_pages_full_and_in_step(tmp_path, run):
    birds = ["herons", "storks", "cranes", "egrets", "ibises", "bitterns", "spoonbills"]
    vocabulary = (OTHER + " " + " ".join(PARAGRAPHS)).lower().replace(".", "").split()
    for number, bird in enumerate(birds):
        shuffled = random.Random(number).sample(vocabulary, 40)  # texts that share words, not word pairs
        text = f"Field notes on {bird} by the lake: {' '.join(shuffled)}.\n"
        (tmp_path / f"{bird}.txt").write_text(text, encoding="utf-8")
        if number % 2 == 0:
            (tmp_path / f"{bird}-copy.md").write_text(text, encoding="utf-8")
    assert run("index", tmp_path).exit_code == 0

    def keys(*options):
        out = run("query", "field notes lake water", "--json", *options).output
        return [(r["path"], [c["path"] for c in r["copies"]])
                for r in map(json.loads, (line for line in out.splitlines() if line.startswith("{")))]

    everything = keys("-n", "50")
    assert len(everything) == len(birds)
    assert sum(len(copies) for _, copies in everything) == 4
    paged = []
    for number in (1, 2, 3, 4):
        paged += keys("-n", "2", "--page", str(number))
    assert paged == everything
