"""`webstack:database`: what the stack file says of the database, read and checked before any
resource: the engine and its version, the instance's size and storage, its backups and its life
(restores, upgrades, protection)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

from components.engines import ENGINES, EngineName
from components.fields import (
    Check,
    Choice,
    Flag,
    Nested,
    Text,
    TextMap,
    Texts,
    VersionNumber,
    Whole,
    setting,
)
from components.iam import KMS_KEY_ARN, regional_arn_problem
from components.logs import LOG_RETENTION_DAYS
from components.regions import REGIONS, partition_of

RDS_ROTATION_DAYS = 7

MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
_IDENTIFIER = Text(
    r"[A-Za-z][A-Za-z0-9_]{0,15}", "1-16 letters, digits or underscores, starting with a letter"
)


def _parameter_name(name: str) -> str | None:
    if not all(c.isalnum() or c in "_." for c in name) or not name:
        return "not a parameter name (letters, digits, '_' and '.')"
    return None


_RFC3339 = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True)
class RestoreSettings:
    """`webstack:database.restore`: create the instance from a backup instead of empty.

    RDS takes the storage encryption, its key, the master user and (from a snapshot) the
    database name from the source; they are checked against it before anything is created."""

    snapshot: str | None = setting(
        None,
        Text(
            r"[A-Za-z][A-Za-z0-9-]{0,254}|arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:snapshot:[A-Za-z][A-Za-z0-9:-]{0,254}",
            "a DB snapshot identifier or ARN",
        ),
        "a DB snapshot (its identifier, or its ARN for a shared one) of this region",
    )
    source_instance: str | None = setting(
        None,
        Text(r"[A-Za-z][A-Za-z0-9-]{0,62}", "a DB instance identifier"),
        "an instance to restore to a point in time, from its automated backups",
    )
    time: str | None = setting(
        None,
        Text(f"latest|{_RFC3339}", "an RFC 3339 time such as 2026-11-20T10:00:00Z, or latest"),
        "with sourceInstance: the point in time, or `latest` (the latest restorable time)",
    )

    @property
    def requested(self) -> bool:
        return bool(self.snapshot or self.source_instance)

    def checked(self, check: Check) -> RestoreSettings:
        if self.snapshot and self.source_instance:
            check.report(None, "takes snapshot, or sourceInstance and time, not both")
        elif self.source_instance and not check.given("time"):
            check.report(
                "time", "is missing; give an RFC 3339 time, or latest, with sourceInstance"
            )
        elif self.time and not self.source_instance:
            check.report("time", "has no effect without sourceInstance; remove it")
        if self.snapshot and self.snapshot.startswith("arn:"):
            # RDS restores only a snapshot of its own region; one from elsewhere is copied first.
            why = regional_arn_problem(self.snapshot, check.region)
            if why:
                check.report("snapshot", f"{self.snapshot!r} {why}; copy it here first")
        return self


@dataclass(frozen=True)
class DatabaseSettings:
    """`webstack:database`: the app's private, encrypted RDS instance."""

    engine: EngineName = setting("postgres", Choice(tuple(ENGINES)), "the database engine")
    engine_version: str = setting(
        ENGINES["postgres"].default_version,
        Text(
            r"[0-9]+(\.[0-9]+)?",
            "a major version such as 17 (postgres) or 8.4 (mysql); quoted where YAML would change"
            ' it ("8.0", "11.10")',
            version=True,
        ),
        "the major version; RDS applies minor upgrades itself",
        shown_default=" / ".join(f"`{e.default_version}`" for e in ENGINES.values()),
    )
    instance_class: str = setting(
        "db.t4g.micro",
        Text(r"db\.[a-z0-9-]+\.[a-z0-9]+", "an RDS instance class such as db.t4g.micro"),
        "the instance's size",
    )
    allocated_storage: int = setting(20, Whole(20, 65536), "GiB of gp3 storage")
    max_allocated_storage: int = setting(
        100, Whole(20, 65536), "storage autoscaling ceiling in GiB, at least `allocatedStorage`"
    )
    multi_az: bool = setting(False, Flag(), "a standby in a second zone")
    backup_retention_days: int = setting(7, Whole(1, 35), "days of automated backups")
    deletion_protection: bool = setting(True, Flag(), "RDS refuses to delete the instance")
    skip_final_snapshot: bool = setting(
        False,
        Flag(),
        "otherwise a final snapshot `<project>-<stack>-db-final-<random>` is taken on delete",
    )
    performance_insights: bool = setting(
        False,
        Flag(),
        "7-day retention; not offered for mysql/mariadb on micro/small classes",
    )
    monitoring_interval: int = setting(
        0, Whole(choices=MONITORING_INTERVALS), "enhanced monitoring seconds (0: off)"
    )
    db_name: str = setting("app", _IDENTIFIER, "the database the app connects to")
    username: str = setting(
        "app_admin",
        _IDENTIFIER,
        "the master user (not a name the engine reserves); RDS keeps its password",
    )
    parameters: Mapping[str, str] = setting(
        {},
        TextMap(r"[A-Za-z0-9_.]+", _parameter_name, value_max=4096),
        "extra DB parameters (applied at the next reboot); not the TLS parameter",
    )
    log_exports: tuple[str, ...] = setting(
        ENGINES["postgres"].default_log_exports,
        Texts(Text(r"[a-z-]+", "log types")),
        "log types exported to CloudWatch",
        shown_default="; ".join(
            f"{name} `[{', '.join(e.default_log_exports)}]`" for name, e in ENGINES.items()
        ),
    )
    log_retention_days: int = setting(
        30, Whole(choices=LOG_RETENTION_DAYS), "days CloudWatch keeps the exported logs"
    )
    restore: RestoreSettings = setting(
        RestoreSettings(),
        Nested(RestoreSettings),
        "create the database from a backup; read only when the instance is created, so keep it "
        "for the instance's life",
    )
    allow_major_version_upgrade: bool = setting(
        False,
        Flag(),
        "let a new major `engineVersion` upgrade the instance in place (with `applyImmediately`)",
    )
    apply_immediately: bool = setting(
        False,
        Flag(),
        "apply instance changes now, not in the weekly maintenance window (Sunday 04:30 UTC)",
    )
    blue_green_update: bool = setting(
        False,
        Flag(),
        "RDS blue/green deployments for updates; RDS offers none for an instance whose password "
        "Secrets Manager manages, which webstack's always is, so `true` is refused",
    )
    backup_replica_region: str | None = setting(
        None,
        Text(r"[a-z]{2}(-[a-z]+)+-[0-9]", "an AWS region such as us-west-2"),
        "a second region the automated backups are copied to, under a KMS key made there",
    )
    secret_rotation_days: int = setting(
        RDS_ROTATION_DAYS,
        Whole(1, 1000),
        "days between rotations of the master password (7 is RDS's own schedule)",
    )
    kms_key_arn: str | None = setting(
        None,
        Text(KMS_KEY_ARN, "a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID)"),
        "a customer KMS key for the storage, Performance Insights and the master secret; without "
        "it, the AWS managed keys (`aws/rds`, `aws/secretsmanager`)",
    )

    @property
    def port(self) -> int:
        return ENGINES[self.engine].port

    def checked(self, check: Check) -> DatabaseSettings:
        spec = ENGINES[self.engine]
        result = self
        if not check.given("engine_version"):
            result = dataclasses.replace(result, engine_version=spec.default_version)
        elif check.valid("engine_version") and not re.fullmatch(
            spec.major_pattern, self.engine_version
        ):
            accepted = f'a major version of {self.engine}, such as "{spec.default_version}"'
            if isinstance(self.engine_version, VersionNumber):
                accepted += f"; {self.engine_version.hint}"
            check.fail("engine_version", self.engine_version, accepted)
        result = self._log_exports_checked(check, result)
        self._check_storage(check)
        if (
            self.performance_insights
            and self.instance_class in spec.no_performance_insights_classes
        ):
            check.report(
                "performance_insights",
                f"RDS offers no Performance Insights for {self.engine} on {self.instance_class}; "
                "use a larger instanceClass or set it to false",
            )
        for name in ("db_name", "username"):
            why = reserved_name_problem(
                self.engine, getattr(self, name), is_user=name == "username"
            )
            if why:
                check.fail(name, getattr(self, name), why)
        tls = spec.tls_parameter[0]
        # Parameter names are case-insensitive to RDS: RDS.FORCE_SSL would turn TLS off too.
        overrides = [k for k in self.parameters if k.lower() == tls]
        for key in overrides:
            check.report("parameters", "is managed by webstack: TLS is always required", key)
        if overrides:
            kept = {k: v for k, v in self.parameters.items() if k not in overrides}
            result = dataclasses.replace(result, parameters=kept)
        self._check_life(check)
        return result

    def _check_life(self, check: Check) -> None:
        """Upgrades, backups elsewhere and keys: the combinations RDS refuses."""
        if self.allow_major_version_upgrade and not self.apply_immediately:
            check.report(
                "allow_major_version_upgrade",
                "needs applyImmediately true: the upgrade moves the instance to a new-family "
                "parameter group, and the old one can only be deleted once it has moved",
            )
        if self.blue_green_update:
            check.report(
                "blue_green_update",
                "true is refused: RDS runs no blue/green deployment for an instance whose master "
                "password Secrets Manager manages (RDS user guide, 'Limitations for Secrets "
                "Manager integration'), and webstack's always is; use allowMajorVersionUpgrade",
            )
        replica = self.backup_replica_region
        if replica and replica not in REGIONS:
            check.fail("backup_replica_region", replica, "an AWS region such as us-west-2")
        elif replica and replica == check.region:
            check.report(
                "backup_replica_region",
                f"{replica!r} is the stack's own region (aws:region); choose another region",
            )
        elif replica and partition_of(replica) != partition_of(check.region):
            check.report(
                "backup_replica_region",
                f"{replica!r} is in another partition than {check.region}; backups are copied "
                "within a partition",
            )
        why = self.kms_key_arn and regional_arn_problem(self.kms_key_arn, check.region)
        if why:
            check.report("kms_key_arn", f"{self.kms_key_arn!r} {why}")

    def _log_exports_checked(self, check: Check, result: DatabaseSettings) -> DatabaseSettings:
        spec = ENGINES[self.engine]
        if not check.given("log_exports"):
            return dataclasses.replace(result, log_exports=spec.default_log_exports)
        if not set(self.log_exports) <= spec.log_types:
            accepted = ", ".join(sorted(spec.log_types))
            check.fail(
                "log_exports",
                list(self.log_exports),
                f"a list of 0 to 100 distinct log types of {self.engine}: {accepted}",
            )
            return dataclasses.replace(result, log_exports=spec.default_log_exports)
        return result

    def _check_storage(self, check: Check) -> None:
        """RDS takes a storage-autoscaling ceiling only at least 10 % above the allocated
        storage (RDS user guide, "Managing capacity automatically with storage autoscaling")."""
        least = (self.allocated_storage * 11 + 9) // 10  # 110 %, rounded up
        if self.max_allocated_storage < least:
            check.fail(
                "max_allocated_storage",
                self.max_allocated_storage,
                f"at least 10 % above allocatedStorage ({self.allocated_storage} GiB): "
                f"{least} GiB or more",
            )


def reserved_name_problem(engine: str, name: str, *, is_user: bool) -> str | None:
    """Why RDS refuses `name` as the master user or database of `engine`, or None.

    RDS refuses a reserved word of the engine, and names of its own (rdsadmin, rds_*); PostgreSQL
    reserves role names starting pg_ (CreateDBInstance, MasterUsername and DBName)."""
    spec = ENGINES[engine]
    lowered = name.lower()
    if name.upper() in spec.reserved_words:
        return f"a name that is not a reserved word of {engine}"
    if lowered.startswith("rds"):
        return "a name that does not start with rds (RDS keeps those for itself)"
    if is_user and lowered in spec.reserved_users:
        return f"a name {engine} on RDS does not keep for itself (not {lowered})"
    if is_user and engine == "postgres" and lowered.startswith("pg_"):
        return "a name that does not start with pg_ (PostgreSQL reserves those role names)"
    if not is_user and lowered in spec.system_databases:
        return f"a name other than {engine}'s own databases ({', '.join(sorted(spec.system_databases))})"
    return None
