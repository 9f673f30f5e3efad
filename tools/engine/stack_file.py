"""Reading `Pulumi.yaml` and `Pulumi.<stack>.yaml` as Pulumi itself does, or refusing them clearly.

Pulumi reads these files with Go's yaml.v3, which follows YAML 1.2: `yes`, `no` and `on` are
strings, `1:30` is a string and a duplicate key is an error. PyYAML follows YAML 1.1 and would
read all three differently, so the files are read with ruamel.yaml in 1.2 mode. Timestamps stay
the text they were written as (yaml.v3 hands them to Pulumi as strings). Every problem is a
`StackFileError` that names the file; none is a traceback.

Hostile files are refused before they cost time: too large, nested too deeply, or expanding past
a budget through aliases (the "billion laughs").
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32  # config needs 5 levels at most
MAX_NODES = 20_000  # after aliases are expanded
MAX_INDENT = 256  # columns: a block nested deeper than MAX_DEPTH needs at least that many


class StackFileError(Exception):
    """A stack or project file Pulumi could not use, with the file's name in the message."""


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    yaml.allow_duplicate_keys = False
    yaml.constructor.add_constructor(
        "tag:yaml.org,2002:timestamp",
        lambda constructor, node: constructor.construct_scalar(node),
    )
    return yaml


def _nesting_depth(text: str) -> int:
    """The deepest flow nesting ([ and {) outside quotes: measured without parsing."""
    depth = deepest = 0
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "\n":
            quote = ""
    return deepest


def _check_size(value: Any, name: str) -> None:
    """Walk the value without recursion, counting every node as aliases expand it."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    nodes = 0
    while pending:
        item, depth = pending.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise StackFileError(
                f"{name}: expands to more than {MAX_NODES} values (aliases that multiply?); "
                "a stack file needs far fewer"
            )
        if depth > MAX_DEPTH:
            raise StackFileError(f"{name}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, Mapping):
            pending += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            pending += [(v, depth + 1) for v in item]


def _position(error: MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""


def load(path: Path) -> dict[str, Any]:
    """The file as a map, or a StackFileError that says what is wrong and where."""
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise StackFileError(f"{name}: cannot be read ({error.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise StackFileError(f"{name}: {len(raw)} bytes; a stack file over 1 MiB is refused")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise StackFileError(f"{name}: is not UTF-8 text") from None
    return parse(text, name)


def parse(text: str, name: str) -> dict[str, Any]:
    """A stack file's text as a map (see `load`); `name` is what errors call it."""
    widest = max((len(line) - len(line.lstrip(" ")) for line in text.splitlines()), default=0)
    if _nesting_depth(text) > MAX_DEPTH or widest > MAX_INDENT:
        raise StackFileError(f"{name}: nested more than {MAX_DEPTH} levels deep")
    try:
        document = _yaml().load(text)
    except MarkedYAMLError as error:
        problem = error.problem or str(error).splitlines()[0]
        raise StackFileError(f"{name}: {_position(error)}{problem}") from None
    except (YAMLError, RecursionError, ValueError) as error:
        raise StackFileError(f"{name}: is not valid YAML ({type(error).__name__})") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(f"{name}: is a {_kind(document)}; expected a YAML map of settings")
    _check_size(document, name)
    return document


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def config_of(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The `config:` map of a stack file (empty when the file has none)."""
    config = document.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise StackFileError(f"{name}: config: is a {_kind(config)}; expected a map of keys")
    for key in config:
        if not isinstance(key, str):
            raise StackFileError(f"{name}: config key {key!r} is not a string such as aws:region")
    return config
