"""What a change does to each stack, offline: the plan at a git ref against the working tree.

    python -m tools.diff --base main dev prod     # or: make diff STACK=prod BASE=main

For each stack, builds the offline plan (`tools.plan`) of the code and stack file at BASE, and
of the working tree, and compares them resource by resource (by URN): created, deleted, updated
in place or replaced, with the changed inputs. Whether a change replaces a resource comes from
the providers' schemas (`tools/review/replacements.py`, each entry citing its source), its replacement
trigger, or a replaced resource it takes a deployment-time value from. Replacing or deleting a
protected resource is blocking: Pulumi refuses it, and for data it would be lost.

Writes Markdown fit for a pull-request comment (stdout, and `--out FILE`).

Exit status: 0 nothing blocking; 4 a blocking change; 2 a stack file's config was refused (at
BASE or in the working tree); 1 the diff or a plan crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.instances import architecture
from tools.engine.mock_engine import PROJECT_DIR
from tools.review.plan import CONFIG_REFUSED, PLAN_FORMAT, short_type
from tools.review.readable import plain
from tools.review.replacements import (
    DATA_TYPES,
    FORCE_NEW,
    INSTANCE_REPLACING_NAMESPACES,
    RULE_PEERS,
    SG_RULE_TYPES,
    TAGGABLE,
)

BLOCKING = 4
ENVIRONMENT = "aws:elasticbeanstalk/environment:Environment"
CRASHED = 1
# A value `tools.review.readable` marked as known only after deployment, and the resource it comes from.
UNKNOWN_FROM = re.compile(r"\[unknown: (?:derived from )?([^.\]\s]+)\.")
CELL = 100  # characters of a value shown in a table cell
# The before and after of an input that takes an id or ARN of a replaced resource.
FROM_REPLACED = object()


class PlanError(Exception):
    """A plan that could not be built; `status` is the plan's exit status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Change:
    """What happens to one resource."""

    name: str
    type: str
    op: str  # create, delete, update or replace
    protected: bool = False
    # (input path, before, after) of every changed value
    values: list[tuple[str, Any, Any]] = field(default_factory=list)
    because: list[str] = field(default_factory=list)
    # inputs that change only because a resource they take a value from is replaced
    cascaded: set[str] = field(default_factory=set)
    # only its tags change: its provider's default tags (`webstack:tags`) changed
    retagged: bool = False
    # what an update in place also does (a Beanstalk environment's instances replaced)
    notes: list[str] = field(default_factory=list)
    # Pulumi's engine's own reasons to replace, which no provider sees
    engine_rules: list[str] = field(default_factory=list)

    @property
    def assessed(self) -> bool:
        """Whether `tools/review/replacements.py` knows what replaces this type."""
        return self.type in FORCE_NEW

    @property
    def blocking(self) -> bool:
        return self.protected and self.op in ("replace", "delete")

    @property
    def loses_data(self) -> bool:
        return self.type in DATA_TYPES and self.op in ("replace", "delete")


# Plans -------------------------------------------------------------------------------------------


def build_plan(project: Path, stack: str, out: Path) -> dict[str, Any]:
    """The plan document of `stack` as the code in `project` makes it (its own tools.plan)."""
    if not (project / f"Pulumi.{stack}.yaml").exists():
        return {"format": PLAN_FORMAT, "resources": [], "outputs": {}, "missing": True}
    result = subprocess.run(
        [sys.executable, "-m", "tools.plan", stack, "--out", str(out)],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode not in (0, 3):  # 3: a policy rule failed, the plan is still written
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise PlanError(result.returncode, tail)
    document: dict[str, Any] = json.loads((out / f"plan-{stack}.json").read_text())
    return document


def checkout(base: str, into: Path) -> Path:
    """The project folder as it was at git ref `base`, extracted under `into`."""

    def git(*args: str) -> str:
        found = subprocess.run(
            ["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
        )
        if found.returncode != 0:
            raise PlanError(CRASHED, f"git {' '.join(args)}: {found.stderr.strip()}")
        return found.stdout.strip()

    commit = git("rev-parse", "--verify", f"{base}^{{commit}}")
    prefix = git("rev-parse", "--show-prefix")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit],
        cwd=git("rev-parse", "--show-toplevel"),
        capture_output=True,
        check=True,
    )
    with tempfile.TemporaryFile() as buffer:
        buffer.write(archive.stdout)
        buffer.seek(0)
        with tarfile.open(fileobj=buffer) as tar:
            tar.extractall(into, filter="data")
    return into / prefix


