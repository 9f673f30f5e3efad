"""`webstack:monitoring:Alarms`: alarms that reach a person, and a dashboard of the same metrics.

An SNS topic encrypted with a customer managed KMS key (CloudWatch alarms cannot publish to a
topic encrypted with the AWS managed `aws/sns` key), e-mail subscriptions, one alarm per signal
that means the site or its database is in trouble, and a CloudWatch dashboard of those metrics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import Component
from components.fields import Check, Flag, Text, Texts, setting
from components.iam import account_administers, account_id, policy_document
from components.naming import physical_prefix

CLOUDWATCH_SERVICE = "cloudwatch.amazonaws.com"
KEY_DELETION_WINDOW_DAYS = 30
MINUTE = 60
GIB = 1024**3
MIB = 1024**2
# The thresholds, each with where it comes from. RDS ones follow CloudWatch's "Recommended
# alarms" for RDS; the others are webstack's: a site failing 5 % of requests, answering slower
# than 2 s at the 95th percentile, or degraded for five minutes needs a person.
ERROR_RATE_PERCENT = 5
RESPONSE_TIME_P95_SECONDS = 2
ENVIRONMENT_DEGRADED = 20  # EnvironmentHealth: 0 OK … 15 Warning, 20 Degraded, 25 Severe
DATABASE_CPU_PERCENT = 90
FREE_STORAGE_FRACTION = 0.10  # of the allocated storage
FREEABLE_MEMORY_FRACTION = 0.25  # of the class's memory
FREEABLE_MEMORY_UNKNOWN_CLASS_BYTES = 256 * MIB
CONNECTIONS_FRACTION = 0.90  # of max_connections
# A job older than its retries can last (each a visibility timeout) plus this is waiting for a
# worker: the workers are not keeping up, or not taking jobs at all.
QUEUE_BACKLOG_MARGIN_SECONDS = 10 * MINUTE

_EMAIL = Text(r"[^@\s]+@[^@\s]+\.[^@\s]+", "e-mail addresses such as ops@example.com")


@dataclass(frozen=True)
class AlarmsSettings:
    """`webstack:alarms`: who hears about trouble."""

    enabled: bool | None = setting(
        None,
        Flag(),
        "an encrypted SNS topic, alarms on the app and the database, and a dashboard",
        shown_default="`webstack:protectData`",
    )
    emails: tuple[str, ...] = setting(
        (), Texts(_EMAIL, max_items=20), "addresses subscribed to the alarms (each confirms)"
    )

    def checked(self, check: Check) -> AlarmsSettings:
        if self.emails and self.enabled is False:
            check.report("emails", "has no effect with enabled false; remove it or turn alarms on")
        return self


@dataclass(frozen=True)
class WatchedDatabase:
    """What the database alarms measure against."""

    identifier: pulumi.Input[str]
    allocated_storage_gib: int
    memory_bytes: int | None  # of the instance class, when known
    max_connections: int | None  # the engine's default for the class, or the stack's own


@dataclass(frozen=True)
class WatchedWorker:
    """What the worker tier's alarms measure: its environment and its queues."""

    environment_name: pulumi.Input[str]
    queue_name: pulumi.Input[str]
    dead_letter_name: pulumi.Input[str]
    # The longest a job can be on the queue while it is retried: a visibility timeout for each
    # delivery before it moves to the dead-letter queue.
    longest_retried_seconds: int


@dataclass(frozen=True)
class AlarmsArgs:
    """What `Alarms` watches: the environment, its load balancer, the database."""

    environment_name: pulumi.Input[str]
    database: WatchedDatabase
    # The environment's application load balancer (its ARN), when it has one.
    load_balancer_arn: pulumi.Input[str] | None = None
    settings: AlarmsSettings = field(default_factory=AlarmsSettings)
    # The worker tier, when the stack has one.
    worker: WatchedWorker | None = None


