"""Settings declared once: each field carries its default, what it accepts and what it means.

A settings class is a frozen dataclass whose fields are declared with `setting(...)`. One generic
reader, `read_section`, turns a raw YAML object into an instance and records every problem against
its full key path; the same metadata renders the README's configuration table (`tools/docs.py`) and
the stack file's JSON Schema. A class may add `checked(self, check) -> Self` for the rules that
relate several of its fields (and for defaults that depend on another field).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import reprlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

_S = TypeVar("_S")
_T = TypeVar("_T")
_SPEC = "webstack.setting"

JsonSchema = dict[str, Any]


class InvalidValueError(Exception):
    """A value a kind refuses; `accepted` says what it takes instead."""

    def __init__(self, accepted: str) -> None:
        super().__init__(accepted)
        self.accepted = accepted


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother = 3, 80, 80
_SHOWN.maxlist = _SHOWN.maxdict = 6


def shown(value: Any) -> str:
    """A value as an error message shows it: its repr, cut short however large or deep it is."""
    return _SHOWN.repr(value)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def problem(key: str, value: Any, accepted: str) -> str:
    """The one wording every refused value gets: key path, the value, what is accepted."""
    return f"{key}: {shown(value)} is not valid; expected {accepted}"


@dataclass
class Reader:
    """One reading of a stack's config: what it is read for, and the problems found so far."""

    project_dir: Path = Path(".")
    region: str = "us-east-1"
    # The environment's physical name (`<project>-<stack>`), which some values may not equal.
    physical_name: str = "webstack-stack"
    problems: list[str] = field(default_factory=list)


class Kind(Protocol):
    """How one field's raw config value is checked and converted."""

    @property
    def accepted(self) -> str: ...

    def parse(self, value: Any, key: str, reader: Reader) -> Any:
        """The converted value; raise `InvalidValueError` to refuse it as a whole."""
        ...

    def schema(self) -> JsonSchema: ...


@dataclass(frozen=True)
class Flag:
    """`true` or `false`; the CLI form (`pulumi config set … false`) arrives as a string."""

    accepted: str = "true or false"

    def parse(self, value: Any, key: str, reader: Reader) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InvalidValueError(self.accepted)

    def schema(self) -> JsonSchema:
        return {"anyOf": [{"type": "boolean"}, {"enum": ["true", "false"]}]}


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


@dataclass(frozen=True)
class Whole:
    """A whole number in `low`..`high`, or one of `choices`."""

    low: int = 0
    high: int = 0
    choices: tuple[int, ...] = ()

    @property
    def accepted(self) -> str:
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        return f"a whole number from {self.low} to {self.high}"

    def parse(self, value: Any, key: str, reader: Reader) -> int:
        number = _whole(value)
        if number is None or (
            number not in self.choices if self.choices else not self.low <= number <= self.high
        ):
            raise InvalidValueError(self.accepted)
        return number

    def schema(self) -> JsonSchema:
        if self.choices:
            return {"type": "integer", "enum": list(self.choices)}
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True)
class Decimal:
    """A number in `low`..`high`, written as a number (0.05) or as its text ("0.05"); kept as
    text, which is how AWS's option settings take it."""

    low: float
    high: float

    @property
    def accepted(self) -> str:
        return f"a number from {self.low:g} to {self.high:g}"

    def parse(self, value: Any, key: str, reader: Reader) -> str:
        if isinstance(value, str) and re.fullmatch(_DECIMAL, value):
            number, text = float(value), value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number, text = float(value), repr(float(value)).removesuffix(".0")
        else:
            raise InvalidValueError(self.accepted)
        if not self.low <= number <= self.high:
            raise InvalidValueError(self.accepted)
        return text

    def schema(self) -> JsonSchema:
        return {
            "anyOf": [
                {"type": "number", "minimum": self.low, "maximum": self.high},
                {"type": "string", "pattern": f"^{_DECIMAL}$"},
            ]
        }


