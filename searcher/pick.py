"""``searcher pick``: the ranked hits through fzf, ``searcher show`` as the preview, and the
chosen passage opened in ``$EDITOR`` at its line.

fzf gets one line per hit: ``number<TAB>path<TAB>line<TAB>what is shown``; it shows the
fourth field only, gives the path and line to the preview command (fzf quotes what it
substitutes), and prints the chosen line back, whose number picks the hit (with
``--filter``, fzf prints the shown field only, which is then looked up). The shown text
is sanitized like every other output; a path holding a tab or a newline cannot travel in
such a line and is left out, with a message.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

from searcher.console import one_line

FZF_MISSING = ("searcher pick needs fzf, which is not installed (https://github.com/junegunn/fzf; "
               "e.g. 'apt install fzf' or 'brew install fzf'); 'searcher query' prints the same hits")

# Editors that take "path:line" (or "-g path:line") rather than "+line path".
_GOTO_FLAG = {"code", "code-insiders", "codium", "cursor", "windsurf"}
_PATH_COLON_LINE = {"subl", "sublime_text", "hx", "helix", "zed", "mate"}


def fzf_lines(hits) -> tuple[list[str], int]:
    """(fzf's input lines, how many hits were left out for a tab or newline in their path)."""
    from searcher.present.output import shown_path

    lines, left_out = [], 0
    for number, hit in enumerate(hits):
        if "\t" in hit.path or "\n" in hit.path:
            left_out += 1
            continue
        where = f"{shown_path(hit.path)}:{hit.start_line}:"
        snippet = " … ".join(one_line(hit.text[f.start:f.end]) for f in hit.fragments) or one_line(hit.text)
        shown = f"{where} {one_line(hit.title)} — {snippet}" if hit.title else f"{where} {snippet}"
        lines.append(f"{number}\t{hit.path}\t{hit.start_line}\t{shown}")
    return lines, left_out


def fzf_command(fzf: str, index_dir: str, query_words) -> list[str]:
    show = [sys.executable, "-m", "searcher", "show", "--index", os.path.abspath(index_dir),
            "--color", "always", "-C", "3", "--", "{2}:{3}", *query_words]
    # fzf runs the preview through a shell: every fixed part is quoted here, {2} and {3} by fzf.
    preview = " ".join(part if part in ("{2}:{3}",) else shlex.quote(part) for part in show)
    return [fzf, "--delimiter", "\t", "--with-nth", "4..", "--no-sort",
            "--prompt", "searcher> ", "--preview", preview, "--preview-window", "right,60%,wrap"]


def editor_command(editor: str, path: str, line: int) -> list[str]:
    """The command that opens ``path`` at ``line`` in ``editor`` ($EDITOR, which may hold options)."""
    words = shlex.split(editor)
    name = os.path.basename(words[0])
    if name in _GOTO_FLAG:
        return [*words, "-g", f"{path}:{line}"]
    if name in _PATH_COLON_LINE:
        return [*words, f"{path}:{line}"]
    return [*words, f"+{line}", path]  # vi, vim, nvim, nano, emacs, micro, kak, joe, …


def choose(fzf: str, index_dir: str, query_words, lines: list[str]) -> tuple[int, int | None]:
    """(fzf's exit status, the chosen hit's number or None)."""
    proc = subprocess.run(fzf_command(fzf, index_dir, query_words), input="\n".join(lines) + "\n",
                          stdout=subprocess.PIPE, text=True, encoding="utf-8", errors="surrogateescape")
    chosen = proc.stdout.split("\n", 1)[0]
    if proc.returncode != 0 or not chosen:
        return proc.returncode, None
    if "\t" in chosen:
        number = chosen.split("\t", 1)[0]
        return 0, int(number) if number.isdigit() else None
    # fzf's --filter prints only the fields it showed (--with-nth): find the line by them.
    shown = {line.split("\t", 3)[3]: int(line.split("\t", 1)[0]) for line in reversed(lines)}
    return 0, shown.get(chosen)


def find_fzf() -> str | None:
    return shutil.which("fzf")
