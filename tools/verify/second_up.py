"""The second `pulumi up`, judged by the provider: the state a first `up` leaves (`converge`),
a changed stack file planned against it, and the provider's action on each resource compared
with what `make diff` says (`disagreements`).

Where they differ, only a Pulumi-level rule may explain it, since Terraform does not know it:
- a replacement trigger (`replacementTrigger`) changed: Pulumi replaces, Terraform sees nothing;
- the resource's Pulumi provider changed: Pulumi's engine replaces the resource, Terraform
  only configures it differently;
- only `protect` or `retainOnDelete` changed: a Pulumi option, no call to AWS.
Anything else is a bug in `make diff` (or `tools/review/replacements.py`), and fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tools.review.diff import Change, compare
from tools.verify.names import RESOURCE_TYPES
from tools.verify.schema import ProviderSchema
from tools.verify.state import State, Synthesizer, has_unknown
from tools.verify.terraform import Diagnostic, Terraform
from tools.verify.translate import Translation, dump

ROUNDS = 10
PULUMI_OPTIONS = ("(protect)", "(retainOnDelete)")
# Terraform's actions (`resource_changes[].change.actions`) as make diff's operations.
OPERATIONS = {
    ("create",): "create",
    ("delete",): "delete",
    ("update",): "update",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
}


class NotConvergedError(Exception):
    """The provider still changes resources after the last round."""


class PlanFailedError(Exception):
    """The provider refused a plan; `diagnostics` says why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(f"{d.summary}: {d.detail}" for d in diagnostics))
        self.diagnostics = diagnostics


def operation(change: dict[str, Any]) -> str | None:
    """make diff's name for what a plan does to a resource, or None for nothing.

    An update whose planned values equal the state's, with nothing left to learn, is none: the
    provider plans those for write-only arguments (a database's `apply_immediately`) it cannot
    compare, and applying one calls no API."""
    actions = tuple(change["change"]["actions"])
    if actions == ("update",) and _settled(change):
        return None
    return OPERATIONS.get(actions)


def _settled(change: dict[str, Any]) -> bool:
    body = change["change"]
    return body["before"] == body["after"] and not has_unknown(body.get("after_unknown"))


def pending(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The managed resources a plan still changes."""
    return [
        c
        for c in plan.get("resource_changes", [])
        if c["mode"] == "managed" and operation(c) is not None
    ]


def converge(
    terraform: Terraform,
    schema: ProviderSchema,
    translation: Translation,
    folder: str,
    state: State | None = None,
) -> State:
    """The state after `pulumi up` of `translation`'s stacks (from `state`, or from nothing):
    planned, applied in synthesis, planned again until the provider changes nothing."""
    text, _ = dump(translation.document)
    synthesizer = Synthesizer(translation, schema)
    state = state or State(schema)
    left: list[dict[str, Any]] = []
    for _ in range(ROUNDS):
        planned = terraform.plan(
            terraform.folder(folder, text, state.document() if state.entries else None)
        )
        if planned.errors or planned.document is None:
            raise PlanFailedError(planned.errors)
        left = pending(planned.document)
        if not left:
            return state
        state = synthesizer.state(planned.document, state)
    raise NotConvergedError(
        f"{folder}: still changing after {ROUNDS} plans: " + ", ".join(c["address"] for c in left)
    )


def provider_operations(
    translation: Translation, plan: dict[str, Any], member: str
) -> dict[str, str]:
    """Pulumi resource name -> what the provider's plan does to it, for one member."""
    found: dict[str, str] = {}
    for change in plan.get("resource_changes", []):
        address = translation.addresses.get(change["address"])
        op = operation(change)
        if op is None:
            continue
        if address is not None:
            if address.member == member:
                found[address.name] = op
        elif op == "delete" and change["name"].startswith(f"{member}__"):
            # In the state only: a resource the changed stack no longer has.
            found[change["name"].split("__", 1)[1]] = op
    return found


@dataclass(frozen=True)
class Disagreement:
    name: str
    type: str
    diff: str  # what make diff says ("none" for nothing)
    provider: str  # what the provider plans
    values: tuple[str, ...]  # the changed input paths make diff saw

    def __str__(self) -> str:
        changed = f" ({', '.join(self.values)})" if self.values else ""
        return (
            f"{self.name} ({self.type}): make diff says {self.diff}, "
            f"the provider plans {self.provider}{changed}"
        )


def explained(change: Change, provider: str) -> str | None:
    """The Pulumi-level rule behind a disagreement, or None."""
    if change.op == "replace" and provider in ("update", "none") and change.engine_rules:
        return change.engine_rules[0]
    if change.op == "update" and provider == "none":
        paths = {path for path, _, _ in change.values}
        if paths and paths <= set(PULUMI_OPTIONS):
            return "protect"
    return None


def disagreements(
    base: dict[str, Any], head: dict[str, Any], provider: dict[str, str]
) -> tuple[list[Disagreement], dict[str, str]]:
    """Where make diff (base plan against head plan) and the provider's operations differ
    unexplained; and the explained ones (name -> rule)."""
    changes = {c.name: c for c in compare(base, head) if c.type in RESOURCE_TYPES}
    types = {r["name"]: r["type"] for r in [*base["resources"], *head["resources"]]}
    found: list[Disagreement] = []
    rules: dict[str, str] = {}
    for name in sorted(changes.keys() | provider.keys()):
        if types.get(name) not in RESOURCE_TYPES:
            continue
        change = changes.get(name)
        said = change.op if change else "none"
        planned = provider.get(name, "none")
        if said == planned:
            continue
        rule = explained(change, planned) if change else None
        if rule is not None:
            rules[name] = rule
            continue
        values = tuple(path for path, _, _ in change.values) if change else ()
        found.append(Disagreement(name, types[name], said, planned, values))
    return found, rules


def counts(operations: Iterable[str]) -> str:
    tally = Counter(operations)
    return ", ".join(f"{tally[op]} {op}" for op in sorted(tally)) or "no change"
