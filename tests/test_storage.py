"""Storage: the bucket's secure defaults, each option's exact effect, the policy, the grants."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.iam import service_trust_policy
from components.storage import Storage, StorageArgs, StorageSettings
from tests.support import component, settings_of, statements
from tools.engine.mock_engine import Registration, Run

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0b0a-0908-0706-050403020100"


def storage(protect: bool = True, **fields: Any) -> Run:
    """Storage alone in an empty stack, granting read-write to one role and read to another."""
    settings = settings_of(StorageSettings, "webstack:storage", fields)

    def build() -> None:
        bucket = Storage("storage", StorageArgs(settings, protect=protect))
        writer = aws.iam.Role(
            "writer", assume_role_policy=service_trust_policy("ec2.amazonaws.com")
        )
        reader = aws.iam.Role(
            "reader", assume_role_policy=service_trust_policy("ec2.amazonaws.com")
        )
        bucket.grant_read_write(writer)
        bucket.grant_read(reader)
        pulumi.export("bucketName", bucket.bucket_name)
        pulumi.export("bucketArn", bucket.bucket_arn)

    return component(("storage", protect, fields), build)


def children(r: Run) -> dict[str, dict[str, Any]]:
    component = r.one("webstack:storage:Storage", "storage")
    return {c.name: c.plain_inputs for c in r.children(component)}


def part(r: Run, suffix: str) -> Registration:
    return next(
        c
        for c in r.children(r.one("webstack:storage:Storage", "storage"))
        if c.name.endswith(suffix)
    )


def test_bucket_defaults_are_private_encrypted_versioned_and_tidy() -> None:
    r = storage()
    bucket = part(r, "-bucket")
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.inputs["bucketPrefix"] == "webstack-test-storage-"
    assert part(r, "-ownership").inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    block = part(r, "-public-access-block").inputs
    assert [
        block[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    ] == [True] * 4
    assert part(r, "-encryption").inputs["rules"] == [
        {
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"},
            "bucketKeyEnabled": True,
        }
    ]
    assert part(r, "-versioning").inputs["versioningConfiguration"] == {"status": "Enabled"}
    assert part(r, "-lifecycle").inputs["rules"] == [
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        },
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrentVersionExpiration": {"noncurrentDays": 90},
            "expiration": {"expiredObjectDeleteMarker": True},
        },
    ]
    names = set(children(r))
    assert not any("cors" in n or "logs" in n or "logging" in n for n in names)


def test_lifecycle_waits_for_versioning() -> None:
    r = storage()
    assert part(r, "-versioning").urn in part(r, "-lifecycle").dependencies


def test_policy_denies_plain_http_and_old_tls_and_waits_for_the_public_access_block() -> None:
    r = storage()
    bucket = part(r, "-bucket")
    policy = part(r, "-bucket-policy")
    arn = bucket.outputs["arn"]
    deny_http, deny_old_tls = statements(policy)
    assert deny_http == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert deny_old_tls["Effect"] == "Deny" and deny_old_tls["Principal"] == "*"
    assert deny_old_tls["Resource"] == [arn, f"{arn}/*"]
    assert deny_old_tls["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert part(r, "-public-access-block").urn in policy.dependencies
    assert len(r.of_type("aws:s3/bucketPolicy:BucketPolicy")) == 1


# option -> (changed resources, added resources), by name, against the defaults
OPTIONS: list[tuple[dict[str, Any], set[str], set[str]]] = [
    ({"versioning": False}, {"storage-bucket-versioning", "storage-bucket-lifecycle"}, set()),
    ({"forceDestroy": True}, {"storage-bucket"}, set()),
    ({"noncurrentVersionExpirationDays": 30}, {"storage-bucket-lifecycle"}, set()),
    ({"infrequentAccessAfterDays": 60}, {"storage-bucket-lifecycle"}, set()),
    (
        {"kmsKeyArn": KMS_KEY},
        {"storage-bucket-encryption", "storage-writer-read-write", "storage-reader-read"},
        set(),
    ),
    ({"corsAllowedOrigins": ["https://app.example.com"]}, set(), {"storage-bucket-cors"}),
    (
        {"accessLogs": True},
        set(),
        {
            "storage-logs",
            "storage-logs-ownership",
            "storage-logs-public-access-block",
            "storage-logs-encryption",
            "storage-logs-lifecycle",
            "storage-logs-policy",
            "storage-bucket-logging",
        },
    ),
]


@pytest.mark.parametrize(("option", "changed", "added"), OPTIONS)
def test_each_option_changes_exactly_what_it_should(
    option: dict[str, Any], changed: set[str], added: set[str]
) -> None:
    before = children(storage())
    after = children(storage(**option))
    assert set(after) - set(before) == added
    assert set(before) - set(after) == set()
    assert {n for n in before if before[n] != after[n]} == changed


def test_option_values_land_where_they_should() -> None:
    assert part(storage(versioning=False), "-versioning").inputs["versioningConfiguration"] == {
        "status": "Suspended"
    }
    assert [
        rule["id"] for rule in part(storage(versioning=False), "-lifecycle").inputs["rules"]
    ] == ["abort-incomplete-multipart-uploads"]
    rules = part(storage(infrequentAccessAfterDays=60), "-lifecycle").inputs["rules"]
    assert rules[-1]["transitions"] == [{"days": 60, "storageClass": "STANDARD_IA"}]
    assert part(storage(noncurrentVersionExpirationDays=30), "-lifecycle").inputs["rules"][1][
        "noncurrentVersionExpiration"
    ] == {"noncurrentDays": 30}
    assert part(storage(kmsKeyArn=KMS_KEY), "-encryption").inputs["rules"] == [
        {
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": "aws:kms",
                "kmsMasterKeyId": KMS_KEY,
            },
            "bucketKeyEnabled": True,
        }
    ]
    cors = part(storage(corsAllowedOrigins=["https://app.example.com"]), "-cors").inputs[
        "corsRules"
    ]
    assert cors == [
        {
            "allowedOrigins": ["https://app.example.com"],
            "allowedMethods": ["GET", "HEAD", "PUT", "POST"],
            "allowedHeaders": ["*"],
            "exposeHeaders": ["ETag"],
            "maxAgeSeconds": 3000,
        }
    ]


def test_access_log_bucket_is_locked_down_and_accepts_only_this_buckets_logs() -> None:
    r = storage(accessLogs=True)
    data = part(r, "storage-bucket")
    logs = part(r, "storage-logs")
    logging = part(r, "-bucket-logging")
    assert logging.inputs["bucket"] == data.id
    assert logging.inputs["targetBucket"] == logs.id
    assert logging.inputs["targetPrefix"] == "s3-access/storage/"
    block = part(r, "storage-logs-public-access-block").inputs
    assert all(
        block[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    assert part(r, "storage-logs-ownership").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    assert part(r, "storage-logs-encryption").inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    ]
    assert part(r, "storage-logs-lifecycle").inputs["rules"][0]["expiration"] == {"days": 90}
    *tls, delivery = statements(part(r, "storage-logs-policy"))
    assert [s["Sid"] for s in tls] == ["DenyInsecureTransport", "DenyOutdatedTls"]
    assert delivery == {
        "Sid": "AllowS3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{logs.outputs['arn']}/s3-access/*",
        # The stack's own buckets (the app-versions bucket logs here too), in this account.
        "Condition": {
            "ArnLike": {"aws:SourceArn": "arn:aws:s3:::webstack-test-*"},
            "StringEquals": {"aws:SourceAccount": "123456789012"},
        },
    }


READ_WRITE_OBJECTS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectTagging",
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]


def test_read_write_grant_is_least_privilege_on_this_bucket() -> None:
    r = storage()
    arn = part(r, "-bucket").outputs["arn"]
    grant = part(r, "-read-write")
    role = r.one("aws:iam/role:Role", "writer")
    assert grant.inputs["role"] == role.id
    assert statements(grant) == [
        {
            "Sid": "BucketObjects",
            "Effect": "Allow",
            "Action": READ_WRITE_OBJECTS,
            "Resource": f"{arn}/*",
        },
        {
            "Sid": "Bucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
            "Resource": arn,
        },
    ]


def test_grants_add_the_customer_key_and_only_the_actions_they_need() -> None:
    r = storage(kmsKeyArn=KMS_KEY)
    *_, key = statements(part(r, "-read-write"))
    assert key == {
        "Sid": "BucketKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": KMS_KEY,
    }


def test_read_grant_reads_only() -> None:
    r = storage()
    grant = part(r, "-reader-read")
    assert grant.inputs["role"] == r.one("aws:iam/role:Role", "reader").id
    objects, bucket = statements(grant)
    assert objects["Action"] == ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]
    assert bucket["Action"] == ["s3:ListBucket", "s3:GetBucketLocation"]
    for statement in (objects, bucket):
        assert not any(
            a.startswith(("s3:Put", "s3:Delete")) or a == "s3:*" for a in statement["Action"]
        )


def test_bucket_name_and_arn_are_the_components_outputs() -> None:
    r = storage()
    bucket = part(r, "-bucket")
    assert (r.outputs["bucketName"], r.outputs["bucketArn"]) == (bucket.id, bucket.outputs["arn"])


@pytest.mark.parametrize("protect", [True, False])
def test_data_and_its_access_logs_are_protected_and_retained_only_when_asked(
    protect: bool,
) -> None:
    r = storage(protect, accessLogs=True)
    flagged = {x.name for x in r.resources if x.protect and x.retain_on_delete}
    assert flagged == ({"storage-bucket", "storage-logs"} if protect else set())
    assert not any(x.protect != x.retain_on_delete for x in r.resources)


def test_the_log_bucket_takes_load_balancer_logs_when_asked() -> None:
    def build() -> None:
        bucket = Storage("storage", StorageArgs(StorageSettings(), load_balancer_logs=True))
        assert bucket.load_balancer_logs is not None and bucket.access_logs is None
        pulumi.export("lbLogs", bucket.load_balancer_logs.bucket)
        pulumi.export("lbPrefix", bucket.load_balancer_logs.prefix)

    r = component(("storage-lb-logs",), build)
    logs = part(r, "storage-logs")
    assert (r.outputs["lbLogs"], r.outputs["lbPrefix"]) == (logs.id, "elb")
    # SSE-S3: the only encryption load-balancer log delivery takes
    assert part(r, "storage-logs-encryption").inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    ]
    *_, elb = statements(part(r, "storage-logs-policy"))
    assert elb == {
        "Sid": "AllowLoadBalancerLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{logs.outputs['arn']}/elb/AWSLogs/123456789012/*",
    }
    # the data bucket's own access logs stay off
    assert not r.of_type("aws:s3/bucketLogging:BucketLogging")
