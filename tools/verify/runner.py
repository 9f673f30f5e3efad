"""What `make verify` runs: first `up`s of stacks and variants validated and planned by the
provider, and the second-`up` matrix compared with `make diff`.

Stacks go into one Terraform configuration per step (one provider process judges them all:
cheaper than one per stack); the second-up matrix is split into `jobs` configurations planned
side by side.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from components.settings import ConfigError
from tools.engine.mock_engine import PROJECT_DIR, run_stack
from tools.engine.stack_file import StackFileError, config_of, load
from tools.review.plan import plan_document
from tools.verify.matrix import Case, Variant
from tools.verify.report import Finding, locate
from tools.verify.schema import ProviderSchema
from tools.verify.second_up import (
    Disagreement,
    PlanFailedError,
    converge,
    counts,
    disagreements,
    provider_operations,
)
from tools.verify.state import State
from tools.verify.terraform import Diagnostic, Terraform
from tools.verify.translate import SEPARATOR, Member, Translation, dump, translate

WORK = PROJECT_DIR / "build" / "verify"


@dataclass(frozen=True)
class Planned:
    """A variant's offline plan and its stack-file config."""

    variant: Variant
    plan: dict[str, Any]
    config: dict[str, Any]

    def member(self, key: str | None = None) -> Member:
        region = str(self.config.get("aws:region", "us-east-1"))
        return Member(key or self.variant.key, self.plan, region, self.config)


class VariantRefusedError(Exception):
    """A variant's config was refused: a stack file, or a variant this tool writes, is wrong."""


def plan_variant(variant: Variant) -> Planned:
    """The offline plan of a variant; its config refused is VariantRefusedError, naming it."""
    try:
        overrides = variant.overrides()
        run = run_stack(variant.stack, overrides)
    except (ConfigError, StackFileError) as error:
        raise VariantRefusedError(
            f"{variant.key} (Pulumi.{variant.stack}.yaml): {error}"
        ) from error
    name = f"Pulumi.{variant.stack}.yaml"
    config = {**config_of(load(PROJECT_DIR / name), name), **overrides}
    return Planned(variant, plan_document(run), config)


