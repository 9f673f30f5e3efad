"""EC2 facts the app's instances and the NAT instance share."""

from __future__ import annotations

import re

import pulumi_aws as aws

from components.base import Component
from components.iam import attach, service_trust_policy

EC2_SERVICE = "ec2.amazonaws.com"
ANYWHERE_IPV4 = "0.0.0.0/0"
# What SSM Agent needs to register the instance (Session Manager, Run Command, patching).
SSM_MANAGED_INSTANCE_POLICY = "AmazonSSMManagedInstanceCore"


def architecture(instance_type: str) -> str:
    """`arm64` for Graviton types (a1, and a `g` after the generation: t4g, m7g, c6gn, x2gd),
    `x86_64` for the rest (including GPU families such as g5 or g4dn)."""
    family = instance_type.split(".", 1)[0]
    if family == "a1" or re.fullmatch(r"[a-z]+[0-9]+[a-z]*g[a-z]*", family.replace("-", "")):
        return "arm64"
    return "x86_64"


def outbound_anywhere(
    owner: Component, name: str, group: aws.ec2.SecurityGroup, description: str
) -> aws.vpc.SecurityGroupEgressRule:
    """Let `group`'s instances reach any IPv4 address: AWS's APIs, package mirrors, the
    database, and (from a NAT instance) whatever it forwards."""
    return aws.vpc.SecurityGroupEgressRule(
        name,
        security_group_id=group.id,
        ip_protocol="-1",
        cidr_ipv4=ANYWHERE_IPV4,
        description=description,
        opts=owner.child(),
    )


def instance_role(
    owner: Component, policies: tuple[str, ...]
) -> tuple[aws.iam.Role, aws.iam.InstanceProfile]:
    """The instances' role, with `policies` (AWS managed), and its instance profile."""
    role = aws.iam.Role(
        f"{owner.prefix}-instance-role",
        assume_role_policy=service_trust_policy(EC2_SERVICE),
        opts=owner.child(),
    )
    attach(owner, role, "instance", policies)
    profile = aws.iam.InstanceProfile(
        f"{owner.prefix}-instance-profile", role=role.name, opts=owner.child()
    )
    return role, profile
