"""Alarms: an encrypted topic people subscribe to, alarms on the app and database, a dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.alarms import (
    Alarms,
    AlarmsArgs,
    AlarmsSettings,
    WatchedDatabase,
    WatchedWorker,
)
from components.engines import default_max_connections, instance_memory_bytes
from tests.support import component, document, run, settings_of, statements
from tools.engine.mock_engine import Run

LB_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/awseb-AWSEB-x/0123abcd"
)
GIB = 1024**3
DATABASE = WatchedDatabase(
    identifier="webstack-test-db",
    allocated_storage_gib=50,
    memory_bytes=8 * GIB,
    max_connections=900,
)
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


WORKER = WatchedWorker(
    environment_name="webstack-test-worker",
    queue_name="jobs-queue-0123",
    dead_letter_name="jobs-dead-letter-0123",
    longest_retried_seconds=300 * 5,
)


def alarms(
    database: WatchedDatabase = DATABASE,
    lb: str | None = LB_ARN,
    worker: WatchedWorker | None = None,
    **fields: Any,
) -> Run:
    settings = settings_of(AlarmsSettings, "webstack:alarms", fields)

    def build() -> None:
        Alarms(
            "alarms",
            AlarmsArgs(
                environment_name="webstack-test",
                database=database,
                load_balancer_arn=lb,
                settings=settings,
                worker=worker,
            ),
        )

    return component(("alarms", repr(database), lb, repr(worker), fields), build)


def by_label(r: Run) -> dict[str, dict[str, Any]]:
    return {
        a.name.removeprefix("alarms-"): a.plain_inputs
        for a in r.of_type(ALARM)
        if a.parent.endswith("::alarms")
    }


def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use() -> None:
    r = alarms(emails=["ops@example.com"])
    key = r.one("aws:kms/key:Key")
    topic = r.one("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    admin, cloudwatch = statements(key)
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    # the AWS managed aws/sns key would not do: alarms cannot use it
    assert cloudwatch == {
        "Sid": "CloudWatchAlarmsPublish",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }
    (publish,) = statements(r.one("aws:sns/topicPolicy:TopicPolicy"))
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert (publish["Action"], publish["Resource"]) == ("sns:Publish", topic.outputs["arn"])


def test_every_address_is_subscribed_by_email() -> None:
    r = alarms(emails=["ops@example.com", "dba@example.com"])
    subscriptions = r.of_type("aws:sns/topicSubscription:TopicSubscription")
    topic = r.one("aws:sns/topic:Topic").outputs["arn"]
    # Registered concurrently, so in no fixed order; named by position in the list.
    assert sorted((s.name, s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions) == [
        ("alarms-email-0", "email", "ops@example.com"),
        ("alarms-email-1", "email", "dba@example.com"),
    ]
    assert all(s.inputs["topic"] == topic for s in subscriptions)


def test_alarms_cover_the_app_and_the_database_and_notify_the_topic() -> None:
    r = alarms()
    found = by_label(r)
    assert set(found) == {
        "5xx-rate",
        "response-time",
        "environment-health",
        "database-cpu",
        "database-free-storage",
        "database-freeable-memory",
        "database-connections",
    }
    topic = r.one("aws:sns/topic:Topic").outputs["arn"]
    for alarm in found.values():
        assert alarm["alarmActions"] == [topic] and alarm["okActions"] == [topic]


def test_thresholds_are_the_documented_ones() -> None:
    found = by_label(alarms())
    lb = {"LoadBalancer": "app/awseb-AWSEB-x/0123abcd"}
    rate = found["5xx-rate"]
    assert (rate["comparisonOperator"], rate["threshold"]) == ("GreaterThanThreshold", 5)
    queries = {q["id"]: q for q in rate["metricQueries"]}
    assert queries["rate"]["expression"] == (
        "IF(requests > 0, 100 * (FILL(lb5xx, 0) + FILL(app5xx, 0)) / requests, 0)"
    )
    assert queries["lb5xx"]["metric"]["metricName"] == "HTTPCode_ELB_5XX_Count"
    assert queries["app5xx"]["metric"]["dimensions"] == lb
    assert found["response-time"]["extendedStatistic"] == "p95"
    assert found["response-time"]["threshold"] == 2
    health = found["environment-health"]
    assert (health["namespace"], health["metricName"]) == (
        "AWS/ElasticBeanstalk",
        "EnvironmentHealth",
    )
    assert health["dimensions"] == {"EnvironmentName": "webstack-test"}
    assert (health["comparisonOperator"], health["threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        20,
    )
    # Published every minute (the environment's health ConfigDocument): its absence is news.
    assert health["treatMissingData"] == "breaching"
    db = {"DBInstanceIdentifier": "webstack-test-db"}
    assert found["database-cpu"]["threshold"] == 90 and found["database-cpu"]["dimensions"] == db
    assert found["database-free-storage"]["threshold"] == 5 * GIB  # 10 % of 50 GiB
    assert found["database-freeable-memory"]["threshold"] == 2 * GIB  # 25 % of 8 GiB
    assert found["database-freeable-memory"]["evaluationPeriods"] == 15
    assert found["database-connections"]["threshold"] == 810  # 90 % of 900


def test_without_a_load_balancer_there_are_no_load_balancer_alarms() -> None:
    assert {"5xx-rate", "response-time"}.isdisjoint(by_label(alarms(lb=None)))


def test_the_worker_tier_alarms_on_failed_jobs_a_backlog_and_its_health() -> None:
    found = by_label(alarms(worker=WORKER))
    dead = found["dead-letter-jobs"]
    assert (dead["namespace"], dead["metricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert dead["dimensions"] == {"QueueName": "jobs-dead-letter-0123"}
    assert (dead["comparisonOperator"], dead["threshold"]) == ("GreaterThanThreshold", 0)
    backlog = found["queue-backlog"]
    assert backlog["metricName"] == "ApproximateAgeOfOldestMessage"
    assert backlog["dimensions"] == {"QueueName": "jobs-queue-0123"}
    # Older than five deliveries of 5 minutes each, and 10 minutes more.
    assert backlog["threshold"] == 300 * 5 + 600
    health = found["worker-health"]
    assert health["dimensions"] == {"EnvironmentName": "webstack-test-worker"}
    assert found["environment-health"]["dimensions"] == {"EnvironmentName": "webstack-test"}
    for alarm in (dead, backlog, health):
        assert alarm["alarmActions"] == found["environment-health"]["alarmActions"]
    body = document(
        alarms(worker=WORKER).one("aws:cloudwatch/dashboard:Dashboard"), "dashboardBody"
    )
    queues = {
        row[3] for w in body["widgets"] for row in w["properties"]["metrics"] if row[0] == "AWS/SQS"
    }
    assert queues == {"jobs-queue-0123", "jobs-dead-letter-0123"}


def test_without_a_worker_there_are_no_worker_alarms() -> None:
    assert {"dead-letter-jobs", "queue-backlog", "worker-health"}.isdisjoint(by_label(alarms()))


def test_the_dashboard_graphs_the_same_metrics() -> None:
    r = alarms()
    dashboard = r.one("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.inputs["dashboardName"] == "webstack-test"
    assert dashboard.delete_before_replace is True
    body = document(dashboard, "dashboardBody")
    metrics = {row[1] for widget in body["widgets"] for row in widget["properties"]["metrics"]}
    assert metrics == {
        "RequestCount",
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
        "TargetResponseTime",
        "EnvironmentHealth",
        "CPUUtilization",
        "FreeStorageSpace",
        "FreeableMemory",
        "DatabaseConnections",
    }
    assert all(w["properties"]["region"] == "us-east-1" for w in body["widgets"])


@pytest.mark.parametrize(
    ("instance_class", "gib"),
    [("db.t4g.micro", 1), ("db.t4g.medium", 4), ("db.m7g.large", 8), ("db.r7g.2xlarge", 64)],
)
def test_instance_memory_follows_the_class(instance_class: str, gib: int) -> None:
    assert instance_memory_bytes(instance_class) == gib * GIB


def test_max_connections_follow_rds_defaults() -> None:
    # RDS: postgres LEAST(DBInstanceClassMemory/9531392, 5000); mysql DBInstanceClassMemory/12582880
    assert default_max_connections("postgres", 8 * GIB) == 901
    assert default_max_connections("postgres", 64 * GIB) == 5000
    assert default_max_connections("mysql", 8 * GIB) == 682
    assert default_max_connections("mysql", None) is None
    assert instance_memory_bytes("db.q9.large") is None


def test_the_stacks_alarms_follow_data_protection_unless_set() -> None:
    prod, dev = run("prod"), run("dev")
    assert prod.of_type(ALARM) and not dev.of_type(ALARM)
    switched = run("dev", {"webstack:alarms": {"enabled": True, "emails": ["dev@example.com"]}})
    assert switched.outputs["alarmTopicArn"] == switched.one("aws:sns/topic:Topic").outputs["arn"]
    # dev's single instance has no load balancer: no alarms on its metrics, the rest stay.
    assert set(by_label(switched)) == set(by_label(prod)) - {"5xx-rate", "response-time"}
    watched = by_label(prod)
    env = prod.one("aws:elasticbeanstalk/environment:Environment")
    assert watched["environment-health"]["dimensions"] == {"EnvironmentName": env.outputs["name"]}
    instance = prod.one("aws:rds/instance:Instance")
    assert watched["database-cpu"]["dimensions"] == {
        "DBInstanceIdentifier": instance.outputs["identifier"]
    }
    assert (
        json.dumps(watched["5xx-rate"]).count(
            env.outputs["loadBalancers"][0].split("loadbalancer/")[1]
        )
        == 3
    )
