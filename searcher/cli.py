"""The command line: parses options, calls the library, prints. No search logic lives here."""

from __future__ import annotations

import sys

import click

from searcher import __version__
from searcher.console import Console, ExitStatus
from searcher.location import INDEX_ENV, default_index_dir


class UserError(click.ClickException):
    """A one-line error for the user; exit status 2, as grep."""

    exit_code = ExitStatus.ERROR

    def show(self, file=None):
        click.echo(f"searcher: error: {self.format_message()}", file=file or sys.stderr)


class SearcherGroup(click.Group):
    """Turns library errors into one-line messages; tracebacks only with --debug."""

    def invoke(self, ctx):
        from index.errors import IndexingError
        from searcher.errors import QueryError

        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except (IndexingError, QueryError) as exc:
            if ctx.params.get("debug"):
                raise
            raise UserError(str(exc)) from None
        except KeyboardInterrupt:
            raise click.Abort() from None
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


@click.group(cls=SearcherGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="searcher")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug):
    """Full-text search for the terminal: ranked passages with highlighted snippets.

    \b
    Index a folder once, then query it:
      searcher index ~/notes
      searcher query "rule of law"
    """


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@index_dir_option
@click.option("--rebuild", is_flag=True, help="Start the index from scratch.")
@click.option("--language", default="english", show_default=True,
              help="Stemming language (a Snowball language, e.g. english, french, german).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def index_command(paths, index_dir, rebuild, language, quiet):
    """Index the files and folders PATHS (.txt, .md, .rst, .html, .pdf).

    \b
    Examples:
      searcher index ~/notes
      searcher index --index /tmp/idx report.pdf articles/
    """
    from index.analysis import SNOWBALL_LANGUAGES
    from index.writer import build_index

    if language not in SNOWBALL_LANGUAGES:
        raise click.BadParameter(
            f"{language!r} is not one of: {', '.join(SNOWBALL_LANGUAGES)}", param_hint="--language")
    console = Console()
    report = build_index(paths, resolve_index_dir(index_dir), language=language, rebuild=rebuild)
    if not quiet:
        for skipped in report.skipped:
            console.info(f"skipped {skipped.path}: {skipped.reason}")
        console.info(
            f"indexed {report.files_indexed} files, {report.passages} passages "
            f"({len(report.skipped)} skipped) in {report.seconds:.2f}s into {report.index_dir}"
        )


@cli.command("query")
@click.argument("words", nargs=-1, required=True)
@index_dir_option
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(min=1),
              help="Show at most this many passages.")
@click.option("--per-file", default=3, show_default=True, type=click.IntRange(min=0),
              help="At most this many passages from one file (0: no cap).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit (JSON lines).")
@click.option("--color", "color_mode", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour highlights; auto means on a terminal unless NO_COLOR is set.")
@click.pass_context
def query_command(ctx, words, index_dir, limit, per_file, as_json, color_mode):
    """Search the index for WORDS and print the best passages as path:line.

    \b
    Examples:
      searcher query japan ukraine cooperation
      searcher query '"rules-based international order"'
      searcher query 'title:latvia AND security -china'
    """
    from searcher.output import format_hit, hit_json
    from searcher.search import search

    console = Console(color_mode=color_mode)
    result = search(resolve_index_dir(index_dir), " ".join(words), limit=limit, per_file=per_file or None)
    for number, hit in enumerate(result.hits):
        if as_json:
            console.print(hit_json(hit))
        else:
            if number:
                console.print()
            console.print(format_hit(console, hit))
    ctx.exit(ExitStatus.FOUND if result.hits else ExitStatus.NOTHING_FOUND)


def main():
    cli(prog_name="searcher")
