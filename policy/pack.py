"""The CrossGuard policies, built from `policy/rules.py`; `__main__.py` serves them as a pack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import (
    PRODUCTION,
    RESOURCE_RULES,
    STACK_RULES,
    Resource,
    ResourceRule,
    StackRule,
    applies,
)

PRODUCTION_SCHEMA = PolicyConfigSchema(
    {PRODUCTION: {"type": "boolean", "default": False, "description": "apply to production stacks"}}
)


def from_args(args: ResourceValidationArgs) -> Resource:
    return Resource(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=args.props,
        protect=bool(args.opts.protect),
    )


def from_stack_resource(resource: PolicyResource) -> Resource:
    return Resource(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=resource.props,
        protect=bool(resource.opts.protect),
        property_dependencies={
            key: [d.urn for d in deps] for key, deps in resource.property_dependencies.items()
        },
    )


def _settings(rule: ResourceRule | StackRule) -> dict[str, Any]:
    """What every webstack policy shares: mandatory, and a `production` switch where it applies."""
    return {
        "name": rule.name,
        "description": rule.description,
        "enforcement_level": EnforcementLevel.MANDATORY,
        "config_schema": PRODUCTION_SCHEMA if rule.production_only else None,
    }


def _resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        config: Mapping[str, Any] = args.get_config()
        if args.resource_type in rule.types and applies(rule, config):
            for message in rule.check(from_args(args), config):
                report(message, None)

    return ResourceValidationPolicy(validate=validate, **_settings(rule))


def _stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        config: Mapping[str, Any] = args.get_config()
        if applies(rule, config):
            resources = [from_stack_resource(r) for r in args.resources]
            for culprit, message in rule.check(resources, config):
                report(message, culprit.urn if culprit else None)

    return StackValidationPolicy(validate=validate, **_settings(rule))


def policies() -> list[Policy]:
    return [*map(_resource_policy, RESOURCE_RULES), *map(_stack_policy, STACK_RULES)]
