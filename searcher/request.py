"""``searcher query``'s option rules, as one pure function from the options to a request.

The CLI reads the options; everything they imply together (which exclude which, what
``-l`` changes, page arithmetic, the text searched for under ``--literal``/``--phrase``,
when the total is counted) is decided here, where it is tested without a terminal or an
index (ripgrep's HiArgs, in small).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_LIMIT = 10


class OptionError(ValueError):
    """Options that do not go together; ``str(exc)`` is the usage message."""


@dataclass(frozen=True)
class QueryRequest:
    typed: str  # the words as typed, joined
    text: str  # what is searched for (after --literal / --phrase)
    how: str  # "--literal", "--phrase" or "" (for --explain)
    output: str  # "plain", "json", "files" or "vimgrep"
    limit: int
    offset: int
    per_file: int | None
    count_total: bool  # count every match (the header on a terminal, or an offset)
    null: bool = False
    context: int | None = None
    expand: bool | None = None
    sort: str = "score"
    collapse: bool = True
    index_dir: str | None = None
    index_names: str | None = None
    all_indexes: bool = False
    refresh: bool = False
    filters: tuple = field(default=())

    @property
    def several_indexes(self) -> bool:
        return self.index_names is not None or self.all_indexes

    def search_options(self) -> dict:
        """The keyword arguments of ``Session.search`` for this request."""
        return dict(limit=self.limit, offset=self.offset, per_file=self.per_file,
                    highlight=self.output != "files", exact_total=self.count_total, expand=self.expand,
                    filters=self.filters, sort=self.sort, collapse=self.collapse)


def query_request(words, *, is_tty: bool, index_dir=None, limit=None, page=None, offset=None, per_file=3,
                  context=None, files_only=False, null=False, vimgrep=False, as_json=False, literal=False,
                  phrase=False, expand=None, refresh=False, sort="score", index_names=None, all_indexes=False,
                  show_copies=False, filters=()) -> QueryRequest:
    """The request the options of ``searcher query`` make; OptionError when they clash.

    ``is_tty``: whether standard output is a terminal (the plain output then counts every
    match for its header).
    """
    if sum((as_json, files_only, vimgrep)) > 1:
        raise OptionError("choose one of --json, -l/--files and --vimgrep")
    if literal and phrase:
        raise OptionError("choose one of --literal and --phrase")
    if null and not files_only:
        raise OptionError("-0/--null goes with -l/--files")
    if page is not None and offset is not None:
        raise OptionError("choose one of --page and --offset")
    if sum((index_dir is not None, index_names is not None, all_indexes)) > 1:
        raise OptionError("choose one of --index, -I/--indexes and --all")
    from searcher.parse.reading import literal_text, phrase_text

    typed = text = " ".join(words)
    how = "--literal" if literal else "--phrase" if phrase else ""
    if literal or phrase:
        text = (literal_text if literal else phrase_text)(text) or text
    if files_only:  # every matching file, once
        limit, per_file = limit or 10**9, 1
    limit = limit or DEFAULT_LIMIT
    offset = (page - 1) * limit if page else offset or 0
    output = "json" if as_json else "files" if files_only else "vimgrep" if vimgrep else "plain"
    return QueryRequest(
        typed=typed, text=text, how=how, output=output, limit=limit, offset=offset,
        per_file=per_file or None, count_total=(output == "plain" and is_tty) or offset > 0,
        null=null, context=context, expand=expand, sort=sort,
        collapse=not (show_copies or files_only), index_dir=index_dir, index_names=index_names,
        all_indexes=all_indexes, refresh=refresh, filters=tuple(filters))
