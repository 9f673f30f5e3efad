"""The provider's answers read back as Pulumi resources and stack-file keys.

A diagnostic points at a Terraform resource (its address, or the line of `main.tf.json`, which
`translate.dump` maps to an attribute path); the translation knows which Pulumi resource and
input that is. The stack-file key is the one whose value the input holds (`db.t4g.micro` came
from `webstack:database.instanceClass`), else the component's section the resource belongs to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tools.verify.terraform import Diagnostic
from tools.verify.translate import PATH_PART, Address, Translation

# The first part of a resource's Pulumi name -> the config section its component reads.
SECTIONS = {
    "network": "webstack:network",
    "storage": "webstack:storage",
    "app-versions": "webstack:app.sourceBundle",
    "database": "webstack:database",
    "app": "webstack:app",
    "alarms": "webstack:alarms",
}


@dataclass(frozen=True)
class Finding:
    """A provider diagnostic about a Pulumi resource."""

    severity: str
    summary: str
    detail: str
    member: str | None
    name: str | None  # the Pulumi resource
    type: str | None
    input: str | None  # the Pulumi input path
    key: str | None  # the stack-file key that produced it

    def __str__(self) -> str:
        where = f"{self.name} ({self.type})" if self.name else "the configuration"
        lines = [f"{self.severity}: {where}: {self.summary}"]
        if self.input:
            lines.append(f"    input: {self.input}")
        if self.key:
            lines.append(f"    from: {self.key}")
        if self.detail:
            lines += [f"    {line}" for line in self.detail.splitlines() if line.strip()]
        return "\n".join(lines)


def leaves(config: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(`webstack:database.instanceClass`, value) for every leaf of a stack file's config."""
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping) and value:
            yield from leaves(value, path)
        else:
            yield path, value


def section(name: str) -> str | None:
    """The config section the resource named `name` comes from."""
    return next(
        (
            key
            for prefix, key in SECTIONS.items()
            if name == prefix or name.startswith(f"{prefix}-")
        ),
        None,
    )


def value_at(inputs: Any, path: str) -> Any:
    value = inputs
    for part in PATH_PART.finditer(path):
        key, index = part.group(1), part.group(2)
        if key is not None:
            value = value.get(key) if isinstance(value, Mapping) else None
        elif isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            value = None
    return value


def config_key(config: Mapping[str, Any], address: Address, input_path: str | None) -> str | None:
    """The stack-file key whose value the input holds, else the resource's section."""
    home = section(address.name)
    if input_path:
        value = value_at(address.inputs, input_path)
        if value is not None and not isinstance(value, bool):
            matches = [
                key
                for key, leaf in leaves(config)
                if not isinstance(leaf, bool)
                and (leaf == value or (isinstance(leaf, list) and value in leaf))
            ]
            matches.sort(key=lambda key: not (home and key.startswith(home)))
            if matches:
                return matches[0]
    return home


def _input(address: Address, tf_path: str) -> str | None:
    """The Pulumi input path of a Terraform attribute path (or of its nearest parent)."""
    path = tf_path
    while path:
        if path in address.paths:
            return address.paths[path] + tf_path[len(path) :]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def _tf_path(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def locate(
    diagnostic: Diagnostic,
    translation: Translation,
    lines: list[tuple[str | int, ...]],
    configs: Mapping[str, Mapping[str, Any]],
) -> Finding:
    """`diagnostic` as a finding about a Pulumi resource, its input and stack-file key."""
    address: Address | None = None
    tf_path = ""
    where = lines[diagnostic.line - 1] if diagnostic.line and diagnostic.line <= len(lines) else ()
    if len(where) >= 3 and where[0] == "resource":
        address = translation.addresses.get(f"{where[1]}.{where[2]}")
        tf_path = _tf_path(where[3:])
    if address is None and diagnostic.address:
        bare = diagnostic.address.split("[")[0]
        address = translation.addresses.get(bare)
    if address is None:
        return Finding(
            diagnostic.severity, diagnostic.summary, diagnostic.detail, None, None, None, None, None
        )
    input_path = _input(address, tf_path) if tf_path else None
    key = config_key(configs.get(address.member, {}), address, input_path)
    return Finding(
        diagnostic.severity,
        diagnostic.summary,
        diagnostic.detail,
        address.member,
        address.name,
        address.type,
        input_path,
        key,
    )
