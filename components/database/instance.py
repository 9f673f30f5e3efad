"""`webstack:database:Database`: a private, encrypted RDS instance whose password RDS keeps.

The master password is generated and rotated by RDS in Secrets Manager
(`manage_master_user_password`), so it never exists in config, code, Pulumi state or outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.alarms import WatchedDatabase
from components.base import Component
from components.database.settings import DatabaseSettings, RestoreSettings
from components.engines import ENGINES, EngineSpec, default_max_connections, instance_memory_bytes
from components.iam import (
    account_administers,
    account_id,
    account_root,
    managed_policy_arn,
    policy_document,
    service_trust_policy,
)
from components.naming import physical_prefix
from components.regions import partition_of

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
