"""`webstack:storage:Storage`: a private, encrypted, TLS-only S3 bucket with intent-level grants."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.base import Component
from components.fields import Check, Flag, Text, Texts, Whole, setting
from components.iam import (
    KMS_KEY_ARN,
    Statement,
    account_id,
    policy_document,
    regional_arn_problem,
)
from components.naming import physical_prefix

ABORT_INCOMPLETE_UPLOADS_DAYS = 7
ACCESS_LOG_EXPIRY_DAYS = 90
ACCESS_LOG_PREFIX = "s3-access/"
MINIMUM_TLS_VERSION = "1.2"
S3_LOGGING_SERVICE = "logging.s3.amazonaws.com"
# Load-balancer access logs: the log-delivery service principal, which AWS recommends in every
# region (and the only one newer regions accept), writing under <prefix>/AWSLogs/<account>/
# ("Enable access logs for your Application Load Balancer", ELB user guide).
LOAD_BALANCER_LOG_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
LOAD_BALANCER_LOG_PREFIX = "elb"
CORS_METHODS = ("GET", "HEAD", "PUT", "POST")
CORS_MAX_AGE_SECONDS = 3000
MAX_BUCKET_PREFIX = 37

# Least privilege for the app: object reads and writes, never `s3:*`, never bucket configuration,
# and no DeleteObjectVersion, so versioning stays a safety net the app cannot erase.
READ_OBJECT_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging")
READ_BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")
WRITE_OBJECT_ACTIONS = (
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
WRITE_BUCKET_ACTIONS = ("s3:ListBucketMultipartUploads",)
KMS_READ_ACTIONS = ("kms:Decrypt",)
KMS_WRITE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def _bucket_prefix(label: str) -> str:
    """`<project>-<stack>-<label>-`, within the 37 characters S3 allows for a bucket prefix."""
    return f"{physical_prefix()}-{label}"[: MAX_BUCKET_PREFIX - 1].rstrip("-") + "-"


def tls_only_statements(bucket_arn: pulumi.Output[str]) -> list[Statement]:
    """Deny any request over plain HTTP or TLS older than 1.2, whoever makes it."""
    resources = [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": MINIMUM_TLS_VERSION}},
        },
    ]


@dataclass(frozen=True)
class StorageSettings:
    """`webstack:storage`: the app's private, encrypted S3 bucket."""

    versioning: bool = setting(True, Flag(), "keep every version of every object")
    force_destroy: bool = setting(
        False, Flag(), "let `pulumi destroy` delete a bucket that still holds objects"
    )
    noncurrent_version_expiration_days: int = setting(
        90, Whole(1, 36500), "days before old versions are deleted"
    )
    infrequent_access_after_days: int | None = setting(
        None,
        # S3 moves objects to STANDARD_IA no sooner than 30 days after creation.
        Whole(30, 36500),
        "move objects to STANDARD_IA after that many days",
        shown_default="(off)",
    )
    access_logs: bool = setting(
        False, Flag(), "S3 server access logs to a separate private log bucket (90-day expiry)"
    )
    cors_allowed_origins: tuple[str, ...] = setting(
        (),
        Texts(
            Text(
                r"\*|https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?",
                "origins such as https://app.example.com or *",
            )
        ),
        "origins allowed to GET/HEAD/PUT/POST from a browser",
    )
    kms_key_arn: str | None = setting(
        None,
        Text(KMS_KEY_ARN, "a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID)"),
        "a customer KMS key for SSE-KMS; without it: SSE-KMS with the AWS managed key `aws/s3`; "
        "a bucket key either way",
    )

    def checked(self, check: Check) -> StorageSettings:
        why = self.kms_key_arn and regional_arn_problem(self.kms_key_arn, check.region)
        if why:
            check.report("kms_key_arn", f"{self.kms_key_arn!r} {why}")
        if not self.versioning and check.given("noncurrent_version_expiration_days"):
            check.report(
                "noncurrent_version_expiration_days",
                "has no effect with versioning false; remove it or turn versioning on",
            )
        return self


@dataclass(frozen=True)
class AccessLogDestination:
    """A log bucket of this stack that S3 server access logs go to, each bucket under its own
    prefix (`s3-access/<bucket's component name>/`)."""

    bucket: pulumi.Input[str]
    prefix: str = ACCESS_LOG_PREFIX
    # The log bucket's policy: a writer must wait for it, as S3 and ELB check that they may
    # write when logging is turned on (the race aws-cdk#1633 fixed).
    ready: tuple[pulumi.Resource, ...] = ()


@dataclass(frozen=True)
class StorageArgs:
    """What `Storage` is built from: its settings, and whether its data is protected."""

    settings: StorageSettings = field(default_factory=StorageSettings)
    # Pulumi `protect` plus retain-on-delete on the bucket (and its access-log bucket).
    protect: bool = True
    # Another Storage's log bucket for this bucket's access logs (with `accessLogs` off here).
    log_to: AccessLogDestination | None = None
    # Make the log bucket take the load balancer's access logs too (under `elb/`).
    load_balancer_logs: bool = False


