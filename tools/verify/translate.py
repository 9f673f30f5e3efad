"""The offline plan as Terraform JSON for hashicorp/aws, so the provider pulumi-aws is bridged from
can judge it.

Per resource of a plan document (`tools.review.plan.plan_document`):
- the Pulumi type becomes the Terraform type pulumi-aws maps it to (`names.RESOURCE_TYPES`);
- each input becomes the attribute or block the provider's schema has for it: camel case to
  snake case, Pulumi's plural of a repeated block to its singular, the few renames pulumi-aws
  makes (`names.RENAMED`); nested JSON documents go back into strings;
- a value known only after deployment (`[unknown: <resource>.<output>]`) becomes a reference to
  that resource's attribute (`tolist()` where the attribute is a set), so it is unknown to the
  provider as it is to `pulumi preview`;
- the resource's explicit Pulumi provider becomes an aliased provider block with its region and
  default tags; `ignoreChanges` becomes `lifecycle.ignore_changes`; what Pulumi auto-names gets
  the name Pulumi would give it.
Resources only Pulumi has (components, Stash, random, providers) are left out and listed; one
whose values others take stands in as a `terraform_data`, whose id is unknown until it exists.
An input the provider's schema does not know is version skew (pulumi-aws tracks a newer
provider than the one here): reported, allowlisted with a reason in `skew.py`, never dropped
silently. Several plans (members) go into one configuration, each resource name prefixed with
its member's key, so one provider process judges them all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.engine.mock_engine import PROJECT_DIR
from tools.verify.names import (
    AUTONAMES,
    DEFAULT_AUTONAME,
    PULUMI_ONLY_PREFIXES,
    RENAMED,
    RESOURCE_TYPES,
)
from tools.verify.schema import Attribute, Block, ProviderSchema
from tools.verify.skew import KNOWN_SKEW

PROVIDER_VERSION = "5.100.0"
# What lets the provider plan with no account and no network.
OFFLINE_PROVIDER = {
    "access_key": "offline",
    "secret_key": "offline",
    "skip_credentials_validation": True,
    "skip_requesting_account_id": True,
    "skip_metadata_api_check": True,
    "skip_region_validation": True,
}
UNKNOWN = re.compile(r"\[unknown: (?:derived from )?([^.\]\s]+)\.((?:[^\[\]]|\[\d+\])+)\]")
PATH_PART = re.compile(r"([A-Za-z0-9_]+)|\[(\d+)\]")
SEPARATOR = "__"  # between a member's key and a resource's name
PLACEHOLDER = "terraform_data"


class TranslationError(Exception):
    """A plan this translation cannot express: a type with no known Terraform type, say."""


@dataclass(frozen=True)
class Member:
    """One stack's plan in a configuration: `key` prefixes its names; `config` is its stack
    file's config (full keys), to say which key produced a value."""

    key: str
    plan: dict[str, Any]
    region: str
    config: Mapping[str, Any] = field(default_factory=dict)
    project_dir: Path = PROJECT_DIR  # where the plan's asset paths are


@dataclass
class Address:
    """A Terraform resource and the Pulumi resource it stands for."""

    address: str
    member: str
    name: str  # the Pulumi resource's name
    type: str  # the Pulumi type
    urn: str
    # Terraform attribute path (`setting[3].value`) -> Pulumi input path (`settings[3].value`)
    paths: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)  # the plan's inputs

    @property
    def tf_type(self) -> str:
        return self.address.split(".")[0]


@dataclass(frozen=True)
class Skew:
    """An input the provider's schema has no place for."""

    member: str
    name: str
    type: str
    path: str
    reason: str | None  # why it is known skew, or None: not allowlisted


@dataclass(frozen=True)
class LeftOut:
    member: str
    name: str
    type: str


@dataclass
class Translation:
    """The Terraform JSON of one or more plans, and how to read the provider's answers back."""

    document: dict[str, Any]
    addresses: dict[str, Address]
    left_out: list[LeftOut]
    skew: list[Skew]
    members: dict[str, Member]

    def by_pulumi_name(self, member: str, name: str) -> Address | None:
        return next(
            (a for a in self.addresses.values() if a.member == member and a.name == name), None
        )


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def singulars(name: str) -> Iterator[str]:
    """The singular a plural property name may have been made from (`rules` -> `rule`)."""
    if name.endswith("ies"):
        yield name[:-3] + "y"
    if name.endswith("es"):
        yield name[:-2]
    if name.endswith("s"):
        yield name[:-1]


