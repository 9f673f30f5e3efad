"""`webstack:hosting:JobQueue`: the worker tier's SQS queue and its dead-letter queue.

Both encrypted (SSE-SQS), both refusing requests without TLS; a job delivered `maxReceiveCount`
times without success moves to the dead-letter queue, which keeps it for someone to look at."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.base import Component
from components.hosting.settings import WorkerSettings
from components.iam import Statement, policy_document

SECONDS_PER_DAY = 86_400
# sqsd polls long (20 s, SQS's longest wait): an idle queue costs few requests.
RECEIVE_WAIT_SECONDS = 20
SEND_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes")
# What sqsd does with the queue: take, extend, delete, and (periodic tasks, cron.yaml) send.
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:SendMessage",
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
)


def tls_only(queue: aws.sqs.Queue) -> pulumi.Output[str]:
    """The queue's policy: deny every request that does not come over TLS."""
    return policy_document(
        [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue.arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )


class JobQueue(Component):
    """The queue the web tier sends jobs to and the worker takes them from, and its
    dead-letter queue."""

    url: pulumi.Output[str]
    arn: pulumi.Output[str]
    queue_name: pulumi.Output[str]
    dead_letter_url: pulumi.Output[str]
    dead_letter_arn: pulumi.Output[str]
    dead_letter_name: pulumi.Output[str]

    def __init__(
        self, name: str, settings: WorkerSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webstack:hosting:JobQueue", name, opts)
        dead_letter = aws.sqs.Queue(
            f"{name}-dead-letter",
            message_retention_seconds=settings.dead_letter_retention_days * SECONDS_PER_DAY,
            sqs_managed_sse_enabled=True,
            opts=self.child(),
        )
        queue = aws.sqs.Queue(
            f"{name}-queue",
            visibility_timeout_seconds=settings.visibility_timeout_seconds,
            message_retention_seconds=settings.retention_days * SECONDS_PER_DAY,
            receive_wait_time_seconds=RECEIVE_WAIT_SECONDS,
            sqs_managed_sse_enabled=True,
            redrive_policy=dead_letter.arn.apply(
                lambda arn: json.dumps(
                    {"deadLetterTargetArn": arn, "maxReceiveCount": settings.max_receive_count}
                )
            ),
            opts=self.child(),
        )
        for label, each in (("queue", queue), ("dead-letter", dead_letter)):
            aws.sqs.QueuePolicy(
                f"{name}-{label}-policy",
                queue_url=each.url,
                policy=tls_only(each),
                opts=self.child(),
            )
        self.url, self.arn, self.queue_name = queue.url, queue.arn, queue.name
        self.dead_letter_url = dead_letter.url
        self.dead_letter_arn = dead_letter.arn
        self.dead_letter_name = dead_letter.name
        self.register_outputs(
            {
                "url": self.url,
                "arn": self.arn,
                "dead_letter_url": self.dead_letter_url,
                "dead_letter_arn": self.dead_letter_arn,
            }
        )

    def grant_send(self, role: aws.iam.Role) -> aws.iam.RolePolicy:
        """Let `role` (the web tier's) put jobs on the queue, and nothing else of SQS."""
        return self._grant(role, "send", SEND_ACTIONS)

    def grant_consume(self, role: aws.iam.Role) -> aws.iam.RolePolicy:
        """Let `role` (the worker's) do what sqsd does with this queue, and no other."""
        return self._grant(role, "consume", CONSUME_ACTIONS)

    def _grant(
        self, role: aws.iam.Role, access: str, actions: tuple[str, ...]
    ) -> aws.iam.RolePolicy:
        statement: Statement = {
            "Sid": "JobQueue",
            "Effect": "Allow",
            "Action": list(actions),
            "Resource": self.arn,
        }
        return aws.iam.RolePolicy(
            f"{self.prefix}-{role.pulumi_resource_name}-{access}",
            role=role.id,
            policy=policy_document([statement]),
            opts=self.child(),
        )