# Comparing ---------------------------------------------------------------------------------------


def _identity(item: Any) -> str | None:
    """A list element's identity, so settings lists compare by option, not by position."""
    found: str | None = None
    if isinstance(item, dict):
        if "namespace" in item and "name" in item:
            found = f"{item['namespace']}:{item['name']}"
        else:
            found = next(
                (item[k] for k in ("name", "Sid", "key") if isinstance(item.get(k), str)), None
            )
    # An identity known only after deployment identifies nothing before it.
    return None if found is None or "[unknown: " in found else found


def differences(
    before: Any, after: Any, path: str, lenient: bool = False
) -> Iterator[tuple[str, Any, Any]]:
    """(path, before, after) for every changed leaf; absent values are None. `lenient` skips
    leaves that are unknown now, for a BASE plan that shows mock values in their place."""
    if lenient and isinstance(after, str) and "[unknown: " in after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys()):
            yield from differences(before.get(key), after.get(key), f"{path}.{key}", lenient)
        return
    if isinstance(before, list) and isinstance(after, list) and before != after:
        keys_before = [_identity(item) for item in before]
        keys_after = [_identity(item) for item in after]
        identified = None not in keys_before + keys_after
        unique = len(set(keys_before)) == len(before) and len(set(keys_after)) == len(after)
        if identified and unique:
            old = dict(zip(keys_before, before, strict=True))
            new = dict(zip(keys_after, after, strict=True))
            for key in sorted(old.keys() | new.keys(), key=str):
                yield from differences(old.get(key), new.get(key), f"{path}[{key}]", lenient)
            return
        if len(before) == len(after):
            for index, (old, new) in enumerate(zip(before, after, strict=True)):
                yield from differences(old, new, f"{path}[{index}]", lenient)
            return
    if before != after:
        yield path, before, after


def _peer_kind(inputs: dict[str, Any]) -> str | None:
    return next((key for key in RULE_PEERS if key in inputs), None)


def _forced(
    resource_type: str, changed: set[str], before: dict[str, Any], after: dict[str, Any]
) -> list[str]:
    """Why these input changes replace the resource, per the provider's schema."""
    force_new = FORCE_NEW.get(resource_type)
    if force_new is None:
        return []
    reasons = [
        f"`{key}` forces a replacement ([schema]({force_new.source}))"
        for key in sorted(changed & force_new.arguments)
    ]
    if resource_type in SG_RULE_TYPES and _peer_kind(before) != _peer_kind(after):
        reasons.append(f"the peer's kind changes ([schema]({force_new.source}))")
    return reasons


def compare(base: dict[str, Any], head: dict[str, Any]) -> list[Change]:
    """Every resource that changes between two plan documents, in URN order.

    A BASE plan from before plan format 2 holds mock values where values are unknown, and JSON
    documents as strings: its documents are parsed, and what is unknown now is not compared."""
    lenient = base.get("format") != PLAN_FORMAT
    if lenient:
        base = {
            **base,
            "resources": [{**r, "inputs": plain(r["inputs"])} for r in base["resources"]],
        }
    old = {r["urn"]: r for r in base["resources"]}
    new = {r["urn"]: r for r in head["resources"]}
    changes: dict[str, Change] = {}
    for urn in sorted(old.keys() | new.keys()):
        before, after = old.get(urn), new.get(urn)
        if before is None and after is not None:
            changes[urn] = Change(after["name"], after["type"], "create")
        elif after is None and before is not None:
            changes[urn] = Change(before["name"], before["type"], "delete", before["protect"])
        elif before is not None and after is not None:
            change = _changed(before, after, lenient)
            if change is not None:
                changes[urn] = change
    _cascade(changes, old, new)
    _retag(changes, old, new)
    return [changes[urn] for urn in sorted(changes)]


def provider_urn(resource: dict[str, Any]) -> str:
    """The URN of the provider a resource is managed by (its reference less the id)."""
    return str(resource.get("provider") or "").rsplit("::", 1)[0]


