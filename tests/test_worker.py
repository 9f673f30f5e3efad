"""The worker tier: its queue and dead-letter queue, and the worker environment, built beside the
web tier it shares an application and a platform with."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.hosting import (
    AppHosting,
    AppSettings,
    JobQueue,
    Worker,
    WorkerArgs,
    WorkerSettings,
)
from components.hosting.queue import CONSUME_ACTIONS, SEND_ACTIONS
from tests.support import component, settings_of, statements
from tests.test_hosting import AWS_OPTIONS, CONNECTIONS, ENV_VARS, PRIVATE, VPC_ID, app_args
from tools.engine.mock_engine import Run

ENV = "aws:elasticbeanstalk/environment:Environment"
QUEUE = "aws:sqs/queue:Queue"
SQSD = "aws:elasticbeanstalk:sqsd"
# The daemon's options (EB developer guide, "aws:elasticbeanstalk:sqsd"), beside the general ones.
SQSD_OPTIONS = {
    "WorkerQueueURL",
    "HttpPath",
    "MimeType",
    "HttpConnections",
    "ConnectTimeout",
    "InactivityTimeout",
    "VisibilityTimeout",
    "ErrorVisibilityTimeout",
    "RetentionPeriod",
    "MaxRetries",
}


def tiers(**fields: Any) -> Run:
    """The web tier, the job queue and the worker, alone in an empty stack."""
    worker_settings = settings_of(WorkerSettings, "webstack:worker", {"enabled": True, **fields})

    def build() -> None:
        app = AppHosting("app", app_args(AppSettings()))
        jobs = JobQueue("jobs", worker_settings)
        jobs.grant_send(app.instance_role)
        worker = Worker(
            "worker",
            WorkerArgs(
                settings=worker_settings,
                app=app,
                app_settings=AppSettings(),
                queue=jobs,
                vpc_id=VPC_ID,
                subnet_ids=PRIVATE,
                instances_in_public_subnets=False,
                connections=CONNECTIONS,
            ),
        )
        pulumi.export("workerEnvironmentName", worker.environment_name)

    return component(("tiers", fields), build)


def rows(r: Run) -> dict[tuple[str, str], Any]:
    env = r.one(ENV, "worker-environment")
    assert all(s["resource"] == "" for s in env.plain_inputs["settings"])
    return {(s["namespace"], s["name"]): s["value"] for s in env.plain_inputs["settings"]}


def test_the_worker_shares_the_web_tiers_application_platform_and_code() -> None:
    r = tiers()
    web, worker = r.one(ENV, "app-environment"), r.one(ENV, "worker-environment")
    assert worker.inputs["tier"] == "Worker" and web.inputs["tier"] == "WebServer"
    assert worker.inputs["name"] == "webstack-test-worker"
    assert worker.inputs["application"] == web.inputs["application"]
    assert worker.inputs["solutionStackName"] == web.inputs["solutionStackName"]
    # The same bundle: the web tier's version, not a second upload.
    assert worker.inputs["version"] == web.inputs["version"]
    assert len(r.of_type("aws:elasticbeanstalk/applicationVersion:ApplicationVersion")) == 1
    assert "cnamePrefix" not in worker.inputs  # a worker has no CNAME


def test_code_of_its_own_is_a_second_version_of_the_same_application() -> None:
    r = tiers(sourceBundle="schema")
    versions = r.of_type("aws:elasticbeanstalk/applicationVersion:ApplicationVersion")
    assert len(versions) == 2
    (own,) = [v for v in versions if v.name == "worker-version"]
    assert r.one(ENV, "worker-environment").inputs["version"] == own.outputs["name"]
    assert own.inputs["description"].startswith("schema (")


def test_sqsd_takes_the_queue_with_timeouts_consistent_with_it() -> None:
    r = tiers(
        visibilityTimeoutSeconds=900, maxReceiveCount=3, retentionDays=7, httpPath="/jobs/run"
    )
    options = rows(r)
    queue = r.one(QUEUE, "jobs-queue")
    assert {name: value for (ns, name), value in options.items() if ns == SQSD} == {
        "WorkerQueueURL": queue.outputs["url"],
        "HttpPath": "/jobs/run",
        "MimeType": "application/json",
        "HttpConnections": "8",  # the sample app's gunicorn serves 8 at once
        "VisibilityTimeout": "900",
        "InactivityTimeout": "899",  # a second under: a running job never reappears
        "ErrorVisibilityTimeout": "30",
        "MaxRetries": "3",
        "RetentionPeriod": str(7 * 86_400),
    }


def test_every_option_is_one_aws_documents_and_none_is_a_load_balancers() -> None:
    options = rows(tiers(spot={"enabled": True}, instanceTypes=["t4g.micro", "t4g.small"]))
    for namespace, name in options:
        if namespace == SQSD:
            assert name in SQSD_OPTIONS, name
        elif namespace != ENV_VARS:
            assert name in AWS_OPTIONS.get(namespace, set()), (namespace, name)
    assert not [ns for ns, _ in options if ns.startswith(("aws:elb", "aws:elbv2"))]
    assert ("aws:ec2:vpc", "ELBSubnets") not in options
    assert ("aws:elasticbeanstalk:environment", "LoadBalancerType") not in options
    assert ("aws:elasticbeanstalk:environment:process:default", "HealthCheckPath") not in options


def test_the_workers_run_as_the_web_tiers_do() -> None:
    options = rows(tiers(minInstances=2, maxInstances=5))
    launch = "aws:autoscaling:launchconfiguration"
    assert options[(launch, "DisableIMDSv1")] == "true"
    assert options[(launch, "DisableDefaultEC2SecurityGroup")] == "true"
    assert options[("aws:ec2:vpc", "Subnets")] == ",".join(PRIVATE)
    assert options[("aws:ec2:vpc", "AssociatePublicIpAddress")] == "false"
    assert options[("aws:ec2:instances", "InstanceTypes")] == "t4g.micro"
    assert (
        options[("aws:autoscaling:asg", "MinSize")],
        options[("aws:autoscaling:asg", "MaxSize")],
    ) == ("2", "5")
    assert options[("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs")] == "true"
    assert options[("aws:elasticbeanstalk:healthreporting:system", "SystemType")] == "enhanced"
    assert options[("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled")] == "true"
    assert options[("aws:elasticbeanstalk:command", "DeploymentPolicy")] == "Rolling"
    assert options[(ENV_VARS, "DB_HOST")] == CONNECTIONS.db_host


def test_the_queue_is_encrypted_redriven_and_refuses_plain_http() -> None:
    r = tiers(maxReceiveCount=4)
    queue, dead_letter = r.one(QUEUE, "jobs-queue"), r.one(QUEUE, "jobs-dead-letter")
    assert (
        queue.inputs["sqsManagedSseEnabled"] is True
        and dead_letter.inputs["sqsManagedSseEnabled"] is True
    )
    assert queue.inputs["visibilityTimeoutSeconds"] == 300
    assert queue.inputs["messageRetentionSeconds"] == 4 * 86_400
    assert dead_letter.inputs["messageRetentionSeconds"] == 14 * 86_400
    assert json.loads(queue.inputs["redrivePolicy"]) == {
        "deadLetterTargetArn": dead_letter.outputs["arn"],
        "maxReceiveCount": 4,
    }
    for policy in r.of_type("aws:sqs/queuePolicy:QueuePolicy"):
        (statement,) = statements(policy)
        assert (statement["Effect"], statement["Action"]) == ("Deny", "sqs:*")
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    targets = {p.inputs["queueUrl"] for p in r.of_type("aws:sqs/queuePolicy:QueuePolicy")}
    assert targets == {queue.outputs["url"], dead_letter.outputs["url"]}


def _granted(r: Run, name: str) -> list[dict[str, Any]]:
    return statements(r.one("aws:iam/rolePolicy:RolePolicy", name))


def test_the_web_tier_may_only_send_and_the_worker_only_consume_this_queue() -> None:
    r = tiers()
    arn = r.one(QUEUE, "jobs-queue").outputs["arn"]
    (send,) = _granted(r, "jobs-app-instance-role-send")
    (consume,) = _granted(r, "jobs-worker-instance-role-consume")
    assert (send["Action"], send["Resource"]) == (list(SEND_ACTIONS), arn)
    assert (consume["Action"], consume["Resource"]) == (list(CONSUME_ACTIONS), arn)
    assert "sqs:ReceiveMessage" not in send["Action"] and "sqs:PurgeQueue" not in consume["Action"]


def test_the_workers_role_covers_periodic_tasks_and_nothing_broad() -> None:
    r = tiers()
    leader, metrics = _granted(r, "worker-periodic-tasks")
    assert leader["Resource"] == (
        "arn:aws:dynamodb:us-east-1:123456789012:table/*-stack-AWSEBWorkerCronLeaderRegistry*"
    )
    assert all(a.startswith("dynamodb:") and "Table" not in a for a in leader["Action"])
    assert (metrics["Action"], metrics["Resource"]) == ("cloudwatch:PutMetricData", "*")
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in r.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("worker-")
    }
    # Not AWSElasticBeanstalkWorkerTier: it allows SQS on every queue of the account.
    assert attached == {"AWSElasticBeanstalkWebTier", "AmazonSSMManagedInstanceCore"}
    # It reads the application's bundles.
    assert r.one("aws:iam/rolePolicy:RolePolicy", "app-versions-worker-instance-role-read")


def test_nothing_reaches_a_worker_instance() -> None:
    r = tiers()
    group = r.one("aws:ec2/securityGroup:SecurityGroup", "worker-instance-sg")
    ingress = r.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert not [rule for rule in ingress if rule.inputs["securityGroupId"] == group.id]
    assert rows(r)[("aws:autoscaling:launchconfiguration", "SecurityGroups")] == group.id


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"minInstances": 3, "maxInstances": 2}, "minInstances: 3 is greater than maxInstances"),
        (
            {"retentionDays": 10, "deadLetterRetentionDays": 7},
            "deadLetterRetentionDays: 7 is less than retentionDays (10)",
        ),
        ({"visibilityTimeoutSeconds": 10}, "visibilityTimeoutSeconds: 10"),
        ({"maxReceiveCount": 0}, "maxReceiveCount: 0"),
        ({"instanceTypes": ["t4g.micro", "t3.micro"]}, "mixes architectures"),
        ({"sourceBundle": "nowhere"}, "sourceBundle: 'nowhere'"),
    ],
)
def test_each_bad_setting_names_its_key(fields: dict[str, Any], words: str) -> None:
    from components.settings import ConfigError

    with pytest.raises(ConfigError) as raised:
        settings_of(WorkerSettings, "webstack:worker", {"enabled": True, **fields})
    assert words in str(raised.value)


def test_a_disabled_worker_refuses_settings_that_would_do_nothing() -> None:
    from components.settings import ConfigError

    with pytest.raises(ConfigError, match=r"webstack:worker.maxInstances: has no effect"):
        settings_of(WorkerSettings, "webstack:worker", {"maxInstances": 3})


def test_the_daemon_posts_no_more_jobs_at_once_than_asked() -> None:
    options = rows(tiers(httpConnections=2))
    assert options[(SQSD, "HttpConnections")] == "2"
