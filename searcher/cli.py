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
    """click's own usage errors quote the command line (an option, a file name) back: escape
    it, and say it in one line (click's "Usage: ... Try ... Error: ..." is four) that names
    the help to read."""
    if isinstance(exc, click.UsageError):
        where = exc.ctx.command_path if exc.ctx is not None else "searcher"
        return UserError(f"{exc.format_message()} (see '{where} --help')")
    exc.message = escape_line(exc.message)
    return exc


class SearcherGroup(click.Group):
    """Turns library errors into one-line messages; tracebacks only with --debug."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as exc:
            raise _escaped(exc) from None
        except KeyboardInterrupt:  # (click would print "Aborted!" and exit with 1)
            click.echo("searcher: interrupted", file=sys.stderr)
            raise click.exceptions.Exit(int(ExitStatus.INTERRUPTED)) from None

    def invoke(self, ctx):
        from searcher.index.errors import SearcherError

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except click.ClickException as exc:
            raise _escaped(exc) from None
        except SearcherError as exc:
            if ctx.params.get("debug"):
                raise
            raise UserError(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("searcher: interrupted", file=sys.stderr)
            raise click.exceptions.Exit(int(ExitStatus.INTERRUPTED)) from None
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            if _damaged_index(exc):
                kind = type(exc).__name__ if type(exc).__name__ != "error" else f"{type(exc).__module__}.error"
                raise UserError(f"the index cannot be read ({kind}: {exc}): it is damaged; "
                                "rebuild it with 'searcher index --rebuild PATH...'") from None
            raise UserError(f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)") from None


def _damaged_index(exc: Exception) -> bool:
    """Whether ``exc`` says an index file's bytes are not what was written: an error of
    decoding (zlib, struct, pickle, text, whoosh's tables) raised while whoosh or the
    storage modules were reading, not a fault of the query code."""
    from searcher.index.storage.whoosh_private import DAMAGED_DATA_ERRORS

    if not isinstance(exc, DAMAGED_DATA_ERRORS):
        return False
    frame = exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_globals.get("__name__", "").startswith(("whoosh.", "searcher.index.storage.")):
            return True
        frame = frame.tb_next
    return False


def index_dir_option(f):
    return click.option(
        "--index", "index_dir", type=click.Path(file_okay=False), default=None, metavar="NAME|DIR",
        help=f"The index: a name ('searcher list') or a folder. Default: ${INDEX_ENV}, "
             "else ~/.local/share/searcher/index.",
    )(f)


CONFIG_KEY = "searcher.config"  # ctx.meta: the config read by the group (searcher/config.py)


def resolve_index_dir(index_dir):
    if not index_dir:
        return str(default_index_dir())
    from searcher.indexes import resolve  # names: searcher/indexes.py

    return resolve(index_dir)


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
@click.option("--no-config", is_flag=True,
              help="Ignore the config file ($SEARCHER_CONFIG, else ~/.config/searcher/config.toml).")
@click.pass_context
def cli(ctx, debug, no_config):
    """Full-text search for the terminal: ranked passages with highlighted snippets.

    \b
    Index a folder once, then query it:
      searcher index ~/notes
      searcher query "rule of law"
    """
    ctx.ensure_object(Console)
    from searcher.config import ConfigError, load

    try:
        config = load(ctx.command.commands, no_config)
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    ctx.meta[CONFIG_KEY] = config
    if config.settings:
        # Options not given on the command line take their value from here (click's default_map).
        default_map = config.default_map()
        if "status" in default_map:
            default_map["stats"] = default_map["status"]
        ctx.default_map = default_map


class SizeType(click.ParamType):
    """A size such as 500K, 20M or 1G, in bytes: checked the same on the command line and in
    the config file."""

    name = "size"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            size = value
        else:
            from searcher.index.reading.reader import parse_size

            try:
                size = parse_size(str(value))
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        if size <= 0:
            self.fail("must be more than 0", param, ctx)
        return size


class Seconds(click.FloatRange):
    """A duration in seconds, 0 or more; "nan" (which click's FloatRange lets through, and
    which no deadline is ever past) is refused."""

    def __init__(self):
        super().__init__(min=0)

    def convert(self, value, param, ctx):
        seconds = super().convert(value, param, ctx)
        if seconds != seconds:
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return seconds


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@index_dir_option
@click.option("--rebuild", is_flag=True,
              help="Start the index from scratch; the old one answers queries until the new one is complete.")
@click.option("--language", default=None, shell_complete=lambda ctx, param, incomplete: _complete_language(incomplete),
              help="Stemming language (a Snowball language, e.g. english, french, german). "
                   "Default: the index's own, else english.")
@click.option("--include", multiple=True, metavar="GLOB",
              help="Index only files whose name or relative path matches GLOB (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Leave out files and folders whose name or relative path matches GLOB (repeatable).")
@click.option("--max-size", "max_bytes", type=SizeType(), default="20M", show_default=True, metavar="SIZE",
              help="Skip files larger than SIZE (e.g. 500K, 20M, 1G).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: one per core; at most 4 per core).")
@click.option("--wait", "wait_seconds", type=Seconds(), default=10, show_default=True,
              help="If another 'searcher index' is writing to the index, wait this many seconds for it.")
@click.option("--commit-every", type=Seconds(), default=None, hidden=True,
              help="Publish finished work every this many seconds (default 60).")
@click.option("--hidden", is_flag=True, help="Also index hidden files and folders (names starting with '.').")
@click.option("--no-ignore", is_flag=True,
              help="Index what .gitignore, .ignore and .searcherignore files say to ignore.")
@click.option("-u", "unrestricted", count=True,
              help="Fewer restrictions, as ripgrep's: -u is --no-ignore, -uu also --hidden.")
@click.option("--dry-run", is_flag=True,
              help="Only list the files that would be indexed (with --verbose, also what is left out and why).")
@click.option("-v", "--verbose", is_flag=True,
              help="List every file left out, with its reason (with --dry-run: also by which rule).")
@click.option("--name", default=None, metavar="NAME",
              help="Write the named index NAME (under the data folder; 'searcher list' shows them).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def index_command(paths, index_dir, rebuild, language, include, exclude, max_bytes, jobs, wait_seconds,
                  commit_every, hidden, no_ignore, unrestricted, dry_run, verbose, name, quiet):
    """Index the files and folders PATHS (.txt, .md, .rst, .html, .pdf, .docx, .odt, .epub,
    .eml, mbox; these gzipped; text files without an extension such as README).

    Re-running it reads only new and changed files, and removes from the index
    the files that are gone from under PATHS.

    \b
    Examples:
      searcher index ~/notes
      searcher index --index /tmp/idx report.pdf articles/
      searcher index ~/src --include '*.md' --exclude build/ --max-size 1M
      searcher index --dry-run --verbose ~/notes    # what would be indexed, what not and why
      searcher index --name papers ~/papers
    """
    from searcher.index.text.analysis import SNOWBALL_LANGUAGES
    from searcher.index.runs.writer import COMMIT_SECONDS, build_index
    from searcher.present.progress import ProgressBar

    if language is not None and language not in SNOWBALL_LANGUAGES:
        raise click.BadParameter(
            f"{language!r} is not one of: {', '.join(SNOWBALL_LANGUAGES)}", param_hint="--language")
    hidden = hidden or unrestricted >= 2
    ignore = not (no_ignore or unrestricted >= 1)
    if dry_run:
        _dry_run(console_for(), paths, include, exclude, max_bytes, hidden, ignore, verbose)
        return
    if name is not None:
        if index_dir is not None:
            raise click.UsageError("choose one of --name and --index")
        from searcher.indexes import check_name, named_dir

        index_dir = named_dir(check_name(name))
    index_dir = resolve_index_dir(index_dir)
    if os.path.isdir(index_dir) and not os.access(index_dir, os.W_OK):
        raise UserError(_read_only(index_dir, errno.EROFS if _on_read_only_fs(index_dir) else errno.EACCES))
    console = console_for()
    progress = ProgressBar(console.err) if not quiet and ProgressBar.wanted(console.err) else None
    try:
        report = build_index(
            paths, index_dir, language=language, rebuild=rebuild,
            include=include, exclude=exclude, max_bytes=max_bytes, hidden=hidden, ignore=ignore, jobs=jobs,
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
        # A path named on the command line gets its line even without --verbose.
        named = {os.path.abspath(os.fspath(p)) for p in paths}
        for skipped in report.skipped:
            if verbose or skipped.path in named:
                console.info(f"skipped {escape_line(skipped.path)}: {escape_line(skipped.reason)}")
        console.info(
            f"indexed {report.files_indexed} files: {report.added} added, {report.updated} updated, "
            f"{report.removed} removed, {report.unchanged} unchanged, {len(report.skipped)} skipped "
            f"({report.passages} passages, {report.seconds:.2f}s)"
        )
        if report.skipped or report.unsupported:
            from searcher.index.runs.leftout import summary_lines

            left_out = len(report.skipped) + sum(report.unsupported.values())
            hint = "" if verbose or not report.skipped else " (--verbose lists them)"
            console.info(f"left out {left_out} files{hint}:")
            for line in summary_lines(((s.path, s.reason) for s in report.skipped), report.unsupported):
                console.info(escape_line(line))
        console.info(
            f"index: {escape_line(report.index_dir)} "
            f"({report.files_in_index} files, {report.passages_in_index} passages)"
        )


def _dry_run(console, paths, include, exclude, max_bytes, hidden, ignore, verbose):
    """``searcher index --dry-run``: the files a run would consider, on stdout; with
    ``--verbose`` what it leaves out on stderr, each with its reason."""
    from searcher.index.runs.leftout import UNSUPPORTED
    from searcher.index.runs.walker import FoundFile, LeftOut, walk
    from searcher.present.output import display_path

    end_on_closed_output()
    found = left_out = skipped = 0
    for item in walk(paths, include=include, exclude=exclude, max_bytes=max_bytes, hidden=hidden,
                     ignore=ignore, explain=verbose):
        shown = escape_line(display_path(item.path))
        if isinstance(item, FoundFile):
            found += 1
            console.print(shown)
        elif isinstance(item, LeftOut):
            left_out += 1
            reason = item.reason
            if item.rule is not None:
                reason = f"ignored by {display_path(item.rule.source)}:{item.rule.line}: {item.rule.pattern}"
            console.info(f"left out {shown}{'/' if item.is_dir else ''}: {escape_line(reason)}")
        elif item.reason != UNSUPPORTED:  # other types: left out without a word, as in the run
            skipped += 1
            if verbose:
                console.info(f"skipped {shown}: {escape_line(item.reason)}")
    summary = f"{found} files would be indexed"
    if skipped:
        summary += f", {skipped} skipped"
    if verbose:
        summary += f", {left_out} files and folders left out"
    console.info(f"{summary} (dry run: the index is unchanged)")


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
    from searcher.index.reading.reader import format_size
    from searcher.index.runs.writer import RunInterrupted

    if not isinstance(exc, RunInterrupted):
        return "the index keeps what was committed; run the same command again to finish"
    r = exc.report
    share = f" ({r.bytes_committed / r.bytes_planned:.0%} of {format_size(r.bytes_planned)})" if r.bytes_planned else ""
    left = r.files_planned - r.files_committed
    return (f"kept {r.files_committed} of the {r.files_planned} files this run was reading{share}; "
            + (f"run the same command again to read the other {left}" if left else "nothing is left to read"))


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per index (JSON lines).")
def list_command(as_json):
    """List the indexes: the default one and the named ones (searcher index --name NAME).

    \b
    Examples:
      searcher list
      searcher query -I notes,papers rule of law
    """
    import json
    from dataclasses import asdict

    from searcher.index.reading.reader import format_size
    from searcher.indexes import listing

    console = console_for()
    rows = listing()
    if as_json:
        for row in rows:
            console.print(json.dumps(asdict(row), ensure_ascii=False))
        return
    if not rows:
        console.info("searcher: no indexes yet: make one with 'searcher index PATH...' "
                     "or 'searcher index --name NAME PATH...'")
        return
    width = max(len(row.name) for row in rows)
    for row in rows:
        if row.error:
            what = f"unusable: {row.error}"
        else:
            files = "?" if row.files is None else row.files
            what = (f"{files} files, {row.passages} passages, {format_size(row.size_bytes)}, "
                    f"updated {row.updated or 'never'}  {' '.join(row.roots)}")
        console.print(escape_line(f"{row.name:<{width}}  {what}".rstrip()))


@cli.command("status")
@index_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status_command(index_dir, as_json):
    """Show where the index is, what it holds and how it was built, and how many
    files changed on disk since the last run (new, changed, removed).

    \b
    Examples:
      searcher status
      searcher status --json --index /tmp/idx
    """
    import json
    from dataclasses import asdict

    from searcher.index.reading.reader import format_size
    from searcher.index.storage.store import index_status

    from searcher.index.storage.store import read_meta
    from searcher.engine.freshness import pending_changes

    index_dir = resolve_index_dir(index_dir)
    status = index_status(index_dir)
    pending = pending_changes(index_dir, read_meta(index_dir))
    console = console_for()
    if as_json:
        record = asdict(status)
        record["changed_since_update"] = None if pending is None else asdict(pending)
        console.print(json_safe(json.dumps(record, ensure_ascii=False)))
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
    if pending is not None:
        rows.append(("changed", "nothing since the last run" if not pending.total else
                     f"{pending.new} new, {pending.changed} changed, {pending.removed} removed since the "
                     "last run ('searcher index' or 'searcher query --refresh' picks them up)"))
        if pending.roots_missing:
            rows.append(("", f"{pending.roots_missing} of its folders no longer exist"))
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
@click.option("--refresh", is_flag=True,
              help="First index the new and changed files under the index's folders (as 'searcher index' "
                   "would, with the options of their last run), then answer.")
@click.option("--sort", type=click.Choice(["score", "modified", "path"]), default="score", show_default=True,
              help="Order the hits by score, by their file's modification time (newest first) or by path.")
@click.option("--changed-within", metavar="DURATION", default=None,
              help="Only files modified within DURATION (30min, 12h, 3d, 2w, 6mo, 1y): modified:>=DURATION.")
@click.option("-I", "--indexes", "index_names", metavar="NAMES", default=None,
              help="Search several indexes (names or folders, comma-separated) as one ranking; "
                   "each hit names its index.")
@click.option("--all", "all_indexes", is_flag=True,
              help="Search every index 'searcher list' shows, as one ranking.")
@click.option("--hyperlink-format", metavar="FORMAT", default=None,
              help="On a terminal, make each hit's path:line a link (OSC 8): a ripgrep preset (default, "
                   "file, none, vscode, vscodium, vscode-insiders, cursor, kitty, macvim, textmate, grep+) "
                   "or a URL with {path} {line} {column} {host}. Default: default (file://).")
@click.option("--no-collapse", "show_copies", is_flag=True,
              help="Show near-duplicate passages of other files as hits of their own, "
                   "instead of naming them under the best one ('also in:').")
@color_option
@click.option("--resident/--no-resident", default=None, expose_value=False,
              help="Answer through the index's resident process, started on demand (README "
                   "'Resident mode'). Default: $SEARCHER_RESIDENT, else the config file, else off.")
@click.pass_context
def query_command(ctx, words, index_dir, limit, page, offset, per_file, context, files_only, null, vimgrep,
                  as_json, literal, phrase, explain, fix, expand, refresh, sort, changed_within, index_names,
                  all_indexes, hyperlink_format, show_copies, color_mode):
    """Search the index for WORDS and print the best passages as path:line.

    \b
    Examples:
      searcher query japan ukraine cooperation
      searcher query '"rules-based international order"'
      searcher query 'title:latvia AND security -china'
      searcher query --explain 'cooperat* -china'
      searcher query --literal 'C++ (draft)'
      searcher query 'budget ext:pdf modified:>2w' --sort modified
      searcher query -l energy | xargs wc -l
      searcher query --vimgrep 'rule of law' > hits.txt   # vim: :cfile hits.txt
      searcher query -C 2 --page 2 security
      searcher query --refresh energy      # index what changed first
      searcher query -I notes,papers 'rule of law'
    """
    import time

    from searcher.request import OptionError, query_request

    started = time.perf_counter()
    end_on_closed_output()
    console = console_for(color_mode)
    try:
        request = query_request(
            words, is_tty=console.is_tty, index_dir=index_dir, limit=limit, page=page, offset=offset,
            per_file=per_file, context=context, files_only=files_only, null=null, vimgrep=vimgrep,
            as_json=as_json, literal=literal, phrase=phrase, expand=expand, refresh=refresh, sort=sort,
            index_names=index_names, all_indexes=all_indexes, show_copies=show_copies,
            filters=_option_filters(changed_within))
    except OptionError as exc:
        raise click.UsageError(str(exc)) from None

    from searcher.present import output
    from searcher.session import Session

    links = _links(hyperlink_format, console) if request.output in ("plain", "files") else None
    chosen = None
    if request.several_indexes:
        from searcher.indexes import select

        chosen = select(index_names, all_indexes)
        index_dir = chosen[0][1]
    index_dir = resolve_index_dir(index_dir)
    run = request.search_options()
    text, typed, how, offset = request.text, request.typed, request.how, request.offset

    if refresh:
        if chosen is not None and len(chosen) > 1:
            raise click.UsageError("--refresh goes with one index, not -I/--all")
        _refresh(console, index_dir)
    if chosen is not None and len(chosen) > 1:
        from searcher.engine.multi import MultiSession

        session = MultiSession(chosen)
    else:
        session = Session(index_dir)
    result = session.search(text, **run)
    suggestion = _suggestion(session, result, run) if isinstance(session, Session) else None
    if fix and suggestion is not None:
        console.info(f"searching for {escape_line(suggestion.text)} instead ({escape_line(suggestion.changes())})")
        result, suggestion, how = session.search(suggestion.text, **run), None, "--fix"
    from searcher.engine.freshness import check_hits, check_hits_of_indexes, hit_check_message

    if isinstance(session, Session):
        result.hits, checked = check_hits(index_dir, session.meta.indexname, result.hits)
    else:
        result.hits, checked = check_hits_of_indexes(session.sessions, result.hits)
    stale_message = hit_check_message(checked)
    if explain:
        explainer = session if isinstance(session, Session) else session.sessions[0][1]
        for line in explainer.explain(result.query, typed=typed, how=how) + output.expansion_lines(result, expand):
            console.info(escape_line(line))

    if request.output == "plain" and console.is_tty:
        header = output.results_header(result.total, offset + 1, len(result.hits), time.perf_counter() - started)
        console.print(console.style(header, dim=True) + "\n")
    for number, hit in enumerate(result.hits):
        if request.output == "json":
            console.print(output.hit_json(hit))
        elif request.output == "files":
            if links is not None and not request.null:
                console.print(links.wrap(output.shown_path(hit.path), hit.path))
            else:
                output.print_file(console, hit.path, request.null)
        elif request.output == "vimgrep":
            for line in output.vimgrep_lines(console, hit):
                console.print(line)
        else:
            if number:
                console.print()
            if request.context is None:
                console.print(output.format_hit(console, hit, links))
            else:
                console.print(output.format_hit_with_context(console, hit, request.context, links))

    if stale_message:
        console.info(stale_message)
    if not result.hits:
        passages = session.passages if isinstance(session, Session) else sum(s.passages for _, s in session.sessions)
        for line in output.nothing_found(index_dir, result, offset, passages):
            console.info(escape_line(line))
        if not offset:
            for line in output.unquoted_hint(session, result):
                console.info(escape_line(line))
    if suggestion is not None:
        console.info(f"did you mean: {escape_line(suggestion.text)}  ({escape_line(suggestion.changes())}; "
                     "--fix searches for it)")
    ctx.exit(int(ExitStatus.FOUND if result.hits else ExitStatus.NOTHING_FOUND))


def _refresh(console, index_dir):
    """``--refresh``: an incremental run over the index's roots, summed up on stderr."""
    from searcher.engine.freshness import refresh

    try:
        reports = refresh(index_dir)
    except KeyboardInterrupt as exc:
        console.info(f"searcher: interrupted: {interrupted_summary(exc)}")
        sys.exit(int(ExitStatus.INTERRUPTED))
    added = sum(r.added for r in reports)
    updated = sum(r.updated for r in reports)
    removed = sum(r.removed for r in reports)
    if added or updated or removed:
        console.info(f"searcher: refreshed the index: {added} added, {updated} updated, {removed} removed")
def _links(hyperlink_format, console):
    """Hyperlinks for the hits on a terminal (searcher/present/links.py); None elsewhere or with 'none'."""
    if hyperlink_format is None and not console.is_tty:
        return None  # nothing to check, and nothing imported, for pipes
    from searcher.present.links import LinkFormatError, links_for

    try:
        return links_for(hyperlink_format, console.out)
    except LinkFormatError as exc:
        raise click.BadParameter(str(exc), param_hint="--hyperlink-format") from None


def _option_filters(changed_within):
    if changed_within is None:
        return ()
    from searcher.errors import QueryError
    from searcher.parse.filters import changed_within as within

    try:
        return (within(changed_within),)
    except QueryError as exc:
        raise click.BadParameter(str(exc).removeprefix("--changed-within: "), param_hint="--changed-within") from None


def _suggestion(session, result, run):
    """A "did you mean" when a word is unknown to the index, or the first page shows very few hits."""
    from searcher.engine.suggest import FEW_HITS, has_unknown_words

    shown = len(result.hits)
    few = run["offset"] == 0 and shown <= FEW_HITS and shown < run["limit"]
    if not few and not has_unknown_words(session.searcher.reader(), result.query):
        return None
    return session.suggest(result, per_file=run["per_file"])


@cli.command("pick")
@click.argument("words", nargs=-1, required=True)
@index_dir_option
@click.option("-n", "--limit", type=click.IntRange(min=1), default=100, show_default=True, metavar="N",
              help="Offer at most this many passages.")
@click.option("--per-file", default=3, show_default=True, type=click.IntRange(min=0), metavar="N",
              help="At most this many passages from one file (0: no cap).")
@click.pass_context
def pick_command(ctx, words, index_dir, limit, per_file):
    """Choose among the hits for WORDS with fzf, then open the choice in $EDITOR at its line.

    The preview shows each passage as 'searcher show' does. Needs fzf
    (exit status 2 without it); the editor is $VISUAL, else $EDITOR.

    \b
    Examples:
      searcher pick rule of law
      EDITOR=nvim searcher pick 'budget ext:md'
    """
    import os
    import subprocess

    from searcher import pick
    from searcher.engine.search import SearchSession

    fzf = pick.find_fzf()
    if fzf is None:
        raise UserError(pick.FZF_MISSING)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor or not editor.strip():
        raise UserError("searcher pick opens the choice in $EDITOR, which is not set (e.g. EDITOR=vim)")
    console = console_for()
    index_dir = resolve_index_dir(index_dir)
    result = SearchSession(index_dir).search(" ".join(words), limit=limit, per_file=per_file or None)
    lines, left_out = pick.fzf_lines(result.hits)
    if left_out:
        console.info(f"searcher: {left_out} hit(s) left out: their paths hold a tab or a newline")
    if not lines:
        ctx.exit(int(ExitStatus.NOTHING_FOUND))
    status, chosen = pick.choose(fzf, index_dir, words, lines)
    if chosen is None:
        interrupted = status == ExitStatus.INTERRUPTED  # fzf's own status for Esc / Ctrl-C
        ctx.exit(int(ExitStatus.INTERRUPTED if interrupted else ExitStatus.NOTHING_FOUND))  # or no choice
    hit = result.hits[chosen]
    if hit.page is not None and hit.path.lower().endswith(".pdf"):
        console.info(f"searcher: {escape_line(hit.path)} is a PDF: page {hit.page}")
    try:
        code = subprocess.call(pick.editor_command(editor, hit.path, hit.start_line))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot run the editor {editor!r}: {exc}") from None
    ctx.exit(code)


def _complete_language(incomplete: str):
    from searcher.index.text.analysis import SNOWBALL_LANGUAGES

    return [name for name in SNOWBALL_LANGUAGES if name.startswith(incomplete.lower())]


def _complete_file(ctx, param, incomplete):
    # The shell completes file names itself when told the value is a file.
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="file")]


