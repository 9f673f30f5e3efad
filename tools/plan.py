"""Offline plan: what a stack would create, shown like `pulumi preview`, with no cloud and no CLI.

    python -m tools.plan dev          # or: make plan STACK=dev

Prints the resource tree (components and their children, type, name, key arguments), counts by
type and the stack outputs, and writes `build/plan-<stack>.json` with secrets redacted. The policy
rules of `policy/rules.py` run over the plan.

Exit status: 0 the plan passed every rule; 2 the stack file or its config was refused (the
message, never a traceback); 3 a policy rule failed (all are mandatory); 1 the plan itself
crashed (a traceback: a bug in webstack, not in the config).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from components.settings import ConfigError
from policy.rules import Resource, Violation, evaluate
from tools.mock_engine import PROJECT_DIR, Registration, Run, Secret, run_stack
from tools.stack_file import StackFileError

REDACTED = "[secret]"
CONFIG_REFUSED = 2
POLICY_FAILED = 3
# The arguments worth a glance in the tree, per resource type; other types show none.
KEY_ARGS: dict[str, tuple[str, ...]] = {
    "pulumi:providers:aws": ("region",),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("availabilityZone", "cidrBlock"),
    "aws:ec2/route:Route": ("destinationCidrBlock",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("serviceName",),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays"),
    "aws:s3/bucket:Bucket": ("bucket", "forceDestroy"),
    "aws:rds/instance:Instance": ("engine", "engineVersion", "instanceClass", "multiAz"),
    "aws:rds/parameterGroup:ParameterGroup": ("family",),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("fromPort", "ipProtocol"),
    "aws:elasticbeanstalk/environment:Environment": ("name", "solutionStackName"),
    "aws:elasticbeanstalk/applicationVersion:ApplicationVersion": ("name",),
    "aws:lb/listenerRule:ListenerRule": ("priority",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn",),
}


def redact(value: Any) -> Any:
    """JSON-ready inputs: secrets replaced, assets and archives shown by path."""
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the RPC layer turns every number into a float
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    path = getattr(value, "path", None)
    return {"asset": str(path)} if path is not None else repr(value)


def plan_document(run: Run) -> dict[str, Any]:
    """The plan as data, in a stable order (by URN) so two plans of one program compare equal."""
    return {
        "project": run.project,
        "stack": run.stack,
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": r.parent,
                "provider": r.provider,
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "inputs": redact(r.inputs),
                "dependencies": sorted(r.dependencies),
                "propertyDependencies": {
                    key: sorted(urns) for key, urns in r.property_dependencies.items()
                },
            }
            for r in sorted(run.resources, key=lambda r: r.urn)
        ],
        "outputs": {
            k: REDACTED if k in run.secret_outputs else redact(v) for k, v in run.outputs.items()
        },
    }


def _describe(resource: Registration) -> str:
    inputs = resource.inputs
    parts = []
    for key in KEY_ARGS.get(resource.type, ()):
        if key in inputs:
            value = redact(inputs[key])
            parts.append(f"{key}={value}")
    if resource.protect:
        parts.append("[protect]")
    return "  ".join(parts)


def render_tree(run: Run) -> list[str]:
    root_name = f"{run.project}-{run.stack}"
    children: dict[str, list[Registration]] = {}
    for resource in run.resources:
        children.setdefault(resource.parent, []).append(resource)
    rows: list[tuple[str, str, str]] = [("pulumi:pulumi:Stack", root_name, "")]

    def walk(parent_urn: str, prefix: str) -> None:
        kids = sorted(children.get(parent_urn, []), key=lambda r: (r.type, r.name))
        for index, kid in enumerate(kids):
            last = index == len(kids) - 1
            rows.append((f"{prefix}{'└─ ' if last else '├─ '}{kid.type}", kid.name, _describe(kid)))
            walk(kid.urn, prefix + ("   " if last else "│  "))

    # The stack's direct children are the resources whose parent is no registered resource.
    urns = {r.urn for r in run.resources}
    for urn in sorted({r.parent for r in run.resources} - urns):
        walk(urn, "")
    width_type = max(len(row[0]) for row in rows) + 2
    width_name = max(len(row[1]) for row in rows) + 2
    lines = [f"     {'Type':<{width_type}}{'Name':<{width_name}}Plan"]
    for type_, name, detail in rows:
        lines.append(f" +   {type_:<{width_type}}{name:<{width_name}}create  {detail}".rstrip())
    return lines


def render(run: Run) -> str:
    lines = [
        f"Previewing stack '{run.stack}' of project '{run.project}' (offline, Pulumi mocks)",
        "",
    ]
    lines += render_tree(run)
    counts = Counter(r.type for r in run.resources)
    lines += ["", f"Resources: + {len(run.resources) + 1} to create", ""]
    lines += [f"  {count:>3}  {type_}" for type_, count in sorted(counts.items())]
    lines += ["", "Outputs:"]
    for key in sorted(run.outputs):
        value = REDACTED if key in run.secret_outputs else json.dumps(redact(run.outputs[key]))
        lines.append(f"    {key}: {value}")
    for warning in run.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def policy_resources(run: Run) -> list[Resource]:
    """The plan's resources as the policy rules see them: state (inputs and computed) plus id."""
    return [
        Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props={**redact(r.outputs), "id": r.id},
            protect=r.protect,
            property_dependencies=r.property_dependencies,
        )
        for r in run.resources
    ]


def render_violations(violations: list[Violation]) -> str:
    if not violations:
        return "Policies: every rule passed"
    lines = [f"Policy violations ({len(violations)}, mandatory):"]
    lines += [f"  [{v.rule}] {v.message}" for v in violations]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="folder with Pulumi.yaml (default: this repo)",
    )
    parser.add_argument(
        "--policy-config",
        type=Path,
        help="per-rule policy config, as for --policy-pack-config (policy/production.json)",
    )
    parser.add_argument(
        "--out", type=Path, default=PROJECT_DIR / "build", help="folder for plan-<stack>.json"
    )
    args = parser.parse_args(argv)
    try:
        run = run_stack(args.stack, project_dir=args.project_dir)
    except ConfigError as error:
        print(f"error: stack '{args.stack}': {error}", file=sys.stderr)
        return CONFIG_REFUSED
    except StackFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return CONFIG_REFUSED
    print(render(run))
    policy_config = json.loads(args.policy_config.read_text()) if args.policy_config else {}
    violations = evaluate(policy_resources(run), policy_config)
    print("\n" + render_violations(violations))
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"plan-{args.stack}.json"
    target.write_text(json.dumps(plan_document(run), indent=2, sort_keys=True) + "\n")
    shown = target.relative_to(PROJECT_DIR) if target.is_relative_to(PROJECT_DIR) else target
    print(f"\nwrote {shown}")
    return POLICY_FAILED if violations else 0


if __name__ == "__main__":
    sys.exit(main())
