"""A run as a reviewer reads it: what `pulumi preview` would know, nested data as data.

The mocks answer every resource with realistic values (ids, ARNs, endpoints) so the program runs
to the end; a real preview knows none of them until the resource exists. Here each such value is
replaced by `[unknown: <resource>.<output>]` wherever it flows, so a reader sees which resource
it comes from and nothing that merely looks real. Values a new resource passes through from its
inputs stay known, as they do in a preview (a Stash's `output` is its input at creation).
JSON documents held in strings (IAM policies, tags) are parsed, and secrets are redacted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tools.engine.mock_engine import Registration, Run, Secret

REDACTED = "[secret]"
# Computed outputs the provider knows before creation: the region comes from the provider.
KNOWN_BEFORE_CREATION = frozenset({"region"})
# Shorter computed strings (a status word, a port) are not identities worth tracing.
MIN_TRACED_LENGTH = 6
# Parts of a deployment-time value long enough to identify it when they turn up elsewhere.
TOKEN_LENGTH = 8


def unknown(label: str) -> str:
    return f"[unknown: {label}]"


def plain(value: Any, documents: bool = True) -> Any:
    """JSON-ready data: secrets redacted, whole floats as ints, assets by path, and JSON
    documents held in strings parsed (unless `documents` is False: the policy rules take them
    as strings, as CrossGuard gives them)."""
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, dict):
        return {k: plain(v, documents) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, documents) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the RPC layer turns every number into a float
    if isinstance(value, str):
        return _parsed(value) if documents else value
    if isinstance(value, int | float | bool) or value is None:
        return value
    path = getattr(value, "path", None)
    return {"asset": str(path)} if path is not None else repr(value)


def beanstalk_options(settings: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Any]:
    """A Beanstalk environment's `settings` input keyed by (namespace, option)."""
    return {(s["namespace"], s["name"]): s["value"] for s in settings}


def _parsed(text: str) -> Any:
    """A JSON object or array held in a string, as data; any other string as it is."""
    if not text.startswith(("{", "[")):
        return text
    try:
        found = json.loads(text)
    except ValueError:
        return text
    return plain(found) if isinstance(found, dict | list) else text


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string leaf of an output value with its path (`masterUserSecrets[0].secretArn`)."""
    if isinstance(value, Secret):
        yield from _strings(value.value, path)
    elif isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _literals(run: Run) -> set[str]:
    """Every string the program states itself: inputs that depend on no resource."""
    found: set[str] = set()
    for resource in run.resources:
        for key, value in resource.inputs.items():
            if not resource.property_dependencies.get(key):
                found.update(text for _, text in _strings(plain(value), key))
    return found


def computed_values(resource: Registration, literals: set[str]) -> dict[str, str]:
    """The values a resource gets only when it is created (mock value -> label).

    A value the program also states itself (an application's name that is also its id) is left
    known: whichever way it reached a property, the program knew it before deployment."""
    found: dict[str, str] = {}
    if resource.id and len(resource.id) >= MIN_TRACED_LENGTH and resource.id not in literals:
        found[resource.id] = f"{resource.name}.id"
    for key, value in resource.outputs.items():
        passed_through = key in resource.inputs and resource.inputs[key] == value
        stash_output = resource.type == "pulumi:index:Stash" and key == "output"
        if passed_through or stash_output or key in KNOWN_BEFORE_CREATION:
            continue
        for path, text in _strings(value, f"{resource.name}.{key}"):
            if len(text) >= MIN_TRACED_LENGTH and text not in literals:
                found.setdefault(text, path)
    return found


def _tokens(text: str) -> set[str]:
    """The random-looking parts of an ARN or id (`awseb-AWSEB-0bc6849b`), which survive when a
    program cuts a value apart or an invoke builds a related one from it."""
    return {
        part
        for part in re.split(r"[:/]", text)
        if len(part) >= TOKEN_LENGTH and re.search(r"[0-9]", part)
    }


class _Sources:
    """The deployment-time values a property may carry, from the resources it depends on."""

    def __init__(self, values: Mapping[str, str], literals: str) -> None:
        self.values = values
        # Longest first: an ARN is replaced whole, not around the bucket name inside it.
        self._order = sorted(values, key=len, reverse=True)
        self._tokens = {
            token: label
            for text, label in values.items()
            for token in _tokens(text)
            if token not in literals
        }

    def mark(self, value: Any) -> Any:
        """`value` with deployment-time values replaced by their unknown markers."""
        if isinstance(value, dict):
            return {k: self.mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mark(v) for v in value]
        if not isinstance(value, str) or value.startswith("[unknown: "):
            return value
        marked = value
        for text in self._order:
            if text in marked:
                marked = marked.replace(text, unknown(self.values[text]))
        if marked != value:
            return marked
        for token, label in self._tokens.items():
            if token in value:
                return unknown(f"derived from {label}")
        return value


def _leaf_changes(before: Any, after: Any) -> Iterator[tuple[str, str]]:
    """(raw string, marked string) for every string leaf marking changed."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before.keys() & after.keys():
            yield from _leaf_changes(before[key], after[key])
    elif isinstance(before, list) and isinstance(after, list):
        for old, new in zip(before, after, strict=False):
            yield from _leaf_changes(old, new)
    elif isinstance(before, str) and isinstance(after, str) and before != after:
        yield before, after


class Readable:
    """Inputs and outputs of one run with deployment-time values marked unknown."""

    def __init__(self, run: Run) -> None:
        self._run = run
        literals = _literals(run)
        self._literals = "\n".join(sorted(literals))
        # Per resource: values it makes at creation, and unknowns it passes on from its inputs.
        self._made: dict[str, dict[str, str]] = {}
        self._passed: dict[str, dict[str, str]] = {}
        self._inputs: dict[str, dict[str, Any]] = {}
        # Resources register after what they depend on, so one pass in order sees every source.
        for resource in run.resources:
            self._made[resource.urn] = computed_values(resource, literals)
            passed: dict[str, str] = {}
            shown: dict[str, Any] = {}
            for key, value in resource.inputs.items():
                raw = plain(value)
                shown[key] = self._sources(resource.property_dependencies.get(key, ())).mark(raw)
                # An input passed through to the output keeps its unknowns there (the ARN a
                # certificate validation hands on is the certificate's, unknown too).
                for text, _ in _leaf_changes(raw, shown[key]):
                    if len(text) >= MIN_TRACED_LENGTH:
                        passed.setdefault(text, f"{resource.name}.{key}")
            self._passed[resource.urn] = passed
            self._inputs[resource.urn] = shown

    def _sources(self, urns: Iterable[str]) -> _Sources:
        """What `urns` make at creation, named after their maker before any hand-on."""
        values: dict[str, str] = {}
        chosen = list(urns)
        for table in (self._made, self._passed):
            for urn in chosen:
                for text, label in table.get(urn, {}).items():
                    values.setdefault(text, label)
        return _Sources(values, self._literals)

    def inputs(self, resource: Registration) -> dict[str, Any]:
        """A resource's inputs, each property traced through the resources it depends on."""
        return self._inputs[resource.urn]

    def outputs(self) -> dict[str, Any]:
        """The stack outputs: a stack output can come from any resource."""
        sources = self._sources(r.urn for r in self._run.resources)
        return {
            key: REDACTED if key in self._run.secret_outputs else sources.mark(plain(value))
            for key, value in self._run.outputs.items()
        }
