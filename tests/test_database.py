"""Database: defaults per engine, each option's exact effect, allow_from, no password anywhere."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.database import RESTORE_ARGUMENTS, Database, DatabaseArgs, DatabaseSettings
from components.iam import service_trust_policy
from tests.support import component, settings_of, statements
from tools.engine.mock_engine import Registration, Run, run_component

INSTANCE = "aws:rds/instance:Instance"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


VPC_ID = "vpc-0123456789abcdef0"
SUBNET_IDS = ["subnet-0000000000000000c", "subnet-0000000000000000d"]


def database(protect: bool = True, **fields: Any) -> Run:
    """A Database alone in an empty stack, open to one group and read by one role."""
    settings = settings_of(DatabaseSettings, "webstack:database", fields)

    def build() -> None:
        region = settings.backup_replica_region
        replica = aws.Provider(f"aws-{region}", region=region) if region else None
        db = Database(
            "database",
            DatabaseArgs(
                VPC_ID,
                SUBNET_IDS,
                parameter_group_family=f"{settings.engine}{settings.engine_version}",
                settings=settings,
                protect=protect,
                replica_provider=replica,
            ),
        )
        app_group = aws.ec2.SecurityGroup("app-instance-sg", vpc_id=VPC_ID)
        role = aws.iam.Role(
            "app-role", assume_role_policy=service_trust_policy("ec2.amazonaws.com")
        )
        db.allow_from(app_group)
        db.grant_secret_read(role)
        pulumi.export("dbAddress", db.address)
        pulumi.export("dbPort", db.port)
        pulumi.export("dbName", db.db_name)
        pulumi.export("dbSecretArn", db.secret_arn)
        pulumi.export("dbSecurityGroupId", db.security_group_id)

    return component(("database", protect, fields), build)


def children(r: Run) -> dict[str, dict[str, Any]]:
    component = r.one("webstack:database:Database")
    return {c.name: c.plain_inputs for c in r.children(component)}


ENGINES = [
    # engine, version, family, port, TLS parameter, log exports, extra log parameters
    ("postgres", "17", "postgres17", 5432, ("rds.force_ssl", "1"), ["postgresql", "upgrade"], []),
    (
        "mysql",
        "8.4",
        "mysql8.4",
        3306,
        ("require_secure_transport", "1"),
        ["error", "slowquery"],
        [("log_output", "FILE"), ("slow_query_log", "1")],
    ),
    (
        "mariadb",
        "11.4",
        "mariadb11.4",
        3306,
        ("require_secure_transport", "1"),
        ["error", "slowquery"],
        [("log_output", "FILE"), ("slow_query_log", "1")],
    ),
]


@pytest.mark.parametrize(
    ("engine", "version", "family", "port", "tls", "logs", "log_params"), ENGINES
)
def test_defaults_per_engine(
    engine: str,
    version: str,
    family: str,
    port: int,
    tls: tuple[str, str],
    logs: list[str],
    log_params: list[tuple[str, str]],
) -> None:
    r = database(engine=engine)
    instance = r.one(INSTANCE).inputs
    subnet_group = r.one("aws:rds/subnetGroup:SubnetGroup")
    group = r.one("aws:ec2/securityGroup:SecurityGroup", "database-sg")
    params = r.one("aws:rds/parameterGroup:ParameterGroup")
    expected = {
        "identifier": "webstack-test-db",
        "engine": engine,
        "engineVersion": version,
        "instanceClass": "db.t4g.micro",
        "port": port,
        "dbName": "app",
        "username": "app_admin",
        "manageMasterUserPassword": True,
        "storageType": "gp3",
        "allocatedStorage": 20,
        "maxAllocatedStorage": 100,
        "storageEncrypted": True,
        "dbSubnetGroupName": subnet_group.outputs["name"],
        "vpcSecurityGroupIds": [group.id],
        "parameterGroupName": params.outputs["name"],
        "publiclyAccessible": False,
        "multiAz": False,
        "caCertIdentifier": "rds-ca-rsa2048-g1",
        "backupRetentionPeriod": 7,
        "backupWindow": "03:00-04:00",
        "maintenanceWindow": "sun:04:30-sun:05:30",
        "copyTagsToSnapshot": True,
        "deletionProtection": True,
        "skipFinalSnapshot": False,
        "autoMinorVersionUpgrade": True,
        "allowMajorVersionUpgrade": False,
        "enabledCloudwatchLogsExports": logs,
        "monitoringInterval": 0,
        "performanceInsightsEnabled": False,
    }
    assert {k: instance[k] for k in expected} == expected
    assert "monitoringRoleArn" not in instance and "password" not in instance
    assert params.inputs["family"] == family
    assert params.inputs["parameters"] == [
        {"name": tls[0], "value": tls[1], "applyMethod": "immediate"},
        *({"name": k, "value": v, "applyMethod": "immediate"} for k, v in log_params),
    ]
    assert subnet_group.inputs["subnetIds"] == SUBNET_IDS
    assert group.inputs["vpcId"] == VPC_ID
    assert r.outputs["dbPort"] == port


def test_log_groups_exist_before_the_instance_with_retention() -> None:
    r = database()
    instance = r.one(INSTANCE)
    groups = [
        g
        for g in r.of_type("aws:cloudwatch/logGroup:LogGroup")
        if g.name.startswith("database-log-")
    ]
    assert sorted(g.inputs["name"] for g in groups) == [
        "/aws/rds/instance/webstack-test-db/postgresql",
        "/aws/rds/instance/webstack-test-db/upgrade",
    ]
    assert all(g.inputs["retentionInDays"] == 30 for g in groups)
    assert {g.urn for g in groups} <= set(instance.dependencies)


def test_backup_and_maintenance_windows_do_not_overlap() -> None:
    inputs = database().one(INSTANCE).inputs
    backup_end = inputs["backupWindow"].split("-")[1]
    maintenance_start = inputs["maintenanceWindow"].split("-")[0].split(":", 1)[1]
    assert backup_end < maintenance_start


KEY = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0b0a-0908-0706-050403020100"
SNAPSHOT = "webstack-prod-db-final-0a1b2c3d"

OPTIONS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"instanceClass": "db.r7g.large"}, {"instanceClass": "db.r7g.large"}),
    (
        {"allocatedStorage": 50, "maxAllocatedStorage": 200},
        {"allocatedStorage": 50, "maxAllocatedStorage": 200},
    ),
    ({"multiAz": True}, {"multiAz": True}),
    ({"backupRetentionDays": 30}, {"backupRetentionPeriod": 30}),
    ({"deletionProtection": False}, {"deletionProtection": False}),
    ({"engineVersion": "16"}, {"engineVersion": "16"}),
    ({"dbName": "orders"}, {"dbName": "orders"}),
    ({"username": "owner"}, {"username": "owner"}),
    (
        {"performanceInsights": True},
        {"performanceInsightsEnabled": True, "performanceInsightsRetentionPeriod": 7},
    ),
    ({"applyImmediately": True}, {"applyImmediately": True}),
    (
        {"allowMajorVersionUpgrade": True, "applyImmediately": True},
        {"allowMajorVersionUpgrade": True, "applyImmediately": True},
    ),
    ({"kmsKeyArn": KEY}, {"kmsKeyId": KEY, "masterUserSecretKmsKeyId": KEY}),
    (
        {"kmsKeyArn": KEY, "performanceInsights": True},
        {
            "kmsKeyId": KEY,
            "masterUserSecretKmsKeyId": KEY,
            "performanceInsightsEnabled": True,
            "performanceInsightsRetentionPeriod": 7,
            "performanceInsightsKmsKeyId": KEY,
        },
    ),
    ({"restore": {"snapshot": SNAPSHOT}}, {"snapshotIdentifier": SNAPSHOT}),
    (
        {"restore": {"sourceInstance": "webstack-prod-db", "time": "2026-11-20T10:00:00Z"}},
        {
            "restoreToPointInTime": {
                "sourceDbInstanceIdentifier": "webstack-prod-db",
                "restoreTime": "2026-11-20T10:00:00Z",
            }
        },
    ),
    (
        {"restore": {"sourceInstance": "webstack-prod-db", "time": "latest"}},
        {
            "restoreToPointInTime": {
                "sourceDbInstanceIdentifier": "webstack-prod-db",
                "useLatestRestorableTime": True,
            }
        },
    ),
]


@pytest.mark.parametrize(("option", "instance_change"), OPTIONS)
def test_each_option_changes_exactly_the_instance_argument(
    option: dict[str, Any], instance_change: dict[str, Any]
) -> None:
    before = database().one(INSTANCE).plain_inputs
    after = database(**option).one(INSTANCE).plain_inputs
    changed = {k: after.get(k) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == instance_change


def test_engine_version_also_picks_the_parameter_group_family() -> None:
    assert (
        database(engineVersion="16").one("aws:rds/parameterGroup:ParameterGroup").inputs["family"]
        == "postgres16"
    )


def test_skipping_the_final_snapshot_drops_the_random_suffix() -> None:
    before = children(database())
    after = children(database(skipFinalSnapshot=True))
    assert set(before) - set(after) == {"database-final-snapshot-suffix"}
    instance = database(skipFinalSnapshot=True).one(INSTANCE).inputs
    assert instance["skipFinalSnapshot"] is True and "finalSnapshotIdentifier" not in instance


def test_final_snapshot_identifier_comes_from_the_random_resource() -> None:
    r = database()
    suffix = r.one("random:index/randomId:RandomId")
    instance = r.one(INSTANCE)
    assert suffix.inputs["byteLength"] == 4
    assert suffix.inputs["keepers"] == {
        "identifier": "webstack-test-db",
        "engine": "postgres",
        "dbName": "app",
        "username": "app_admin",
    }
    assert (
        instance.inputs["finalSnapshotIdentifier"]
        == f"webstack-test-db-final-{suffix.outputs['hex']}"
    )
    assert suffix.urn in instance.property_dependencies["finalSnapshotIdentifier"]


def test_parameters_and_log_exports_reach_the_groups() -> None:
    r = database(
        parameters={"log_min_duration_statement": 500},
        logExports=["postgresql"],
        logRetentionDays=90,
    )
    params = r.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]
    assert {
        "name": "log_min_duration_statement",
        "value": "500",
        "applyMethod": "pending-reboot",
    } in params
    assert r.one(INSTANCE).inputs["enabledCloudwatchLogsExports"] == ["postgresql"]
    (group,) = [
        g
        for g in r.of_type("aws:cloudwatch/logGroup:LogGroup")
        if g.name.startswith("database-log-")
    ]
    assert group.inputs["retentionInDays"] == 90


def test_a_user_value_for_a_log_parameter_wins() -> None:
    params = (
        database(engine="mysql", parameters={"slow_query_log": "0"})
        .one("aws:rds/parameterGroup:ParameterGroup")
        .inputs["parameters"]
    )
    assert [p for p in params if p["name"] == "slow_query_log"] == [
        {"name": "slow_query_log", "value": "0", "applyMethod": "pending-reboot"}
    ]


def test_monitoring_role_exists_only_when_monitoring_is_on() -> None:
    assert not [
        x for x in database().of_type("aws:iam/role:Role") if x.name == "database-monitoring-role"
    ]
    r = database(monitoringInterval=30)
    role = r.one("aws:iam/role:Role", "database-monitoring-role")
    (trust,) = statements(role, "assumeRolePolicy")
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    attachment = r.one(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "database-monitoring-policy"
    )
    assert (
        attachment.inputs["policyArn"]
        == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
    instance = r.one(INSTANCE).inputs
    assert (instance["monitoringInterval"], instance["monitoringRoleArn"]) == (
        30,
        role.outputs["arn"],
    )


def db_ingress(r: Run) -> list[Registration]:
    group = r.one("aws:ec2/securityGroup:SecurityGroup", "database-sg")
    return [x for x in r.of_type(INGRESS) if x.inputs["securityGroupId"] == group.id]


@pytest.mark.parametrize(("engine", "port"), [("postgres", 5432), ("mysql", 3306)])
def test_allow_from_adds_one_rule_from_that_group_on_the_engine_port(
    engine: str, port: int
) -> None:
    r = database(engine=engine)
    app_group = r.one("aws:ec2/securityGroup:SecurityGroup", "app-instance-sg")
    (rule,) = db_ingress(r)
    assert rule.inputs == {
        "securityGroupId": r.one("aws:ec2/securityGroup:SecurityGroup", "database-sg").id,
        "referencedSecurityGroupId": app_group.id,
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "description": "database port from app-instance-sg",
    }
    group = r.one("aws:ec2/securityGroup:SecurityGroup", "database-sg").inputs
    assert "ingress" not in group and "egress" not in group


def test_secret_read_grant_is_this_secret_only() -> None:
    r = database()
    grant = r.one("aws:iam/rolePolicy:RolePolicy", "database-app-role-secret-read")
    assert grant.inputs["role"] == r.one("aws:iam/role:Role", "app-role").id
    assert statements(grant) == [
        {
            "Sid": "DatabaseSecret",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": r.outputs["dbSecretArn"],
        }
    ]


@pytest.mark.parametrize("engine", ["postgres", "mysql", "mariadb"])
def test_no_password_is_an_input_of_any_resource(engine: str) -> None:
    for resource in database(engine=engine).resources:
        assert not {"password", "passwordWo", "masterPassword"} & set(resource.inputs), (
            resource.name
        )


def test_outputs_come_from_the_instance() -> None:
    r = database()
    instance = r.one(INSTANCE).outputs
    assert r.outputs["dbAddress"] == instance["address"]
    assert r.outputs["dbSecretArn"] == instance["masterUserSecrets"][0]["secretArn"]
    assert r.outputs["dbName"] == "app"


@pytest.mark.parametrize("protect", [True, False])
def test_only_the_instance_is_protected_and_retained_and_only_when_asked(protect: bool) -> None:
    r = database(protect)
    flagged = {x.name for x in r.resources if x.protect and x.retain_on_delete}
    assert flagged == ({"database-instance"} if protect else set())
    assert not any(x.protect != x.retain_on_delete for x in r.resources)


@pytest.mark.parametrize("protect", [True, False])
def test_a_replacement_frees_the_fixed_identifier_first_unless_the_data_is_protected(
    protect: bool,
) -> None:
    instance = database(protect).one(INSTANCE)
    # RDS refuses a second instance with the same identifier (DBInstanceAlreadyExists), so an
    # unprotected instance is deleted (after its final snapshot) before its replacement; a
    # protected one is never replaced: Pulumi refuses.
    assert instance.inputs["identifier"] == "webstack-test-db"
    assert (instance.protect, instance.delete_before_replace) == (protect, not protect)


def test_log_groups_with_fixed_names_are_freed_before_a_replacement() -> None:
    for group in database().of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.delete_before_replace is True, group.name


@pytest.mark.parametrize(
    ("engine", "exports", "parameters", "option"),
    [
        ("postgres", ["postgresql", "upgrade"], {}, None),
        ("mysql", ["error"], {}, None),
        ("mysql", ["slowquery"], {"slow_query_log": "1", "log_output": "FILE"}, None),
        ("mariadb", ["general"], {"general_log": "1", "log_output": "FILE"}, None),
        (
            "mariadb",
            ["general", "slowquery", "audit"],
            {"general_log": "1", "slow_query_log": "1", "log_output": "FILE"},
            "MARIADB_AUDIT_PLUGIN",
        ),
        ("mysql", ["audit"], {}, "MARIADB_AUDIT_PLUGIN"),
    ],
)
def test_each_exported_log_gets_what_it_needs_to_have_content(
    engine: str, exports: list[str], parameters: dict[str, str], option: str | None
) -> None:
    r = database(engine=engine, logExports=exports)
    params = r.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]
    assert {p["name"]: p["value"] for p in params[1:]} == parameters
    groups = r.of_type("aws:rds/optionGroup:OptionGroup")
    instance = r.one(INSTANCE).inputs
    if option is None:
        assert groups == [] and "optionGroupName" not in instance
    else:
        (group,) = groups
        version = instance["engineVersion"]
        assert group.inputs["engineName"] == engine
        assert group.inputs["majorEngineVersion"] == version
        assert group.inputs["options"] == [{"optionName": option}]
        assert instance["optionGroupName"] == group.outputs["name"]


def test_a_restore_never_replaces_an_instance_that_exists_whatever_the_stack_file_says() -> None:
    # Both restore arguments force a new instance in the provider: ignored from the start, so a
    # restore added to, edited in or removed from the stack file later changes nothing.
    assert database().one(INSTANCE).ignore_changes == ["snapshotIdentifier", "restoreToPointInTime"]
    for restore in (
        {"snapshot": SNAPSHOT},
        {"sourceInstance": "webstack-prod-db", "time": "latest"},
    ):
        instance = database(allocatedStorage=50, restore=restore).one(INSTANCE)
        # While restoring, what RDS takes from the source is not the stack file's to change.
        assert instance.ignore_changes == [*RESTORE_ARGUMENTS, "dbName", "username"]
    assert RESTORE_ARGUMENTS == ["snapshotIdentifier", "restoreToPointInTime"]


def test_a_customer_key_joins_the_final_snapshot_keepers() -> None:
    keepers = database(kmsKeyArn=KEY).one("random:index/randomId:RandomId").inputs["keepers"]
    assert keepers["kmsKeyId"] == KEY


def test_backups_are_replicated_in_the_other_region_under_a_key_made_there() -> None:
    r = database(backupReplicaRegion="us-west-2", backupRetentionDays=14)
    provider = r.one("pulumi:providers:aws", "aws-us-west-2")
    reference = f"{provider.urn}::{provider.id}"
    key = r.one("aws:kms/key:Key", "database-replica-key")
    replication = r.one(
        "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
        "database-backup-replication",
    )
    assert (key.provider, replication.provider) == (reference, reference)
    assert replication.delete_before_replace is True
    assert key.outputs["arn"].startswith("arn:aws:kms:us-west-2:")
    assert key.inputs["enableKeyRotation"] is True
    assert replication.inputs == {
        "sourceDbInstanceArn": r.one(INSTANCE).outputs["arn"],
        "kmsKeyId": key.outputs["arn"],
        "retentionPeriod": 14,
    }
    component_urn = r.one("webstack:database:Database").urn
    assert key.parent == replication.parent == component_urn
    # An explicit key policy (Checkov CKV2_AWS_64): the account administers it; its principals
    # use it only through RDS in that region.
    administer, rds = statements(key)
    assert administer["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert rds["Principal"] == administer["Principal"]
    assert rds["Condition"] == {
        "StringEquals": {
            "kms:ViaService": "rds.us-west-2.amazonaws.com",
            "kms:CallerAccount": "123456789012",
        }
    }
    assert "kms:*" not in rds["Action"] and "kms:CreateGrant" in rds["Action"]
    assert not database().of_type(
        "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
    )


def test_a_replica_region_without_its_provider_is_a_programming_error() -> None:
    settings = settings_of(
        DatabaseSettings, "webstack:database", {"backupReplicaRegion": "us-west-2"}
    )

    def build() -> None:
        Database("database", DatabaseArgs(VPC_ID, SUBNET_IDS, "postgres17", settings))

    with pytest.raises(ValueError, match="backup_replica_region needs a provider"):
        run_component(build)


def test_rotation_is_always_scheduled_and_never_rotates_on_deploy() -> None:
    # RDS's own schedule by default: removing the key later must not cancel rotation, which is
    # what deleting a SecretRotation does.
    for days, r in ((7, database()), (30, database(secretRotationDays=30))):
        rotation = r.one("aws:secretsmanager/secretRotation:SecretRotation")
        assert rotation.inputs == {
            "secretId": r.outputs["dbSecretArn"],
            "rotationRules": {"automaticallyAfterDays": days},
            "rotateImmediately": False,
        }
