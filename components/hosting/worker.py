"""`webstack:hosting:Worker`: a Worker-tier Beanstalk environment fed by the `JobQueue`.

Its daemon, sqsd, takes each job off the queue and POSTs it to the app on the instance (a 200
deletes it; anything else, or no answer within the visibility timeout, sends it back for another
try, up to `maxReceiveCount`, then to the dead-letter queue). No load balancer and no inbound
port; the same instances, IMDSv2, logs and managed updates as the web tier, in its application
and on its platform, with a role of its own: its queue, the periodic tasks' leader election
table, and what other components grant it (the bucket, the database secret)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import WatchedWorker
from components.base import Component
from components.hosting.environment import READY_TIMEOUT, application_version
from components.hosting.options import (
    Setting,
    capacity_options,
    csv,
    deployment_options,
    health_and_log_options,
    instance_options,
    managed_update_options,
    spot_options,
    to_settings,
)
from components.hosting.queue import SECONDS_PER_DAY, JobQueue
from components.hosting.settings import (
    AppConnections,
    AppSettings,
    DeploymentPolicy,
    WorkerSettings,
)
from components.hosting.web import AppHosting
from components.iam import account_id, policy_document
from components.instances import SSM_MANAGED_INSTANCE_POLICY, instance_role, outbound_anywhere
from components.naming import physical_prefix, worker_environment_name

# The web tier's managed policy covers what every Beanstalk instance does (its logs, health,
# Beanstalk's buckets); the worker tier's own (AWSElasticBeanstalkWorkerTier) adds SQS on every
# queue in the account, so instead its queue actions are granted on its own queue alone
# (JobQueue.grant_consume) and the rest of that policy is below.
INSTANCE_ROLE_POLICIES = ("AWSElasticBeanstalkWebTier", SSM_MANAGED_INSTANCE_POLICY)
# Periodic tasks (cron.yaml): the workers elect a leader in a DynamoDB table Beanstalk creates in
# the environment's stack; the statement AWSElasticBeanstalkWorkerTier has for it.
LEADER_TABLE = "table/*-stack-AWSEBWorkerCronLeaderRegistry*"
LEADER_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)
JOB_MIME_TYPE = "application/json"
# How long a job that failed (an answer other than 200) waits before its next try; sqsd's own
# default, 2 s, would spend every retry within seconds of a passing outage.
RETRY_DELAY_SECONDS = 30
# Health-based rolling: no load balancer to shift traffic, and a job in flight is retried.
WORKER_DEPLOYMENT_POLICY: DeploymentPolicy = "Rolling"


@dataclass(frozen=True)
class WorkerArgs:
    """What the worker is built from: its settings, the web tier it shares an application and a
    platform with, its queue, and where it runs."""

    settings: WorkerSettings
    app: AppHosting
    app_settings: AppSettings
    queue: JobQueue
    vpc_id: pulumi.Input[str]
    # The app's subnets: private behind NAT, or public (with public addresses) without.
    subnet_ids: pulumi.Input[list[str]]
    instances_in_public_subnets: bool
    connections: AppConnections
    egress: Sequence[pulumi.Resource] = ()


class Worker(Component):
    """The worker environment, its instances' role and security group."""

    environment_name: pulumi.Output[str]
    # Other components grant the worker access through these (as for the web tier).
    instance_role: aws.iam.Role
    security_group: aws.ec2.SecurityGroup

    def __init__(
        self, name: str, args: WorkerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webstack:hosting:Worker", name, opts)
        self.instance_role, profile = instance_role(self, INSTANCE_ROLE_POLICIES)
        args.queue.grant_consume(self.instance_role)
        self._leader_election_and_metrics()
        args.app.versions.grant_read(self.instance_role)
        self.security_group = self._security_group(args.vpc_id)
        env = aws.elasticbeanstalk.Environment(
            f"{name}-environment",
            name=worker_environment_name(physical_prefix()),
            application=args.app.application.name,
            solution_stack_name=args.app.platform,
            tier="Worker",
            version=self._application_version(args).name,
            settings=to_settings(self._options(args, profile)),
            wait_for_ready_timeout=READY_TIMEOUT,
            # A fixed name: a replacement must delete the old one first.
            opts=self.child(depends_on=list(args.egress), delete_before_replace=True),
        )
        self.environment_name = env.name
        self._queue, self._settings = args.queue, args.settings
        self.register_outputs({"environment_name": self.environment_name})

    def watched(self) -> WatchedWorker:
        """What the alarms measure: the environment, its queues, and how long a job can be
        retried (a visibility timeout for each delivery before the dead-letter queue)."""
        return WatchedWorker(
            environment_name=self.environment_name,
            queue_name=self._queue.queue_name,
            dead_letter_name=self._queue.dead_letter_name,
            longest_retried_seconds=self._settings.visibility_timeout_seconds
            * self._settings.max_receive_count,
        )

    def _application_version(self, args: WorkerArgs) -> aws.elasticbeanstalk.ApplicationVersion:
        """The app's own version when the worker runs the app's code, else one of its own."""
        bundle = args.settings.source_bundle
        if bundle is None or bundle == args.app_settings.source_bundle:
            return args.app.version
        return application_version(self, args.app.versions, args.app.application, bundle)

    def _options(self, args: WorkerArgs, profile: aws.iam.InstanceProfile) -> list[Setting]:
        settings, app = args.settings, args.app_settings
        vpc = "aws:ec2:vpc"
        variables = {**app.environment_variables, **args.connections.variables()}
        return [
            (vpc, "VPCId", args.vpc_id),
            (vpc, "Subnets", csv(args.subnet_ids)),
            (vpc, "AssociatePublicIpAddress", str(args.instances_in_public_subnets).lower()),
            *instance_options(profile.name, self.security_group.id, settings.instance_types),
            *spot_options(settings.spot),
            *capacity_options(settings.min_instances, settings.max_instances),
            *deployment_options(WORKER_DEPLOYMENT_POLICY),
            *health_and_log_options(
                "LoadBalanced", args.app.service_role.arn, app.log_retention_days
            ),
            *managed_update_options(app.managed_updates, args.app.service_role.arn),
            *_sqsd_options(settings, args.queue.url),
            *(
                ("aws:elasticbeanstalk:application:environment", key, value)
                for key, value in variables.items()
            ),
        ]

    def _leader_election_and_metrics(self) -> None:
        """The rest of the worker tier's managed policy: the periodic tasks' leader table (in
        this account and region) and sqsd's own metrics."""
        parent = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=parent).partition
        region = aws.get_region_output(opts=parent).region
        table = pulumi.Output.concat(
            "arn:", partition, ":dynamodb:", region, ":", account_id(self), ":", LEADER_TABLE
        )
        aws.iam.RolePolicy(
            f"{self.prefix}-periodic-tasks",
            role=self.instance_role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "PeriodicTasksLeader",
                        "Effect": "Allow",
                        "Action": list(LEADER_ACTIONS),
                        "Resource": table,
                    },
                    {
                        # PutMetricData has no resource type: only "*".
                        "Sid": "DaemonMetrics",
                        "Effect": "Allow",
                        "Action": "cloudwatch:PutMetricData",
                        "Resource": "*",
                    },
                ]
            ),
            opts=self.child(),
        )

    def _security_group(self, vpc_id: pulumi.Input[str]) -> aws.ec2.SecurityGroup:
        """No way in (sqsd calls the app on the instance itself); out to AWS, the database and
        whatever the jobs call."""
        group = aws.ec2.SecurityGroup(
            f"{self.prefix}-instance-sg",
            vpc_id=vpc_id,
            description="Worker instances: nothing in, out to AWS APIs and the database",
            opts=self.child(),
        )
        outbound_anywhere(
            self,
            f"{self.prefix}-instances-out",
            group,
            "outbound to AWS APIs, package mirrors and the database",
        )
        return group


