"""Settings: every default, every validation rule with its key path, unknown keys, fuzzed junk."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.database import DatabaseSettings, RestoreSettings
from components.fields import (
    Choice,
    Decimal,
    Flag,
    InvalidValueError,
    Kind,
    Nested,
    Reader,
    Text,
    TextMap,
    Texts,
    Whole,
    fields_of,
)
from components.hosting import AppSettings, ManagedUpdates
from components.instances import architecture
from components.network import NetworkSettings
from components.settings import ConfigError, StackSettings, parse_settings
from components.storage import StorageSettings
from tools.docs import README, SCHEMA
from tools.engine import stack_file
from tools.engine.mock_engine import Run, run_stack

PROJECT = Path(__file__).resolve().parents[1]


def parse(**sections: Any) -> StackSettings:
    raw: dict[str, str | None] = {"aws:region": "us-east-1"}
    for key, value in sections.items():
        raw[f"webstack:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return parse_settings(raw, project_dir=PROJECT)


def problems(**sections: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(**sections)
    return list(caught.value.problems)


def test_empty_config_gives_every_documented_default() -> None:
    s = parse()
    assert s.region == "us-east-1"
    assert s.tags == {}
    assert s.protect_data is True
    assert s.network == NetworkSettings(
        cidr_block="10.0.0.0/16",
        availability_zones=2,
        nat_gateways="single",
        flow_logs=True,
        flow_log_retention_days=30,
        vpc_id=None,
        public_subnet_ids=(),
        private_subnet_ids=(),
    )
    assert s.storage == StorageSettings(
        versioning=True,
        force_destroy=False,
        noncurrent_version_expiration_days=90,
        infrequent_access_after_days=None,
        access_logs=False,
        cors_allowed_origins=(),
        kms_key_arn=None,
    )
    assert s.database == DatabaseSettings(
        engine="postgres",
        engine_version="17",
        instance_class="db.t4g.micro",
        allocated_storage=20,
        max_allocated_storage=100,
        multi_az=False,
        backup_retention_days=7,
        deletion_protection=True,
        skip_final_snapshot=False,
        performance_insights=False,
        monitoring_interval=0,
        db_name="app",
        username="app_admin",
        parameters={},
        log_exports=("postgresql", "upgrade"),
        log_retention_days=30,
    )
    assert s.app == AppSettings(
        platform="Python 3.12",
        solution_stack_name=None,
        instance_types=("t4g.micro",),
        min_instances=1,
        max_instances=2,
        health_check_path="/health",
        certificate_arn=None,
        source_bundle="app",
        environment_variables={},
        deployment_policy="Rolling",
        log_retention_days=7,
        managed_updates=ManagedUpdates(enabled=True, window="Sun:03:00", level="minor"),
    )


@pytest.mark.parametrize(
    ("engine", "version", "logs", "port"),
    [
        ("postgres", "17", ("postgresql", "upgrade"), 5432),
        ("mysql", "8.4", ("error", "slowquery"), 3306),
        ("mariadb", "11.4", ("error", "slowquery"), 3306),
    ],
)
def test_engine_defaults_follow_the_engine(
    engine: str, version: str, logs: tuple[str, ...], port: int
) -> None:
    db = parse(database={"engine": engine}).database
    assert (db.engine_version, db.log_exports, db.port) == (version, logs, port)


def test_values_are_read_and_coerced_from_yaml_and_cli_forms() -> None:
    s = parse(
        protectData="false",
        tags={"team": "web", "cost": 42},
        database={"engineVersion": "16", "allocatedStorage": 30, "multiAz": "true"},
        app={"minInstances": 2, "maxInstances": 4, "environmentVariables": {"LOG_LEVEL": "info"}},
    )
    assert s.protect_data is False
    assert s.tags == {"team": "web", "cost": "42"}
    assert (s.database.engine_version, s.database.allocated_storage) == ("16", 30)
    assert s.database.multi_az is True
    assert (s.app.min_instances, s.app.max_instances) == (2, 4)
    assert s.app.environment_variables == {"LOG_LEVEL": "info"}


def test_bring_your_own_network_is_read() -> None:
    net = parse(
        network={
            "vpcId": "vpc-0123456789abcdef0",
            "publicSubnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
            "privateSubnetIds": ["subnet-0000000000000000c", "subnet-0000000000000000d"],
        }
    ).network
    assert net.bring_your_own
    assert net.private_subnet_ids == ("subnet-0000000000000000c", "subnet-0000000000000000d")


BYO = {
    "vpcId": "vpc-0123456789abcdef0",
    "publicSubnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
    "privateSubnetIds": ["subnet-0000000000000000c", "subnet-0000000000000000d"],
}

RULES = [
    # (section, value, expected text in the one problem)
    ("network", {"cidrBlock": "10.0.0.1/16"}, "webstack:network.cidrBlock: '10.0.0.1/16'"),
    ("network", {"cidrBlock": "10.0.0.0/8"}, "webstack:network.cidrBlock: '10.0.0.0/8'"),
    (
        "network",
        {"cidrBlock": "10.0.0.0/25"},
        "webstack:network.cidrBlock: '10.0.0.0/25' is too small",
    ),
    ("network", {"availabilityZones": 1}, "webstack:network.availabilityZones: 1"),
    ("network", {"availabilityZones": 7}, "webstack:network.availabilityZones: 7"),
    ("network", {"natGateways": "two"}, "webstack:network.natGateways: 'two'"),
    ("network", {"flowLogRetentionDays": 10}, "webstack:network.flowLogRetentionDays: 10"),
    ("network", {**BYO, "vpcId": "vpc-1"}, "webstack:network.vpcId: 'vpc-1'"),
    (
        "network",
        {"vpcId": "vpc-0123456789abcdef0"},
        "needs vpcId, publicSubnetIds and privateSubnetIds",
    ),
    (
        "network",
        {**BYO, "privateSubnetIds": ["subnet-0000000000000000c"]},
        "webstack:network.privateSubnetIds",
    ),
    (
        "network",
        {**BYO, "natGateways": "perAz"},
        "webstack:network.natGateways: has no effect with vpcId",
    ),
    ("network", {**BYO, "publicSubnetIds": ["subnet-x"]}, "webstack:network.publicSubnetIds"),
    (
        "network",
        {"endpoints": ["ssm", "s3"]},
        "webstack:network.endpoints: ['ssm', 's3'] is not valid; expected a list of 0 to 11"
        " distinct (ssm, ssmmessages, ec2messages, secretsmanager, logs, monitoring, sqs, kms, sts,"
        " elasticbeanstalk, elasticbeanstalk-health)",
    ),
    (
        "network",
        {"natInstanceType": "t4g.micro"},
        "webstack:network.natInstanceType: has no effect with natGateways 'single' (only with"
        " 'instance'); remove it",
    ),
    (
        "network",
        {"natGateways": "instance", "natInstanceType": "T4G nano"},
        "webstack:network.natInstanceType: 'T4G nano'",
    ),
    (
        "network",
        {**BYO, "endpoints": ["ssm"]},
        "webstack:network.endpoints: has no effect with vpcId",
    ),
    ("storage", {"versioning": "yes"}, "webstack:storage.versioning: 'yes'"),
    (
        "storage",
        {"noncurrentVersionExpirationDays": 0},
        "webstack:storage.noncurrentVersionExpirationDays: 0",
    ),
    (
        "storage",
        {"infrequentAccessAfterDays": 10},
        "webstack:storage.infrequentAccessAfterDays: 10",
    ),
    ("storage", {"corsAllowedOrigins": ["ftp://x"]}, "webstack:storage.corsAllowedOrigins"),
    ("storage", {"kmsKeyArn": "alias/mine"}, "webstack:storage.kmsKeyArn: 'alias/mine'"),
    (
        "storage",
        {"versioning": False, "noncurrentVersionExpirationDays": 30},
        "has no effect with versioning false",
    ),
    ("database", {"engine": "oracle"}, "webstack:database.engine: 'oracle'"),
    ("database", {"engineVersion": "latest"}, "webstack:database.engineVersion: 'latest'"),
    ("database", {"instanceClass": "t3.micro"}, "webstack:database.instanceClass: 't3.micro'"),
    ("database", {"allocatedStorage": 10}, "webstack:database.allocatedStorage: 10"),
    (
        "database",
        {"allocatedStorage": 200, "maxAllocatedStorage": 100},
        "webstack:database.maxAllocatedStorage: 100 is not valid; expected at least 10 % above "
        "allocatedStorage (200 GiB): 220 GiB or more",
    ),
    ("database", {"backupRetentionDays": 0}, "webstack:database.backupRetentionDays: 0"),
    ("database", {"backupRetentionDays": 36}, "webstack:database.backupRetentionDays: 36"),
    ("database", {"monitoringInterval": 7}, "webstack:database.monitoringInterval: 7"),
    ("database", {"dbName": "1app"}, "webstack:database.dbName: '1app'"),
    ("database", {"username": "rdsadmin"}, "webstack:database.username: 'rdsadmin'"),
    ("database", {"logExports": ["postgresql", "slowquery"]}, "webstack:database.logExports"),
    # IAM database authentication is not used, so this export would stay empty.
    ("database", {"logExports": ["iam-db-auth-error"]}, "webstack:database.logExports"),
    (
        "database",
        {"parameters": {"rds.force_ssl": "0"}},
        "webstack:database.parameters.rds.force_ssl",
    ),
    ("database", {"parameters": {"bad name": "1"}}, "webstack:database.parameters.bad name"),
    (
        "database",
        {"engine": "mysql", "performanceInsights": True},
        "webstack:database.performanceInsights: RDS offers no Performance Insights for mysql",
    ),
    (
        "database",
        {"restore": {"snapshot": "a", "sourceInstance": "b", "time": "latest"}},
        "webstack:database.restore: takes snapshot, or sourceInstance and time, not both",
    ),
    (
        "database",
        {"restore": {"sourceInstance": "webstack-prod-db"}},
        "webstack:database.restore.time: is missing; give an RFC 3339 time, or latest",
    ),
    (
        "database",
        {"restore": {"sourceInstance": "webstack-prod-db", "time": "2026-11-20 10:00"}},
        "webstack:database.restore.time: '2026-11-20 10:00' is not valid; expected an RFC 3339",
    ),
    (
        "database",
        {"restore": {"time": "latest"}},
        "webstack:database.restore.time: has no effect without sourceInstance",
    ),
    (
        "database",
        {"restore": {"snapshot": "arn:aws:rds:eu-west-1:123456789012:snapshot:nightly"}},
        "webstack:database.restore.snapshot: 'arn:aws:rds:eu-west-1:123456789012:snapshot:"
        "nightly' is in eu-west-1; the stack is in us-east-1, and it must be in the same region; "
        "copy it here first",
    ),
    (
        "database",
        {"restore": {"snapshot": "1-starts-with-a-digit"}},
        "webstack:database.restore.snapshot: '1-starts-with-a-digit'",
    ),
    (
        "database",
        {"allowMajorVersionUpgrade": True},
        "webstack:database.allowMajorVersionUpgrade: needs applyImmediately true",
    ),
    (
        "database",
        {"blueGreenUpdate": True},
        "webstack:database.blueGreenUpdate: true is refused: RDS runs no blue/green deployment "
        "for an instance whose master password Secrets Manager manages",
    ),
    (
        "database",
        {"backupReplicaRegion": "us-east-1"},
        "webstack:database.backupReplicaRegion: 'us-east-1' is the stack's own region",
    ),
    (
        "database",
        {"backupReplicaRegion": "us-west-9"},
        "webstack:database.backupReplicaRegion: 'us-west-9' is not valid; expected an AWS region",
    ),
    (
        "database",
        {"backupReplicaRegion": "cn-north-1"},
        "'cn-north-1' is in another partition than us-east-1; backups are copied within a "
        "partition",
    ),
    ("database", {"secretRotationDays": 0}, "webstack:database.secretRotationDays: 0"),
    ("database", {"secretRotationDays": 1001}, "webstack:database.secretRotationDays: 1001"),
    (
        "database",
        {
            "kmsKeyArn": "arn:aws:kms:us-west-2:123456789012:key/0f0e0d0c-0b0a-0908-0706-050403020100"
        },
        "webstack:database.kmsKeyArn: 'arn:aws:kms:us-west-2:123456789012:key/",
    ),
    ("app", {"minInstances": 3, "maxInstances": 2}, "webstack:app.minInstances: 3 is greater than"),
    ("app", {"minInstances": 0}, "webstack:app.minInstances: 0"),
    ("app", {"platform": "Python (3.12"}, "webstack:app.platform: 'Python (3.12'"),
    ("app", {"platform": "(?=Python)"}, "look-ahead ((?=…) are not RE2"),
    ("app", {"instanceTypes": []}, "webstack:app.instanceTypes: []"),
    ("app", {"healthCheckPath": "health"}, "webstack:app.healthCheckPath: 'health'"),
    ("app", {"certificateArn": "arn:aws:iam::1:cert"}, "webstack:app.certificateArn"),
    ("app", {"sourceBundle": "no-such-folder"}, "webstack:app.sourceBundle: 'no-such-folder'"),
    (
        "app",
        {"environmentVariables": {"DB_HOST": "x"}},
        "webstack:app.environmentVariables.DB_HOST",
    ),
    ("app", {"environmentVariables": {"1X": "x"}}, "webstack:app.environmentVariables.1X"),
    ("app", {"deploymentPolicy": "BlueGreen"}, "webstack:app.deploymentPolicy: 'BlueGreen'"),
    ("app", {"logRetentionDays": 2}, "webstack:app.logRetentionDays: 2"),
    ("app", {"managedUpdates": {"window": "Sunday 3am"}}, "webstack:app.managedUpdates.window"),
    ("app", {"managedUpdates": {"level": "major"}}, "webstack:app.managedUpdates.level: 'major'"),
    ("alarms", {"emails": ["not-an-address"]}, "webstack:alarms.emails"),
    (
        "alarms",
        {"enabled": False, "emails": ["ops@example.com"]},
        "webstack:alarms.emails: has no effect",
    ),
    ("tags", {"Name": "x"}, "webstack:tags.Name: is reserved by AWS"),
    ("tags", {"stack": "x"}, "webstack:tags.stack: is set by webstack itself"),
    ("tags", {"aws:foo": "x"}, "webstack:tags.aws:foo"),
    ("protectData", "maybe", "webstack:protectData: 'maybe'"),
    (
        "network",
        "not-an-object",
        "webstack:network: 'not-an-object' is not valid; expected a YAML object",
    ),
]


@pytest.mark.parametrize(("section", "value", "expected"), RULES)
def test_each_rule_fires_with_its_key_path(section: str, value: Any, expected: str) -> None:
    found = problems(**{section: value})
    assert len(found) == 1, found
    assert expected in found[0]


def test_messages_name_the_bad_value_and_what_is_accepted() -> None:
    (problem,) = problems(database={"backupRetentionDays": 99})
    assert problem == (
        "webstack:database.backupRetentionDays: 99 is not valid; expected a whole number from 1 to 35"
    )


def test_every_problem_is_reported_in_one_error() -> None:
    found = problems(
        network={"natGateways": "lots"},
        database={"engine": "oracle", "multiAz": 3},
        app={"minInstances": 5, "maxInstances": 1},
    )
    assert [p.split(":")[1].split(" ")[0] for p in found] == [
        "network.natGateways",
        "database.engine",
        "database.multiAz",
        "app.minInstances",
    ]


def test_unknown_keys_are_errors_with_a_suggestion() -> None:
    found = problems(
        database={"instanceClas": "db.t4g.micro"}, app={"managedUpdates": {"windw": "x"}}
    )
    assert found[0].startswith(
        "webstack:database.instanceClas: unknown key (did you mean 'instanceClass'?); accepted keys:"
    )
    assert found[1].startswith(
        "webstack:app.managedUpdates.windw: unknown key (did you mean 'window'?)"
    )


def test_unknown_top_level_key_is_an_error() -> None:
    (problem,) = problems(netwrk={"cidrBlock": "10.0.0.0/16"})
    assert problem.startswith("webstack:netwrk: unknown key (did you mean 'network'?)")


def test_missing_region_says_it_is_missing() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({}, project_dir=PROJECT)
    assert caught.value.problems == (
        "aws:region: missing; set the stack's region, for example "
        "`pulumi config set aws:region us-east-1`",
    )


def test_secret_config_is_refused() -> None:
    raw = {
        "aws:region": "us-east-1",
        "webstack:app": json.dumps({"environmentVariables": {"X": "s"}}),
    }
    with pytest.raises(ConfigError, match=r"webstack:app: is a secret \(`secure:`\)"):
        parse_settings(raw, frozenset({"webstack:app"}), PROJECT)


def test_config_error_prints_without_a_traceback_under_pulumi() -> None:
    assert issubclass(ConfigError, pulumi.RunError)


def test_bad_config_stops_the_program_before_any_resource() -> None:
    record = Run(stack="dev")
    with pytest.raises(ConfigError, match=r"webstack:database\.instanceClass"):
        run_stack("dev", {"webstack:database": {"instanceClass": "huge"}}, record=record)
    assert record.resources == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(["tags", "protectData", "network", "storage", "database", "app", "unknown"])
FIELDS = st.sampled_from(
    [
        "cidrBlock",
        "availabilityZones",
        "natGateways",
        "vpcId",
        "engine",
        "instanceClass",
        "minInstances",
        "maxInstances",
        "platform",
        "parameters",
        "managedUpdates",
        "versioning",
        "logExports",
        "environmentVariables",
        "kmsKeyArn",
        "engineVersion",
    ]
)
SECTION = st.dictionaries(FIELDS, JSON, max_size=5) | JSON


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, SECTION, max_size=5), st.booleans())
def test_random_junk_only_ever_raises_config_error(config: dict[str, Any], as_text: bool) -> None:
    raw: dict[str, str | None] = {"aws:region": "us-east-1"}
    for key, value in config.items():
        raw[f"webstack:{key}"] = str(value) if as_text else json.dumps(value)
    try:
        parse_settings(raw, project_dir=PROJECT)
    except ConfigError as error:
        assert error.problems


# The stack file's JSON Schema (generated from the same field metadata) against the reader.

VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))


def schema_errors(config: dict[str, Any]) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors({"config": config})]


def reader_accepts(config: dict[str, Any]) -> bool:
    raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    try:
        parse_settings(raw, project_dir=PROJECT)
    except ConfigError:
        return False
    return True


def shipped_and_documented_stacks() -> list[tuple[str, dict[str, Any]]]:
    found = [(p.name, stack_file.load(p)) for p in sorted(PROJECT.glob("Pulumi.*.yaml"))]
    blocks = README.read_text().split("```yaml\n")[1:]
    found += [("README example", stack_file.parse(b.split("```")[0], "README")) for b in blocks]
    return [(name, doc) for name, doc in found if isinstance(doc, dict) and "config" in doc]


@pytest.mark.parametrize(("name", "document"), shipped_and_documented_stacks())
def test_schema_and_reader_accept_the_shipped_stacks_and_the_readme_examples(
    name: str, document: dict[str, Any]
) -> None:
    assert [e.message for e in VALIDATOR.iter_errors(document)] == [], name
    assert reader_accepts(document["config"]), name


def wrong_values(kind: Kind) -> list[Any]:
    """Values of the wrong type or out of range for one kind of setting."""
    if isinstance(kind, Flag):
        return ["maybe", 1, ["true"]]
    if isinstance(kind, Whole):
        outside = [max(kind.choices) + 1, -1] if kind.choices else [kind.low - 1, kind.high + 1]
        return [*outside, "10", 2.5, True, [1]]
    if isinstance(kind, Choice):
        return ["not-a-choice", 1, [kind.choices[0]]]
    if isinstance(kind, Decimal):
        return [kind.low / 2, kind.high + 1, "cheap", True, [1]]
    if isinstance(kind, Text):
        found: list[Any] = [["x"], {"a": "b"}, True]
        return found + [v for v in ("", "§ ", "-1.5") if not re.fullmatch(kind.pattern, v)]
    if isinstance(kind, Texts):
        return ["not-a-list", [1], {"a": "b"}]
    if isinstance(kind, TextMap):
        return ["not-a-map", {"ok_name": {"nested": 1}}, {"ok_name": [1]}, ["x"]]
    assert isinstance(kind, Nested)
    return ["not-an-object", {"unknownKey": 1}, [1]]


def bad_configs() -> list[tuple[str, dict[str, Any]]]:
    """One stack config per wrong value of every setting, by its key path."""
    cases: list[tuple[str, dict[str, Any]]] = [("webstack:unknownKey", {"webstack:unknownKey": 1})]
    for top in fields_of(StackSettings):
        key = f"webstack:{top.key}"
        kind = top.spec.kind
        cases += [(key, {key: value}) for value in wrong_values(kind)]
        if isinstance(kind, Nested):
            for f in fields_of(kind.cls):
                cases += [(f"{key}.{f.key}", {key: {f.key: v}}) for v in wrong_values(f.spec.kind)]
    return cases


@pytest.mark.parametrize(("path", "config"), bad_configs(), ids=[p for p, _ in bad_configs()])
def test_schema_refuses_what_the_reader_refuses(path: str, config: dict[str, Any]) -> None:
    config = {"aws:region": "us-east-1", **config}
    assert not reader_accepts(config), path
    assert schema_errors(config), path


def test_schema_and_reader_accept_every_default_written_out() -> None:
    config: dict[str, Any] = {"aws:region": "us-east-1"}
    defaults = StackSettings(region="us-east-1")
    for top in fields_of(StackSettings):
        value = getattr(defaults, top.name)
        config[f"webstack:{top.key}"] = _as_config(value)
    assert schema_errors(config) == []
    assert reader_accepts(config)


def _as_config(value: Any) -> Any:
    """A settings value as a stack file writes it: camelCase keys, lists; unset ones left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.key: _as_config(getattr(value, f.name))
            for f in fields_of(type(value))
            if getattr(value, f.name) not in (None, ())
        }
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


