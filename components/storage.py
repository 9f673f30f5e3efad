"""`webstack:storage:Storage`: a private, encrypted, TLS-only S3 bucket with intent-level grants."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components.iam import Statement, account_id, policy_document
from components.naming import physical_prefix
from components.settings import StorageSettings

ABORT_INCOMPLETE_UPLOADS_DAYS = 7
ACCESS_LOG_EXPIRY_DAYS = 90
ACCESS_LOG_PREFIX = "s3-access/"
MINIMUM_TLS_VERSION = "1.2"
S3_LOGGING_SERVICE = "logging.s3.amazonaws.com"
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


class Storage(pulumi.ComponentResource):
    """The app's bucket: private (all four public-access blocks, no ACLs), encrypted, TLS-only."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    bucket_regional_domain_name: pulumi.Output[str]
    kms_key_arn: str | None

    def __init__(
        self,
        name: str,
        settings: StorageSettings,
        protect: bool = True,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("webstack:storage:Storage", name, None, opts)
        self._prefix = name
        self.kms_key_arn = settings.kms_key_arn
        # Deleting the stack must not delete the data: protect it and retain it if it is removed.
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket_prefix=_bucket_prefix(name),
            force_destroy=settings.force_destroy,
            opts=pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect),
        )
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.bucket_regional_domain_name = bucket.bucket_regional_domain_name
        public_access_block = self._lock_down(f"{name}-bucket", bucket)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-bucket-encryption",
            bucket=bucket.id,
            rules=[
                {
                    # Without a customer key: SSE-KMS with the AWS managed key (aws/s3), so every
                    # use of the key is in CloudTrail; the bucket key keeps KMS costs low.
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": settings.kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=self._child(),
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-bucket-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled" if settings.versioning else "Suspended"},
            opts=self._child(),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-bucket-lifecycle",
            bucket=bucket.id,
            rules=self._lifecycle_rules(settings),
            opts=self._child(depends_on=[versioning]),
        )
        if settings.cors_allowed_origins:
            aws.s3.BucketCorsConfiguration(
                f"{name}-bucket-cors",
                bucket=bucket.id,
                cors_rules=[
                    {
                        "allowed_origins": list(settings.cors_allowed_origins),
                        "allowed_methods": list(CORS_METHODS),
                        "allowed_headers": ["*"],
                        "expose_headers": ["ETag"],
                        "max_age_seconds": CORS_MAX_AGE_SECONDS,
                    }
                ],
                opts=self._child(),
            )
        aws.s3.BucketPolicy(
            f"{name}-bucket-policy",
            bucket=bucket.id,
            policy=policy_document(tls_only_statements(bucket.arn)),
            # S3 answers 409 when a policy lands while the public access block is being written.
            opts=self._child(depends_on=[public_access_block]),
        )
        if settings.access_logs:
            self._access_logs(bucket, settings.force_destroy, protect)
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "bucket_regional_domain_name": self.bucket_regional_domain_name,
            }
        )

    def _child(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on))

    def _lock_down(self, name: str, bucket: aws.s3.Bucket) -> aws.s3.BucketPublicAccessBlock:
        """No ACLs (the owner owns every object) and no way to make anything public."""
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=self._child(),
        )
        return aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._child(),
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

    def _access_logs(self, bucket: aws.s3.Bucket, force_destroy: bool, protect: bool) -> None:
        """A separate log bucket, as locked down as the data bucket, that S3 logging writes to.

        Access logs are audit data: they are protected like the bucket they describe."""
        name = f"{self._prefix}-logs"
        logs = aws.s3.Bucket(
            name,
            bucket_prefix=_bucket_prefix(name),
            force_destroy=force_destroy,
            opts=pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect),
        )
        public_access_block = self._lock_down(name, logs)
        # S3 server access logging delivers only to buckets encrypted with SSE-S3.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=logs.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=self._child(),
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
            opts=self._child(),
        )
        delivery: Statement = {
            "Sid": "AllowS3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": S3_LOGGING_SERVICE},
            "Action": "s3:PutObject",
            "Resource": pulumi.Output.concat(logs.arn, "/", ACCESS_LOG_PREFIX, "*"),
            "Condition": {
                "ArnLike": {"aws:SourceArn": bucket.arn},
                "StringEquals": {"aws:SourceAccount": account_id(self)},
            },
        }
        policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=logs.id,
            policy=policy_document([*tls_only_statements(logs.arn), delivery]),
            opts=self._child(depends_on=[public_access_block]),
        )
        aws.s3.BucketLogging(
            f"{self._prefix}-bucket-logging",
            bucket=bucket.id,
            target_bucket=logs.id,
            target_prefix=ACCESS_LOG_PREFIX,
            opts=self._child(depends_on=[policy]),
        )

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
            },
            {
                "Sid": "Bucket",
                "Effect": "Allow",
                "Action": list(bucket_actions),
                "Resource": self.bucket_arn,
            },
        ]
        if self.kms_key_arn:
            statements.append(
                {
                    "Sid": "BucketKey",
                    "Effect": "Allow",
                    "Action": list(kms_actions),
                    "Resource": self.kms_key_arn,
                }
            )
        return aws.iam.RolePolicy(
            f"{self._prefix}-{role.pulumi_resource_name}-{access}",
            role=role.id,
            policy=policy_document(statements),
            opts=pulumi.ResourceOptions(parent=self),
        )