@cli.command("show")
@click.argument("location", metavar="PATH[:LINE]", shell_complete=_complete_file)
@click.argument("words", nargs=-1)
@index_dir_option
@click.option("-C", "--context", type=click.IntRange(min=0), default=0, metavar="N",
              help="With :LINE, also show N lines before and after the passage.")
@color_option
def show_command(location, words, index_dir, context, color_mode):
    """Print the passage at PATH:LINE (or all of PATH) with the query WORDS highlighted.

    PATH:LINE is what `searcher query` prints; the passage is the indexed one
    that holds LINE. Lines of the passage are numbered N:, context lines N-.
    For a PDF, PATH#page=N is page N (and PATH#page=N:LINE, as a hit prints it,
    the passage at LINE). PATH must be a file of the index.

    \b
    Examples:
      searcher show notes/japan.txt:5 rule of law
      searcher show -C 3 notes/japan.txt:5 '"rule of law"'
      searcher show README.md
      searcher show 'manual.pdf#page=30' security
    """
    from searcher.present.output import format_lines
    from searcher.session import Session

    end_on_closed_output()
    console = console_for(color_mode)
    with Session(resolve_index_dir(index_dir)) as session:
        shown = session.show(location, " ".join(words), context)
    for line in format_lines(console, shown.lines, shown.page_starts):
        console.print(line)