# Numbers reach AWS exactly, or are refused with a hint to quote them.


def test_whole_numbers_in_maps_arrive_as_their_digits() -> None:
    s = parse(
        tags={"cost-center": 12345678},
        database={"parameters": {"max_connections": 12345678}},
        app={"environmentVariables": {"WORKERS": 12345678}},
    )
    assert s.tags["cost-center"] == "12345678"
    assert s.database.parameters["max_connections"] == "12345678"
    assert s.app.environment_variables["WORKERS"] == "12345678"


@pytest.mark.parametrize("value", [1.5, True])
def test_decimals_and_booleans_in_maps_must_be_quoted(value: Any) -> None:
    (problem,) = problems(app={"environmentVariables": {"RATIO": value}})
    assert problem.startswith(f"webstack:app.environmentVariables.RATIO: {value!r} is not valid")
    assert "quote it, so it arrives as written" in problem


@pytest.mark.parametrize(
    ("engine", "version", "read"),
    [("postgres", 17, "17"), ("mysql", 8.4, "8.4"), ("mariadb", 11.4, "11.4")],
)
def test_an_unquoted_version_is_read_as_the_version_it_denotes(
    engine: str, version: float, read: str
) -> None:
    settings = parse(database={"engine": engine, "engineVersion": version}).database
    assert settings.engine_version == read