class Storage(Component):
    """The app's bucket: private (all four public-access blocks, no ACLs), encrypted, TLS-only."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    bucket_regional_domain_name: pulumi.Output[str]
    kms_key_arn: str | None
    # With `accessLogs` on: the log bucket, which other buckets of the stack may log to as well.
    access_logs: AccessLogDestination | None = None
    # With `load_balancer_logs`: where the load balancer writes (the same log bucket).
    load_balancer_logs: AccessLogDestination | None = None

    def __init__(
        self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webstack:storage:Storage", name, opts)
        settings = args.settings
        self.kms_key_arn = settings.kms_key_arn
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket_prefix=_bucket_prefix(name),
            force_destroy=settings.force_destroy,
            opts=self.child(protect=args.protect),
        )
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.bucket_regional_domain_name = bucket.bucket_regional_domain_name
        public_access_block = self._lock_down(f"{name}-bucket", bucket)
        self._encryption(bucket, settings.kms_key_arn)
        self._versions(bucket, settings)
        if settings.cors_allowed_origins:
            self._cors(bucket, settings.cors_allowed_origins)
        aws.s3.BucketPolicy(
            f"{name}-bucket-policy",
            bucket=bucket.id,
            policy=policy_document(tls_only_statements(bucket.arn)),
            # S3 answers 409 when a policy lands while the public access block is being written.
            opts=self.child(depends_on=[public_access_block]),
        )
        if settings.access_logs or args.load_balancer_logs:
            logs = self._log_bucket(bucket, settings.force_destroy, args)
            self.access_logs = logs if settings.access_logs else None
            if args.load_balancer_logs:
                self.load_balancer_logs = AccessLogDestination(
                    logs.bucket, LOAD_BALANCER_LOG_PREFIX, logs.ready
                )
        destination = self.access_logs or args.log_to
        if destination is not None:
            aws.s3.BucketLogging(
                f"{name}-bucket-logging",
                bucket=bucket.id,
                target_bucket=destination.bucket,
                target_prefix=f"{destination.prefix}{name}/",
                opts=self.child(depends_on=destination.ready),
            )
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "bucket_regional_domain_name": self.bucket_regional_domain_name,
            }
        )

    def _encryption(self, bucket: aws.s3.Bucket, kms_key_arn: str | None) -> None:
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{self.prefix}-bucket-encryption",
            bucket=bucket.id,
            rules=[
                {
                    # Without a customer key: SSE-KMS with the AWS managed key (aws/s3), so every
                    # use of the key is in CloudTrail; the bucket key keeps KMS costs low.
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=self.child(),
        )

    def _versions(self, bucket: aws.s3.Bucket, settings: StorageSettings) -> None:
        """Versioning, and the lifecycle that tidies old versions and abandoned uploads."""
        versioning = aws.s3.BucketVersioning(
            f"{self.prefix}-bucket-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled" if settings.versioning else "Suspended"},
            opts=self.child(),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{self.prefix}-bucket-lifecycle",
            bucket=bucket.id,
            rules=self._lifecycle_rules(settings),
            opts=self.child(depends_on=[versioning]),
        )

    def _cors(self, bucket: aws.s3.Bucket, origins: tuple[str, ...]) -> None:
        aws.s3.BucketCorsConfiguration(
            f"{self.prefix}-bucket-cors",
            bucket=bucket.id,
            cors_rules=[
                {
                    "allowed_origins": list(origins),
                    "allowed_methods": list(CORS_METHODS),
                    "allowed_headers": ["*"],
                    "expose_headers": ["ETag"],
                    "max_age_seconds": CORS_MAX_AGE_SECONDS,
                }
            ],
            opts=self.child(),
        )

    def _lock_down(self, name: str, bucket: aws.s3.Bucket) -> aws.s3.BucketPublicAccessBlock:
        """No ACLs (the owner owns every object) and no way to make anything public."""
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=self.child(),
        )
        return aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self.child(),
        )

    @staticmethod
    def _lifecycle_rules(
        settings: StorageSettings,
    ) -> list[aws.s3.BucketLifecycleConfigurationRuleArgsDict]:
        whole_bucket: aws.s3.BucketLifecycleConfigurationRuleFilterArgsDict = {"prefix": ""}
        rules: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = [
            {
                "id": "abort-incomplete-multipart-uploads",
                "status": "Enabled",
                "filter": whole_bucket,
                "abort_incomplete_multipart_upload": {
                    "days_after_initiation": ABORT_INCOMPLETE_UPLOADS_DAYS
                },
            }
        ]
        if settings.versioning:
            rules.append(
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": whole_bucket,
                    "noncurrent_version_expiration": {
                        "noncurrent_days": settings.noncurrent_version_expiration_days
                    },
                    # Remove delete markers once no version is left behind them.
                    "expiration": {"expired_object_delete_marker": True},
                }
            )
        if settings.infrequent_access_after_days is not None:
            rules.append(
                {
                    "id": "move-to-infrequent-access",
                    "status": "Enabled",
                    "filter": whole_bucket,
                    "transitions": [
                        {
                            "days": settings.infrequent_access_after_days,
                            "storage_class": "STANDARD_IA",
                        }
                    ],
                }
            )
        return rules

    def _log_bucket(
        self, bucket: aws.s3.Bucket, force_destroy: bool, args: StorageArgs
    ) -> AccessLogDestination:
        """A separate log bucket, as locked down as the data bucket, that S3 logging writes to.

        Access logs are audit data: they are protected like the bucket they describe."""
        name = f"{self.prefix}-logs"
        logs = aws.s3.Bucket(
            name,
            bucket_prefix=_bucket_prefix(name),
            force_destroy=force_destroy,
            opts=self.child(protect=args.protect),
        )
        public_access_block = self._lock_down(name, logs)
        # S3 server access logging delivers only to buckets encrypted with SSE-S3.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=logs.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=self.child(),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=logs.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": ACCESS_LOG_EXPIRY_DAYS},
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": ABORT_INCOMPLETE_UPLOADS_DAYS
                    },
                }
            ],
            opts=self.child(),
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=logs.id,
            policy=policy_document(
                [
                    *tls_only_statements(logs.arn),
                    self._log_delivery(logs, bucket),
                    *([self._load_balancer_delivery(logs)] if args.load_balancer_logs else []),
                ]
            ),
            opts=self.child(depends_on=[public_access_block]),
        )
        return AccessLogDestination(logs.id, ready=(policy,))

    def _log_delivery(self, logs: aws.s3.Bucket, source: aws.s3.Bucket) -> Statement:
        """S3's logging service may write under the log prefix, for this stack's buckets only:
        those of this account whose names start with the stack's `<project>-<stack>-`."""
        stack_buckets = source.arn.apply(
            lambda arn: f"{arn.split(':::')[0]}:::{physical_prefix()}-*"
        )
        return {
            "Sid": "AllowS3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": S3_LOGGING_SERVICE},
            "Action": "s3:PutObject",
            "Resource": pulumi.Output.concat(logs.arn, "/", ACCESS_LOG_PREFIX, "*"),
            "Condition": {
                "ArnLike": {"aws:SourceArn": stack_buckets},
                "StringEquals": {"aws:SourceAccount": account_id(self)},
            },
        }

    def _load_balancer_delivery(self, logs: aws.s3.Bucket) -> Statement:
        return {
            "Sid": "AllowLoadBalancerLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": LOAD_BALANCER_LOG_SERVICE},
            "Action": "s3:PutObject",
            "Resource": pulumi.Output.concat(
                logs.arn, f"/{LOAD_BALANCER_LOG_PREFIX}/AWSLogs/", account_id(self), "/*"
            ),
        }

    def grant_read(self, role: aws.iam.Role) -> aws.iam.RolePolicy:
        """Let `role` list the bucket and read its objects (and decrypt with the customer key)."""
        return self._grant(role, "read", READ_OBJECT_ACTIONS, READ_BUCKET_ACTIONS, KMS_READ_ACTIONS)

    def grant_read_write(self, role: aws.iam.Role) -> aws.iam.RolePolicy:
        """Let `role` read, write and delete objects (not versions) in the bucket."""
        return self._grant(
            role,
            "read-write",
            READ_OBJECT_ACTIONS + WRITE_OBJECT_ACTIONS,
            READ_BUCKET_ACTIONS + WRITE_BUCKET_ACTIONS,
            KMS_WRITE_ACTIONS,
        )

    def grant_delete(self, role: aws.iam.Role) -> aws.iam.RolePolicy:
        """Let `role` delete objects (not versions): Beanstalk's version lifecycle, for one."""
        return self._grant(role, "delete", ("s3:DeleteObject",), (), ())

    def _grant(
        self,
        role: aws.iam.Role,
        access: str,
        object_actions: tuple[str, ...],
        bucket_actions: tuple[str, ...],
        kms_actions: tuple[str, ...],
    ) -> aws.iam.RolePolicy:
        statements: list[Statement] = [
            {
                "Sid": "BucketObjects",
                "Effect": "Allow",
                "Action": list(object_actions),
                "Resource": pulumi.Output.concat(self.bucket_arn, "/*"),
            }
        ]
        if bucket_actions:
            statements.append(
                {
                    "Sid": "Bucket",
                    "Effect": "Allow",
                    "Action": list(bucket_actions),
                    "Resource": self.bucket_arn,
                }
            )
        if self.kms_key_arn and kms_actions:
            statements.append(
                {
                    "Sid": "BucketKey",
                    "Effect": "Allow",
                    "Action": list(kms_actions),
                    "Resource": self.kms_key_arn,
                }
            )
        return aws.iam.RolePolicy(
            f"{self.prefix}-{role.pulumi_resource_name}-{access}",
            role=role.id,
            policy=policy_document(statements),
            opts=self.child(),
        )
