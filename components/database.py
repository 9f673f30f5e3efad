"""`webstack:database:Database`: a private, encrypted RDS instance whose password RDS keeps.

The master password is generated and rotated by RDS in Secrets Manager
(`manage_master_user_password`), so it never exists in config, code, Pulumi state or outputs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.alarms import WatchedDatabase
from components.base import Component
from components.engines import (
    ENGINES,
    EngineName,
    EngineSpec,
    default_max_connections,
    instance_memory_bytes,
)
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
from components.iam import (
    KMS_KEY_ARN,
    account_administers,
    account_id,
    account_root,
    managed_policy_arn,
    policy_document,
    regional_arn_problem,
    service_trust_policy,
)
from components.logs import LOG_RETENTION_DAYS
from components.naming import physical_prefix
from components.regions import REGIONS, partition_of

STORAGE_TYPE = "gp3"
# UTC windows that never overlap: backups first, maintenance after they finish.
BACKUP_WINDOW = "03:00-04:00"
MAINTENANCE_WINDOW = "sun:04:30-sun:05:30"
CA_CERTIFICATE = "rds-ca-rsa2048-g1"
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7  # the free tier
REPLICA_KEY_DELETION_WINDOW_DAYS = 30
# What RDS does with the replica key on the account's behalf: copy the backups in, read them
# to restore (the AWS managed key aws/rds allows the same, through RDS only).
REPLICA_KEY_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:CreateGrant",
    "kms:DescribeKey",
)
# How often RDS rotates the master secret it manages unless told otherwise.
RDS_ROTATION_DAYS = 7
MONITORING_SERVICE = "monitoring.rds.amazonaws.com"
MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole"
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
# The restore arguments matter only when the instance is created: ignored always, so adding,
# editing or removing `restore` never replaces an instance that exists (both force a new
# resource in the provider). What a restore takes from its source (RDS ignores these on a
# restore) is ignored while the stack file restores.
RESTORE_ARGUMENTS = ["snapshotIdentifier", "restoreToPointInTime"]
RESTORED_FROM_SOURCE = ["dbName", "username"]
# Static parameters only change on reboot; "pending-reboot" is accepted for dynamic ones too.
USER_PARAMETER_APPLY_METHOD = "pending-reboot"


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


@dataclass(frozen=True)
class DatabaseArgs:
    """What `Database` is built from: its settings and the network it lives in."""

    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    # The parameter group family of the configured version (looked up: postgres17, mysql8.4, …).
    parameter_group_family: str
    settings: DatabaseSettings = field(default_factory=DatabaseSettings)
    # Pulumi `protect` plus retain-on-delete on the instance.
    protect: bool = True
    # A provider for `backup_replica_region`, where the backups are copied to.
    replica_provider: aws.Provider | None = None


def _master_secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    if not secrets or not secrets[0].secret_arn:
        raise ValueError(
            "RDS reported no master user secret although manage_master_user_password is on"
        )
    return secrets[0].secret_arn


class Database(Component):
    """An RDS instance in private subnets, reachable only from groups passed to `allow_from`."""

    identifier: pulumi.Output[str]
    address: pulumi.Output[str]
    port: pulumi.Output[int]
    db_name: pulumi.Output[str]
    secret_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webstack:database:Database", name, opts)
        settings = args.settings
        self._port = settings.port
        identifier = f"{physical_prefix()}-db"
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=args.subnet_ids,
            description=f"Private subnets of {identifier}",
            opts=self.child(),
        )
        # No inline rules: ingress comes only from allow_from; no egress (RDS answers, never calls).
        self._security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"{identifier}: {settings.engine} port {settings.port} from the app only",
            opts=self.child(),
        )
        instance = self._instance(
            settings,
            identifier,
            subnet_group=subnet_group,
            parameter_group=self._parameter_group(
                settings, args.parameter_group_family, identifier
            ),
            log_groups=self._log_groups(settings, identifier),
            protect=args.protect,
        )
        self._replicate_backups(instance, settings, args.replica_provider)
        self._rotation(instance, settings.secret_rotation_days)
        self.identifier = instance.identifier
        self._settings = settings
        self.address = instance.address
        self.port = instance.port
        self.db_name = instance.db_name.apply(lambda n: n or settings.db_name)
        self.secret_arn = instance.master_user_secrets.apply(_master_secret_arn)
        self.security_group_id = self._security_group.id
        self.register_outputs(
            {
                "address": self.address,
                "port": self.port,
                "db_name": self.db_name,
                "secret_arn": self.secret_arn,
                "security_group_id": self.security_group_id,
            }
        )

    def _instance(
        self,
        settings: DatabaseSettings,
        identifier: str,
        *,
        subnet_group: aws.rds.SubnetGroup,
        parameter_group: aws.rds.ParameterGroup,
        log_groups: Sequence[aws.cloudwatch.LogGroup],
        protect: bool,
    ) -> aws.rds.Instance:
        arguments = _instance_arguments(settings, identifier)
        arguments.db_subnet_group_name = subnet_group.name
        arguments.vpc_security_group_ids = [self._security_group.id]
        arguments.parameter_group_name = parameter_group.name
        arguments.option_group_name = self._option_group(settings)
        arguments.monitoring_role_arn = self._monitoring_role(settings.monitoring_interval)
        arguments.final_snapshot_identifier = self._final_snapshot(settings, identifier)
        return aws.rds.Instance(
            f"{self.prefix}-instance",
            arguments,
            # Its identifier is fixed (apps and operators know it): a replacement must delete the
            # old instance first, after its final snapshot. A protected one is never replaced:
            # Pulumi refuses, and `make diff` reports it as blocking.
            opts=pulumi.ResourceOptions.merge(
                self.child(
                    depends_on=log_groups, protect=protect, delete_before_replace=not protect
                ),
                pulumi.ResourceOptions(
                    ignore_changes=RESTORE_ARGUMENTS
                    + (RESTORED_FROM_SOURCE if settings.restore.requested else [])
                ),
            ),
        )

    def _parameter_group(
        self, settings: DatabaseSettings, family: str, identifier: str
    ) -> aws.rds.ParameterGroup:
        """TLS required, the log parameters the exports need, then the stack's own parameters."""
        spec = ENGINES[settings.engine]
        return aws.rds.ParameterGroup(
            f"{self.prefix}-params",
            family=family,
            description=f"{identifier}: TLS required",
            parameters=_parameters(spec, settings.log_exports, settings.parameters),
            opts=self.child(),
        )

    def _log_groups(
        self, settings: DatabaseSettings, identifier: str
    ) -> list[aws.cloudwatch.LogGroup]:
        """RDS writes to /aws/rds/instance/<id>/<log>; creating the groups first sets their retention."""
        return [
            aws.cloudwatch.LogGroup(
                f"{self.prefix}-log-{log}",
                name=f"/aws/rds/instance/{identifier}/{log}",
                retention_in_days=settings.log_retention_days,
                # A fixed name: a replacement must delete the old group first.
                opts=self.child(delete_before_replace=True),
            )
            for log in settings.log_exports
        ]

    def _monitoring_role(self, interval: int) -> pulumi.Output[str] | None:
        """The role enhanced monitoring publishes with, only when it is on."""
        if interval == 0:
            return None
        role = aws.iam.Role(
            f"{self.prefix}-monitoring-role",
            assume_role_policy=service_trust_policy(MONITORING_SERVICE),
            opts=self.child(),
        )
        aws.iam.RolePolicyAttachment(
            f"{self.prefix}-monitoring-policy",
            role=role.name,
            policy_arn=managed_policy_arn(MONITORING_POLICY, self),
            opts=self.child(),
        )
        return role.arn

    def _final_snapshot(
        self, settings: DatabaseSettings, identifier: str
    ) -> pulumi.Output[str] | None:
        """A fresh suffix per instance, so a re-created stack never collides with an old snapshot."""
        if settings.skip_final_snapshot:
            return None
        suffix = random.RandomId(
            f"{self.prefix}-final-snapshot-suffix",
            byte_length=4,
            # A new suffix whenever the instance is replaced: its final snapshot gets a new name.
            keepers=_identity(settings, identifier),
            opts=self.child(),
        )
        return pulumi.Output.concat(identifier, "-final-", suffix.hex)

    def _replicate_backups(
        self,
        instance: aws.rds.Instance,
        settings: DatabaseSettings,
        provider: aws.Provider | None,
    ) -> None:
        """Automated backups copied to a second region, encrypted there under a key of that
        region (RDS user guide, "Replicating automated backups to another AWS Region")."""
        if settings.backup_replica_region is None:
            return
        if provider is None:
            raise ValueError("backup_replica_region needs a provider for that region")
        there = pulumi.ResourceOptions(provider=provider)
        region = settings.backup_replica_region
        suffix = ".amazonaws.com.cn" if partition_of(region) == "aws-cn" else ".amazonaws.com"
        key = aws.kms.Key(
            f"{self.prefix}-replica-key",
            description=f"{physical_prefix()}: the database's backups in this region",
            enable_key_rotation=True,
            deletion_window_in_days=REPLICA_KEY_DELETION_WINDOW_DAYS,
            # The account administers the key (without it, nobody could); the account's
            # principals use it only through RDS in that region, for the backup copies.
            policy=policy_document(
                [
                    account_administers(self),
                    {
                        "Sid": "RdsCopiesBackups",
                        "Effect": "Allow",
                        "Principal": {"AWS": account_root(self)},
                        "Action": list(REPLICA_KEY_ACTIONS),
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": f"rds.{region}{suffix}",
                                "kms:CallerAccount": account_id(self),
                            }
                        },
                    },
                ]
            ),
            opts=pulumi.ResourceOptions.merge(self.child(), there),
        )
        aws.rds.InstanceAutomatedBackupsReplication(
            f"{self.prefix}-backup-replication",
            source_db_instance_arn=instance.arn,
            kms_key_id=key.arn,
            retention_period=settings.backup_retention_days,
            # Every argument replaces it, and its delete stops replication of the *source*
            # (StopDBInstanceAutomatedBackupsReplication takes only the source ARN): the old copy
            # must stop before the new one starts, or stopping it would stop the new one too.
            opts=pulumi.ResourceOptions.merge(self.child(delete_before_replace=True), there),
        )

    def _rotation(self, instance: aws.rds.Instance, days: int) -> None:
        """The master secret's rotation schedule, always set: deleting a SecretRotation cancels
        rotation (the provider calls CancelRotateSecret), so a schedule is never left to go."""
        aws.secretsmanager.SecretRotation(
            f"{self.prefix}-secret-rotation",
            secret_id=instance.master_user_secrets.apply(_master_secret_arn),
            rotation_rules={"automatically_after_days": days},
            # The schedule changes; the password is not rotated by the deploy itself.
            rotate_immediately=False,
            opts=self.child(),
        )

    def _option_group(self, settings: DatabaseSettings) -> pulumi.Output[str] | None:
        """The options the exported logs need (the audit log's plugin), when they need any."""
        spec = ENGINES[settings.engine]
        options = sorted(
            {spec.log_options[log] for log in settings.log_exports if log in spec.log_options}
        )
        if not options:
            return None
        group = aws.rds.OptionGroup(
            f"{self.prefix}-options",
            engine_name=settings.engine,
            major_engine_version=settings.engine_version,
            option_group_description=f"{settings.engine} {settings.engine_version}: log options",
            options=[{"option_name": option} for option in options],
            opts=self.child(),
        )
        return group.name

    def watched(self) -> WatchedDatabase:
        """What alarms on this database measure against: its storage, memory and connections."""
        settings = self._settings
        memory = instance_memory_bytes(settings.instance_class)
        own = settings.parameters.get("max_connections", "")
        return WatchedDatabase(
            identifier=self.identifier,
            allocated_storage_gib=settings.allocated_storage,
            memory_bytes=memory,
            max_connections=(
                int(own) if own.isdigit() else default_max_connections(settings.engine, memory)
            ),
        )

    def allow_from(self, source: aws.ec2.SecurityGroup) -> aws.vpc.SecurityGroupIngressRule:
        """Admit connections from members of `source` on the engine's port, and from nothing else."""
        return aws.vpc.SecurityGroupIngressRule(
            f"{self.prefix}-from-{source.pulumi_resource_name}",
            security_group_id=self._security_group.id,
            referenced_security_group_id=source.id,
            ip_protocol="tcp",
            from_port=self._port,
            to_port=self._port,
            description=f"database port from {source.pulumi_resource_name}",
            opts=self.child(),
        )

    def grant_secret_read(self, role: aws.iam.Role) -> aws.iam.RolePolicy:
        """Let `role` read the master user secret (the app's credentials) and nothing else."""
        return aws.iam.RolePolicy(
            f"{self.prefix}-{role.pulumi_resource_name}-secret-read",
            role=role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "DatabaseSecret",
                        "Effect": "Allow",
                        "Action": list(SECRET_READ_ACTIONS),
                        "Resource": self.secret_arn,
                    }
                ]
            ),
            opts=self.child(),
        )