@pytest.mark.parametrize(("engine", "version"), [("mysql", 8), ("postgres", 16.5)])
def test_a_number_yaml_changed_is_refused_naming_the_value_read(
    engine: str, version: float
) -> None:
    # `engineVersion: 8.0` arrives as 8 (YAML, then Pulumi): not a mysql major.
    (problem,) = problems(database={"engine": engine, "engineVersion": version})
    assert problem.startswith(f"webstack:database.engineVersion: {version!r} is not valid")
    assert f"read as the number {version!r}" in problem
    assert "quote the version as written" in problem


@pytest.mark.parametrize(
    ("engine", "version"), [("postgres", "16.4"), ("mysql", "8"), ("mariadb", "11")]
)
def test_a_version_that_is_not_the_engines_major_is_refused(engine: str, version: str) -> None:
    (problem,) = problems(database={"engine": engine, "engineVersion": version})
    assert problem.startswith(
        f"webstack:database.engineVersion: {version!r} is not valid; expected a major version of"
    )


# AWS's own limits, checked before any resource.

KEY_ID = "0f0e0d0c-0b0a-0908-0706-050403020100"
LIMITS = [
    ("tags", {f"t{i}": "x" for i in range(45)}, "webstack:tags: 45 tags; at most 44 fit"),
    ("tags", {"team": "a{b}"}, "webstack:tags.team: tag values take letters"),
    ("tags", {"te{am": "x"}, "webstack:tags.te{am: tag keys take letters"),
    ("tags", {"team": ""}, "webstack:tags.team: is empty"),
    ("tags", {"team": "aws:x"}, "webstack:tags.team: starts with aws:"),
    (
        "tags",
        {"env": "webstack-test"},
        "webstack:tags.env: equals the Beanstalk environment's name",
    ),
    ("app", {"environmentVariables": {"X" * 129: "v"}}, "names are at most 128 characters"),
    ("app", {"environmentVariables": {"URL": "a?b&c"}}, "webstack:app.environmentVariables.URL"),
    (
        "app",
        {"environmentVariables": {f"V{i}": "x" * 250 for i in range(15)}},
        "webstack:app.environmentVariables: take 4",
    ),
    (
        "storage",
        {"kmsKeyArn": f"arn:aws:kms:eu-west-1:123456789012:key/{KEY_ID}"},
        "is in eu-west-1; the stack is in us-east-1",
    ),
    (
        "storage",
        {"kmsKeyArn": f"arn:aws-cn:kms:us-east-1:123456789012:key/{KEY_ID}"},
        "is in the aws-cn partition; a stack in us-east-1 needs aws",
    ),
    (
        "app",
        {"certificateArn": f"arn:aws:acm:us-west-2:123456789012:certificate/{KEY_ID}"},
        "webstack:app.certificateArn: 'arn:aws:acm:us-west-2",
    ),
    ("network", {"cidrBlock": "127.0.0.0/16"}, "outside 127.0.0.0/8, which a VPC cannot use"),
    ("network", {"cidrBlock": "169.254.0.0/16"}, "outside 169.254.0.0/16"),
    ("network", {"cidrBlock": "0.0.0.0/16"}, "outside 0.0.0.0/8"),
    ("network", {"cidrBlock": "224.0.0.0/16"}, "outside 224.0.0.0/4"),
    ("database", {"maxAllocatedStorage": 21}, "at least 10 % above allocatedStorage (20 GiB)"),
    ("database", {"username": "user"}, "not a reserved word of postgres"),
    ("database", {"dbName": "select"}, "not a reserved word of postgres"),
    ("database", {"engine": "mysql", "dbName": "Database"}, "not a reserved word of mysql"),
    ("database", {"engine": "mariadb", "username": "grant"}, "not a reserved word of mariadb"),
    ("database", {"username": "pg_owner"}, "does not start with pg_"),
    ("database", {"username": "admin"}, "postgres on RDS does not keep for itself"),
    ("database", {"dbName": "rdsdata"}, "does not start with rds"),
    ("database", {"dbName": "template1"}, "other than postgres's own databases"),
    ("database", {"engine": "mysql", "dbName": "sys"}, "other than mysql's own databases"),
    ("database", {"parameters": {"RDS.Force_SSL": "0"}}, "parameters.RDS.Force_SSL: is managed"),
    (
        "database",
        {"engine": "mysql", "parameters": {"REQUIRE_SECURE_TRANSPORT": "OFF"}},
        "parameters.REQUIRE_SECURE_TRANSPORT: is managed",
    ),
    ("app", {"healthCheckPath": "/" + "h" * 1024}, "at most 1024 characters"),
    ("app", {"solutionStackName": "Python 3.12"}, "an Amazon Linux 2023 solution stack name"),
    ("app", {"instanceTypes": ["t3.small", "t3a.small"]}, "Beanstalk launches only the first"),
    ("app", {"instanceTypes": ["t3.small", "t4g.small"]}, "mixes architectures"),
    ("app", {"platform": r"Python\Z"}, "\\Z is not RE2"),
    ("app", {"platform": "(?>Python)"}, "atomic groups"),
    ("app", {"platform": "Python 3.1[0-9]++"}, "possessive quantifiers"),
    ("app", {"platform": r"(P)ython \1"}, "back-references"),
]


