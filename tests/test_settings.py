"""Settings: every default, every validation rule with its key path, unknown keys, fuzzed junk."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.database import DatabaseSettings
from components.fields import Choice, Flag, Kind, Nested, Text, TextMap, Texts, Whole, fields_of
from components.hosting import AppSettings, ManagedUpdates
from components.network import NetworkSettings
from components.settings import ConfigError, StackSettings, parse_settings
from components.storage import StorageSettings
from tools.docs import README, SCHEMA
from tools.mock_engine import Run, run_stack

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
        instance_types=("t3.micro",),
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
        database={"engineVersion": 16, "allocatedStorage": 30, "multiAz": "true"},
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
        "webstack:database.maxAllocatedStorage: 100 is not valid; expected at least allocatedStorage",
    ),
    ("database", {"backupRetentionDays": 0}, "webstack:database.backupRetentionDays: 0"),
    ("database", {"backupRetentionDays": 36}, "webstack:database.backupRetentionDays: 36"),
    ("database", {"monitoringInterval": 7}, "webstack:database.monitoringInterval: 7"),
    ("database", {"dbName": "1app"}, "webstack:database.dbName: '1app'"),
    ("database", {"username": "rdsadmin"}, "webstack:database.username: 'rdsadmin'"),
    ("database", {"logExports": ["postgresql", "slowquery"]}, "webstack:database.logExports"),
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
    ("app", {"minInstances": 3, "maxInstances": 2}, "webstack:app.minInstances: 3 is greater than"),
    ("app", {"minInstances": 0}, "webstack:app.minInstances: 0"),
    ("app", {"platform": "Python (3.12"}, "webstack:app.platform: 'Python (3.12'"),
    ("app", {"platform": "(?=Python)"}, "no look-around"),
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


def test_missing_region_is_an_error() -> None:
    with pytest.raises(ConfigError, match="aws:region: None is not valid"):
        parse_settings({}, project_dir=PROJECT)


def test_secret_config_is_refused() -> None:
    raw = {
        "aws:region": "us-east-1",
        "webstack:app": json.dumps({"environmentVariables": {"X": "s"}}),
    }
    with pytest.raises(ConfigError, match="webstack:app: holds a secret"):
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
    found = [(p.name, yaml.safe_load(p.read_text())) for p in sorted(PROJECT.glob("Pulumi.*.yaml"))]
    blocks = README.read_text().split("```yaml\n")[1:]
    found += [("README example", yaml.safe_load(b.split("```")[0])) for b in blocks]
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