_DECIMAL = r"[0-9]+(\.[0-9]+)?"


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of words."""

    choices: tuple[str, ...]

    @property
    def accepted(self) -> str:
        return "one of " + ", ".join(self.choices)

    def parse(self, value: Any, key: str, reader: Reader) -> str:
        if value not in self.choices:
            raise InvalidValueError(self.accepted)
        return cast(str, value)

    def schema(self) -> JsonSchema:
        return {"type": "string", "enum": list(self.choices)}


class VersionNumber(str):
    """A version the stack file gave as a number: its text, and the number it was read as."""

    number: int | float

    @classmethod
    def of(cls, number: int | float) -> VersionNumber:
        text = str(int(number)) if float(number).is_integer() else repr(float(number))
        found = cls(text)
        found.number = number
        return found

    @property
    def hint(self) -> str:
        return (
            f"read as the number {self.number!r}: YAML reads an unquoted 8.0 as 8 and 11.10 as "
            "11.1, so quote the version as written"
        )

    def __repr__(self) -> str:
        return repr(self.number)


@dataclass(frozen=True)
class Text:
    """A string that matches `pattern` as a whole (a regex both Python and JSON Schema read)."""

    pattern: str
    accepted: str
    # A version: people write `engineVersion: 17` unquoted, and YAML (then Pulumi) passes the
    # number on: a number is read as the version it denotes (17 -> "17", 8.4 -> "8.4"), and
    # remembered as one (`VersionNumber`), since YAML may have changed what was written
    # (8.0 arrives as 8, 11.10 as 11.1): an error about it then says so.
    version: bool = False

    def parse(self, value: Any, key: str, reader: Reader) -> str:
        if self.version and isinstance(value, int | float) and not isinstance(value, bool):
            value = VersionNumber.of(value)
            if not re.fullmatch(self.pattern, value):
                raise InvalidValueError(f"{self.accepted}; {value.hint}")
        if not isinstance(value, str) or not re.fullmatch(self.pattern, value):
            raise InvalidValueError(self.accepted)
        return value

    def schema(self) -> JsonSchema:
        text: JsonSchema = {"type": "string", "pattern": f"^(?:{self.pattern})$"}
        return {"anyOf": [text, {"type": "number"}]} if self.version else text


@dataclass(frozen=True)
class Texts:
    """A list of distinct strings, each accepted by `item`."""

    item: Text | Choice
    min_items: int = 0
    max_items: int = 100

    @property
    def accepted(self) -> str:
        what = (
            self.item.accepted
            if isinstance(self.item, Text)
            else ", ".join(self.item.choices).join("()")
        )
        return f"a list of {self.min_items} to {self.max_items} distinct {what}"

    def parse(self, value: Any, key: str, reader: Reader) -> tuple[str, ...]:
        if not isinstance(value, list) or not self.min_items <= len(value) <= self.max_items:
            raise InvalidValueError(self.accepted)
        try:
            items = tuple(self.item.parse(v, key, reader) for v in value)
        except InvalidValueError:
            raise InvalidValueError(self.accepted) from None
        if len(set(items)) != len(items):
            raise InvalidValueError(self.accepted)
        return items

    def schema(self) -> JsonSchema:
        return {
            "type": "array",
            "items": self.item.schema(),
            "minItems": self.min_items,
            "maxItems": self.max_items,
            "uniqueItems": True,
        }


_QUOTE_IT = (
    "a string; quote it, so it arrives as written: YAML reads 1.50 as the number 1.5 "
    "and true or yes as a boolean"
)


def _map_value(item: Any) -> str | None:
    """A map value as text: strings as they are, whole numbers by their digits (exact), and
    nothing else, since a decimal or a boolean has already lost how it was written."""
    if isinstance(item, str):
        return item
    if isinstance(item, int) and not isinstance(item, bool):
        return str(item)
    return None


@dataclass(frozen=True)
class TextMap:
    """A map of names to strings. `why_not(name)` says why a name is refused, or returns None."""

    name_pattern: str
    why_not: Callable[[str], str | None]
    value_max: int = 256
    value_pattern: str | None = None
    value_accepted: str = ""
    accepted: str = "a YAML map of names to strings"

    def parse(self, value: Any, key: str, reader: Reader) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise InvalidValueError(self.accepted)
        result: dict[str, str] = {}
        for name, item in value.items():
            at = f"{key}.{name}"
            why = self.why_not(str(name))
            if why:
                reader.problems.append(f"{at}: {why}")
                continue
            text = _map_value(item)
            if text is None:
                reader.problems.append(problem(at, item, _QUOTE_IT))
            elif len(text) > self.value_max:
                reader.problems.append(problem(at, text, f"at most {self.value_max} characters"))
            elif self.value_pattern and not re.fullmatch(self.value_pattern, text):
                reader.problems.append(problem(at, text, f"a string of {self.value_accepted}"))
            else:
                result[str(name)] = text
        return result

    def schema(self) -> JsonSchema:
        return {
            "type": "object",
            "propertyNames": {"pattern": f"^(?:{self.name_pattern})$"},
            "additionalProperties": {
                "anyOf": [
                    {"type": "string", "maxLength": self.value_max}
                    | ({"pattern": f"^(?:{self.value_pattern})$"} if self.value_pattern else {}),
                    {"type": "integer"},
                ]
            },
        }


@dataclass(frozen=True)
class Nested:
    """A YAML object read into another settings class."""

    cls: type[Any]
    accepted: str = "a YAML object"

    def parse(self, value: Any, key: str, reader: Reader) -> Any:
        return read_section(self.cls, value, key, reader)

    def schema(self) -> JsonSchema:
        return section_schema(self.cls)


@dataclass(frozen=True)
class Spec:
    """What `setting()` stores on a field."""

    kind: Kind
    doc: str
    key: str | None
    shown_default: str | None
    optional: bool


def setting(
    default: _T,
    kind: Kind,
    doc: str,
    *,
    key: str | None = None,
    shown_default: str | None = None,
) -> _T:
    """Declare a settings field: its default, what it accepts and a one-line meaning.

    `key` is the config key when it is not the field name in camelCase; `shown_default` is the
    default as the docs show it, where the field's own default depends on another field. A
    default of None makes the setting optional (absent unless given).
    """
    spec = Spec(kind, doc, key, shown_default, optional=default is None)
    if isinstance(default, dict):
        frozen = dict(default)
        made: Any = dataclasses.field(default_factory=lambda: dict(frozen), metadata={_SPEC: spec})
    else:
        made = dataclasses.field(default=default, metadata={_SPEC: spec})
    return cast(_T, made)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class Field:
    """One declared setting of a class: its Python name, config key, default and spec."""

    name: str
    key: str
    default: Any
    spec: Spec


def fields_of(cls: type[Any]) -> Iterator[Field]:
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(_SPEC)
        if spec is None:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        yield Field(f.name, spec.key or camel(f.name), default, spec)


class Check:
    """What a class's `checked()` uses to relate its fields and report against their key paths."""

    def __init__(
        self,
        path: str,
        sep: str,
        given: set[str],
        refused: set[str],
        reader: Reader,
        keys: dict[str, str],
    ) -> None:
        self.path = path
        self.problems = reader.problems
        self.project_dir = reader.project_dir
        self.region = reader.region
        self.physical_name = reader.physical_name
        self._sep = sep
        self._given = given
        self._refused = refused
        self._keys = keys

    def given(self, name: str) -> bool:
        """Whether the stack file sets this field (by Python name), validly or not."""
        return name in self._given

    def valid(self, name: str) -> bool:
        """Whether the field holds a value that was given and accepted (not a fallback)."""
        return name in self._given and name not in self._refused

    def key(self, name: str | None = None, *below: str) -> str:
        """The full key path of a field (by Python name), or of an entry `below` it."""
        if name is None:
            return self.path
        return ".".join((f"{self.path}{self._sep}{self._keys.get(name, name)}", *below))

    def fail(self, name: str, value: Any, accepted: str) -> None:
        self.problems.append(problem(self.key(name), value, accepted))

    def report(self, name: str | None, text: str, *below: str) -> None:
        self.problems.append(f"{self.key(name, *below)}: {text}")