@pytest.mark.parametrize(("section", "value", "expected"), LIMITS)
def test_aws_limits_are_config_errors_naming_the_key(
    section: str, value: Any, expected: str
) -> None:
    raw = {"aws:region": "us-east-1", f"webstack:{section}": json.dumps(value)}
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, project_dir=PROJECT, project="webstack", stack="test")
    assert any(expected in p for p in caught.value.problems), caught.value.problems
    assert all(p.startswith(f"webstack:{section}") for p in caught.value.problems)


def test_names_the_engines_allow_pass() -> None:
    database = parse(database={"engine": "mysql", "username": "admin", "dbName": "orders"}).database
    assert (database.username, database.db_name) == ("admin", "orders")


@pytest.mark.parametrize(
    ("instance_type", "arch"),
    [
        ("t4g.micro", "arm64"),
        ("m7g.large", "arm64"),
        ("c6gn.xlarge", "arm64"),
        ("a1.large", "arm64"),
        ("x2gd.large", "arm64"),
        ("t3.micro", "x86_64"),
        ("g4dn.xlarge", "x86_64"),
        ("m7i.large", "x86_64"),
    ],
)
def test_architecture_follows_the_instance_family(instance_type: str, arch: str) -> None:
    assert architecture(instance_type) == arch


@pytest.mark.parametrize(
    ("region", "message"),
    [
        ("us-east-7", "aws:region: 'us-east-7' is not an AWS region (did you mean 'us-east-"),
        ("mars-1", "aws:region: 'mars-1' is not an AWS region"),
    ],
)
def test_a_region_that_does_not_exist_is_refused(region: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"aws:region": region}, project_dir=PROJECT)
    (problem,) = caught.value.problems
    assert problem.startswith(message)