def _retag(
    changes: dict[str, Change], old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]
) -> None:
    """A provider's default tags are in every taggable resource's `tagsAll`: when they change,
    each resource of that provider updates its tags in place."""
    retagged = {
        urn: (old[urn]["inputs"].get("defaultTags"), new[urn]["inputs"].get("defaultTags"))
        for urn in old.keys() & new.keys()
        if new[urn]["type"] == "pulumi:providers:aws"
        and old[urn]["inputs"].get("defaultTags") != new[urn]["inputs"].get("defaultTags")
    }
    for urn in sorted(old.keys() & new.keys()):
        after = new[urn]
        tags = retagged.get(provider_urn(after))
        if tags is None or after["type"] not in TAGGABLE or urn in changes:
            continue
        if provider_urn(old[urn]) != provider_urn(after):
            continue
        changes[urn] = Change(
            after["name"],
            after["type"],
            "update",
            bool(old[urn]["protect"]),
            values=[("tagsAll (the provider's defaultTags)", tags[0], tags[1])],
            retagged=True,
        )


def _changed(before: dict[str, Any], after: dict[str, Any], lenient: bool) -> Change | None:
    ignored = set(after.get("ignoreChanges", []))
    old_inputs = {k: v for k, v in before["inputs"].items() if k not in ignored}
    new_inputs = {k: v for k, v in after["inputs"].items() if k not in ignored}
    values = list(differences(old_inputs, new_inputs, "", lenient))
    for option in ("protect", "retainOnDelete"):
        if before.get(option) != after.get(option):
            values.append((f"({option})", before.get(option), after.get(option)))
    trigger_old, trigger_new = before.get("replacementTrigger"), after.get("replacementTrigger")
    triggered = None not in (trigger_old, trigger_new) and trigger_old != trigger_new
    moved = provider_urn(before) != provider_urn(after)
    if moved:
        values.append(("(provider)", provider_urn(before), provider_urn(after)))
    if not values and not triggered:
        return None
    changed = {path.split(".")[1].split("[")[0] for path, _, _ in values if path.startswith(".")}
    because = _forced(after["type"], changed, old_inputs, new_inputs)
    if triggered:
        because.append("its replacement trigger changes")
    if moved:
        because.append(
            "its provider changes (Pulumi replaces a resource moved to another provider)"
        )
    return Change(
        name=after["name"],
        type=after["type"],
        op="replace" if because else "update",
        protected=bool(before.get("protect")),
        values=[(path.lstrip("."), b, a) for path, b, a in values],
        because=because,
        notes=_instance_notes(values) if after["type"] == ENVIRONMENT else [],
        engine_rules=[
            rule
            for rule, applies in (("replacement trigger", triggered), ("changed provider", moved))
            if applies
        ],
    )


OPTION_PATH = re.compile(r"^\.settings\[(?P<namespace>[^\]]+):(?P<option>[^:\]]+)\]")


def _instance_notes(values: list[tuple[str, Any, Any]]) -> list[str]:
    """What an environment's option changes do to its instances."""
    notes: list[str] = []
    replacing = sorted(
        {
            f"{found['namespace']}:{found['option']}"
            for path, _, _ in values
            if (found := OPTION_PATH.match(path))
            and found["namespace"] in INSTANCE_REPLACING_NAMESPACES
        }
    )
    if replacing:
        notes.append(
            "Beanstalk replaces its instances, in batches as the rolling-update policy says "
            f"({', '.join(replacing)})"
        )
    for path, before, after in values:
        if path.startswith(".settings[aws:ec2:instances:InstanceTypes]") and before and after:
            old = {architecture(t) for t in str(before).split(",")}
            new = {architecture(t) for t in str(after).split(",")}
            if old != new:
                notes.append(
                    f"the instances move from {'/'.join(sorted(old))} to {'/'.join(sorted(new))} "
                    "(README: 'Changing a running stack')"
                )
    return notes


