import os

import pytest

from searcher.index.errors import PathNotFound
from searcher.index.runs.leftout import UNSUPPORTED
from searcher.index.runs.walker import FoundFile, SkippedFile, walk


def make_tree(root, files):
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def found(results, root):
    """Paths of the FoundFiles, relative to root, in the order walked."""
    return [os.path.relpath(r.path, root) for r in results if isinstance(r, FoundFile)]


def skipped(results, root):
    return {os.path.relpath(r.path, root): r.reason for r in results if isinstance(r, SkippedFile)}


def test_folders_are_walked_in_sorted_order(tmp_path):
    make_tree(tmp_path, {"b.txt": "b", "a/z.md": "z", "a/b/c.rst": "c", "c.html": "c", "a.txt": "a"})
    results = list(walk([tmp_path]))
    assert found(results, tmp_path) == ["a/b/c.rst", "a/z.md", "a.txt", "b.txt", "c.html"]
    assert found(list(walk([tmp_path])), tmp_path) == found(results, tmp_path)


def test_found_file_has_absolute_path_size_and_mtime(tmp_path, monkeypatch):
    make_tree(tmp_path, {"docs/a.txt": "hello"})
    monkeypatch.chdir(tmp_path)
    [result] = list(walk(["docs"]))
    path = tmp_path / "docs" / "a.txt"
    assert result == FoundFile(str(path), 5, path.stat().st_mtime_ns)


def test_hidden_entries_skipped_inside_folders_but_explicit_hidden_file_walked(tmp_path):
    make_tree(tmp_path, {".hidden.txt": "h", ".git/config.txt": "g", "seen.txt": "s"})
    assert found(list(walk([tmp_path])), tmp_path) == ["seen.txt"]
    assert found(list(walk([tmp_path / ".hidden.txt"])), tmp_path) == [".hidden.txt"]


def test_unsupported_suffix_skipped_in_folders_but_explicit_file_tried(tmp_path):
    make_tree(tmp_path, {"notes.txt": "n", "program.py": "p", "cran.all.1400": "c", "image.png": "i"})
    results = list(walk([tmp_path]))
    assert found(results, tmp_path) == ["notes.txt"]
    assert skipped(results, tmp_path) == {
        "program.py": UNSUPPORTED, "cran.all.1400": UNSUPPORTED, "image.png": UNSUPPORTED}
    explicit = [tmp_path / "program.py", tmp_path / "cran.all.1400"]
    assert found(list(walk(explicit)), tmp_path) == ["program.py", "cran.all.1400"]


def test_extensionless_names_and_gzipped_documents_are_walked(tmp_path):
    make_tree(tmp_path, {"README": "r", "copyright": "c", "changelog.Debian.gz": "x", "NEWS.md.gz": "n",
                         "changelog.gz": "c", "old.tar.gz": "t", "logo.svg.gz": "s"})
    results = list(walk([tmp_path]))
    assert found(results, tmp_path) == ["NEWS.md.gz", "README", "changelog.Debian.gz", "changelog.gz",
                                        "copyright"]
    assert skipped(results, tmp_path) == {"old.tar.gz": UNSUPPORTED, "logo.svg.gz": UNSUPPORTED}


def test_suffix_match_ignores_case(tmp_path):
    make_tree(tmp_path, {"README.MD": "r", "Page.HTML": "p"})
    assert found(list(walk([tmp_path])), tmp_path) == ["Page.HTML", "README.MD"]


def test_exclude_matches_relative_path_or_basename(tmp_path):
    make_tree(tmp_path, {"keep.txt": "", "drafts/a.txt": "", "build/out.html": "",
                         "sub/build/x.txt": "", "sub/notes.md": ""})
    results = list(walk([tmp_path], exclude=["build/", "drafts/*"]))
    assert found(results, tmp_path) == ["keep.txt", "sub/notes.md"]
    assert found(list(walk([tmp_path], exclude=["*.txt"])), tmp_path) == ["build/out.html", "sub/notes.md"]


def test_include_restricts_files_not_folders(tmp_path):
    make_tree(tmp_path, {"a.md": "", "a.txt": "", "deep/er/b.md": "", "deep/c.txt": ""})
    assert found(list(walk([tmp_path], include=["*.md"])), tmp_path) == ["a.md", "deep/er/b.md"]
    assert found(list(walk([tmp_path], include=["deep/*.txt"])), tmp_path) == ["deep/c.txt"]