def test_regions_of_every_partition_are_known() -> None:
    for region in ("us-gov-west-1", "cn-north-1", "mx-central-1", "ap-southeast-7"):
        assert parse_settings({"aws:region": region}, project_dir=PROJECT).region == region


# The app's source bundle: a folder of the project, and nothing else.


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "application.py").write_text("app = None\n")
    (tmp_path / "venv").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("/etc", "a folder inside the project"),
        ("..", "a folder inside the project"),
        (".", "not the project itself"),
        ("venv", "a folder outside venv"),
        ("missing", "a folder that exists"),
    ],
)
def test_a_source_bundle_outside_the_project_is_refused(
    project: Path, source: str, expected: str
) -> None:
    raw = {"aws:region": "us-east-1", "webstack:app": json.dumps({"sourceBundle": source})}
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, project_dir=project)
    (problem,) = caught.value.problems
    assert problem.startswith(f"webstack:app.sourceBundle: {source!r} is not valid; expected")
    assert expected in problem


def test_a_link_out_of_the_bundle_is_refused(project: Path) -> None:
    (project / "app" / "secrets").symlink_to("/etc")
    with pytest.raises(ConfigError, match="whose links stay inside it"):
        parse_settings(
            {"aws:region": "us-east-1", "webstack:app": '{"sourceBundle": "app"}'},
            project_dir=project,
        )