def _sqsd_options(settings: WorkerSettings, queue_url: pulumi.Input[str]) -> list[Setting]:
    """The daemon's queue, path and timeouts, consistent with the queue's own (EB developer
    guide, "aws:elasticbeanstalk:sqsd"): it waits for the app a second less than a job stays
    invisible, drops a job when the queue would, and retries a failed one after a pause. With a
    queue of its own, the queue's redrive policy moves a job to the dead-letter queue; MaxRetries
    says the same number."""
    sqsd = "aws:elasticbeanstalk:sqsd"
    return [
        (sqsd, "WorkerQueueURL", queue_url),
        (sqsd, "HttpPath", settings.http_path),
        (sqsd, "MimeType", JOB_MIME_TYPE),
        # More at once than the app serves would wait in nginx with their timeouts running.
        (sqsd, "HttpConnections", str(settings.http_connections)),
        (sqsd, "VisibilityTimeout", str(settings.visibility_timeout_seconds)),
        (sqsd, "InactivityTimeout", str(settings.visibility_timeout_seconds - 1)),
        (sqsd, "ErrorVisibilityTimeout", str(RETRY_DELAY_SECONDS)),
        (sqsd, "MaxRetries", str(settings.max_receive_count)),
        (sqsd, "RetentionPeriod", str(settings.retention_days * SECONDS_PER_DAY)),
    ]
