"""Offline plan: what a stack would create, shown like `pulumi preview`, with no cloud and no CLI.

    python -m tools.plan dev          # or: make plan STACK=dev

Prints the resource tree in 120 columns (components and their children, type, name, and below
each what a reviewer checks), counts by type and the stack outputs, and writes
`build/plan-<stack>.json`: inputs with nested JSON documents as data, secrets redacted, and every
value that only exists after deployment (ids, ARNs, endpoints) shown as
`[unknown: <resource>.<output>]`, as `pulumi preview` knows it. The policy rules of
`policy/rules.py` run over the plan, with the values the mocks give, as they would after an up.

Exit status: 0 the plan passed every rule; 2 the stack file or its config was refused (the
message, never a traceback); 3 a policy rule failed (all are mandatory); 1 the plan itself
crashed (a traceback: a bug in webstack, not in the config).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

from components.settings import ConfigError
from policy.rules import Resource, Violation, evaluate
from tools.cost.floor import floor_of, render_floor
from tools.engine.fake_aws import ACCOUNT_FILE
from tools.engine.mock_engine import PROJECT_DIR, Registration, Run, run_stack
from tools.engine.stack_file import StackFileError
from tools.review.readable import Readable, beanstalk_options, plain

CONFIG_REFUSED = 2
POLICY_FAILED = 3
PLAN_FORMAT = 2  # 2: inputs readable (nested JSON as data, deployment-time values unknown)
WIDTH = 120
# The arguments a reviewer checks, per resource type; other types show none.
KEY_ARGS: dict[str, tuple[str, ...]] = {
    "pulumi:providers:aws": ("region",),
    "pulumi:index:Stash": ("input",),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("availabilityZone", "cidrBlock", "mapPublicIpOnLaunch"),
    "aws:ec2/route:Route": ("destinationCidrBlock",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("serviceName",),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("metricName", "threshold"),
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix", "forceDestroy"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ),
    "aws:rds/instance:Instance": (
        "engine",
        "engineVersion",
        "instanceClass",
        "multiAz",
        "allocatedStorage",
        "storageEncrypted",
        "kmsKeyId",
        "publiclyAccessible",
        "deletionProtection",
        "backupRetentionPeriod",
        "snapshotIdentifier",
    ),
    "aws:rds/parameterGroup:ParameterGroup": ("family",),
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": (
        "retentionPeriod",
    ),
    "aws:secretsmanager/secretRotation:SecretRotation": ("rotationRules",),
    "aws:kms/key:Key": ("enableKeyRotation",),
    "aws:sns/topicSubscription:TopicSubscription": ("protocol", "endpoint"),
    "aws:acm/certificate:Certificate": ("domainName",),
    "aws:route53/record:Record": ("name", "type"),
    "aws:elasticbeanstalk/applicationVersion:ApplicationVersion": ("name",),
    "aws:lb/listenerRule:ListenerRule": ("priority",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn",),
}
SG_RULES = {
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "from",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "to",
}
RULE_PEERS = ("referencedSecurityGroupId", "cidrIpv4", "cidrIpv6", "prefixListId")
POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")
# The Beanstalk options a reviewer checks, shown by a short name.
ENV_OPTIONS = {
    ("aws:ec2:instances", "InstanceTypes"): "instanceTypes",
    ("aws:autoscaling:asg", "MinSize"): "minSize",
    ("aws:autoscaling:asg", "MaxSize"): "maxSize",
    ("aws:elasticbeanstalk:environment", "EnvironmentType"): "environmentType",
    ("aws:elasticbeanstalk:command", "DeploymentPolicy"): "deploymentPolicy",
}
ENV_VARIABLES = "aws:elasticbeanstalk:application:environment"
DEFAULT_PROVIDER = "aws"  # the stack's provider; resources of another one say which


def plan_document(run: Run, readable: Readable | None = None) -> dict[str, Any]:
    """The plan as data, in a stable order (by URN) so two plans of one program compare equal."""
    view = readable or Readable(run)
    return {
        "format": PLAN_FORMAT,
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
                "deleteBeforeReplace": r.delete_before_replace,
                "replacementTrigger": plain(r.replacement_trigger),
                "ignoreChanges": sorted(r.ignore_changes),
                "inputs": view.inputs(r),
                "dependencies": sorted(r.dependencies),
                "propertyDependencies": {
                    key: sorted(urns) for key, urns in r.property_dependencies.items()
                },
            }
            for r in sorted(run.resources, key=lambda r: r.urn)
        ],
        "outputs": view.outputs(),
        "floor": _floor(run),
    }


def _floor(run: Run) -> dict[str, Any] | None:
    """The monthly list-price floor, for `make diff` to show before and after."""
    floor = floor_of(run)
    if floor is None:
        return None
    return {"region": floor.region, "total": round(floor.total, 2), "complete": not floor.unpriced}


def short_type(token: str) -> str:
    """A type as `pulumi preview` shows it: `aws:rds/instance:Instance` is `aws:rds:Instance`."""
    parts = token.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}"
    return token


def shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(shown(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def _rule(direction: str, inputs: dict[str, Any]) -> list[str]:
    low, high = inputs.get("fromPort"), inputs.get("toPort")
    ports = f"{low}" if low == high else f"{low}-{high}"
    what = (
        "all traffic" if inputs.get("ipProtocol") == "-1" else f"{inputs.get('ipProtocol')} {ports}"
    )
    peer = next((inputs[k] for k in RULE_PEERS if k in inputs), "anywhere")
    return [f"{what} {direction} {shown(peer)}"]


def _environment(inputs: dict[str, Any]) -> list[str]:
    settings = beanstalk_options(inputs.get("settings", []))
    parts = [
        f"{key}={shown(inputs[key])}" for key in ("name", "solutionStackName") if key in inputs
    ]
    parts += [f"{label}={settings[o]}" for o, label in ENV_OPTIONS.items() if o in settings]
    variables = sorted(name for namespace, name in settings if namespace == ENV_VARIABLES)
    if variables:
        parts.append(f"variables={','.join(variables)}")
    return parts


def _actions(inputs: dict[str, Any]) -> list[str]:
    statements = (inputs.get("policy") or {}).get("Statement", [])
    actions: list[str] = []
    for statement in statements if isinstance(statements, list) else []:
        found = statement.get("Action", [])
        for action in [found] if isinstance(found, str) else found:
            if action not in actions:
                actions.append(action)
    # One item per action, so a long list wraps instead of being cut.
    return ["actions:", *actions] if actions else []


def details(resource: Registration, inputs: dict[str, Any]) -> list[str]:
    """What a reviewer checks on one resource, as `key=value` items."""
    if resource.type in SG_RULES:
        parts = _rule(SG_RULES[resource.type], inputs)
    elif resource.type == "aws:elasticbeanstalk/environment:Environment":
        parts = _environment(inputs)
    elif resource.type in POLICY_TYPES:
        parts = _actions(inputs)
    else:
        parts = [
            f"{key}={shown(inputs[key])}"
            for key in KEY_ARGS.get(resource.type, ())
            if key in inputs
        ]
    provider = resource.provider.split("::")[-2] if "::" in resource.provider else ""
    if resource.type.startswith("aws:") and provider != DEFAULT_PROVIDER:
        parts.append(f"provider={provider}")
    return [*parts, "[protect]"] if resource.protect else parts


def _wrapped(items: list[str], indent: str) -> list[str]:
    """Items on lines of at most WIDTH columns, each starting with `indent`."""
    lines: list[str] = []
    line = indent
    for item in items:
        room = WIDTH - len(indent)
        if len(item) > room:
            item = item[: room - 1] + "…"
        if line != indent and len(line) + 2 + len(item) > WIDTH:
            lines.append(line)
            line = indent
        line = f"{line}{'' if line == indent else '  '}{item}"
    if line != indent:
        lines.append(line)
    return lines


def render_tree(run: Run, readable: Readable) -> list[str]:
    """The resources as `pulumi preview` lists them, each with its details below, in WIDTH
    columns."""
    children: dict[str, list[Registration]] = {}
    for resource in run.resources:
        children.setdefault(resource.parent, []).append(resource)
    rows: list[tuple[str, str, str, list[str]]] = []

    def walk(parent_urn: str, prefix: str) -> None:
        kids = sorted(children.get(parent_urn, []), key=lambda r: (r.type, r.name))
        for index, kid in enumerate(kids):
            last = index == len(kids) - 1
            below = prefix + ("   " if last else "│  ")
            branch = f"{prefix}{'└─ ' if last else '├─ '}{short_type(kid.type)}"
            rows.append((branch, kid.name, below, details(kid, readable.inputs(kid))))
            walk(kid.urn, below)

    # The stack's direct children are the resources whose parent is no registered resource.
    urns = {r.urn for r in run.resources}
    for urn in sorted({r.parent for r in run.resources} - urns):
        walk(urn, "")
    width = max(len(row[0]) for row in rows) + 2
    lines = [
        f"   {'Type':<{width}}Name",
        f" + {'pulumi:pulumi:Stack':<{width}}{run.project}-{run.stack}",
    ]
    for branch, name, below, items in rows:
        line = f" + {branch:<{width}}{name}"
        lines.append(line if len(line) <= WIDTH else f" + {branch}  {name}")
        lines += _wrapped(items, f"   {below}   ")
    return lines


def render(run: Run, readable: Readable) -> str:
    lines = [
        f"Previewing stack '{run.stack}' of project '{run.project}' (offline, Pulumi mocks)",
        "",
    ]
    lines += render_tree(run, readable)
    counts = Counter(short_type(r.type) for r in run.resources)
    lines += ["", f"Resources: + {len(run.resources) + 1} to create", ""]
    lines += [f"  {count:>3}  {type_}" for type_, count in sorted(counts.items())]
    lines += ["", *render_floor(run)]
    lines += ["", "Outputs:"]
    for key, value in sorted(readable.outputs().items()):
        lines += _wrapped([f"{key}: {shown(value)}"], "    ")
    for warning in run.warnings:
        lines += textwrap.wrap(f"warning: {warning}", WIDTH, subsequent_indent="    ")
    if run.unchecked:
        lines += ["", f"Checked by `pulumi preview`, not offline (not in {ACCOUNT_FILE}):"]
        lines += [f"  - {what}" for what in run.unchecked]
        lines += textwrap.wrap(
            f"Record your account's hosted zones, snapshots and instances in {ACCOUNT_FILE} to "
            "check them offline too (README: 'Your account's facts, offline').",
            WIDTH,
        )
    return "\n".join(lines)


def policy_resources(run: Run) -> list[Resource]:
    """The plan's resources as the policy rules see them: state (inputs and computed) plus id."""
    return [
        Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props={**plain(r.outputs, documents=False), "id": r.id},
            protect=r.protect,
            property_dependencies=r.property_dependencies,
        )
        for r in run.resources
    ]