Metric = dict[str, Any]
Widget = tuple[str, list[Any]]  # a dashboard graph: its title and its metric rows
ALB = "AWS/ApplicationELB"
BEANSTALK = "AWS/ElasticBeanstalk"
RDS = "AWS/RDS"
SQS = "AWS/SQS"
# Both kinds of 5xx over all requests, as a percentage; quiet minutes have no 5xx data at all.
ERROR_RATE_EXPRESSION = "IF(requests > 0, 100 * (FILL(lb5xx, 0) + FILL(app5xx, 0)) / requests, 0)"


@dataclass(frozen=True)
class Signal:
    """One database alarm: a metric, its statistic, and when it means trouble."""

    label: str
    metric: str
    statistic: str
    comparison: str
    threshold: float
    minutes: int
    description: str


def database_signals(database: WatchedDatabase) -> list[Signal]:
    """The database alarms at CloudWatch's recommended thresholds for RDS."""
    memory = (
        database.memory_bytes * FREEABLE_MEMORY_FRACTION
        if database.memory_bytes
        else FREEABLE_MEMORY_UNKNOWN_CLASS_BYTES
    )
    signals = [
        Signal(
            "cpu",
            "CPUUtilization",
            "Average",
            "GreaterThanThreshold",
            DATABASE_CPU_PERCENT,
            5,
            f"Database CPU above {DATABASE_CPU_PERCENT} % for 5 minutes",
        ),
        Signal(
            "free-storage",
            "FreeStorageSpace",
            "Minimum",
            "LessThanThreshold",
            database.allocated_storage_gib * GIB * FREE_STORAGE_FRACTION,
            5,
            "Less than 10 % of the allocated storage free for 5 minutes",
        ),
        Signal(
            "freeable-memory",
            "FreeableMemory",
            "Average",
            "LessThanThreshold",
            memory,
            15,
            "Less than 25 % of the instance's memory free for 15 minutes",
        ),
    ]
    if database.max_connections:
        signals.append(
            Signal(
                "connections",
                "DatabaseConnections",
                "Average",
                "GreaterThanThreshold",
                database.max_connections * CONNECTIONS_FRACTION,
                5,
                "Connections above 90 % of max_connections for 5 minutes",
            )
        )
    return signals


