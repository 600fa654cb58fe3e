"""The config file: defaults for any command's options.

``$SEARCHER_CONFIG``, else ``$XDG_CONFIG_HOME/searcher/config.toml`` (``~/.config/...``).
One TOML table per command, keys named as the long options (``per-file`` or
``per_file``)::

    [query]
    limit = 20
    color = "never"

    [index]
    exclude = ["*.tmp.md", "archive/"]
    max-size = "5M"

Every value is checked when the file is read, with the option's own type, so a bad
one is a one-line error naming the file, the line and the key, whatever the command.
The values become click's ``default_map``: an option given on the command line
still wins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

CONFIG_ENV = "SEARCHER_CONFIG"


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, line and key."""


@dataclass
class Setting:
    value: object  # as given in the file (paths with ~ expanded)
    line: int | None


@dataclass
class Config:
    path: str | None  # None: no config file (none found, or --no-config)
    why: str  # how the file was chosen, for `searcher config`
    settings: dict[str, dict[str, Setting]] = field(default_factory=dict)  # command -> param name -> setting

    def default_map(self) -> dict:
        return {command: {name: s.value for name, s in values.items()}
                for command, values in self.settings.items()}


def config_path() -> tuple[str | None, str]:
    """(the config file to read or None, how it was chosen)."""
    given = os.environ.get(CONFIG_ENV)
    if given:
        return given, f"${CONFIG_ENV}"
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    path = os.path.join(base, "searcher", "config.toml")
    return path, "$XDG_CONFIG_HOME/searcher/config.toml" if os.environ.get("XDG_CONFIG_HOME") else \
        "~/.config/searcher/config.toml"


def load(commands: dict, no_config: bool = False) -> Config:
    """The config for ``commands`` ({name: click.Command}); raises ConfigError."""
    if no_config:
        return Config(None, "--no-config")
    path, why = config_path()
    if path is None:
        return Config(None, why)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        if why.startswith("$" + CONFIG_ENV):
            raise ConfigError(f"{path}: no such file (named by ${CONFIG_ENV})") from None
        return Config(None, why + " (not present)")
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text") from None
    return Config(path, why, parse(text, path, commands))


def _toml():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib


def parse(text: str, path: str, commands: dict) -> dict[str, dict[str, Setting]]:
    toml = _toml()
    try:
        data = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        message = str(exc)
        line = getattr(exc, "lineno", None)
        if line is None:
            import re

            found = re.search(r"\(at line (\d+)", message)
            line = int(found.group(1)) if found else None
        message = message.split(" (at line")[0]
        raise ConfigError(f"{path}:{line}: {message}" if line else f"{path}: {message}") from None
    settings: dict[str, dict[str, Setting]] = {}
    for table, values in data.items():
        line = _line_of(text, table, None)
        command = commands.get(table)
        if command is None or getattr(command, "hidden", False):
            names = ", ".join(sorted(n for n, c in commands.items() if not getattr(c, "hidden", False)))
            raise ConfigError(f"{_where(path, line)}: [{table}]: no such command (the tables are: {names})")
        if not isinstance(values, dict):
            raise ConfigError(f"{_where(path, line)}: {table}: should be a table, [{table}]")
        options = _options(command)
        settings[table] = {}
        for key, value in values.items():
            line = _line_of(text, table, key)
            param = options.get(key) or options.get(key.replace("_", "-"))
            if param is None:
                known = ", ".join(sorted(options))
                raise ConfigError(f"{_where(path, line)}: [{table}] {key}: no such option of "
                                  f"'searcher {table}' (it has: {known})")
            settings[table][param.name] = Setting(_checked(param, command, table, key, value, path, line), line)
    return settings


def _where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def _options(command) -> dict:
    """{long option name without dashes: click.Option} of the options a config may set."""
    import click

    found = {}
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden or param.name in ("help",):
            continue
        longs = [o for o in param.opts if o.startswith("--")]
        # --expand/--no-expand: the key is expand; -u (no long name): its name, unrestricted.
        found[longs[0][2:] if longs else param.name.replace("_", "-")] = param
    return found


def _checked(param, command, table: str, key: str, value, path: str, line: int | None):
    """``value`` as the option would take it from the command line; raises ConfigError."""
    import click

    where = f"{_where(path, line)}: [{table}] {key}"
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
        raise ConfigError(f"{where}: should be a single value or a list of values")
    if param.multiple:
        value = value if isinstance(value, list) else [value]
    elif isinstance(value, list):
        raise ConfigError(f"{where}: takes one value, not a list")
    if param.is_flag and not param.count and not isinstance(value, bool):
        raise ConfigError(f"{where}: should be true or false")
    if param.count and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ConfigError(f"{where}: should be a count (0, 1, 2)")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not param.is_flag \
            and isinstance(param.type, click.types.StringParamType):
        value = str(value)  # max-size = 500 is as good as "500"
    if isinstance(param.type, click.Path):
        value = [os.path.expanduser(v) for v in value] if param.multiple else os.path.expanduser(value)
    ctx = click.Context(command, info_name=table)
    try:
        param.type_cast_value(ctx, value)
    except click.BadParameter as exc:
        raise ConfigError(f"{where}: {exc.message}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return value


def _line_of(text: str, table: str, key: str | None) -> int | None:
    """The line where ``[table]`` (key None) or its ``key`` is set: tomllib does not say."""
    import re

    def name(n: str) -> str:
        return r"""(?:%s|"%s"|'%s')""" % ((re.escape(n),) * 3)

    header = re.compile(r"\s*\[\s*" + name(table) + r"\s*\]\s*(?:#.*)?$")
    any_header = re.compile(r"\s*\[")
    dotted = re.compile(r"\s*" + name(table) + r"\s*(?:\.|=)" + (r"\s*" + name(key) if key else ""))
    keyed = re.compile(r"\s*" + name(key) + r"\s*=") if key else None
    subtable = re.compile(r"\s*\[\[?\s*" + name(table) + r"\s*\.\s*" + name(key)) if key else None
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if subtable is not None and subtable.match(line):
            return number  # [table.key]: a table where a value should be
        if header.match(line):
            current = table
            if key is None:
                return number
            continue
        if any_header.match(line):
            current = "other"
            continue
        if current is None and dotted.match(line):
            return number  # table.key = ... or table = { ... } before any header
        if current == table and keyed is not None and keyed.match(line):
            return number
    return None


# --- `searcher config` ---------------------------------------------------------------------


def effective(config: Config, commands: dict) -> list[tuple[str, list[tuple[str, object, str]]]]:
    """[(command, [(key, value, where it comes from)])] for every option a config may set."""
    out = []
    for table, command in sorted(commands.items()):
        if getattr(command, "hidden", False):
            continue
        rows = []
        for key, param in sorted(_options(command).items()):
            setting = config.settings.get(table, {}).get(param.name)
            if setting is not None:
                source = f"{config.path}:{setting.line}" if setting.line else config.path
                rows.append((key, setting.value, source))
            else:
                rows.append((key, _default(param, command), "default"))
        if rows:
            out.append((table, rows))
    return out


def _default(param, command):
    import click

    default = param.get_default(click.Context(command))
    if param.multiple and not isinstance(default, (list, tuple)):
        return []
    if not isinstance(default, (type(None), bool, int, float, str, list, tuple)):
        return None  # click's marker for "no default"
    if isinstance(default, tuple):
        return list(default)
    return default


def toml_value(value) -> str:
    """``value`` written as TOML (None: not set)."""
    import json

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
