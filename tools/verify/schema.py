"""The provider's own schema (`terraform providers schema -json`): which attributes and blocks a
resource type has, their types and nesting, and which are computed. The translation is guided by
it rather than by a table of our own, so a name the provider does not know shows up as such.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AWS_SOURCE = "registry.terraform.io/hashicorp/aws"


@dataclass(frozen=True)
class Attribute:
    """One attribute: its cty type (`"string"`, `["list", "string"]`, `["object", {...}]`)."""

    name: str
    type: Any
    required: bool
    optional: bool
    computed: bool

    @property
    def settable(self) -> bool:
        return self.required or self.optional

    @property
    def kind(self) -> str:
        """`string`, `number`, `bool`, or the collection: `list`, `set`, `map`, `object`."""
        return self.type if isinstance(self.type, str) else str(self.type[0])

    @property
    def element(self) -> Any:
        """The element type of a list, set or map (None for anything else)."""
        if isinstance(self.type, list) and self.type[0] in ("list", "set", "map"):
            return self.type[1]
        return None


@dataclass(frozen=True)
class Block:
    """A resource's schema, or one of its nested blocks' (`nesting`: list, set or single)."""

    attributes: dict[str, Attribute]
    blocks: dict[str, Block]
    nesting: str = "single"
    max_items: int | None = None

    def has(self, name: str) -> bool:
        return name in self.attributes or name in self.blocks

    @classmethod
    def of(
        cls, raw: dict[str, Any], nesting: str = "single", max_items: int | None = None
    ) -> Block:
        attributes = {
            name: Attribute(
                name,
                spec["type"],
                bool(spec.get("required")),
                bool(spec.get("optional")),
                bool(spec.get("computed")),
            )
            for name, spec in raw.get("attributes", {}).items()
        }
        blocks = {
            name: cls.of(spec["block"], spec["nesting_mode"], spec.get("max_items"))
            for name, spec in raw.get("block_types", {}).items()
        }
        return cls(attributes, blocks, nesting, max_items)


@dataclass(frozen=True)
class ResourceSchema:
    type: str
    version: int  # the state's schema_version
    block: Block


class ProviderSchema:
    """The AWS provider's schemas, read from the JSON `terraform providers schema -json` prints."""

    def __init__(self, document: dict[str, Any]) -> None:
        provider = document["provider_schemas"][AWS_SOURCE]
        self._raw: dict[str, Any] = provider["resource_schemas"]
        self._parsed: dict[str, ResourceSchema] = {}

    @classmethod
    def load(cls, path: Path) -> ProviderSchema:
        return cls(json.loads(path.read_text()))

    def knows(self, resource_type: str) -> bool:
        return resource_type in self._raw

    def resource(self, resource_type: str) -> ResourceSchema:
        found = self._parsed.get(resource_type)
        if found is None:
            raw = self._raw[resource_type]
            found = ResourceSchema(resource_type, int(raw["version"]), Block.of(raw["block"]))
            self._parsed[resource_type] = found
        return found