class Alarms(Component):
    """The topic, its subscriptions, the alarms and the dashboard."""

    topic_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webstack:monitoring:Alarms", name, opts)
        topic = self._topic(args.settings.emails)
        self.topic_arn = topic.arn
        metrics: list[Widget] = []
        if args.load_balancer_arn is not None:
            metrics += self._app_alarms(args.environment_name, args.load_balancer_arn)
        metrics += self._environment_alarm(args.environment_name)
        metrics += self._database_alarms(args.database)
        if args.worker is not None:
            metrics += self._worker_alarms(args.worker)
        self._dashboard(metrics)
        self.register_outputs({"topic_arn": self.topic_arn})

    def _topic(self, emails: tuple[str, ...]) -> aws.sns.Topic:
        """An SNS topic under a key CloudWatch may use, which only this account's alarms publish to."""
        account = account_id(self)
        key = aws.kms.Key(
            f"{self.prefix}-key",
            description=f"{physical_prefix()}: encrypts the alarm topic",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=policy_document(
                [
                    account_administers(self),
                    {
                        "Sid": "CloudWatchAlarmsPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": CLOUDWATCH_SERVICE},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                    },
                ]
            ),
            opts=self.child(),
        )
        topic = aws.sns.Topic(f"{self.prefix}-topic", kms_master_key_id=key.arn, opts=self.child())
        aws.sns.TopicPolicy(
            f"{self.prefix}-topic-policy",
            arn=topic.arn,
            policy=policy_document(
                [
                    {
                        "Sid": "CloudWatchAlarmsPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": CLOUDWATCH_SERVICE},
                        "Action": "sns:Publish",
                        "Resource": topic.arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                    }
                ]
            ),
            opts=self.child(),
        )
        for index, email in enumerate(emails):
            aws.sns.TopicSubscription(
                f"{self.prefix}-email-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=self.child(),
            )
        return topic

    def _alarm(self, label: str, description: str, **arguments: Any) -> None:
        aws.cloudwatch.MetricAlarm(
            f"{self.prefix}-{label}",
            alarm_description=description,
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
            opts=self.child(),
            **arguments,
        )

    def _app_alarms(
        self, environment: pulumi.Input[str], load_balancer_arn: pulumi.Input[str]
    ) -> list[Widget]:
        """5xx rate (the load balancer's and the targets') and the targets' response time."""
        dimension = {
            "LoadBalancer": pulumi.Output.from_input(load_balancer_arn).apply(_lb_dimension)
        }

        def alb(metric: str, stat: str) -> Metric:
            return {
                "metric_name": metric,
                "namespace": ALB,
                "period": MINUTE,
                "stat": stat,
                "dimensions": dimension,
            }

        self._alarm(
            "5xx-rate",
            f"More than {ERROR_RATE_PERCENT} % of requests failed with 5xx for 5 minutes",
            comparison_operator="GreaterThanThreshold",
            threshold=ERROR_RATE_PERCENT,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            treat_missing_data="notBreaching",
            metric_queries=[
                {
                    "id": "rate",
                    "expression": ERROR_RATE_EXPRESSION,
                    "label": "5xx rate (%)",
                    "return_data": True,
                },
                {"id": "lb5xx", "metric": alb("HTTPCode_ELB_5XX_Count", "Sum")},
                {"id": "app5xx", "metric": alb("HTTPCode_Target_5XX_Count", "Sum")},
                {"id": "requests", "metric": alb("RequestCount", "Sum")},
            ],
        )
        self._alarm(
            "response-time",
            f"The 95th percentile response took over {RESPONSE_TIME_P95_SECONDS} s for 5 minutes",
            namespace=ALB,
            metric_name="TargetResponseTime",
            dimensions=dimension,
            extended_statistic="p95",
            period=MINUTE,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            comparison_operator="GreaterThanThreshold",
            threshold=RESPONSE_TIME_P95_SECONDS,
            treat_missing_data="notBreaching",
        )
        counts = ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count")
        return [
            ("Requests and 5xx", [_row(ALB, metric, dimension, "Sum") for metric in counts]),
            ("Response time p95 (s)", [_row(ALB, "TargetResponseTime", dimension, "p95")]),
        ]

    def _environment_alarm(
        self, environment: pulumi.Input[str], label: str = "environment", what: str = "environment"
    ) -> list[Widget]:
        """EnvironmentHealth, which the environment's health ConfigDocument publishes every
        minute. Missing data breaches: an environment that published every minute and stopped
        for five has lost its health reporting (or is gone), which an operator must hear of;
        the alarm is created after the environment is Ready and reporting."""
        dimension = {"EnvironmentName": environment}
        self._alarm(
            f"{label}-health",
            f"The Beanstalk {what} was Degraded or Severe for 5 minutes",
            namespace=BEANSTALK,
            metric_name="EnvironmentHealth",
            dimensions=dimension,
            statistic="Maximum",
            period=MINUTE,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=ENVIRONMENT_DEGRADED,
            treat_missing_data="breaching",
        )
        return [
            (
                f"{what.capitalize()} health (20 degraded, 25 severe)",
                [_row(BEANSTALK, "EnvironmentHealth", dimension, "Maximum")],
            )
        ]

    def _worker_alarms(self, worker: WatchedWorker) -> list[Widget]:
        """A job in the dead-letter queue (it failed every delivery: someone must look at it),
        a backlog (the oldest job older than its retries can last), the worker's health."""
        dead_letter = {"QueueName": worker.dead_letter_name}
        queue = {"QueueName": worker.queue_name}
        self._alarm(
            "dead-letter-jobs",
            "A job failed every delivery and is in the dead-letter queue",
            namespace=SQS,
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions=dead_letter,
            statistic="Maximum",
            period=MINUTE,
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            # SQS stops reporting on a queue idle for six hours: an empty one.
            treat_missing_data="notBreaching",
        )
        backlog = worker.longest_retried_seconds + QUEUE_BACKLOG_MARGIN_SECONDS
        self._alarm(
            "queue-backlog",
            f"The oldest job has waited over {backlog // MINUTE} minutes for 5 minutes: the "
            "workers are not keeping up",
            namespace=SQS,
            metric_name="ApproximateAgeOfOldestMessage",
            dimensions=queue,
            statistic="Maximum",
            period=MINUTE,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            comparison_operator="GreaterThanThreshold",
            threshold=backlog,
            treat_missing_data="notBreaching",
        )
        return [
            *self._environment_alarm(worker.environment_name, "worker", "worker environment"),
            (
                "Jobs waiting and failed",
                [
                    _row(SQS, "ApproximateNumberOfMessagesVisible", queue, "Maximum"),
                    _row(SQS, "ApproximateNumberOfMessagesVisible", dead_letter, "Maximum"),
                ],
            ),
            ("Oldest job (s)", [_row(SQS, "ApproximateAgeOfOldestMessage", queue, "Maximum")]),
        ]

    def _database_alarms(self, database: WatchedDatabase) -> list[Widget]:
        """CPU, free storage, freeable memory and connections, at CloudWatch's recommended
        thresholds."""
        dimension = {"DBInstanceIdentifier": database.identifier}
        widgets: list[Widget] = []
        for signal in database_signals(database):
            self._alarm(
                f"database-{signal.label}",
                signal.description,
                namespace=RDS,
                metric_name=signal.metric,
                dimensions=dimension,
                statistic=signal.statistic,
                period=MINUTE,
                evaluation_periods=signal.minutes,
                datapoints_to_alarm=signal.minutes,
                comparison_operator=signal.comparison,
                threshold=float(signal.threshold),
            )
            widgets.append((signal.metric, [_row(RDS, signal.metric, dimension, signal.statistic)]))
        return widgets

    def _dashboard(self, widgets: list[Widget]) -> None:
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        body = pulumi.Output.all(region, [pulumi.Output.from_input(m) for _, m in widgets]).apply(
            lambda resolved: _dashboard_body(resolved[0], [t for t, _ in widgets], resolved[1])
        )
        aws.cloudwatch.Dashboard(
            f"{self.prefix}-dashboard",
            dashboard_name=physical_prefix(),
            dashboard_body=body,
            # A fixed name: a replacement must delete the old one first.
            opts=self.child(delete_before_replace=True),
        )


def _row(namespace: str, metric: str, dimension: dict[str, Any], stat: str) -> list[Any]:
    """A dashboard metric row: namespace, metric, dimension name and value, then its options."""
    ((name, value),) = dimension.items()
    return [namespace, metric, name, value, {"stat": stat}]


def _lb_dimension(arn: str) -> str:
    """The LoadBalancer dimension: `app/<name>/<id>`, the end of the load balancer's ARN."""
    return arn.split(":loadbalancer/", 1)[-1]


def _dashboard_body(region: str, titles: list[str], metrics: list[Any]) -> str:
    widgets = [
        {
            "type": "metric",
            "width": 12,
            "height": 6,
            "x": 12 * (index % 2),
            "y": 6 * (index // 2),
            "properties": {
                "title": title,
                "region": region,
                "period": MINUTE,
                "view": "timeSeries",
                "metrics": rows,
            },
        }
        for index, (title, rows) in enumerate(zip(titles, metrics, strict=True))
    ]
    return json.dumps({"widgets": widgets})