def _parameters(
    spec: EngineSpec, exports: Sequence[str], extra: Mapping[str, str]
) -> list[aws.rds.ParameterGroupParameterArgsDict]:
    """TLS required, what the exported logs need (a value the stack sets itself wins), then the
    stack's own parameters."""
    tls_name, tls_value = spec.tls_parameter
    parameters: list[aws.rds.ParameterGroupParameterArgsDict] = [
        {"name": tls_name, "value": tls_value, "apply_method": "immediate"}
    ]
    needed = dict(pair for log in exports for pair in spec.log_parameters.get(log, ()))
    for key, value in sorted(needed.items()):
        if key not in extra:
            parameters.append({"name": key, "value": value, "apply_method": "immediate"})
    for key, value in sorted(extra.items()):
        parameters.append(
            {"name": key, "value": value, "apply_method": USER_PARAMETER_APPLY_METHOD}
        )
    return parameters


def _point_in_time(restore: RestoreSettings) -> aws.rds.InstanceRestoreToPointInTimeArgs | None:
    if not restore.source_instance:
        return None
    latest = restore.time == "latest"
    return aws.rds.InstanceRestoreToPointInTimeArgs(
        source_db_instance_identifier=restore.source_instance,
        restore_time=None if latest else restore.time,
        use_latest_restorable_time=True if latest else None,
    )