@dataclass
class Outcome:
    """What one step found: provider errors, skew, disagreements, and lines for the reader."""

    findings: list[Finding] = field(default_factory=list)
    unlisted_skew: list[str] = field(default_factory=list)
    disagreements: dict[str, list[Disagreement]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        errors = [f for f in self.findings if f.severity == "error"]
        return bool(errors or self.unlisted_skew or any(self.disagreements.values()))


def _findings(
    diagnostics: list[Diagnostic], translation: Translation, lines: list[tuple[str | int, ...]]
) -> list[Finding]:
    configs = {key: member.config for key, member in translation.members.items()}
    return [locate(d, translation, lines, configs) for d in diagnostics]


def _skew(translation: Translation, outcome: Outcome) -> None:
    for skew in translation.skew:
        where = f"{skew.member}: {skew.name} ({skew.type}) input {skew.path}"
        if skew.reason is None:
            outcome.unlisted_skew.append(where)
        else:
            outcome.lines.append(f"  version skew, left out: {where}: {skew.reason}")


def first_up(
    terraform: Terraform, schema: ProviderSchema, planned: Sequence[Planned], jobs: int = 2
) -> Outcome:
    """Validate and plan the first `up` of every plan, in `jobs` configurations side by side."""
    chunks = [list(planned[i::jobs]) for i in range(jobs) if planned[i::jobs]]

    def judge(index: int, chunk: list[Planned]) -> Outcome:
        part = Outcome()
        translation = translate(schema, [p.member() for p in chunk])
        _skew(translation, part)
        text, lines = dump(translation.document)
        folder = terraform.folder(f"first-up-{index}", text)
        diagnostics = terraform.validate(folder)
        if not any(d.severity == "error" for d in diagnostics):
            result = terraform.plan(folder)
            diagnostics = result.diagnostics
            if result.document is not None:
                # The provider's plan as `terraform show -json` prints it: what Checkov reads.
                (terraform.work / f"first-up-{index}.json").write_text(json.dumps(result.document))
            by_member: dict[str, list[str]] = {}
            for change in (result.document or {}).get("resource_changes", []):
                address = translation.addresses.get(change["address"])
                if address is not None:
                    by_member.setdefault(address.member, []).append(
                        "+".join(change["change"]["actions"])
                    )
            for p in chunk if result.document is not None else []:
                left = [o for o in translation.left_out if o.member == p.variant.key]
                part.lines.append(
                    f"  {p.variant.key}: {counts(by_member.get(p.variant.key, []))}"
                    f" ({len(left)} Pulumi-only resources left out)"
                )
        part.findings = _findings(diagnostics, translation, lines)
        return part

    return _gathered(judge, chunks, jobs)


def _gathered(
    judge: Callable[[int, Any], Outcome],
    chunks: list[Any],
    jobs: int,
    outcome: Outcome | None = None,
) -> Outcome:
    """The chunks judged side by side, their outcomes in one (after `outcome`'s)."""
    outcome = outcome or Outcome()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        parts = list(pool.map(lambda item: judge(*item), enumerate(chunks)))
    for part in parts:
        outcome.findings += part.findings
        outcome.unlisted_skew += part.unlisted_skew
        outcome.disagreements.update(part.disagreements)
        outcome.lines += part.lines
    return outcome


def _providers_for_state(document: dict[str, Any], state: State, base: Translation) -> None:
    """Provider blocks the state's resources name but the changed stack no longer has (a
    removed backup region): Terraform needs them to plan the deletes, as Pulumi keeps a
    removed provider in its state to delete with."""
    have = {block.get("alias") for block in document["provider"]["aws"]}
    blocks = {block.get("alias"): block for block in base.document["provider"]["aws"]}
    for entry in state.entries.values():
        alias = entry.provider.split(".", 1)[1] if "." in entry.provider else None
        if alias is None or alias in have:
            continue
        name = alias.split(SEPARATOR, 1)[1]
        for base_alias, block in blocks.items():
            if base_alias and base_alias.split(SEPARATOR, 1)[1] == name:
                document["provider"]["aws"].append({**block, "alias": alias})
                have.add(alias)
                break


def second_up(
    terraform: Terraform,
    schema: ProviderSchema,
    cases: Sequence[Case],
    plan: Callable[[Variant], Planned] = plan_variant,
    jobs: int = 2,
) -> Outcome:
    """Plan each case's changed stack against the converged state of its base; compare."""
    outcome = Outcome()
    bases = {case.base.key: case.base for case in cases}
    base_plans = {key: plan(variant) for key, variant in bases.items()}
    base_translation = translate(schema, [p.member() for p in base_plans.values()])
    _skew(base_translation, outcome)
    try:
        state = converge(terraform, schema, base_translation, "second-up-base")
    except PlanFailedError as failed:
        _, lines = dump(base_translation.document)
        outcome.findings = _findings(failed.diagnostics, base_translation, lines)
        return outcome
    outcome.lines.append(
        f"  first up of {', '.join(bases)}: {len(state.entries)} resources, converged"
    )
    heads = [(case, plan(case.head)) for case in cases]
    chunks = [heads[i::jobs] for i in range(jobs) if heads[i::jobs]]

    def judge(index: int, chunk: list[tuple[Case, Planned]]) -> Outcome:
        part = Outcome()
        translation = translate(schema, [p.member(case.key) for case, p in chunk])
        _skew(translation, part)
        combined = State(schema)
        for case, _ in chunk:
            combined.entries.update(state.renamed(case.base.key, case.key))
        document = json.loads(json.dumps(translation.document))
        _providers_for_state(document, combined, base_translation)
        text, lines = dump(document)
        result = terraform.plan(terraform.folder(f"second-up-{index}", text, combined.document()))
        if result.errors or result.document is None:
            part.findings = _findings(result.errors, translation, lines)
            return part
        for case, head in chunk:
            ops = provider_operations(translation, result.document, case.key)
            found, rules = disagreements(base_plans[case.base.key].plan, head.plan, ops)
            part.disagreements[case.key] = found
            explained = "".join(f"; {name}: {rule}" for name, rule in sorted(rules.items()))
            verdict = "AGREES" if not found else "DISAGREES"
            part.lines.append(
                f"  {case.key} (from {case.base.key}): provider {counts(ops.values())}: "
                f"{verdict} with make diff{explained}"
            )
            part.lines += [f"      {d}" for d in found]
        return part

    return _gathered(judge, chunks, jobs, outcome)
