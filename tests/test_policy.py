"""Policy pack: both stacks pass; each rule fires on a deliberately broken resource."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.pack import policies
from policy.rules import RESOURCE_RULES, STACK_RULES, Resource, ResourceRule, StackRule, evaluate
from tests.support import run
from tools.review.plan import main, policy_resources

PROJECT = Path(__file__).resolve().parents[1]
PRODUCTION = json.loads((PROJECT / "policy" / "production.json").read_text())


def resources(stack: str) -> list[Resource]:
    return policy_resources(run(stack))


def test_shipped_stacks_pass_every_rule() -> None:
    assert evaluate(resources("dev"), {}) == []
    assert evaluate(resources("prod"), PRODUCTION) == []


def test_production_rules_follow_the_policy_config_not_the_stack_name() -> None:
    fired = {v.rule for v in evaluate(resources("dev"), PRODUCTION)}
    assert fired == {
        "rds-deletion-protection",
        "rds-multi-az",
        "data-protected",
        "https-required",
        "lb-access-logs",
        "alarms-subscribed",
        "rds-backups-retained",
        "rds-backups-replicated",
    }
    rules: list[ResourceRule | StackRule] = [*RESOURCE_RULES, *STACK_RULES]
    assert set(PRODUCTION) == {r.name for r in rules if r.production_only}


def with_props(**changes: Any) -> Callable[[Resource], Resource]:
    def change(r: Resource) -> Resource:
        return dataclasses.replace(r, props={**r.props, **changes})

    return change


def with_setting(namespace: str, name: str, value: str) -> Callable[[Resource], Resource]:
    def change(r: Resource) -> Resource:
        settings = [
            {**s, "value": value} if (s["namespace"], s["name"]) == (namespace, name) else s
            for s in r.props["settings"]
        ]
        return dataclasses.replace(r, props={**r.props, "settings": settings})

    return change


def with_policy(document: dict[str, Any]) -> Callable[[Resource], Resource]:
    return with_props(policy=json.dumps(document))


STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

# rule, resource to break (type, name), how, words the message must carry
BROKEN: list[tuple[str, str, str, Callable[[Resource], Resource], str]] = [
    (
        "s3-public-access-block",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "storage-bucket-public-access-block",
        with_props(restrictPublicBuckets=False),
        "leaves restrictPublicBuckets off; set all four flags to true",
    ),
    (
        "s3-owner-enforced",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "storage-bucket-ownership",
        with_props(rule={"objectOwnership": "ObjectWriter"}),
        "set rule.object_ownership to BucketOwnerEnforced",
    ),
    (
        "s3-encryption",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "storage-bucket-encryption",
        with_props(rules=[]),
        "set apply_server_side_encryption_by_default",
    ),
    (
        "s3-tls-only",
        "aws:s3/bucketPolicy:BucketPolicy",
        "storage-bucket-policy",
        with_policy({"Statement": []}),
        "does not deny requests without TLS",
    ),
    (
        "rds-encrypted",
        "aws:rds/instance:Instance",
        "database-instance",
        with_props(storageEncrypted=False),
        "set storage_encrypted=True",
    ),
    (
        "rds-not-public",
        "aws:rds/instance:Instance",
        "database-instance",
        with_props(publiclyAccessible=True),
        "set publicly_accessible=False",
    ),
    (
        "rds-managed-password",
        "aws:rds/instance:Instance",
        "database-instance",
        with_props(password="hunter2", manageMasterUserPassword=False),
        "a master password is passed in",
    ),
    (
        "rds-backups",
        "aws:rds/instance:Instance",
        "database-instance",
        with_props(backupRetentionPeriod=0),
        "automated backups are off",
    ),
    (
        "eb-application-load-balancer",
        "aws:elasticbeanstalk/environment:Environment",
        "app-environment",
        with_setting("aws:elasticbeanstalk:environment", "LoadBalancerType", "classic"),
        "LoadBalancerType is 'classic'; set it to 'application'",
    ),
    (
        "eb-imdsv2",
        "aws:elasticbeanstalk/environment:Environment",
        "app-environment",
        with_setting("aws:autoscaling:launchconfiguration", "DisableIMDSv1", "false"),
        "DisableIMDSv1 is 'false'; set it to 'true'",
    ),
    (
        "eb-enhanced-health",
        "aws:elasticbeanstalk/environment:Environment",
        "app-environment",
        with_setting("aws:elasticbeanstalk:healthreporting:system", "SystemType", "basic"),
        "SystemType is 'basic'; set it to 'enhanced'",
    ),
    (
        "sg-no-database-port-from-cidr",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "app-lb-80-ipv4",
        with_props(fromPort=5432, toPort=5432, cidrIpv4="10.0.0.0/8"),
        "opens a database port to 10.0.0.0/8",
    ),
    (
        "sg-only-web-ports-from-anywhere",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "app-lb-80-ipv4",
        with_props(fromPort=22, toPort=22),
        "opens tcp 22-22 to the internet (0.0.0.0/0); only the load balancer's 80 and 443",
    ),
    (
        "sqs-encrypted",
        "aws:sqs/queue:Queue",
        "jobs-queue",
        with_props(sqsManagedSseEnabled=False),
        "the queue is not encrypted",
    ),
    (
        "iam-no-sqs-star",
        "aws:iam/rolePolicy:RolePolicy",
        "jobs-app-instance-role-send",
        with_policy(
            {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:::q"}]}
        ),
        "allows sqs:* (purging and deleting queues too)",
    ),
    (
        "ec2-imdsv2",
        "aws:ec2/instance:Instance",
        "network-nat-instance-instance",
        with_props(metadataOptions={"httpTokens": "optional"}),
        "accepts IMDSv1 (metadata_options.http_tokens is 'optional')",
    ),
    (
        "ec2-root-encrypted",
        "aws:ec2/instance:Instance",
        "network-nat-instance-instance",
        with_props(rootBlockDevice={"encrypted": False}),
        "the root volume is not encrypted",
    ),
    (
        "sg-no-database-port-from-cidr",
        "aws:ec2/securityGroup:SecurityGroup",
        "app-lb-sg",
        with_props(
            ingress=[
                {"protocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["10.0.0.0/8"]}
            ]
        ),
        "opens a database port to 10.0.0.0/8",
    ),
    (
        "iam-no-star-on-star",
        "aws:iam/rolePolicy:RolePolicy",
        "storage-app-instance-role-read-write",
        with_policy(STAR),
        "allows every action on every resource",
    ),
    (
        "iam-no-star-on-star",
        "aws:iam/role:Role",
        "app-instance-role",
        with_props(inlinePolicies=[{"name": "x", "policy": json.dumps(STAR)}]),
        "allows every action",
    ),
    (
        "rds-deletion-protection",
        "aws:rds/instance:Instance",
        "database-instance",
        with_props(deletionProtection=False),
        "set webstack:database.deletionProtection true",
    ),
    (
        "rds-multi-az",
        "aws:rds/instance:Instance",
        "database-instance",
        with_props(multiAz=False),
        "set webstack:database.multiAz true",
    ),
    (
        "rds-only-from-app",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "database-from-app-instance-sg",
        with_props(referencedSecurityGroupId="sg-0000000000000000f"),
        "admits sg-0000000000000000f to database-instance; the database may only admit the app's security group",
    ),
    (
        "rds-only-from-app",
        "aws:ec2/securityGroup:SecurityGroup",
        "database-sg",
        with_props(
            ingress=[{"protocol": "tcp", "fromPort": 22, "toPort": 22, "securityGroups": ["sg-1"]}]
        ),
        "has inline ingress rules",
    ),
    (
        "s3-versioning",
        "aws:s3/bucketVersioning:BucketVersioning",
        "storage-bucket-versioning",
        with_props(versioningConfiguration={"status": "Suspended"}),
        "versioning is not enabled",
    ),
    (
        "data-protected",
        "aws:s3/bucket:Bucket",
        "storage-bucket",
        lambda r: dataclasses.replace(r, protect=False),
        "holds data but is not protected",
    ),
    (
        "rds-backups-retained",
        "aws:rds/instance:Instance",
        "database-instance",
        with_props(backupRetentionPeriod=3),
        "backups are kept 3 days; set webstack:database.backupRetentionDays to at least 7",
    ),
    (
        "https-required",
        "aws:elasticbeanstalk/environment:Environment",
        "app-environment",
        with_setting("aws:elbv2:listener:443", "ListenerEnabled", "false"),
        "serves no HTTPS; set webstack:app.domain (or webstack:app.certificateArn)",
    ),
    (
        "lb-access-logs",
        "aws:elasticbeanstalk/environment:Environment",
        "app-environment",
        with_setting("aws:elbv2:loadbalancer", "AccessLogsS3Enabled", "false"),
        "keeps no access logs; set webstack:app.accessLogs true",
    ),
]


def test_alarms_without_a_subscriber_fail_in_production() -> None:
    found = [
        r for r in resources("prod") if r.type != "aws:sns/topicSubscription:TopicSubscription"
    ]
    (violation,) = evaluate(found, PRODUCTION)
    assert violation.rule == "alarms-subscribed"
    assert "nobody subscribed to their topic; set webstack:alarms.emails" in violation.message
    alarmless = [r for r in resources("prod") if r.type != "aws:cloudwatch/metricAlarm:MetricAlarm"]
    assert [v.rule for v in evaluate(alarmless, PRODUCTION)] == ["alarms-subscribed"]


def test_backups_kept_in_one_region_fail_in_production() -> None:
    found = [r for r in resources("prod") if r.name != "database-backup-replication"]
    (violation,) = evaluate(found, PRODUCTION)
    assert (violation.rule, violation.message) == (
        "rds-backups-replicated",
        "database-instance: its backups stay in its own region; set "
        "webstack:database.backupReplicaRegion",
    )


def test_a_prod_stack_without_https_fails_the_production_rules() -> None:
    app = {"webstack:app": {"instanceTypes": ["t3.small"], "minInstances": 2, "accessLogs": True}}
    plain = policy_resources(run("prod", app))
    (violation,) = evaluate(plain, PRODUCTION)
    assert violation.rule == "https-required"


# Prod with a NAT instance and the worker tier: every resource type the rules check is in it.
EVERY_TYPE = {"webstack:network": {"natGateways": "instance"}, "webstack:worker": {"enabled": True}}


def test_a_stack_with_a_nat_instance_and_a_worker_passes_every_rule() -> None:
    assert evaluate(policy_resources(run("prod", EVERY_TYPE)), PRODUCTION) == []
    assert evaluate(policy_resources(run("dev", EVERY_TYPE)), {}) == []


def test_a_queue_without_a_dead_letter_queue_fails_the_stack_rule() -> None:
    found = broken(
        "aws:sqs/queue:Queue",
        "jobs-queue",
        lambda r: dataclasses.replace(
            r,
            props={k: v for k, v in r.props.items() if k != "redrivePolicy"},
            property_dependencies={},
        ),
    )
    violations = evaluate(found, PRODUCTION)
    # Neither queue is redriven now: the old dead-letter queue is no one's either.
    assert {v.rule for v in violations} == {"sqs-dead-letter"}
    assert len(violations) == 2 and "has no redrive policy" in violations[0].message


def test_a_nat_instance_open_to_the_internet_fails_both_address_rules() -> None:
    # Its group may admit the VPC's block on every port (it forwards them), never the internet.
    found = broken(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "network-nat-instance-from-vpc",
        with_props(cidrIpv4="0.0.0.0/0"),
    )
    fired = {v.rule: v.message for v in evaluate(found, PRODUCTION)}
    assert set(fired) == {"sg-only-web-ports-from-anywhere", "sg-no-database-port-from-cidr"}
    assert "opens every port to the internet" in fired["sg-only-web-ports-from-anywhere"]


def broken(rule_type: str, name: str, change: Callable[[Resource], Resource]) -> list[Resource]:
    found = policy_resources(run("prod", EVERY_TYPE))
    index = next(i for i, r in enumerate(found) if r.type == rule_type and r.name == name)
    return [*found[:index], change(found[index]), *found[index + 1 :]]


@pytest.mark.parametrize(("rule", "type_", "name", "change", "words"), BROKEN)
def test_each_rule_fires_on_a_broken_resource(
    rule: str, type_: str, name: str, change: Callable[[Resource], Resource], words: str
) -> None:
    violations = evaluate(broken(type_, name, change), PRODUCTION)
    assert [v.rule for v in violations] == [rule], violations
    assert words in violations[0].message
    assert violations[0].message.startswith(violations[0].message.split(":")[0] + ":")


def test_a_bucket_without_its_guards_fails_the_stack_rule() -> None:
    found = [
        r
        for r in resources("prod")
        if not (
            r.name == "storage-bucket-encryption" or r.name == "storage-bucket-public-access-block"
        )
    ]
    (violation,) = [
        v for v in evaluate(found, PRODUCTION) if v.rule == "s3-bucket-fully-configured"
    ]
    assert violation.message == (
        "storage-bucket: has no a public access block and no an encryption configuration; "
        "give every bucket both (the Storage component does)"
    )


def test_every_rule_is_a_mandatory_policy_of_the_pack() -> None:
    built = policies()
    rules: list[ResourceRule | StackRule] = [*RESOURCE_RULES, *STACK_RULES]
    assert [p.name for p in built] == [r.name for r in rules]
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in built)


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def test_pack_resource_policy_reports_through_the_sdk() -> None:
    (policy,) = [p for p in policies() if p.name == "rds-not-public"]
    assert isinstance(policy, ResourceValidationPolicy)
    reports: list[tuple[str, str | None]] = []
    args = ResourceValidationArgs(
        "aws:rds/instance:Instance",
        {"publiclyAccessible": True},
        "urn:db",
        "db",
        options(),
        None,
        {},
    )

    def report(message: str, urn: str | None = None) -> None:
        reports.append((message, urn))

    policy.validate(args, report)
    assert reports == [
        ("db: the database is publicly accessible; set publicly_accessible=False", None)
    ]


def test_pack_production_policy_is_off_unless_configured() -> None:
    (policy,) = [p for p in policies() if p.name == "data-protected"]
    assert isinstance(policy, StackValidationPolicy)
    bucket = PolicyResource(
        "aws:s3/bucket:Bucket", {"bucket": "b"}, "urn:b", "b", options(), None, None, [], {}
    )
    reports: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        reports.append(message)

    policy.validate(StackValidationArgs([bucket], {}), report)
    assert reports == []
    policy.validate(StackValidationArgs([bucket], {"production": True}), report)
    assert reports == ["b: holds data but is not protected; set webstack:protectData true"]


def test_plan_exits_non_zero_on_a_mandatory_violation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "dev",
            "--policy-config",
            str(PROJECT / "policy" / "production.json"),
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 3
    assert "Policy violations (8, mandatory):" in out
    assert "[rds-multi-az] database-instance: the database runs in one zone" in out
    assert (
        main(
            [
                "prod",
                "--policy-config",
                str(PROJECT / "policy" / "production.json"),
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )


def test_a_single_instance_has_no_load_balancer_to_check_but_fails_production() -> None:
    dev = resources("dev")
    assert "eb-application-load-balancer" not in {v.rule for v in evaluate(dev, {})}
    messages = {v.rule: v.message for v in evaluate(dev, PRODUCTION)}
    assert messages["https-required"] == (
        "app-environment: runs as a single instance, without the load balancer that serves "
        "HTTPS; set webstack:app.environmentType LoadBalanced and webstack:app.domain"
    )
    assert messages["lb-access-logs"].startswith("app-environment: runs as a single instance")
    classic = [
        dataclasses.replace(r, props={**r.props, "settings": []})
        if r.type == "aws:elasticbeanstalk/environment:Environment"
        else r
        for r in resources("prod")
    ]
    assert "eb-application-load-balancer" in {v.rule for v in evaluate(classic, {})}


def test_every_checkov_waiver_says_why() -> None:
    lines = (Path(__file__).resolve().parents[1] / "policy" / "checkov.yaml").read_text()
    waived: list[str] = []
    reason: list[str] = []
    for line in lines.split("skip-check:", 1)[1].splitlines():
        text = line.strip()
        if text.startswith("#"):
            reason.append(text)
        elif text.startswith("- "):
            assert len(" ".join(reason)) > 40, f"{text}: no reason above it"
            waived.append(text[2:])
            reason = []
    assert len(waived) == len(set(waived)) >= 5
    assert all(w.startswith(("CKV_AWS_", "CKV2_AWS_")) for w in waived)
