"""The command line: parses options, calls the library, prints. No search logic lives here."""

from __future__ import annotations

import errno
import os
import sys

import click

from searcher import __version__
from searcher.console import Console, ExitStatus, end_on_closed_output, escape_line, json_safe
from searcher.location import INDEX_ENV, default_index_dir


class UserError(click.ClickException):
    """A one-line error for the user; exit status 2, as grep."""

    exit_code = int(ExitStatus.ERROR)

    def show(self, file=None):
        # Messages quote paths and words the user or a document gave: one line, nothing raw.
        click.echo(f"searcher: error: {escape_line(self.format_message())}", file=file or sys.stderr)


def _escaped(exc: click.ClickException) -> click.ClickException:
    """click's own usage errors quote the command line (an option, a file name) back: escape it."""
    exc.message = escape_line(exc.message)
    return exc


class SearcherGroup(click.Group):
    """Turns library errors into one-line messages; tracebacks only with --debug."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as exc:
            raise _escaped(exc) from None

    def invoke(self, ctx):
        from index.errors import IndexingError
        from searcher.errors import QueryError

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except click.ClickException as exc:
            raise _escaped(exc) from None
        except (IndexingError, QueryError) as exc:
            if ctx.params.get("debug"):
                raise
            raise UserError(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("searcher: interrupted", file=sys.stderr)
            raise click.exceptions.Exit(int(ExitStatus.INTERRUPTED)) from None
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            raise UserError(f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)") from None


def index_dir_option(f):
    return click.option(
        "--index", "index_dir", type=click.Path(file_okay=False), default=None,
        help=f"Index directory. Default: ${INDEX_ENV}, else ~/.local/share/searcher/index.",
    )(f)


def resolve_index_dir(index_dir):
    return index_dir if index_dir else str(default_index_dir())


def console_for(color_mode: str = "auto") -> Console:
    """The invocation's one Console (made by the group, or given as the context's ``obj``)."""
    ctx = click.get_current_context()
    console = ctx.find_object(Console)
    if console is None:  # a command invoked on its own, not through the group
        console = ctx.ensure_object(Console)
    return console.use_color(color_mode)


@click.group(cls=SearcherGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="searcher")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx, debug):
    """Full-text search for the terminal: ranked passages with highlighted snippets.

    \b
    Index a folder once, then query it:
      searcher index ~/notes
      searcher query "rule of law"
    """
    ctx.ensure_object(Console)


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@index_dir_option
@click.option("--rebuild", is_flag=True,
              help="Start the index from scratch; the old one answers queries until the new one is complete.")
@click.option("--language", default=None,
              help="Stemming language (a Snowball language, e.g. english, french, german). "
                   "Default: the index's own, else english.")
@click.option("--include", multiple=True, metavar="GLOB",
              help="Index only files whose name or relative path matches GLOB (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Leave out files and folders whose name or relative path matches GLOB (repeatable).")
@click.option("--max-size", default="20M", show_default=True, metavar="SIZE",
              help="Skip files larger than SIZE (e.g. 500K, 20M, 1G).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: one per core).")
@click.option("--wait", "wait_seconds", type=click.FloatRange(min=0), default=10, show_default=True,
              help="If another 'searcher index' is writing to the index, wait this many seconds for it.")
@click.option("--commit-every", type=click.FloatRange(min=0), default=None, hidden=True,
              help="Publish finished work every this many seconds (default 60).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", is_flag=True, help="List every file left out, with its reason.")
def index_command(paths, index_dir, rebuild, language, include, exclude, max_size, jobs, wait_seconds,
                  commit_every, quiet, verbose):
    """Index the files and folders PATHS (.txt, .md, .rst, .html, .pdf, .docx, .odt, .epub,
    .eml, mbox; these gzipped; text files without an extension such as README).

    Re-running it reads only new and changed files, and removes from the index
    the files that are gone from under PATHS.

    \b
    Examples:
      searcher index ~/notes
      searcher index --index /tmp/idx report.pdf articles/
      searcher index ~/src --include '*.md' --exclude build/ --max-size 1M
    """
    from index.analysis import SNOWBALL_LANGUAGES
    from index.reader import parse_size
    from index.writer import COMMIT_SECONDS, build_index
    from searcher.progress import ProgressBar

    if language is not None and language not in SNOWBALL_LANGUAGES:
        raise click.BadParameter(
            f"{language!r} is not one of: {', '.join(SNOWBALL_LANGUAGES)}", param_hint="--language")
    try:
        max_bytes = parse_size(max_size)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-size") from None
    if max_bytes <= 0:
        raise click.BadParameter("must be more than 0", param_hint="--max-size")
    index_dir = resolve_index_dir(index_dir)
    if os.path.isdir(index_dir) and not os.access(index_dir, os.W_OK):
        raise UserError(_read_only(index_dir, errno.EROFS if _on_read_only_fs(index_dir) else errno.EACCES))
    console = console_for()
    progress = ProgressBar(console.err) if not quiet and ProgressBar.wanted(console.err) else None
    try:
        report = build_index(
            paths, index_dir, language=language, rebuild=rebuild,
            include=include, exclude=exclude, max_bytes=max_bytes, jobs=jobs,
            lock_timeout=wait_seconds,
            commit_seconds=COMMIT_SECONDS if commit_every is None else commit_every,
            on_progress=progress, on_wait=lambda message: console.info(f"searcher: {escape_line(message)}"),
        )
    except KeyboardInterrupt as exc:
        if progress:
            progress.close()
        console.info(f"searcher: interrupted: {interrupted_summary(exc)}")
        sys.exit(int(ExitStatus.INTERRUPTED))
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and _inside(exc.filename, index_dir):
            raise UserError(_read_only(index_dir, exc.errno)) from None
        raise
    finally:
        if progress:
            progress.close()
    if not quiet:
        if verbose:
            for skipped in report.skipped:
                console.info(f"skipped {escape_line(skipped.path)}: {escape_line(skipped.reason)}")
        console.info(
            f"indexed {report.files_indexed} files: {report.added} added, {report.updated} updated, "
            f"{report.removed} removed, {report.unchanged} unchanged, {len(report.skipped)} skipped "
            f"({report.passages} passages, {report.seconds:.2f}s)"
        )
        if report.skipped or report.unsupported:
            from index.leftout import summary_lines

            left_out = len(report.skipped) + sum(report.unsupported.values())
            hint = "" if verbose or not report.skipped else " (--verbose lists them)"
            console.info(f"left out {left_out} files{hint}:")
            for line in summary_lines(((s.path, s.reason) for s in report.skipped), report.unsupported):
                console.info(escape_line(line))
        console.info(
            f"index: {escape_line(report.index_dir)} "
            f"({report.files_in_index} files, {report.passages_in_index} passages)"
        )


def _read_only(index_dir, code) -> str:
    why = "a read-only file system" if code == errno.EROFS else "no permission to write"
    return f"the index at {index_dir} is read-only ({why}): it can be searched, not updated"


def _on_read_only_fs(path) -> bool:
    return bool(getattr(os, "statvfs", None) and os.statvfs(path).f_flag & getattr(os, "ST_RDONLY", 1))


def _inside(path, folder) -> bool:
    if path is None:
        return True  # an error about no file in particular, during a run that writes only the index
    path, folder = os.path.realpath(os.fsdecode(path)), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def interrupted_summary(exc: KeyboardInterrupt) -> str:
    """What an interrupted run kept, when it got to commit its finished files."""
    from index.reader import format_size
    from index.writer import RunInterrupted

    if not isinstance(exc, RunInterrupted):
        return "the index keeps what was committed; run the same command again to finish"
    r = exc.report
    share = f" ({r.bytes_committed / r.bytes_planned:.0%} of {format_size(r.bytes_planned)})" if r.bytes_planned else ""
    left = r.files_planned - r.files_committed
    return (f"kept {r.files_committed} of the {r.files_planned} files this run was reading{share}; "
            + (f"run the same command again to read the other {left}" if left else "nothing is left to read"))


@cli.command("status")
@index_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status_command(index_dir, as_json):
    """Show where the index is, what it holds and how it was built.

    \b
    Examples:
      searcher status
      searcher status --json --index /tmp/idx
    """
    import json
    from dataclasses import asdict

    from index.reader import format_size
    from index.store import index_status

    status = index_status(resolve_index_dir(index_dir))
    console = console_for()
    if as_json:
        console.print(json_safe(json.dumps(asdict(status), ensure_ascii=False)))
        return
    rows = [
        ("index", status.index_dir),
        ("files", "unknown (run 'searcher index' to repair the file list)" if status.files is None
         else f"{status.files} indexed" + (f", {status.skipped_files} skipped" if status.skipped_files else "")),
        ("passages", str(status.passages)),
        ("size", format_size(status.size_bytes)),
        ("updated", status.updated or "never"),
        ("language", f"{status.language} (Snowball stemming)"),
        ("schema", str(status.schema_version)),
    ]
    for number, root in enumerate(status.roots or ["(none)"]):
        rows.append(("roots" if number == 0 else "", root))
    if status.indexing:
        rows.append(("state", "a 'searcher index' run is writing to it now"))
    elif status.rebuilding:
        rows.append(("state", "a --rebuild was interrupted: run it again to finish"))
    for label, value in rows:
        console.print(f"{label:<9} {escape_line(value)}".rstrip())


cli.add_command(
    click.Command("stats", callback=status_command.callback, params=status_command.params,
                  help="Same as 'status'.", hidden=True)
)


def color_option(f):
    return click.option(
        "--color", "color_mode", type=click.Choice(["auto", "always", "never"]), default="auto",
        show_default=True, help="Colour highlights; auto means on a terminal unless NO_COLOR is set.",
    )(f)


@cli.command("query")
@click.argument("words", nargs=-1, required=True)
@index_dir_option
@click.option("-n", "--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="Show at most this many passages (default 10; with -l every matching file).")
@click.option("--page", type=click.IntRange(min=1), default=None, metavar="N",
              help="Show page N of the results, --limit passages a page.")
@click.option("--offset", type=click.IntRange(min=0), default=None, metavar="N",
              help="Skip this many passages first (--page 3 is --offset 20 at the default limit).")
@click.option("--per-file", default=3, show_default=True, type=click.IntRange(min=0), metavar="N",
              help="At most this many passages from one file (0: no cap).")
@click.option("-C", "--context", type=click.IntRange(min=0), default=None, metavar="N",
              help="Show each passage as its numbered lines, with N more lines before and after.")
@click.option("-l", "--files", "files_only", is_flag=True,
              help="Print only the matching files, best first, one per line (for xargs and pipes).")
@click.option("-0", "--null", is_flag=True,
              help="With -l: end each file name with a NUL byte instead of a newline, and print it "
                   "as the file system has it (for xargs -0).")
@click.option("--vimgrep", is_flag=True,
              help="Print path:line:column: text for each match, for editors' quickfix lists.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit (JSON lines).")
@click.option("-F", "--literal", is_flag=True,
              help="Search the words as plain words: no operators, quotes, fields or patterns.")
@click.option("--phrase", is_flag=True, help="Search all the words as one exact phrase, with no operators.")
@click.option("--explain", is_flag=True,
              help="Print how the query was understood (on stderr, before the results).")
@click.option("--fix", is_flag=True,
              help="If a word looks misspelled, search for the suggested correction instead.")
@click.option("--expand/--no-expand", default=None,
              help="Add related words from the best matches (query expansion). "
                   "Default: only for questions of 4+ loose words, never for keywords or phrases.")
@click.option("--no-collapse", "show_copies", is_flag=True,
              help="Show near-duplicate passages of other files as hits of their own, "
                   "instead of naming them under the best one ('also in:').")
@color_option
@click.pass_context
def query_command(ctx, words, index_dir, limit, page, offset, per_file, context, files_only, null, vimgrep,
                  as_json, literal, phrase, explain, fix, expand, show_copies, color_mode):
    """Search the index for WORDS and print the best passages as path:line.

    \b
    Examples:
      searcher query japan ukraine cooperation
      searcher query '"rules-based international order"'
      searcher query 'title:latvia AND security -china'
      searcher query --explain 'cooperat* -china'
      searcher query --literal 'C++ (draft)'
      searcher query -l energy | xargs wc -l
      searcher query --vimgrep 'rule of law' > hits.txt   # vim: :cfile hits.txt
      searcher query -C 2 --page 2 security
    """
    import time

    started = time.perf_counter()
    end_on_closed_output()
    if sum((as_json, files_only, vimgrep)) > 1:
        raise click.UsageError("choose one of --json, -l/--files and --vimgrep")
    if literal and phrase:
        raise click.UsageError("choose one of --literal and --phrase")
    if null and not files_only:
        raise click.UsageError("-0/--null goes with -l/--files")
    if page is not None and offset is not None:
        raise click.UsageError("choose one of --page and --offset")

    from searcher import output
    from searcher.reading import literal_text, phrase_text
    from searcher.search import SearchSession

    console = console_for(color_mode)
    index_dir = resolve_index_dir(index_dir)
    typed = text = " ".join(words)
    how = "--literal" if literal else "--phrase" if phrase else ""
    if literal or phrase:
        text = (literal_text if literal else phrase_text)(text) or text
    if files_only:
        limit, per_file = limit or 10**9, 1
    limit = limit or 10
    offset = (page - 1) * limit if page else offset or 0
    plain = not (as_json or files_only or vimgrep)
    run = dict(limit=limit, offset=offset, per_file=per_file or None, highlight=not files_only,
               exact_total=(plain and console.is_tty) or offset > 0, expand=expand,
               collapse=not (show_copies or files_only))  # -l: every matching file

    session = SearchSession(index_dir)
    result = session.search(text, **run)
    suggestion = _suggestion(index_dir, session, result, run)
    if fix and suggestion is not None:
        console.info(f"searching for {escape_line(suggestion.text)} instead ({escape_line(suggestion.changes())})")
        result, suggestion, how = session.search(suggestion.text, **run), None, "--fix"
    if explain:
        for line in output.explanation(result.query, index_dir, typed, how):
            console.info(escape_line(line))

    if plain and console.is_tty:
        header = output.results_header(result.total, offset + 1, len(result.hits), time.perf_counter() - started)
        console.print(console.style(header, dim=True) + "\n")
    for number, hit in enumerate(result.hits):
        if as_json:
            console.print(output.hit_json(hit))
        elif files_only:
            output.print_file(console, hit.path, null)
        elif vimgrep:
            for line in output.vimgrep_lines(console, hit):
                console.print(line)
        else:
            if number:
                console.print()
            if context is None:
                console.print(output.format_hit(console, hit))
            else:
                console.print(output.format_hit_with_context(console, hit, context))

    if not result.hits:
        for line in output.nothing_found(index_dir, result, offset):
            console.info(escape_line(line))
        if not offset:
            for line in output.unquoted_hint(session, result):
                console.info(escape_line(line))
    if suggestion is not None:
        console.info(f"did you mean: {escape_line(suggestion.text)}  ({escape_line(suggestion.changes())}; "
                     "--fix searches for it)")
    ctx.exit(int(ExitStatus.FOUND if result.hits else ExitStatus.NOTHING_FOUND))


def _suggestion(index_dir, session, result, run):
    """A "did you mean" when a word is unknown to the index, or the first page shows very few hits."""
    from searcher.suggest import FEW_HITS, did_you_mean, has_unknown_words

    shown = len(result.hits)
    few = run["offset"] == 0 and shown <= FEW_HITS and shown < run["limit"]
    if not few and not has_unknown_words(session.searcher.reader(), result.query):
        return None
    return did_you_mean(index_dir, result.query, shown, per_file=run["per_file"])


@cli.command("show")
@click.argument("location", metavar="PATH[:LINE]")
@click.argument("words", nargs=-1)
@index_dir_option
@click.option("-C", "--context", type=click.IntRange(min=0), default=0, metavar="N",
              help="With :LINE, also show N lines before and after the passage.")
@color_option
def show_command(location, words, index_dir, context, color_mode):
    """Print the passage at PATH:LINE (or all of PATH) with the query WORDS highlighted.

    PATH:LINE is what `searcher query` prints; the passage is the indexed one
    that holds LINE. Lines of the passage are numbered N:, context lines N-.

    \b
    Examples:
      searcher show notes/japan.txt:5 rule of law
      searcher show -C 3 notes/japan.txt:5 '"rule of law"'
      searcher show README.md
    """
    from searcher.output import format_shown
    from searcher.show import show

    end_on_closed_output()
    console = console_for(color_mode)
    shown = show(resolve_index_dir(index_dir), location, " ".join(words), context)
    for line in format_shown(console, shown):
        console.print(line)


def main():
    from index.lean_whoosh import import_whoosh

    import_whoosh()  # start-up time: see index/lean_whoosh.py
    cli(prog_name="searcher")