class _Checked(Protocol):
    def checked(self: _S, check: Check) -> _S: ...


def read_section(
    cls: type[_S], value: Any, path: str, reader: Reader, sep: str = ".", **extra: Any
) -> _S:
    """An instance of `cls` from one YAML object, every problem recorded by its full key path.

    Refused values fall back to their defaults, so reading goes on and reports everything at once.
    `extra` passes fields that do not come from this object.
    """
    problems = reader.problems
    raw: Mapping[str, Any] = {}
    if isinstance(value, Mapping):
        raw = value
    elif value is not None:
        problems.append(problem(path, value, "a YAML object"))
    declared = list(fields_of(cls))
    values: dict[str, Any] = dict(extra)
    given: set[str] = set()
    refused: set[str] = set()
    for f in declared:
        item = raw.get(f.key)
        if item is None:
            continue
        key = f"{path}{sep}{f.key}"
        given.add(f.name)
        try:
            values[f.name] = f.spec.kind.parse(item, key, reader)
        except InvalidValueError as error:
            problems.append(problem(key, item, error.accepted))
            refused.add(f.name)
    keys = sorted(f.key for f in declared)
    for name in raw:
        if name not in keys:
            hint = difflib.get_close_matches(str(name), keys, n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else ""
            problems.append(
                f"{path}{sep}{_short(str(name))}: unknown key{also}; accepted keys: {', '.join(keys)}"
            )
    instance = cls(**values)
    if not hasattr(instance, "checked"):
        return instance
    check = Check(path, sep, given, refused, reader, {f.name: f.key for f in declared})
    return cast(_S, cast(_Checked, instance).checked(check))


def section_schema(cls: type[Any]) -> JsonSchema:
    """The JSON Schema of one YAML object of settings: its keys, each with what it accepts."""
    properties: JsonSchema = {}
    for f in fields_of(cls):
        schema = dict(f.spec.kind.schema())
        schema["description"] = f.spec.doc
        if f.spec.optional:
            schema = {"anyOf": [schema, {"type": "null"}], "description": f.spec.doc}
        properties[f.key] = schema
    return {
        "type": "object",
        "description": (cls.__doc__ or "").strip().splitlines()[0],
        "properties": properties,
        "additionalProperties": False,
    }