def test_a_bundle_with_a_git_folder_or_over_500_mb_is_refused(project: Path) -> None:
    raw = {"aws:region": "us-east-1", "webstack:app": '{"sourceBundle": "app"}'}
    (project / "app" / ".git").mkdir()
    with pytest.raises(ConfigError, match=r"without venv, \.venv, \.git, build in it"):
        parse_settings(raw, project_dir=project)
    (project / "app" / ".git").rmdir()
    with (project / "app" / "video.bin").open("wb") as sparse:
        sparse.truncate(501 * 1024 * 1024)  # sparse: no disk is used
    with pytest.raises(ConfigError, match="at most 500 MB"):
        parse_settings(raw, project_dir=project)


# Messages a user understands.


def test_a_nested_secret_is_reported_at_its_full_path() -> None:
    raw = {
        "aws:region": "us-east-1",
        "webstack:app": json.dumps({"environmentVariables": {"TOKEN": "s", "MODE": "x"}}),
    }
    secret = frozenset({"webstack:app", "webstack:app.environmentVariables.TOKEN"})
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, secret, PROJECT)
    (problem,) = caught.value.problems
    assert problem.startswith("webstack:app.environmentVariables.TOKEN: is a secret (`secure:`)")


def test_a_secret_in_the_stack_file_is_reported_at_its_path_by_the_offline_plan(
    tmp_path: Path,
) -> None:
    for name in ("Pulumi.yaml", "__main__.py", "components"):
        (tmp_path / name).symlink_to(PROJECT / name)
    shutil.copytree(PROJECT / "app", tmp_path / "app")
    (tmp_path / "Pulumi.s.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  webstack:app:\n    environmentVariables:\n"
        "      TOKEN:\n        secure: AAABAKJ0ZXN0\n"
    )
    with pytest.raises(ConfigError) as caught:
        run_stack("s", project_dir=tmp_path)
    (problem,) = caught.value.problems
    assert problem.startswith("webstack:app.environmentVariables.TOKEN: is a secret")