def rule_set(policy_config: Path | None) -> str:
    """Which rules ran, and how to run the other set: the production-only rules are off unless
    the pipeline passes their config, so a plan without them must not look like one with them."""
    if policy_config is None:
        return (
            "Policy rules: the base set (the production-only rules were not run: add "
            "POLICY_CONFIG=policy/production.json, as the production pipeline does)"
        )
    return f"Policy rules: the base set and {policy_config} (as the production pipeline runs them)"


def render_violations(violations: list[Violation]) -> str:
    if not violations:
        return "Policies: every rule passed"
    lines = [f"Policy violations ({len(violations)}, mandatory):"]
    for v in violations:
        lines += textwrap.wrap(f"  [{v.rule}] {v.message}", WIDTH, subsequent_indent="      ")
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
    readable = Readable(run)
    print(render(run, readable))
    policy_config = json.loads(args.policy_config.read_text()) if args.policy_config else {}
    violations = evaluate(policy_resources(run), policy_config)
    print(
        "\n"
        + "\n".join(textwrap.wrap(rule_set(args.policy_config), WIDTH, subsequent_indent="    "))
    )
    print(render_violations(violations))
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"plan-{args.stack}.json"
    target.write_text(json.dumps(plan_document(run, readable), indent=2, sort_keys=True) + "\n")
    shown = target.relative_to(PROJECT_DIR) if target.is_relative_to(PROJECT_DIR) else target
    print(f"\nwrote {shown}")
    return POLICY_FAILED if violations else 0


if __name__ == "__main__":
    sys.exit(main())
