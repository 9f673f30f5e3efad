"""`webstack:database:Database`: a private, encrypted RDS instance whose password RDS keeps.

The master password is generated and rotated by RDS in Secrets Manager
(`manage_master_user_password`), so it never exists in config, code, Pulumi state or outputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.engines import ENGINES
from components.iam import managed_policy_arn, policy_document, service_trust_policy
from components.naming import physical_prefix
from components.settings import DatabaseSettings

STORAGE_TYPE = "gp3"
# UTC windows that never overlap: backups first, maintenance after they finish.
BACKUP_WINDOW = "03:00-04:00"
MAINTENANCE_WINDOW = "sun:04:30-sun:05:30"
CA_CERTIFICATE = "rds-ca-rsa2048-g1"
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7  # the free tier
MONITORING_SERVICE = "monitoring.rds.amazonaws.com"
MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole"
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
# Static parameters only change on reboot; "pending-reboot" is accepted for dynamic ones too.
USER_PARAMETER_APPLY_METHOD = "pending-reboot"


def _master_secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    if not secrets or not secrets[0].secret_arn:
        raise ValueError(
            "RDS reported no master user secret although manage_master_user_password is on"
        )
    return secrets[0].secret_arn


class Database(pulumi.ComponentResource):
    """An RDS instance in private subnets, reachable only from groups passed to `allow_from`."""

    address: pulumi.Output[str]
    port: pulumi.Output[int]
    db_name: pulumi.Output[str]
    secret_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: DatabaseSettings,
        vpc_id: pulumi.Input[str],
        subnet_ids: pulumi.Input[list[str]],
        protect: bool = True,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("webstack:database:Database", name, None, opts)
        self._prefix = name
        self._port = settings.port
        spec = ENGINES[settings.engine]
        identifier = f"{physical_prefix()}-db"
        child = pulumi.ResourceOptions(parent=self)

        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=subnet_ids,
            description=f"Private subnets of {identifier}",
            opts=child,
        )
        # No inline rules: ingress comes only from allow_from; no egress (RDS answers, never calls).
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=vpc_id,
            description=f"{identifier}: {settings.engine} port {settings.port} from the app only",
            opts=child,
        )
        version = aws.rds.get_engine_version_output(
            engine=settings.engine,
            version=settings.engine_version,
            latest=True,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        tls_name, tls_value = spec.tls_parameter
        parameters: list[aws.rds.ParameterGroupParameterArgsDict] = [
            {"name": tls_name, "value": tls_value, "apply_method": "immediate"}
        ]
        for key, value in spec.log_parameters:
            if key not in settings.parameters:
                parameters.append({"name": key, "value": value, "apply_method": "immediate"})
        for key, value in sorted(settings.parameters.items()):
            parameters.append(
                {"name": key, "value": value, "apply_method": USER_PARAMETER_APPLY_METHOD}
            )
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            family=version.parameter_group_family,
            description=f"{identifier}: TLS required",
            parameters=parameters,
            opts=child,
        )
        # RDS writes to /aws/rds/instance/<id>/<log>; creating the groups first sets their retention.
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-log-{log}",
                name=f"/aws/rds/instance/{identifier}/{log}",
                retention_in_days=settings.log_retention_days,
                opts=child,
            )
            for log in settings.log_exports
        ]
        monitoring_role_arn: pulumi.Output[str] | None = None
        if settings.monitoring_interval > 0:
            role = aws.iam.Role(
                f"{name}-monitoring-role",
                assume_role_policy=service_trust_policy(MONITORING_SERVICE),
                opts=child,
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-monitoring-policy",
                role=role.name,
                policy_arn=managed_policy_arn(MONITORING_POLICY, self),
                opts=child,
            )
            monitoring_role_arn = role.arn
        final_snapshot: pulumi.Output[str] | None = None
        if not settings.skip_final_snapshot:
            # A fresh suffix per instance, so a re-created stack never collides with an old snapshot.
            suffix = random.RandomId(
                f"{name}-final-snapshot-suffix",
                byte_length=4,
                keepers={"identifier": identifier},
                opts=child,
            )
            final_snapshot = pulumi.Output.concat(identifier, "-final-", suffix.hex)

        instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=identifier,
            engine=settings.engine,
            # A major version: RDS applies minor upgrades itself (auto_minor_version_upgrade).
            engine_version=settings.engine_version,
            instance_class=settings.instance_class,
            port=settings.port,
            db_name=settings.db_name,
            username=settings.username,
            manage_master_user_password=True,
            storage_type=STORAGE_TYPE,
            allocated_storage=settings.allocated_storage,
            max_allocated_storage=settings.max_allocated_storage,
            storage_encrypted=True,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameter_group.name,
            publicly_accessible=False,
            multi_az=settings.multi_az,
            ca_cert_identifier=CA_CERTIFICATE,
            backup_retention_period=settings.backup_retention_days,
            backup_window=BACKUP_WINDOW,
            maintenance_window=MAINTENANCE_WINDOW,
            copy_tags_to_snapshot=True,
            deletion_protection=settings.deletion_protection,
            skip_final_snapshot=settings.skip_final_snapshot,
            final_snapshot_identifier=final_snapshot,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            enabled_cloudwatch_logs_exports=list(settings.log_exports),
            monitoring_interval=settings.monitoring_interval,
            monitoring_role_arn=monitoring_role_arn,
            performance_insights_enabled=settings.performance_insights,
            performance_insights_retention_period=(
                PERFORMANCE_INSIGHTS_RETENTION_DAYS if settings.performance_insights else None
            ),
            # Deleting the stack must not delete the data: protect it and retain it if it is removed.
            opts=pulumi.ResourceOptions(
                parent=self, protect=protect, retain_on_delete=protect, depends_on=log_groups
            ),
        )
        self._security_group = security_group
        self.address = instance.address
        self.port = instance.port
        self.db_name = instance.db_name.apply(lambda n: n or settings.db_name)
        self.secret_arn = instance.master_user_secrets.apply(_master_secret_arn)
        self.security_group_id = security_group.id
        self.register_outputs(
            {
                "address": self.address,
                "port": self.port,
                "db_name": self.db_name,
                "secret_arn": self.secret_arn,
                "security_group_id": self.security_group_id,
            }
        )

    def allow_from(self, source: aws.ec2.SecurityGroup) -> aws.vpc.SecurityGroupIngressRule:
        """Admit connections from members of `source` on the engine's port, and from nothing else."""
        return aws.vpc.SecurityGroupIngressRule(
            f"{self._prefix}-from-{source.pulumi_resource_name}",
            security_group_id=self._security_group.id,
            referenced_security_group_id=source.id,
            ip_protocol="tcp",
            from_port=self._port,
            to_port=self._port,
            description=f"database port from {source.pulumi_resource_name}",
            opts=pulumi.ResourceOptions(parent=self),
        )

    def grant_secret_read(self, role: aws.iam.Role) -> aws.iam.RolePolicy:
        """Let `role` read the master user secret (the app's credentials) and nothing else."""
        return aws.iam.RolePolicy(
            f"{self._prefix}-{role.pulumi_resource_name}-secret-read",
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
            opts=pulumi.ResourceOptions(parent=self),
        )