def test_huge_or_deep_values_are_shown_short_and_refused_without_recursion() -> None:
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(ConfigError) as caught:
        parse_settings({"aws:region": "us-east-1", "webstack:app": deep}, project_dir=PROJECT)
    assert caught.value.problems == (
        "webstack:app: nested too deeply; a setting is never more than 3 levels down",
    )
    (problem,) = problems(database={"dbName": "x" * 10_000})
    assert len(problem) < 300


@pytest.mark.parametrize(
    ("config", "on"),
    [
        ({}, True),
        ({"protectData": False}, False),
        ({"protectData": False, "alarms": {"enabled": True}}, True),
        ({"alarms": {"enabled": False}}, False),
    ],
)
def test_alarms_are_on_where_data_is_protected_unless_set(config: dict[str, Any], on: bool) -> None:
    assert parse(**config).alarms_on is on


@pytest.mark.parametrize(
    ("restore", "expected"),
    [
        ({}, RestoreSettings()),
        ({"snapshot": "nightly-1"}, RestoreSettings(snapshot="nightly-1")),
        (
            {"sourceInstance": "webstack-prod-db", "time": "2026-11-20T10:00:00.5+01:00"},
            RestoreSettings(source_instance="webstack-prod-db", time="2026-11-20T10:00:00.5+01:00"),
        ),
        (
            {"sourceInstance": "webstack-prod-db", "time": "latest"},
            RestoreSettings(source_instance="webstack-prod-db", time="latest"),
        ),
    ],
)
def test_a_restore_is_read_in_each_form(restore: dict[str, str], expected: RestoreSettings) -> None:
    database = parse(database={"restore": restore}).database
    assert database.restore == expected
    assert database.restore.requested is bool(restore)