def _cascade(
    changes: dict[str, Change], old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]
) -> None:
    """A replaced resource gets new ids and ARNs: whatever takes one of them changes too, and is
    replaced where that input forces it (a subnet group on a new VPC, say)."""
    grew = True
    while grew:
        grew = False
        gone = {c.name for c in changes.values() if c.op in ("replace", "delete")}
        for urn in sorted(old.keys() & new.keys()):
            change = changes.get(urn)
            if change is not None and change.op == "replace":
                continue
            after = new[urn]
            ignored = set(after.get("ignoreChanges", []))
            fresh = {
                key
                for key, value in after["inputs"].items()
                if key not in ignored and set(UNKNOWN_FROM.findall(json.dumps(value))) & gone
            } - (change.cascaded if change else set())
            if not fresh:
                continue
            if change is None:
                change = Change(after["name"], after["type"], "update", bool(old[urn]["protect"]))
                changes[urn] = change
            change.cascaded |= fresh
            change.values += [(key, FROM_REPLACED, FROM_REPLACED) for key in sorted(fresh)]
            force_new = FORCE_NEW.get(after["type"])
            forced = sorted(fresh & force_new.arguments) if force_new else []
            if force_new and forced:
                change.op = "replace"
                change.because += [
                    f"`{key}` takes a value of a replaced resource and forces a replacement "
                    f"([schema]({force_new.source}))"
                    for key in forced
                ]
                grew = True


# Markdown ----------------------------------------------------------------------------------------


def _cell(value: Any, after: bool = False) -> str:
    if value is FROM_REPLACED:
        return "*the new resource's value*" if after else "*the replaced resource's value*"
    if value is None:
        return "*(none)*"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if len(text) > CELL:
        text = text[: CELL - 1] + "…"
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def _summary(changes: list[Change]) -> str:
    counts = {op: sum(1 for c in changes if c.op == op) for op in _OPS}
    parts = [f"{n} to {op}" for op, n in counts.items() if n]
    return ", ".join(parts) if parts else "no changes"


_OPS = ("create", "update", "replace", "delete")
_SIGN = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def _flag(change: Change) -> str:
    if change.blocking:
        return "**blocking**"
    if change.loses_data:
        return "data loss"
    return ""


def _why(change: Change) -> str:
    if change.op == "replace":
        text = "; ".join(change.because)
    elif change.op == "update":
        text = "in place" if change.assessed else "in place (replacement not assessed)"
        text += "".join(f"; {note}" for note in change.notes)
    elif change.op == "delete" and change.protected:
        text = "protected: Pulumi refuses to delete it"
    else:
        text = ""
    if change.blocking and change.op == "replace":
        text += "; protected: Pulumi refuses to replace it"
    if change.loses_data and not change.blocking:
        text += "; its data is lost (a database keeps its final snapshot unless skipped)"
    return text.lstrip("; ")


def render_stack(stack: str, changes: list[Change], note: str = "") -> str:
    blocking = [c for c in changes if c.blocking]
    title = f"### `{stack}`: {_summary(changes)}"
    lines = [title + (f" — **{len(blocking)} blocking**" if blocking else ""), ""]
    if note:
        lines += [f"> {note}", ""]
    for change in blocking:
        verb = "replaced" if change.op == "replace" else "deleted"
        lines.append(
            f"> **Blocking:** `{change.name}` would be {verb}, and it is protected: Pulumi "
            "refuses, and its data would be lost. Keep the inputs that force it, or move the "
            "data deliberately (README: 'The database's life')."
        )
    if blocking:
        lines.append("")
    if not changes:
        return "\n".join(lines)
    retagged = [c for c in changes if c.retagged]
    listed = [c for c in changes if not c.retagged]
    if listed:
        lines += ["| | resource | type | plan | why |", "|---|---|---|---|---|"]
    for change in sorted(listed, key=lambda c: (not c.blocking, _OPS.index(c.op), c.name)):
        lines.append(
            f"| {_SIGN[change.op]} {_flag(change)} | `{change.name}` | `{short_type(change.type)}` "
            f"| {change.op} | {_why(change)} |"
        )
    if retagged:
        _, before, after = retagged[0].values[0]
        lines += [
            "",
            f"~ {len(retagged)} resources update their tags in place: the provider's default "
            f"tags change from {_cell(before)} to {_cell(after)}.",
            "",
            f"<details><summary>{len(retagged)} retagged resources</summary>",
            "",
            *[f"- `{c.name}` (`{short_type(c.type)}`)" for c in retagged],
            "",
            "</details>",
        ]
    detailed = [c for c in listed if c.values]
    if detailed:
        lines += ["", "<details><summary>Changed inputs</summary>", ""]
        for change in detailed:
            lines += [f"**`{change.name}`**", "", "| input | before | after |", "|---|---|---|"]
            lines += [
                f"| `{p}` | {_cell(b)} | {_cell(a, after=True)} |" for p, b, a in change.values
            ]
            lines.append("")
        lines.append("</details>")
    return "\n".join(lines)