def test_exclude_wins_over_include(tmp_path):
    make_tree(tmp_path, {"a.md": "", "b.md": ""})
    assert found(list(walk([tmp_path], include=["*.md"], exclude=["b.md"])), tmp_path) == ["a.md"]


def test_filters_apply_to_explicit_files_by_basename(tmp_path):
    make_tree(tmp_path, {"a.md": "", "b.txt": ""})
    paths = [tmp_path / "a.md", tmp_path / "b.txt"]
    assert found(list(walk(paths, exclude=["*.txt"])), tmp_path) == ["a.md"]


def test_missing_path_raises_before_anything_is_yielded(tmp_path):
    make_tree(tmp_path, {"a.txt": ""})
    missing = tmp_path / "nope"
    with pytest.raises(PathNotFound, match=r"nope: no such file or directory"):
        walk([tmp_path / "a.txt", missing])  # at call time, not on first next()


def test_broken_symlinks_are_reported(tmp_path):
    make_tree(tmp_path, {"real.txt": ""})
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    results = list(walk([tmp_path]))
    assert found(results, tmp_path) == ["real.txt"]
    assert skipped(results, tmp_path) == {"dangling.txt": "broken symlink"}
    assert list(walk([tmp_path / "dangling.txt"])) == [
        SkippedFile(str(tmp_path / "dangling.txt"), "broken symlink")
    ]


def test_symlink_loop_terminates_and_yields_each_file_once(tmp_path):
    make_tree(tmp_path, {"dir/a.txt": "", "dir/sub/b.txt": ""})
    (tmp_path / "dir" / "sub" / "loop").symlink_to(tmp_path / "dir")
    (tmp_path / "dir" / "self").symlink_to(".")
    results = list(walk([tmp_path]))
    assert found(results, tmp_path) == ["dir/a.txt", "dir/sub/b.txt"]


def test_file_reached_twice_through_symlinks_is_yielded_once(tmp_path):
    make_tree(tmp_path, {"docs/a.txt": "", "other/b.txt": ""})
    (tmp_path / "docs" / "alias.txt").symlink_to(tmp_path / "docs" / "a.txt")
    (tmp_path / "linked").symlink_to(tmp_path / "other")
    results = list(walk([tmp_path, tmp_path / "docs" / "a.txt"]))
    assert found(results, tmp_path) == ["docs/a.txt", "linked/b.txt"]


def test_symlinked_root_keeps_its_own_name(tmp_path):
    make_tree(tmp_path, {"real/a.txt": ""})
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert found(list(walk([tmp_path / "link"])), tmp_path) == ["link/a.txt"]


def test_files_over_size_cap_are_reported(tmp_path):
    make_tree(tmp_path, {"small.txt": "x", "big.txt": "x" * 3000})
    results = list(walk([tmp_path], max_bytes=2048))
    assert found(results, tmp_path) == ["small.txt"]
    assert skipped(results, tmp_path) == {"big.txt": "larger than 2 KiB (raise --max-size)"}


def test_spaces_and_non_ascii_names(tmp_path):
    make_tree(tmp_path, {"my notes/réunion été.md": "", "日本/テスト.txt": ""})
    results = list(walk([tmp_path / "my notes", tmp_path / "日本"]))
    assert found(results, tmp_path) == ["my notes/réunion été.md", "日本/テスト.txt"]


def test_same_folder_given_twice_is_walked_once(tmp_path):
    make_tree(tmp_path, {"a.txt": ""})
    assert found(list(walk([tmp_path, tmp_path])), tmp_path) == ["a.txt"]


def test_fifo_given_explicitly_is_not_read(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert list(walk([fifo])) == [SkippedFile(str(fifo), "not a regular file")]
    assert list(walk([tmp_path])) == []  # inside folders: silently left out


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read folders with mode 000")
def test_unreadable_folder_is_reported(tmp_path):
    make_tree(tmp_path, {"locked/a.txt": "", "open.txt": ""})
    os.chmod(tmp_path / "locked", 0)
    try:
        results = list(walk([tmp_path]))
    finally:
        os.chmod(tmp_path / "locked", 0o700)
    assert found(results, tmp_path) == ["open.txt"]
    assert skipped(results, tmp_path) == {"locked": "permission denied"}