@cli.command("watch")
@click.argument("paths", nargs=-1, type=click.Path())
@index_dir_option
@click.option("--debounce", type=Seconds(), default=1.0, show_default=True, metavar="SECONDS",
              help="Index once the folders have been quiet this long after a change.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def watch_command(paths, index_dir, debounce, quiet):
    """Keep the index current: index PATHS (default: the index's folders) now,
    then again whenever files under them change. Ctrl-C stops it.

    Each run is an incremental 'searcher index' of the folders, with the options
    each was last indexed with, under the same lock.

    \b
    Examples:
      searcher watch                      # the folders the index already has
      searcher watch ~/notes ~/papers
      searcher watch --debounce 5 --index ~/.cache/notes-index ~/notes
    """
    import signal
    import threading
    from datetime import datetime

    from searcher.watch import watch, watched_roots

    console = console_for()
    index_dir = resolve_index_dir(index_dir)
    roots = watched_roots(index_dir, paths)
    if threading.current_thread() is threading.main_thread():
        # systemd and kill stop it with SIGTERM: stop as cleanly as on Ctrl-C, through
        # whatever handles Ctrl-C now (a run under way first commits what it finished).
        def terminate(signum, frame):
            handler = signal.getsignal(signal.SIGINT)
            if not callable(handler):  # Ctrl-C ignored (nohup): SIGTERM still stops it
                handler = signal.default_int_handler
            handler(signal.SIGINT, frame)

        signal.signal(signal.SIGTERM, terminate)

    def started():
        if not quiet:
            where = ", ".join(escape_line(r.path) for r in roots)
            console.info(f"searcher: watching {where} for the index at {escape_line(index_dir)} (Ctrl-C stops)")

    runs = []

    def report(r):
        runs.append(r)
        if not quiet and (r.added or r.updated or r.removed or len(runs) == 1):
            console.info(f"searcher: {datetime.now():%H:%M:%S} {r.added} added, {r.updated} updated, "
                         f"{r.removed} removed ({r.files_in_index} files in the index)")

    try:
        watch(index_dir, roots, debounce=debounce, report=report, started=started)
    except KeyboardInterrupt as exc:
        from searcher.index.runs.writer import RunInterrupted

        if isinstance(exc, RunInterrupted):
            console.info(f"searcher: interrupted a run: {interrupted_summary(exc)}")
        if not quiet:
            console.info("searcher: stopped watching")


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def config_command(ctx, as_json):
    """Print the settings in effect for every command, and where each comes from.

    The config file is $SEARCHER_CONFIG, else $XDG_CONFIG_HOME/searcher/config.toml
    (~/.config/searcher/config.toml): one table per command, keyed by long option
    names. Options given on the command line override it; --no-config ignores it.

    \b
    Examples:
      searcher config
      searcher --no-config config
      SEARCHER_CONFIG=~/work.toml searcher config --json
    """
    import json

    from searcher.config import effective, toml_value
    from searcher.location import default_index_dir

    import os

    config = ctx.meta[CONFIG_KEY]
    console = console_for()
    sections = effective(config, {n: c for n, c in cli.commands.items()})
    for _, rows in sections:
        for number, (key, value, source) in enumerate(rows):
            if key == "index" and source == "default":
                # --index is not set: the index comes from the environment or the default place.
                env = os.environ.get(INDEX_ENV)
                rows[number] = (key, env or str(default_index_dir()), f"${INDEX_ENV}" if env else "default")
    if as_json:
        console.print(json_safe(json.dumps({
            "config_file": config.path, "chosen_by": config.why,
            "commands": {name: {key: {"value": value, "from": source} for key, value, source in rows}
                         for name, rows in sections},
        }, ensure_ascii=False)))
        return
    console.print(f"# config file: {escape_line(config.path or 'none')} ({escape_line(config.why)})")
    for name, rows in sections:
        console.print(f"\n[{name}]")
        width = max(len(f"{key} = {toml_value(value)}") for key, value, _ in rows)
        for key, value, source in rows:
            line = f"{key} = {toml_value(value)}" if value is not None else f"# {key} ="
            console.print(escape_line(f"{line:<{width + 2}}# {source}"))


def main():
    import signal

    from searcher.launcher import exit_interrupted, quit_on_interrupt

    quit_on_interrupt()  # (python -m searcher does not go through the launcher)
    from searcher.index.storage.lean_whoosh import import_whoosh

    import_whoosh()  # start-up time: see index/storage/lean_whoosh.py
    # From here a Ctrl-C is a KeyboardInterrupt that the commands handle (a run keeps what
    # it finished); once they are done, it ends the process again without a traceback.
    if signal.getsignal(signal.SIGINT) is exit_interrupted:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        cli(prog_name="searcher")
    finally:
        quit_on_interrupt()
