"""What both tiers' environments are built from: Beanstalk's service role, the application and
its versions (their instance roles: `instances.instance_role`)."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.base import Component
from components.hosting.bundle import bundle_digest, version_label
from components.iam import attach, service_trust_policy
from components.naming import physical_prefix
from components.storage import Storage

EB_SERVICE = "elasticbeanstalk.amazonaws.com"
# AWS's documented trust condition for the Beanstalk service role.
EB_EXTERNAL_ID = "elasticbeanstalk"
SERVICE_ROLE_POLICIES = (
    "service-role/AWSElasticBeanstalkEnhancedHealth",
    "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
)
APP_VERSIONS_KEPT = 50
READY_TIMEOUT = "30m"


def service_role(owner: Component) -> aws.iam.Role:
    """The role Beanstalk acts with: enhanced health and managed updates."""
    role = aws.iam.Role(
        f"{owner.prefix}-service-role",
        assume_role_policy=service_trust_policy(
            EB_SERVICE, {"StringEquals": {"sts:ExternalId": EB_EXTERNAL_ID}}
        ),
        opts=owner.child(),
    )
    attach(owner, role, "service", SERVICE_ROLE_POLICIES)
    return role


def application(owner: Component, service: aws.iam.Role) -> aws.elasticbeanstalk.Application:
    """The application both tiers' environments and versions belong to."""
    return aws.elasticbeanstalk.Application(
        f"{owner.prefix}-application",
        name=physical_prefix(),
        description=f"{pulumi.get_project()} {pulumi.get_stack()}",
        appversion_lifecycle={
            "service_role": service.arn,
            "max_count": APP_VERSIONS_KEPT,
            # The service role may delete bundles from the versions bucket (grant_delete).
            "delete_source_from_s3": True,
        },
        opts=owner.child(delete_before_replace=True),
    )


def application_version(
    owner: Component,
    versions: Storage,
    app: aws.elasticbeanstalk.Application,
    source_bundle: str,
) -> aws.elasticbeanstalk.ApplicationVersion:
    """Zip `source_bundle`, upload it to the versions bucket, register it as a version.

    The label names the version within the application, so it changes with everything that
    replaces the version (the files, the bucket): a replacement never takes the name its
    predecessor still holds while an environment runs it."""
    name = owner.prefix
    digest = bundle_digest(Path(source_bundle))
    physical = physical_prefix()
    label = versions.bucket_name.apply(lambda bucket: version_label(physical, digest, bucket))
    bundle = aws.s3.BucketObjectv2(
        f"{name}-bundle",
        bucket=versions.bucket_name,
        key=label.apply(lambda text: f"{text}.zip"),
        source=pulumi.FileArchive(source_bundle),
        opts=owner.child(),
    )
    return aws.elasticbeanstalk.ApplicationVersion(
        f"{name}-version",
        name=label,
        application=app.name,
        bucket=versions.bucket_name,
        key=bundle.key,
        description=f"{source_bundle} ({digest})",
        opts=owner.child(),
    )
