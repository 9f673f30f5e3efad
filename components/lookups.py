"""What the stack's config names in AWS, looked up before any resource is registered.

A data source that finds nothing fails `pulumi up` halfway, in the provider's words ("Your query
returned no results"). Here every look-up runs first, and a miss is a config error that names
the key: an engine version RDS does not offer, a platform Beanstalk does not have, more zones
than the region gives this account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.database import DatabaseSettings
from components.engines import ENGINES
from components.fields import VersionNumber
from components.hosting import PLATFORM_REGEX, AppSettings
from components.settings import ConfigError, StackSettings


@dataclass(frozen=True)
class AwsFacts:
    """The answers the components are built from."""

    zones: tuple[str, ...]
    engine_version: str  # the newest minor version of the configured major
    parameter_group_family: str
    solution_stack: str
    # Elastic Beanstalk's hosted zone in the region, with a domain (for its alias record).
    environment_zone_id: str | None = None


def look_up(settings: StackSettings, opts: pulumi.InvokeOptions) -> AwsFacts:
    """Ask AWS (through the stack's provider) about everything the settings name."""
    problems: list[str] = []
    zones = () if settings.network.bring_your_own else _zones(settings, opts, problems)
    version, family = _engine_version(settings, opts, problems)
    stack = _solution_stack(settings.app, settings.region, opts, problems)
    environment_zone = _domain(settings, opts, problems) if settings.app.domain.name else None
    if settings.database.restore.requested:
        _restore_source(settings.database, opts, problems)
    if problems:
        raise ConfigError(problems)
    return AwsFacts(zones, version, family, stack, environment_zone)


def _domain(settings: StackSettings, opts: pulumi.InvokeOptions, problems: list[str]) -> str | None:
    """The domain must be in its hosted zone, and Beanstalk must have a hosted zone in the
    region for the alias to point at."""
    domain = settings.app.domain
    key = "webstack:app.domain"
    try:
        zone = aws.route53.get_zone(zone_id=domain.hosted_zone_id, opts=opts).name.rstrip(".")
    except Exception as error:  # the provider's error for a zone that is not there
        problems.append(
            f"{key}.hostedZoneId: {domain.hosted_zone_id!r} is no hosted zone ({error})"
        )
    else:
        if domain.name != zone and not str(domain.name).endswith(f".{zone}"):
            problems.append(
                f"{key}.name: {domain.name!r} is not in the zone {zone} ({domain.hosted_zone_id}); "
                f"expected {zone} or a name under it"
            )
    try:
        return aws.elasticbeanstalk.get_hosted_zone(opts=opts).id
    except Exception as error:  # regions the provider has no Beanstalk zone id for
        problems.append(
            f"{key}: Beanstalk's hosted zone in {settings.region} is unknown to the provider "
            f"({error}); use certificateArn and a DNS record of your own"
        )
        return None


def _zones(
    settings: StackSettings, opts: pulumi.InvokeOptions, problems: list[str]
) -> tuple[str, ...]:
    found = aws.get_availability_zones(
        state="available",
        # Local and Wavelength zones need an opt-in and lack most services.
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=opts,
    ).names
    wanted = settings.network.availability_zones
    if wanted > len(found):
        problems.append(
            f"webstack:network.availabilityZones: {wanted} is more than the {len(found)} zones "
            f"{settings.region} gives this account ({', '.join(found)}); expected at most "
            f"{len(found)}"
        )
    return tuple(found)


def _engine_version(
    settings: StackSettings, opts: pulumi.InvokeOptions, problems: list[str]
) -> tuple[str, str]:
    database = settings.database
    try:
        found = aws.rds.get_engine_version(
            engine=database.engine, version=database.engine_version, latest=True, opts=opts
        )
    except Exception as error:  # the provider's error for a look-up that finds nothing
        problems.append(
            f"webstack:database.engineVersion: {database.engine_version!r} matches no "
            f"{database.engine} version RDS offers in {settings.region} ({error}); list them with "
            f"`aws rds describe-db-engine-versions --engine {database.engine} "
            "--query 'DBEngineVersions[].EngineVersion'`"
            + (
                f"; {database.engine_version.hint}"
                if isinstance(database.engine_version, VersionNumber)
                else ""
            )
        )
        return database.engine_version, ""
    return found.version, found.parameter_group_family


def _solution_stack(
    app: AppSettings, region: str, opts: pulumi.InvokeOptions, problems: list[str]
) -> str:
    """The exact stack named, or the newest Amazon Linux 2023 one matching `platform`."""
    if app.solution_stack_name:
        key, regex = "solutionStackName", f"^{_re2_literal(app.solution_stack_name)}$"
        asked = app.solution_stack_name
    else:
        key, regex, asked = "platform", PLATFORM_REGEX.format(platform=app.platform), app.platform
    try:
        return aws.elasticbeanstalk.get_solution_stack(
            most_recent=True, name_regex=regex, opts=opts
        ).name
    except Exception as error:  # the provider's error for a look-up that finds nothing
        problems.append(
            f"webstack:app.{key}: {asked!r} matches no Amazon Linux 2023 solution stack "
            f"Beanstalk offers in {region} ({error}); list them with "
            "`aws elasticbeanstalk list-available-solution-stacks`"
        )
        return asked


def _re2_literal(text: str) -> str:
    """`text` as an RE2 pattern that matches it literally."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)


@dataclass(frozen=True)
class _Source:
    """What a restore takes from its snapshot or instance."""

    engine: str
    engine_version: str
    encrypted: bool
    allocated_storage: int
    kms_key_id: str
    username: str | None = None  # known for an instance, not for a snapshot
    db_name: str | None = None


def _restore_source(
    database: DatabaseSettings, opts: pulumi.InvokeOptions, problems: list[str]
) -> None:
    """The source must exist and be one RDS restores into these settings: same engine and
    major version, encrypted, no larger than the storage asked for, the same key."""
    restore = database.restore
    key = "webstack:database.restore"
    try:
        if restore.snapshot:
            snap = aws.rds.get_snapshot(
                db_snapshot_identifier=restore.snapshot, include_shared=True, opts=opts
            )
            source = _Source(
                snap.engine,
                snap.engine_version,
                snap.encrypted,
                snap.allocated_storage,
                snap.kms_key_id,
            )
        else:
            found = aws.rds.get_instance(db_instance_identifier=restore.source_instance, opts=opts)
            source = _Source(
                found.engine,
                found.engine_version,
                found.storage_encrypted,
                found.allocated_storage,
                found.kms_key_id,
                found.master_username,
                found.db_name,
            )
    except Exception as error:  # the provider's error for a source that is not there
        field = "snapshot" if restore.snapshot else "sourceInstance"
        problems.append(
            f"{key}.{field}: {restore.snapshot or restore.source_instance!r} is not there ({error})"
        )
        return
    problems += [f"{key}: {problem}" for problem in restore_problems(database, source)]


def restore_problems(database: DatabaseSettings, source: _Source) -> list[str]:
    """Why RDS would refuse, or quietly alter, restoring `source` into these settings."""
    found: list[str] = []
    major = re.match(ENGINES[database.engine].major_pattern, source.engine_version)
    if source.engine != database.engine:
        found.append(f"the source is {source.engine}; set engine to {source.engine}")
    elif major is None or major.group(0) != database.engine_version:
        found.append(
            f"the source runs {source.engine} {source.engine_version}; set engineVersion to "
            f"{major.group(0) if major else source.engine_version!r} (upgrade after the restore)"
        )
    if not source.encrypted:
        found.append(
            "the source is not encrypted, and a restore keeps that: copy its snapshot with a KMS "
            "key (aws rds copy-db-snapshot --kms-key-id …) and restore the copy"
        )
    if source.allocated_storage > database.allocated_storage:
        found.append(
            f"the source has {source.allocated_storage} GiB; set allocatedStorage to at least that"
        )
    if database.kms_key_arn and source.kms_key_id and database.kms_key_arn != source.kms_key_id:
        found.append(
            f"the source is encrypted under {source.kms_key_id}, which the restore keeps; set "
            "kmsKeyArn to it or leave kmsKeyArn out"
        )
    for name, ours, theirs in (
        ("username", database.username, source.username),
        ("dbName", database.db_name, source.db_name),
    ):
        if theirs is not None and theirs != ours:
            found.append(
                f"the source's {name} is {theirs!r}, which the restore keeps; set {name} to it"
            )
    return found