def test_a_major_upgrade_and_a_second_backup_region_are_read() -> None:
    database = parse(
        database={
            "engineVersion": "17",
            "allowMajorVersionUpgrade": True,
            "applyImmediately": True,
            "backupReplicaRegion": "us-west-2",
            "secretRotationDays": 30,
        }
    ).database
    assert (
        database.allow_major_version_upgrade,
        database.apply_immediately,
        database.backup_replica_region,
        database.secret_rotation_days,
    ) == (True, True, "us-west-2", 30)


@pytest.mark.parametrize(
    ("value", "kept"), [(0.05, "0.05"), ("0.050", "0.050"), (20, "20"), (0.001, "0.001")]
)
def test_a_decimal_is_read_from_a_number_or_its_text_and_kept_as_text(
    value: Any, kept: str
) -> None:
    assert Decimal(0.001, 20.0).parse(value, "k", Reader()) == kept


@pytest.mark.parametrize("value", [True, "1e-3", "-1", 0.0009, 21, None])
def test_a_decimal_outside_its_range_or_not_a_number_is_refused(value: Any) -> None:
    with pytest.raises(InvalidValueError, match=r"a number from 0\.001 to 20"):
        Decimal(0.001, 20.0).parse(value, "k", Reader())


def test_a_worker_job_longer_than_nginx_waits_is_refused_naming_the_fix(tmp_path: Path) -> None:
    from components.hosting.settings import nginx_timeout_problem

    bundle = tmp_path / "jobs"
    (bundle / ".platform" / "nginx" / "conf.d").mkdir(parents=True)
    # No proxy_read_timeout: nginx's 60 s is the limit.
    assert nginx_timeout_problem(tmp_path, "jobs", 61) is None
    why = nginx_timeout_problem(tmp_path, "jobs", 300)
    assert why is not None and "nginx on the workers gives up on a job after 60 s" in why
    assert "proxy_read_timeout 300s;" in why
    (bundle / ".platform" / "nginx" / "conf.d" / "t.conf").write_text("proxy_read_timeout 10m;\n")
    assert nginx_timeout_problem(tmp_path, "jobs", 601) is None
    assert nginx_timeout_problem(tmp_path, "jobs", 900) is not None
    # The sample app waits as long as a job may take.
    assert nginx_timeout_problem(PROJECT, "app", 36_000) is None


def test_the_stack_refuses_a_worker_whose_bundle_would_cut_its_jobs_off() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings(
            {
                "aws:region": "us-east-1",
                "webstack:worker": json.dumps({"enabled": True, "sourceBundle": "schema"}),
            },
            project_dir=PROJECT,
        )
    assert "webstack:worker.visibilityTimeoutSeconds: 300 s, but nginx" in str(raised.value)
