"""IAM policy documents as data, rendered to JSON once, so no component hand-writes policy strings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import Component
from components.regions import partition_of

Statement = Mapping[str, Any]


def policy_document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """A policy document whose statements may hold Outputs (ARNs of resources being created)."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def service_trust_policy(
    service: str, condition: Mapping[str, Any] | None = None
) -> pulumi.Output[str]:
    """Lets one AWS service assume a role, optionally only under `condition` (for example the
    `aws:SourceAccount` confused-deputy guard AWS recommends for service roles)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition is not None:
        statement["Condition"] = condition
    return policy_document([statement])


def managed_policy_arn(name: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The ARN of an AWS managed policy in the partition the provider deploys to."""
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    return partition.partition.apply(lambda p: f"arn:{p}:iam::aws:policy/{name}")


def account_root(parent: pulumi.Resource) -> pulumi.Output[str]:
    """The account as a principal (`arn:<partition>:iam::<account>:root`) in key policies."""
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent)).partition
    return pulumi.Output.concat("arn:", partition, ":iam::", account_id(parent), ":root")


def account_administers(parent: pulumi.Resource) -> Statement:
    """The key-policy statement that lets the account (its IAM policies) administer a KMS key:
    without it, nobody could manage the key."""
    return {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": account_root(parent)},
        "Action": "kms:*",
        "Resource": "*",
    }


def account_id(parent: pulumi.Resource) -> pulumi.Output[str]:
    """The account the provider deploys to."""
    identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    return identity.account_id


# ARNs a stack may name for keys and certificates made outside it.
KMS_KEY_ARN = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}"


def regional_arn_problem(arn: str, region: str) -> str | None:
    """Why a KMS key or ACM certificate ARN cannot serve a stack in `region`, or None.

    Both are regional: S3, RDS and the load balancer only take a key or a certificate from
    their own region, and ARNs of another partition (aws-cn, aws-us-gov) never resolve."""
    parts = arn.split(":")
    if len(parts) < 4:
        return None
    partition, arn_region = parts[1], parts[3]
    expected = partition_of(region)
    if partition != expected:
        return f"is in the {partition} partition; a stack in {region} needs {expected}"
    if arn_region != region:
        return f"is in {arn_region}; the stack is in {region}, and it must be in the same region"
    return None


def attach(owner: Component, role: aws.iam.Role, label: str, policies: tuple[str, ...]) -> None:
    """The AWS managed `policies` on `role`, one attachment each."""
    for policy in policies:
        short = policy.rsplit("/", 1)[-1]
        aws.iam.RolePolicyAttachment(
            f"{owner.prefix}-{label}-{short}",
            role=role.name,
            policy_arn=managed_policy_arn(policy, owner),
            opts=owner.child(),
        )