def _instance_arguments(settings: DatabaseSettings, identifier: str) -> aws.rds.InstanceArgs:
    """Every instance argument that follows from the settings alone."""
    performance_insights = settings.performance_insights
    return aws.rds.InstanceArgs(
        identifier=identifier,
        engine=settings.engine,
        # A major version: RDS applies minor upgrades itself (auto_minor_version_upgrade).
        engine_version=settings.engine_version,
        instance_class=settings.instance_class,
        port=settings.port,
        db_name=settings.db_name,
        username=settings.username,
        manage_master_user_password=True,
        master_user_secret_kms_key_id=settings.kms_key_arn,
        storage_type=STORAGE_TYPE,
        allocated_storage=settings.allocated_storage,
        max_allocated_storage=settings.max_allocated_storage,
        storage_encrypted=True,
        kms_key_id=settings.kms_key_arn,
        publicly_accessible=False,
        multi_az=settings.multi_az,
        ca_cert_identifier=CA_CERTIFICATE,
        backup_retention_period=settings.backup_retention_days,
        backup_window=BACKUP_WINDOW,
        maintenance_window=MAINTENANCE_WINDOW,
        copy_tags_to_snapshot=True,
        deletion_protection=settings.deletion_protection,
        skip_final_snapshot=settings.skip_final_snapshot,
        auto_minor_version_upgrade=True,
        allow_major_version_upgrade=settings.allow_major_version_upgrade,
        apply_immediately=settings.apply_immediately,
        enabled_cloudwatch_logs_exports=list(settings.log_exports),
        monitoring_interval=settings.monitoring_interval,
        performance_insights_enabled=performance_insights,
        performance_insights_retention_period=(
            PERFORMANCE_INSIGHTS_RETENTION_DAYS if performance_insights else None
        ),
        performance_insights_kms_key_id=settings.kms_key_arn if performance_insights else None,
        snapshot_identifier=settings.restore.snapshot,
        restore_to_point_in_time=_point_in_time(settings.restore),
    )


def _identity(settings: DatabaseSettings, identifier: str) -> dict[str, str]:
    """The instance arguments that replace it when they change (Terraform AWS provider,
    aws_db_instance: engine, db_name, username and kms_key_id are ForceNew; storage is always
    encrypted)."""
    identity = {
        "identifier": identifier,
        "engine": settings.engine,
        "dbName": settings.db_name,
        "username": settings.username,
    }
    # Only when set: stacks on the AWS managed key keep their final snapshot's name.
    if settings.kms_key_arn:
        identity["kmsKeyId"] = settings.kms_key_arn
    return identity
