"""The shipped stacks, from their real stack files: outputs, wiring, protection, tags, secrets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from components.settings import ConfigError
from tests.support import option_settings, run, statements
from tools.engine.mock_engine import PROJECT_DIR as PROJECT
from tools.engine.mock_engine import SECRET_PLACEHOLDER, Run, run_stack

ENV_VARS = "aws:elasticbeanstalk:application:environment"

STACKS = ["dev", "prod"]
OUTPUTS = {
    "region",
    "vpcId",
    "publicSubnetIds",
    "privateSubnetIds",
    "bucketName",
    "bucketArn",
    "dbAddress",
    "dbPort",
    "dbName",
    "dbSecretArn",
    "dbSecurityGroupId",
    "appName",
    "appEnvironmentName",
    "appUrl",
    "appCname",
    "appSecurityGroupId",
    "appInstanceRoleArn",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_output_is_exported_from_its_source(stack: str) -> None:
    r = run(stack)
    out = r.outputs
    # prod has a domain and alarms; dev neither
    assert set(out) == OUTPUTS | ({"appDomain", "alarmTopicArn"} if stack == "prod" else set())
    vpc = r.one("aws:ec2/vpc:Vpc")
    bucket = r.one("aws:s3/bucket:Bucket", "storage-bucket")
    instance = r.one("aws:rds/instance:Instance")
    env = r.one("aws:elasticbeanstalk/environment:Environment")
    subnets = {s.name: s.id for s in r.of_type("aws:ec2/subnet:Subnet")}
    assert out["region"] == "us-east-1"
    assert out["vpcId"] == vpc.id
    assert out["publicSubnetIds"] == [subnets[n] for n in sorted(subnets) if "public" in n]
    assert out["privateSubnetIds"] == [subnets[n] for n in sorted(subnets) if "private" in n]
    assert (out["bucketName"], out["bucketArn"]) == (bucket.id, bucket.outputs["arn"])
    assert (out["dbAddress"], out["dbPort"]) == (
        instance.outputs["address"],
        instance.outputs["port"],
    )
    assert out["dbName"] == instance.inputs["dbName"]
    assert out["dbSecretArn"] == instance.outputs["masterUserSecrets"][0]["secretArn"]
    assert (
        out["dbSecurityGroupId"] == r.one("aws:ec2/securityGroup:SecurityGroup", "database-sg").id
    )
    assert out["appName"] == r.one("aws:elasticbeanstalk/application:Application").outputs["name"]
    assert (out["appEnvironmentName"], out["appCname"]) == (
        env.outputs["name"],
        env.outputs["cname"],
    )
    if stack == "prod":
        assert out["appUrl"] == "https://app.example.com" == f"https://{out['appDomain']}"
        assert out["alarmTopicArn"] == r.one("aws:sns/topic:Topic").outputs["arn"]
    else:
        assert out["appUrl"] == f"http://{env.outputs['cname']}"
    assert (
        out["appSecurityGroupId"]
        == r.one("aws:ec2/securityGroup:SecurityGroup", "app-instance-sg").id
    )
    assert (
        out["appInstanceRoleArn"] == r.one("aws:iam/role:Role", "app-instance-role").outputs["arn"]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_database_is_reachable_only_from_the_app_group(stack: str) -> None:
    r = run(stack)
    db_group = r.outputs["dbSecurityGroupId"]
    rules = [
        x.inputs
        for x in r.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if x.inputs["securityGroupId"] == db_group
    ]
    assert rules == [
        {
            "securityGroupId": db_group,
            "referencedSecurityGroupId": r.outputs["appSecurityGroupId"],
            "ipProtocol": "tcp",
            "fromPort": 5432,
            "toPort": 5432,
            "description": "database port from app-instance-sg",
        }
    ]
    assert r.one("aws:rds/instance:Instance").inputs["vpcSecurityGroupIds"] == [db_group]


@pytest.mark.parametrize("stack", STACKS)
def test_instance_role_reaches_only_this_bucket_and_this_secret(stack: str) -> None:
    r = run(stack)
    role_id = r.one("aws:iam/role:Role", "app-instance-role").id
    versions = r.one("aws:s3/bucket:Bucket", "app-versions-bucket").outputs["arn"]
    resources: set[str] = set()
    for policy in r.of_type("aws:iam/rolePolicy:RolePolicy"):
        if policy.inputs["role"] == role_id:
            for statement in statements(policy):
                assert statement["Effect"] == "Allow"
                found = statement["Resource"]
                resources |= set(found if isinstance(found, list) else [found])
    bucket = r.outputs["bucketArn"]
    assert resources == {bucket, f"{bucket}/*", versions, f"{versions}/*", r.outputs["dbSecretArn"]}


@pytest.mark.parametrize("stack", STACKS)
def test_environment_variables_are_the_contract(stack: str) -> None:
    r = run(stack)
    env = {
        name: value
        for (namespace, name), value in option_settings(r).items()
        if namespace == "aws:elasticbeanstalk:application:environment"
    }
    assert env == {
        "BUCKET_NAME": r.outputs["bucketName"],
        "DB_ENGINE": "postgres",
        "DB_HOST": r.outputs["dbAddress"],
        "DB_PORT": str(r.outputs["dbPort"]),
        "DB_NAME": r.outputs["dbName"],
        "DB_SECRET_ARN": r.outputs["dbSecretArn"],
        "AWS_REGION": r.outputs["region"],
    }


def test_data_protection_is_on_in_prod_and_off_in_dev() -> None:
    prod, dev = run("prod"), run("dev")
    for r, on in ((prod, True), (dev, False)):
        bucket = r.one("aws:s3/bucket:Bucket", "storage-bucket")
        instance = r.one("aws:rds/instance:Instance")
        assert (bucket.protect, bucket.retain_on_delete) == (on, on)
        assert (instance.protect, instance.retain_on_delete) == (on, on)
        assert instance.inputs["deletionProtection"] is on
        assert instance.inputs["skipFinalSnapshot"] is not on
        assert bucket.inputs["forceDestroy"] is not on
    # nothing else is protected: tearing down a stack only stops at its data and its audit logs
    assert {r.name for r in prod.resources if r.protect} == {
        "storage-bucket",
        "storage-logs",
        "database-instance",
    }


def test_dev_is_the_cheap_footprint_and_prod_the_resilient_one() -> None:
    dev, prod = run("dev"), run("prod")
    assert (
        len(dev.of_type("aws:ec2/natGateway:NatGateway")),
        len(prod.of_type("aws:ec2/natGateway:NatGateway")),
    ) == (0, 3)
    dev_db, prod_db = (
        dev.one("aws:rds/instance:Instance").inputs,
        prod.one("aws:rds/instance:Instance").inputs,
    )
    assert (dev_db["instanceClass"], dev_db["multiAz"]) == ("db.t4g.micro", False)
    assert (
        prod_db["multiAz"],
        prod_db["backupRetentionPeriod"],
        prod_db["monitoringInterval"],
    ) == (True, 30, 60)
    assert prod_db["performanceInsightsEnabled"] is True
    assert prod.of_type("aws:s3/bucketLogging:BucketLogging") and not dev.of_type(
        "aws:s3/bucketLogging:BucketLogging"
    )
    assert (
        option_settings(prod)[("aws:elasticbeanstalk:command", "DeploymentPolicy")] == "Immutable"
    )
    environment = ("aws:elasticbeanstalk:environment", "EnvironmentType")
    assert (option_settings(dev)[environment], option_settings(prod)[environment]) == (
        "SingleInstance",
        "LoadBalanced",
    )
    assert ("aws:autoscaling:asg", "MaxSize") not in option_settings(dev)
    assert option_settings(prod)[("aws:autoscaling:asg", "MaxSize")] == "6"
    # Graviton everywhere: the instances and the databases.
    assert option_settings(dev)[("aws:ec2:instances", "InstanceTypes")] == "t4g.micro"
    assert option_settings(prod)[("aws:ec2:instances", "InstanceTypes")] == "t4g.small"


def provider_of(r: Run, name: str = "aws") -> tuple[str, dict[str, str]]:
    provider = r.one("pulumi:providers:aws", name)
    # Provider inputs reach the engine as JSON strings.
    tags: dict[str, str] = json.loads(provider.inputs["defaultTags"])["tags"]
    return f"{provider.urn}::{provider.id}", tags


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_carries_the_stack_tags(stack: str) -> None:
    r = run(stack)
    reference, tags = provider_of(r)
    assert tags == {
        "environment": stack,
        "project": "webstack",
        "stack": stack,
        "managed-by": "pulumi",
    }
    assert r.one("pulumi:providers:aws", "aws").inputs["region"] == "us-east-1"
    aws_resources = [x for x in r.resources if x.type.startswith("aws:")]
    assert aws_resources
    for resource in aws_resources:
        if resource.name not in REPLICA_RESOURCES:
            assert resource.provider == reference, resource.name


REPLICA_RESOURCES = {"database-replica-key", "database-backup-replication"}


def test_prod_backups_are_copied_to_a_second_region_under_the_same_tags() -> None:
    prod = run("prod")
    (replica,) = [p for p in prod.of_type("pulumi:providers:aws") if p.name != "aws"]
    assert (replica.name, replica.inputs["region"]) == ("aws-us-west-2", "us-west-2")
    reference, tags = provider_of(prod, replica.name)
    assert tags == provider_of(prod)[1]
    there = {x.name for x in prod.resources if x.provider == reference}
    assert there == REPLICA_RESOURCES
    assert [p.name for p in run("dev").of_type("pulumi:providers:aws")] == ["aws"]


def test_beanstalk_resources_get_no_tag_beanstalk_refuses() -> None:
    r = run("prod", {"webstack:tags": {"team": "web", "cost-center": "42"}})
    _, tags = provider_of(r)
    assert tags["team"] == "web"
    assert not any(
        key == "Name" or key.lower().startswith(("aws:", "elasticbeanstalk:")) for key in tags
    )
    for resource in r.resources:
        if resource.type.startswith("aws:elasticbeanstalk/"):
            assert "tags" not in resource.inputs, resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_value_in_any_output_or_environment_variable(stack: str) -> None:
    r = run(stack)
    assert r.secret_outputs == set()
    text = json.dumps(r.outputs) + json.dumps(list(option_settings(r).values()))
    assert SECRET_PLACEHOLDER not in text
    assert "password" not in text.lower()


LOAD_BALANCED_DEV = {"webstack:app": {"instanceTypes": ["t4g.micro"], "maxInstances": 1}}


@pytest.mark.parametrize(
    ("stack", "overrides", "public"),
    [("dev", LOAD_BALANCED_DEV, True), ("prod", None, False)],
)
def test_load_balanced_instances_sit_in_public_subnets_only_without_nat(
    stack: str, overrides: dict[str, Any] | None, public: bool
) -> None:
    r = run(stack, overrides)
    subnets = r.outputs["publicSubnetIds" if public else "privateSubnetIds"]
    options = option_settings(r)
    assert options[("aws:ec2:vpc", "Subnets")] == ",".join(subnets)
    assert options[("aws:ec2:vpc", "ELBSubnets")] == ",".join(r.outputs["publicSubnetIds"])
    assert options[("aws:ec2:vpc", "AssociatePublicIpAddress")] == str(public).lower()


def test_the_dev_instance_stands_alone_in_a_public_subnet_on_its_elastic_ip() -> None:
    r = run("dev")
    options = option_settings(r)
    assert options[("aws:ec2:vpc", "Subnets")] == ",".join(r.outputs["publicSubnetIds"])
    # No load balancer, and nothing that only a load balancer reads.
    assert not [key for key in options if key[0].startswith("aws:elbv2")]
    assert ("aws:ec2:vpc", "ELBSubnets") not in options
    assert ("aws:ec2:vpc", "AssociatePublicIpAddress") not in options
    assert not r.of_type("aws:lb/listenerRule:ListenerRule")
    assert r.outputs["appUrl"].startswith("http://")


def test_a_network_of_your_own_reaches_the_database_and_the_app() -> None:
    own = {
        "vpcId": "vpc-0123456789abcdef0",
        "publicSubnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
        "privateSubnetIds": ["subnet-0000000000000000c", "subnet-0000000000000000d"],
    }
    r = run("dev", {"webstack:network": own})
    assert r.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == own["privateSubnetIds"]
    assert (
        r.one("aws:ec2/securityGroup:SecurityGroup", "database-sg").inputs["vpcId"] == own["vpcId"]
    )
    options = option_settings(r)
    assert options[("aws:ec2:vpc", "VPCId")] == own["vpcId"]
    # dev's single instance takes a public subnet of the network given.
    assert options[("aws:ec2:vpc", "Subnets")] == ",".join(own["publicSubnetIds"])


@pytest.mark.parametrize("stack", STACKS)
def test_every_child_of_a_component_carries_its_name(stack: str) -> None:
    r = run(stack)
    components = {x.urn: x for x in r.resources if x.type.startswith("webstack:")}
    assert {x.type for x in components.values()} == {
        "webstack:network:Network",
        "webstack:storage:Storage",
        "webstack:database:Database",
        "webstack:hosting:AppHosting",
        *(["webstack:monitoring:Alarms"] if stack == "prod" else []),
    }
    for resource in r.resources:
        if resource.parent in components:
            assert resource.name.startswith(components[resource.parent].name + "-"), resource.name


def test_numbers_in_a_stack_file_reach_aws_exactly_or_are_refused(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "__main__.py", "components"):
        (tmp_path / name).symlink_to(PROJECT / name)
    shutil.copytree(PROJECT / "app", tmp_path / "app")
    (tmp_path / "Pulumi.n.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  webstack:tags:\n    cost-center: 12345678\n"
        "  webstack:database:\n    parameters:\n      max_connections: 12345678\n"
        "  webstack:app:\n    environmentVariables:\n      WORKERS: 12345678\n"
    )
    r = run_stack("n", project_dir=tmp_path)
    assert provider_of(r)[1]["cost-center"] == "12345678"
    params = r.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]
    assert {
        "name": "max_connections",
        "value": "12345678",
        "applyMethod": "pending-reboot",
    } in params
    assert option_settings(r)[(ENV_VARS, "WORKERS")] == "12345678"
    (tmp_path / "Pulumi.v.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  webstack:database:\n    engine: mysql\n"
        "    engineVersion: 8.0\n"
    )
    with pytest.raises(ConfigError) as caught:
        run_stack("v", project_dir=tmp_path)
    (problem,) = caught.value.problems
    assert problem.startswith("webstack:database.engineVersion: 8 is not valid")
    assert "read as the number 8: YAML reads an unquoted 8.0 as 8" in problem


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_with_a_fixed_name_can_be_replaced_or_is_protected(stack: str) -> None:
    r = run(stack)
    fixed = [
        x
        for x in r.resources
        if x.type.startswith("aws:")
        and ("identifier" in x.inputs or "name" in x.inputs)
        # named after their content and place: whatever replaces them changes the name
        and x.type != "aws:elasticbeanstalk/applicationVersion:ApplicationVersion"
        # a DNS record is its name in its zone: replacing it means another name or zone
        and x.type != "aws:route53/record:Record"
    ]
    assert {x.type for x in fixed} >= {
        "aws:rds/instance:Instance",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:elasticbeanstalk/application:Application",
        "aws:elasticbeanstalk/environment:Environment",
    }
    for resource in fixed:
        # a replacement could not create its new self beside the old one under the same name
        assert resource.delete_before_replace or resource.protect, resource.name


def test_with_access_logs_every_bucket_of_the_stack_logs() -> None:
    r = run("prod")
    logged = {x.inputs["bucket"] for x in r.of_type("aws:s3/bucketLogging:BucketLogging")}
    log_bucket = r.one("aws:s3/bucket:Bucket", "storage-logs").id
    buckets = {x.id for x in r.of_type("aws:s3/bucket:Bucket")} - {log_bucket}
    assert logged == buckets
    assert {x.inputs["targetBucket"] for x in r.of_type("aws:s3/bucketLogging:BucketLogging")} == {
        log_bucket
    }


def test_whatever_writes_to_the_log_bucket_waits_for_its_policy() -> None:
    # S3 and ELB check they may write when logging is turned on (the race aws-cdk#1633 fixed):
    # prod's environment (load-balancer logs) and both buckets' logging come after the policy.
    r = run("prod")
    policy = r.one("aws:s3/bucketPolicy:BucketPolicy", "storage-logs-policy")
    env = r.one("aws:elasticbeanstalk/environment:Environment")
    assert policy.urn in env.dependencies
    for logging in r.of_type("aws:s3/bucketLogging:BucketLogging"):
        assert policy.urn in logging.dependencies, logging.name
    assert len(r.of_type("aws:s3/bucketLogging:BucketLogging")) == 2


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [("prod", None), ("prod", {"webstack:network": {"natGateways": "instance"}})],
    ids=["nat-gateways", "nat-instance"],
)
def test_instances_in_private_subnets_launch_only_once_they_have_a_way_out(
    stack: str, overrides: dict[str, Any] | None
) -> None:
    r = run(stack, overrides)
    env = r.one("aws:elasticbeanstalk/environment:Environment")
    routes = [x for x in r.of_type("aws:ec2/route:Route") if "private" in x.name]
    assert routes and all(route.urn in env.dependencies for route in routes)


def test_without_nat_the_environment_waits_for_no_route() -> None:
    r = run("dev")
    env = r.one("aws:elasticbeanstalk/environment:Environment")
    routes = {x.urn for x in r.of_type("aws:ec2/route:Route")}
    assert not routes & set(env.dependencies)


WORKER_ON = {"webstack:worker": {"enabled": True}}


@pytest.mark.parametrize("stack", STACKS)
def test_the_worker_tier_is_wired_to_the_queue_the_database_and_the_bucket(stack: str) -> None:
    r = run(stack, WORKER_ON)
    out = r.outputs
    queue = r.one("aws:sqs/queue:Queue", "jobs-queue")
    dead_letter = r.one("aws:sqs/queue:Queue", "jobs-dead-letter")
    worker = r.one("aws:elasticbeanstalk/environment:Environment", "worker-environment")
    assert (out["queueUrl"], out["deadLetterQueueUrl"]) == (
        queue.outputs["url"],
        dead_letter.outputs["url"],
    )
    assert out["workerEnvironmentName"] == worker.outputs["name"] == f"webstack-{stack}-worker"
    # The web tier sends jobs: QUEUE_URL, and the right to send to it.
    assert (
        option_settings(r)[("aws:elasticbeanstalk:application:environment", "QUEUE_URL")]
        == (queue.outputs["url"])
    )
    assert r.one("aws:iam/rolePolicy:RolePolicy", "jobs-app-instance-role-send")
    # The worker reaches the database and the bucket as the app does.
    worker_sg = r.one("aws:ec2/securityGroup:SecurityGroup", "worker-instance-sg")
    ingress = r.one(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "database-from-worker-instance-sg",
    )
    assert ingress.inputs["referencedSecurityGroupId"] == worker_sg.id
    for name in (
        "storage-worker-instance-role-read-write",
        "database-worker-instance-role-secret-read",
    ):
        assert r.one("aws:iam/rolePolicy:RolePolicy", name)
    variables = {
        s["name"]: s["value"]
        for s in worker.plain_inputs["settings"]
        if s["namespace"] == "aws:elasticbeanstalk:application:environment"
    }
    assert {"DB_HOST", "DB_SECRET_ARN", "BUCKET_NAME", "QUEUE_URL"} <= set(variables)
    # In private subnets behind NAT (prod), in public ones with addresses without (dev).
    routes = {x.urn for x in r.of_type("aws:ec2/route:Route") if "private" in x.name}
    assert routes <= set(worker.dependencies)


def test_without_the_worker_tier_there_is_no_queue_and_no_queue_url() -> None:
    r = run("prod")
    assert not r.of_type("aws:sqs/queue:Queue")
    assert not {"queueUrl", "deadLetterQueueUrl", "workerEnvironmentName"} & set(r.outputs)
    assert ("aws:elasticbeanstalk:application:environment", "QUEUE_URL") not in option_settings(r)