def terraform_name(block: Block, key: str, renamed: Mapping[str, str]) -> str | None:
    """The attribute or block of `block` that Pulumi's input `key` is, or None."""
    if key in renamed and block.has(renamed[key]):
        return renamed[key]
    plain = snake(key)
    if block.has(plain):
        return plain
    for candidate in singulars(plain):
        if candidate in block.blocks:
            return candidate
        attribute = block.attributes.get(candidate)
        if attribute is not None and attribute.kind in ("list", "set"):
            return candidate
    return None


def escape(text: str) -> str:
    """A literal string in Terraform's template syntax (IAM's `${aws:username}` stays literal)."""
    return text.replace("${", "$${").replace("%{", "%%{")


def _hex(urn: str) -> str:
    return hashlib.sha256(urn.encode()).hexdigest()[:7]


def resource_name(member: str, name: str) -> str:
    return f"{member}{SEPARATOR}{re.sub(r'[^A-Za-z0-9_-]', '_', name)}"


class _Translator:
    def __init__(self, schema: ProviderSchema, members: list[Member]) -> None:
        self.schema = schema
        self.members = {m.key: m for m in members}
        self.addresses: dict[str, Address] = {}
        self.left_out: list[LeftOut] = []
        self.skew: list[Skew] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self.providers: list[dict[str, Any]] = [{"region": "us-east-1", **OFFLINE_PROVIDER}]
        self.placeholders: dict[str, Any] = {}
        # (member, Pulumi name) -> plan resource
        self.named: dict[tuple[str, str], dict[str, Any]] = {}
        # provider URN -> alias
        self.aliases: dict[str, str] = {}

    # Pass 1: names, providers --------------------------------------------------------------

    def index(self, member: Member) -> None:
        default = resource_name(member.key, "default")
        self.providers.append({"alias": default, "region": member.region, **OFFLINE_PROVIDER})
        for resource in member.plan["resources"]:
            key = (member.key, resource["name"])
            # Names are unique per type; an AWS resource wins over a component of the same name.
            if key not in self.named or resource["type"] in RESOURCE_TYPES:
                self.named[key] = resource
            if resource["type"].startswith("pulumi:providers:aws"):
                self._provider(member, resource)

    def _provider(self, member: Member, resource: dict[str, Any]) -> None:
        alias = resource_name(member.key, resource["name"])
        inputs = resource["inputs"]
        block: dict[str, Any] = {
            "alias": alias,
            "region": inputs.get("region", member.region),
            **OFFLINE_PROVIDER,
        }
        tags = (inputs.get("defaultTags") or {}).get("tags")
        if tags:
            block["default_tags"] = [{"tags": {k: escape(str(v)) for k, v in tags.items()}}]
        self.providers.append(block)
        self.aliases[f"{member.key}|{resource['urn']}"] = alias

    def _alias(self, member: Member, provider_ref: str) -> str:
        urn = provider_ref.rsplit("::", 1)[0] if provider_ref else ""
        return self.aliases.get(f"{member.key}|{urn}", resource_name(member.key, "default"))

    # Pass 2: resources ---------------------------------------------------------------------

    def add(self, member: Member) -> None:
        for resource in member.plan["resources"]:
            type_ = resource["type"]
            if type_.startswith(PULUMI_ONLY_PREFIXES):
                self.left_out.append(LeftOut(member.key, resource["name"], type_))
                continue
            tf_type = RESOURCE_TYPES.get(type_)
            if tf_type is None or not self.schema.knows(tf_type):
                raise TranslationError(
                    f"{resource['name']}: no Terraform type known for {type_}"
                    + (f" ({tf_type} is not in this provider's schema)" if tf_type else "")
                    + " (tools/verify/names.py)"
                )
            self._resource(member, resource, tf_type)

    def _resource(self, member: Member, resource: dict[str, Any], tf_type: str) -> None:
        name = resource_name(member.key, resource["name"])
        address = Address(
            f"{tf_type}.{name}",
            member.key,
            resource["name"],
            resource["type"],
            resource["urn"],
            inputs=resource["inputs"],
        )
        self.addresses[address.address] = address
        block = self.schema.resource(tf_type).block
        renamed = RENAMED.get(resource["type"], {})
        body = self._block(member, address, block, resource["inputs"], "", "", renamed)
        self._autoname(tf_type, block, body, resource)
        body["provider"] = f"aws.{self._alias(member, resource.get('provider', ''))}"
        ignored = self._ignored(block, resource.get("ignoreChanges", []), renamed)
        if ignored:
            body["lifecycle"] = {"ignore_changes": ignored}
        self.resources.setdefault(tf_type, {})[name] = body

    def _block(
        self,
        member: Member,
        address: Address,
        block: Block,
        inputs: Mapping[str, Any],
        tf_path: str,
        pulumi_path: str,
        renamed: Mapping[str, str],
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key, value in inputs.items():
            if value is None:
                continue
            here = f"{pulumi_path}{key}"
            name = terraform_name(block, key, renamed)
            if name is None:
                self._skewed(member, address, here)
                continue
            there = f"{tf_path}{name}"
            address.paths[there] = here
            if name in block.blocks:
                sub = block.blocks[name]
                items = value if isinstance(value, list) else [value]
                converted = [
                    self._block(member, address, sub, item, f"{there}[{i}].", f"{here}[{i}].", {})
                    for i, item in enumerate(items)
                    if isinstance(item, Mapping)
                ]
                body[name] = converted[0] if sub.nesting == "single" and converted else converted
            elif _is_asset(value):
                # A file or folder Pulumi uploads: Terraform takes its path, and sees a change
                # of its content through `source_hash` (Pulumi compares the asset's hash).
                path = member.project_dir / value["asset"]
                body[name] = str(path)
                if name == "source" and "source_hash" in block.attributes:
                    body["source_hash"] = asset_digest(path)
            else:
                body[name] = self._attribute(member, block.attributes[name], value)
        return body

    def _skewed(self, member: Member, address: Address, path: str) -> None:
        generic = re.sub(r"\[\d+\]", "[]", path)
        reason = KNOWN_SKEW.get((address.type, generic))
        self.skew.append(Skew(member.key, address.name, address.type, path, reason))

    def _attribute(self, member: Member, attribute: Attribute, value: Any) -> Any:
        if attribute.kind == "string" and isinstance(value, dict | list):
            # A JSON document Pulumi took as data (a policy): Terraform takes it as a string.
            return json.dumps(self._value(member, value))
        if attribute.kind == "object" and isinstance(value, Mapping):
            return {snake(k): self._value(member, v) for k, v in value.items()}
        element = attribute.element
        if (
            attribute.kind in ("list", "set")
            and isinstance(element, list)
            and element[0] == "object"
            and isinstance(value, list)
        ):
            return [
                {snake(k): self._value(member, v) for k, v in item.items()}
                if isinstance(item, Mapping)
                else item
                for item in value
            ]
        return self._value(member, value)

    def _value(self, member: Member, value: Any) -> Any:
        """Values with strings in template syntax and unknowns as references."""
        if isinstance(value, Mapping):
            return {k: self._value(member, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(member, v) for v in value]
        if isinstance(value, str):
            return self._text(member, value)
        return value

    def _text(self, member: Member, text: str) -> str:
        parts: list[str] = []
        last = 0
        for found in UNKNOWN.finditer(text):
            parts.append(escape(text[last : found.start()]))
            parts.append("${" + self.reference(member, found.group(1), found.group(2)) + "}")
            last = found.end()
        parts.append(escape(text[last:]))
        return "".join(parts)

    def reference(self, member: Member, name: str, path: str) -> str:
        """The expression for output `path` of the resource named `name`."""
        resource = self.named.get((member.key, name))
        if resource is None:
            raise TranslationError(f"an unknown value refers to {name!r}, which is not planned")
        tf_type = RESOURCE_TYPES.get(resource["type"])
        if tf_type is None:
            placeholder = resource_name(member.key, name)
            self.placeholders[placeholder] = {"input": resource["type"]}
            return f"{PLACEHOLDER}.{placeholder}.id"
        expression = f"{tf_type}.{resource_name(member.key, name)}"
        node: Block | Attribute | Any = self.schema.resource(tf_type).block
        renamed = RENAMED.get(resource["type"], {})
        for part in PATH_PART.finditer(path):
            key, index = part.group(1), part.group(2)
            if key is not None:
                expression, node = self._step(node, key, expression, renamed)
                renamed = {}
            elif index is not None:
                expression, node = _index(node, expression, int(index))
        return expression

    def _step(
        self, node: Any, key: str, expression: str, renamed: Mapping[str, str]
    ) -> tuple[str, Any]:
        if isinstance(node, Block):
            found = terraform_name(node, key, renamed)
            if found is None:
                raise TranslationError(f"{expression}: the provider has no attribute for {key}")
            child = node.blocks.get(found) or node.attributes[found]
            return f"{expression}.{found}", child
        # An object type: ["object", {name: type}] (maybe inside a list or set).
        if isinstance(node, Attribute):
            node = node.type
        if isinstance(node, list) and node[0] == "object":
            name = snake(key)
            return f"{expression}.{name}", node[1].get(name)
        raise TranslationError(f"{expression}: cannot take {key} of it")

    def _autoname(
        self, tf_type: str, block: Block, body: dict[str, Any], resource: dict[str, Any]
    ) -> None:
        if tf_type in AUTONAMES:
            rule = AUTONAMES[tf_type]
        else:
            attribute = block.attributes.get("name")
            settable = attribute is not None and attribute.settable and attribute.kind == "string"
            rule = DEFAULT_AUTONAME if settable else None
        if rule is None or rule.field in body or f"{rule.field}_prefix" in body:
            return
        name = f"{resource['name']}{rule.separator}{_hex(resource['urn'])}"
        name = (rule.prefix + name)[: rule.max_length]
        body[rule.field] = name.lower() if rule.lower else name

    def _ignored(self, block: Block, paths: list[str], renamed: Mapping[str, str]) -> list[str]:
        found: list[str] = []
        for path in paths:
            top = PATH_PART.match(path)
            name = terraform_name(block, top.group(1), renamed) if top and top.group(1) else None
            if name is not None and name not in found:
                found.append(name)
        return found

    def document(self) -> dict[str, Any]:
        resources: dict[str, Any] = dict(sorted(self.resources.items()))
        if self.placeholders:
            resources[PLACEHOLDER] = self.placeholders
        return {
            "terraform": {
                "required_providers": {
                    "aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}
                }
            },
            "provider": {"aws": self.providers},
            "resource": resources,
        }


def _is_asset(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"asset"}


def asset_digest(path: Path) -> str:
    """The SHA-256 of a file, or of a folder's files and their relative paths."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        digest.update(file.read_bytes() if file.exists() else b"")
    return digest.hexdigest()


def _index(node: Any, expression: str, index: int) -> tuple[str, Any]:
    """`expression[index]`; a set has no order in Terraform, so it is made a list first."""
    if isinstance(node, Block):
        if node.nesting == "set":
            return f"tolist({expression})[{index}]", Block(node.attributes, node.blocks)
        return f"{expression}[{index}]", Block(node.attributes, node.blocks)
    kind = node.type if isinstance(node, Attribute) else node
    if isinstance(kind, list) and kind[0] in ("list", "set"):
        text = f"tolist({expression})[{index}]" if kind[0] == "set" else f"{expression}[{index}]"
        return text, kind[1]
    return f"{expression}[{index}]", None


def translate(schema: ProviderSchema, members: list[Member]) -> Translation:
    """One Terraform configuration holding every member's resources."""
    translator = _Translator(schema, members)
    for member in members:
        translator.index(member)
    for member in members:
        translator.add(member)
    return Translation(
        document=translator.document(),
        addresses=translator.addresses,
        left_out=translator.left_out,
        skew=translator.skew,
        members=translator.members,
    )


def dump(document: Any) -> tuple[str, list[tuple[str | int, ...]]]:
    """`document` as JSON text with one key or element per line, and the path of each line
    (`("resource", "aws_vpc", "dev__network-vpc", "cidr_block")` on line N is `paths[N - 1]`),
    so the line a provider's diagnostic points at names the attribute."""
    lines: list[str] = []
    paths: list[tuple[str | int, ...]] = []

    def emit(value: Any, path: tuple[str | int, ...], prefix: str, suffix: str, depth: int) -> None:
        pad = " " * depth
        items: list[tuple[str | int, Any]] | None = None
        if isinstance(value, dict) and value:
            items, opening, closing = list(value.items()), "{", "}"
        elif isinstance(value, list) and value:
            items, opening, closing = list(enumerate(value)), "[", "]"
        if items is None:
            lines.append(f"{pad}{prefix}{json.dumps(value)}{suffix}")
            paths.append(path)
            return
        lines.append(f"{pad}{prefix}{opening}")
        paths.append(path)
        for position, (key, item) in enumerate(items):
            label = f"{json.dumps(key)}: " if isinstance(value, dict) else ""
            comma = "," if position < len(items) - 1 else ""
            emit(item, (*path, key), label, comma, depth + 1)
        lines.append(f"{pad}{closing}{suffix}")
        paths.append(path)

    emit(document, (), "", "", 0)
    return "\n".join(lines) + "\n", paths