def _money(floor: dict[str, Any]) -> str:
    return ("at least " if not floor["complete"] else "") + f"${floor['total']:,.2f}"


def floor_lines(base: dict[str, Any], head: dict[str, Any]) -> list[str]:
    """The monthly list-price floor before and after (`make plan` shows what it counts)."""
    before, after = base.get("floor"), head.get("floor")
    if after is None:
        return []
    if before is None:
        known = "new stack" if base.get("missing") else "not known at BASE"
        return ["", f"Monthly list-price floor: {_money(after)} ({known})"]
    change = after["total"] - before["total"]
    delta = f"{'+' if change >= 0 else '-'}${abs(change):,.2f}" if change else "no change"
    return ["", f"Monthly list-price floor: {_money(before)} → {_money(after)} ({delta})"]


def _outputs(base: dict[str, Any], head: dict[str, Any]) -> list[str]:
    lenient = base.get("format") != PLAN_FORMAT
    changed = list(differences(base.get("outputs", {}), head.get("outputs", {}), "", lenient))
    if not changed or base.get("missing"):
        return []
    lines = [
        "",
        "Stack outputs that change (what app teams read):",
        "",
        "| output | before | after |",
    ]
    lines.append("|---|---|---|")
    lines += [f"| `{p.lstrip('.')}` | {_cell(b)} | {_cell(a)} |" for p, b, a in changed]
    return lines


# Main --------------------------------------------------------------------------------------------


def diff_stack(stack: str, base_dir: Path, work: Path) -> tuple[str, int]:
    """The Markdown section of one stack and its exit status."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        base_future = pool.submit(build_plan, base_dir, stack, work / "base")
        head_future = pool.submit(build_plan, PROJECT_DIR, stack, work / "head")
        try:
            base, head = base_future.result(), head_future.result()
        except PlanError as error:
            side = "BASE" if base_future.exception() else "the working tree"
            status = CONFIG_REFUSED if error.status == CONFIG_REFUSED else CRASHED
            what = "refused" if status == CONFIG_REFUSED else "failed"
            body = f"### `{stack}`: the plan at {side} {what}\n\n```\n{error}\n```"
            return body, status
    note = ""
    if base.get("missing"):
        note = "A new stack: it has no stack file at BASE."
    elif base.get("format") != PLAN_FORMAT:
        note = (
            "The plan at BASE predates plan format 2: inputs that are unknown until "
            "deployment (ids, ARNs) are not compared."
        )
    changes = compare(base, head)
    text = "\n".join(
        [render_stack(stack, changes, note), *floor_lines(base, head), *_outputs(base, head)]
    )
    return text, BLOCKING if any(c.blocking for c in changes) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", nargs="+", metavar="STACK", help="reads Pulumi.<STACK>.yaml")
    parser.add_argument("--base", default="HEAD", help="the git ref to compare with (HEAD)")
    parser.add_argument("--out", type=Path, help="also write the Markdown to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="webstack-diff-") as temp:
        work = Path(temp)
        try:
            base_dir = checkout(args.base, work / "checkout")
        except PlanError as error:
            print(f"error: {error}", file=sys.stderr)
            return CRASHED
        sections: list[str] = []
        statuses: list[int] = []
        for stack in args.stacks:
            text, status = diff_stack(stack, base_dir, work / stack)
            sections.append(text)
            statuses.append(status)
    heading = f"## Offline plan diff against `{args.base}`"
    document = "\n\n".join([heading, *sections]) + "\n"
    print(document)
    if args.out:
        args.out.write_text(document)
    # Worst first: a crash, then a refused config, then a blocking change.
    for status in (CRASHED, CONFIG_REFUSED, BLOCKING):
        if status in statuses:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
