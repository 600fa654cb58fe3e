"""``searcher query``'s option rules (searcher/request.py): a pure function, tested without a
terminal or an index; and the CLI's usage errors are the same rules."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from searcher.console import ExitStatus
from searcher.request import DEFAULT_LIMIT, OptionError, query_request


def request(**options):
    return query_request(["rule", "of", "law"], is_tty=False, **options)


@pytest.mark.parametrize("options, message", [
    ({"as_json": True, "files_only": True}, "choose one of --json, -l/--files and --vimgrep"),
    ({"vimgrep": True, "as_json": True}, "choose one of --json, -l/--files and --vimgrep"),
    ({"literal": True, "phrase": True}, "choose one of --literal and --phrase"),
    ({"null": True}, "-0/--null goes with -l/--files"),
    ({"page": 2, "offset": 5}, "choose one of --page and --offset"),
    ({"index_dir": "x", "all_indexes": True}, "choose one of --index, -I/--indexes and --all"),
    ({"index_names": "a,b", "all_indexes": True}, "choose one of --index, -I/--indexes and --all"),
])
def test_options_that_clash(options, message):
    with pytest.raises(OptionError, match=message.replace("-", r"\-").replace("/", "/")):
        request(**options)


def test_defaults():
    r = request()
    assert (r.output, r.limit, r.offset, r.per_file, r.collapse, r.count_total) == ("plain", DEFAULT_LIMIT, 0, 3,
                                                                                   True, False)
    assert r.text == r.typed == "rule of law" and r.how == ""


def test_files_list_every_matching_file_once():
    r = request(files_only=True)
    assert (r.output, r.per_file, r.collapse) == ("files", 1, False)
    assert r.limit >= 10**9
    assert request(files_only=True, limit=5).limit == 5
    assert r.search_options()["highlight"] is False


@given(page=st.integers(1, 1000), limit=st.one_of(st.none(), st.integers(1, 1000)))
def test_a_page_is_an_offset_of_whole_pages(page, limit):
    r = request(page=page, limit=limit)
    assert r.offset == (page - 1) * (limit or DEFAULT_LIMIT)
    assert r.count_total == (r.offset > 0)  # an offset needs the exact total; a pipe does not


def test_the_total_is_counted_for_the_header_on_a_terminal_only():
    assert query_request(["x"], is_tty=True).count_total
    assert not query_request(["x"], is_tty=True, as_json=True).count_total
    assert not query_request(["x"], is_tty=False).count_total


def test_literal_and_phrase_rewrite_the_text():
    r = query_request(["C++", "(draft)", "-rice"], is_tty=False, literal=True)
    assert r.how == "--literal" and r.typed == "C++ (draft) -rice"
    assert "(" not in r.text and "-rice" not in r.text
    p = query_request(["rule", "of", "law"], is_tty=False, phrase=True)
    assert p.how == "--phrase" and p.text.startswith('"') and p.text.endswith('"')


def test_per_file_zero_is_no_cap():
    assert request(per_file=0).per_file is None


@pytest.mark.parametrize("args, message", [
    (["--json", "-l"], "choose one of --json, -l/--files and --vimgrep"),
    (["-F", "--phrase"], "choose one of --literal and --phrase"),
    (["-0"], "-0/--null goes with -l/--files"),
    (["--page", "2", "--offset", "3"], "choose one of --page and --offset"),
])
def test_the_cli_reports_the_same_rules(run, args, message):
    result = run("query", "rice", *args)
    assert result.exit_code == ExitStatus.ERROR
    assert message in result.output
