"""Look-ups before any resource: zones, engine versions, solution stacks; a miss names its key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.lookups import AwsFacts, look_up
from components.settings import ConfigError, parse_settings
from tests.support import option_settings, run
from tools.engine.fake_aws import ACCOUNT_FILE, Account, AwsError, answer_invoke
from tools.engine.mock_engine import PROJECT_DIR, Run, run_component, run_stack
from tools.engine.stack_file import StackFileError

ENV = "aws:elasticbeanstalk/environment:Environment"
PARAMS = "aws:rds/parameterGroup:ParameterGroup"


def looked_up(config: dict[str, Any], strict: bool | None = None) -> tuple[AwsFacts, Run]:
    """`look_up` alone in an empty stack, for settings read from config-style sections."""
    raw = {"aws:region": "us-east-1", **config}
    settings = parse_settings(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()},
        project_dir=PROJECT_DIR,
    )
    found: list[AwsFacts] = []
    run = run_component(
        lambda: found.append(look_up(settings, pulumi.InvokeOptions())), raw, strict=strict
    )
    return found[0], run


def refused(config: dict[str, Any], strict: bool | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        looked_up(config, strict)
    return list(caught.value.problems)


def test_a_miss_stops_the_program_before_any_resource() -> None:
    record = Run(stack="dev")
    with pytest.raises(ConfigError, match=r"webstack:database\.engineVersion: '12'"):
        run_stack("dev", {"webstack:database": {"engineVersion": "12"}}, record=record)
    assert [r.type for r in record.resources] == ["pulumi:providers:aws"]


def test_the_platform_resolves_to_the_newest_matching_amazon_linux_2023_stack() -> None:
    r = run("dev")
    (args,) = [a for t, a in r.invokes if t.endswith("getSolutionStack")]
    assert args == {
        "mostRecent": True,
        "nameRegex": r"^64bit Amazon Linux 2023 v\d+\.\d+\.\d+ running (?:Python 3.12)$",
    }
    env = r.one(ENV).inputs
    assert env["solutionStackName"] == "64bit Amazon Linux 2023 v4.8.1 running Python 3.12"


def test_inline_flags_work_as_in_re2() -> None:
    facts, _ = looked_up({"webstack:app": {"platform": "(?i)python 3.13"}})
    assert facts.solution_stack == "64bit Amazon Linux 2023 v4.8.1 running Python 3.13"


def test_an_exact_solution_stack_is_looked_up_literally() -> None:
    name = "64bit Amazon Linux 2023 v4.7.2 running Python 3.12"
    facts, r = looked_up({"webstack:app": {"solutionStackName": name}})
    assert facts.solution_stack == name
    (args,) = [a for t, a in r.invokes if t.endswith("getSolutionStack")]
    assert args["nameRegex"] == r"^64bit Amazon Linux 2023 v4\.7\.2 running Python 3\.12$"


@pytest.mark.parametrize(
    ("app", "key"),
    [
        ({"platform": "Ruby 3.4"}, "webstack:app.platform: 'Ruby 3.4' matches no Amazon Linux"),
        (
            {"solutionStackName": "64bit Amazon Linux 2023 v9.9.9 running Python 3.12"},
            "webstack:app.solutionStackName: '64bit Amazon Linux 2023 v9.9.9 running Python 3.12'"
            " matches no",
        ),
    ],
)
def test_a_platform_beanstalk_does_not_have_is_a_config_error(
    app: dict[str, str], key: str
) -> None:
    (problem,) = refused({"webstack:app": app})
    assert problem.startswith(key)
    assert "aws elasticbeanstalk list-available-solution-stacks" in problem


@pytest.mark.parametrize(
    ("engine", "version", "actual", "family"),
    [
        ("postgres", "14", "14.20", "postgres14"),
        ("postgres", "18", "18.1", "postgres18"),
        ("mysql", "8.0", "8.0.44", "mysql8.0"),
        ("mariadb", "10.11", "10.11.15", "mariadb10.11"),
    ],
)
def test_engine_versions_rds_offers_pick_their_family(
    engine: str, version: str, actual: str, family: str
) -> None:
    facts, r = looked_up({"webstack:database": {"engine": engine, "engineVersion": version}})
    assert (facts.engine_version, facts.parameter_group_family) == (actual, family)
    (args,) = [a for t, a in r.invokes if t.endswith("getEngineVersion")]
    assert args == {"engine": engine, "version": version, "latest": True}


def test_an_engine_version_rds_does_not_offer_is_a_config_error() -> None:
    (problem,) = refused({"webstack:database": {"engineVersion": "12"}})
    assert problem.startswith(
        "webstack:database.engineVersion: '12' matches no postgres version RDS offers in us-east-1"
    )
    assert "aws rds describe-db-engine-versions --engine postgres" in problem


def test_a_version_yaml_changed_names_the_number_read_when_rds_has_none() -> None:
    # `engineVersion: 11.10` arrives as 11.1: a mariadb major in form, but none RDS offers.
    (problem,) = refused({"webstack:database": {"engine": "mariadb", "engineVersion": 11.1}})
    assert problem.startswith("webstack:database.engineVersion: 11.1 matches no mariadb version")
    assert "read as the number 11.1" in problem and "quote the version as written" in problem


@pytest.mark.parametrize(
    ("region", "zones"), [("us-east-1", 6), ("us-west-2", 4), ("eu-west-1", 3)]
)
def test_zones_are_the_ones_the_region_has(region: str, zones: int) -> None:
    found = answer_invoke("aws:index/getAvailabilityZones:getAvailabilityZones", {}, region)
    assert len(found["names"]) == zones
    assert all(name.startswith(region) for name in found["names"])


def test_the_stack_is_built_from_what_was_looked_up() -> None:
    r = run("prod", {"aws:region": "eu-west-1"})
    assert r.one(PARAMS).inputs["family"] == "postgres17"
    assert r.one("aws:rds/instance:Instance").inputs["engineVersion"] == "17"
    subnets = r.of_type("aws:ec2/subnet:Subnet")
    assert sorted({s.inputs["availabilityZone"] for s in subnets}) == [
        "eu-west-1a",
        "eu-west-1b",
        "eu-west-1c",
    ]
    assert option_settings(r)[("aws:ec2:vpc", "VPCId")] == r.outputs["vpcId"]


def test_more_zones_than_the_region_has_is_a_config_error() -> None:
    (problem,) = refused({"aws:region": "us-west-1", "webstack:network": {"availabilityZones": 3}})
    assert problem == (
        "webstack:network.availabilityZones: 3 is more than the 2 zones us-west-1 gives this "
        "account (us-west-1a, us-west-1c); expected at most 2"
    )


def test_every_miss_is_reported_at_once() -> None:
    problems = refused(
        {
            "aws:region": "us-west-1",
            "webstack:network": {"availabilityZones": 3},
            "webstack:database": {"engineVersion": "12"},
            "webstack:app": {"platform": "Ruby"},
        }
    )
    assert [p.split(":", 2)[1].split(" ")[0] for p in problems] == [
        "network.availabilityZones",
        "database.engineVersion",
        "app.platform",
    ]


def test_a_domain_in_its_zone_gets_beanstalks_hosted_zone() -> None:
    domain = {"name": "app.example.com", "hostedZoneId": "Z0123456789EXAMPLE"}
    facts, r = looked_up({"webstack:app": {"domain": domain}})
    assert facts.environment_zone_id == "Z117KPS5GTRQ2G"
    assert [a for t, a in r.invokes if t.endswith("getZone")] == [{"zoneId": "Z0123456789EXAMPLE"}]
    assert looked_up({})[0].environment_zone_id is None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {
                "webstack:app": {
                    "domain": {"name": "app.example.org", "hostedZoneId": "Z0123456789EXAMPLE"}
                }
            },
            "webstack:app.domain.name: 'app.example.org' is not in the zone example.com",
        ),
        (
            {"webstack:app": {"domain": {"name": "app.example.com", "hostedZoneId": "Z999"}}},
            "webstack:app.domain.hostedZoneId: 'Z999' is no hosted zone",
        ),
        (
            {
                "aws:region": "me-central-1",
                "webstack:app": {
                    "domain": {"name": "app.example.com", "hostedZoneId": "Z0123456789EXAMPLE"}
                },
            },
            "webstack:app.domain: Beanstalk's hosted zone in me-central-1 is unknown",
        ),
    ],
)
def test_a_domain_that_cannot_be_served_is_a_config_error(
    config: dict[str, Any], message: str
) -> None:
    # Strict: fake AWS refuses what its account does not know, as AWS refuses what is not there.
    (problem,) = refused(config, strict=True)
    assert problem.startswith(message)


def test_offline_a_real_accounts_ids_plan_and_are_listed_as_unchecked() -> None:
    # Pulumi.prod.yaml asks a team for its own hosted zone: offline knows only the example one.
    domain = {"name": "app.shop.example.net", "hostedZoneId": "Z04567891ABCDEFGHIJKL"}
    facts, run = looked_up({"webstack:app": {"domain": domain}})
    assert facts.environment_zone_id == "Z117KPS5GTRQ2G"
    assert run.unchecked == ["hosted zone Z04567891ABCDEFGHIJKL"]
    restore = {"snapshot": "nightly-2026-12-01", "allocatedStorage": 20}
    _, run = looked_up({"webstack:database": {"restore": {"snapshot": restore["snapshot"]}}})
    assert run.unchecked == ["DB snapshot nightly-2026-12-01"]
    _, run = looked_up(
        {
            "webstack:database": {
                "engine": "mysql",
                "restore": LATEST | {"sourceInstance": "orders-db"},
            }
        }
    )
    assert run.unchecked == ["DB instance orders-db"]
    # What fake AWS knows is still checked, and its errors say they are fake AWS's.
    (problem,) = refused(
        {
            "webstack:app": {
                "domain": {"name": "app.example.org", "hostedZoneId": "Z0123456789EXAMPLE"}
            }
        }
    )
    assert "is not in the zone example.com" in problem


def test_an_account_file_brings_the_sharper_checks_back(tmp_path: Path) -> None:
    (tmp_path / ACCOUNT_FILE).write_text(
        "hostedZones:\n  Z04567891ABCDEFGHIJKL: shop.example.net\n"
        "snapshots:\n  nightly: {engine: postgres, version: '16.11', encrypted: true, gib: 30}\n"
    )
    account = Account.load(tmp_path, {})
    zone = answer_invoke(
        "aws:route53/getZone:getZone", {"zoneId": "Z04567891ABCDEFGHIJKL"}, "us-east-1", account
    )
    assert zone["name"] == "shop.example.net."
    snapshot = answer_invoke(
        "aws:rds/getSnapshot:getSnapshot", {"dbSnapshotIdentifier": "nightly"}, "us-east-1", account
    )
    assert (snapshot["engineVersion"], snapshot["allocatedStorage"]) == ("16.11", 30)
    assert account.unchecked == []
    (tmp_path / ACCOUNT_FILE).write_text("strict: true\n")
    strict = Account.load(tmp_path, {})
    with pytest.raises(AwsError, match=r"^fake AWS, offline: no matching Route 53 Hosted Zone"):
        answer_invoke("aws:route53/getZone:getZone", {"zoneId": "Z1"}, "us-east-1", strict)
    (tmp_path / ACCOUNT_FILE).write_text("zones: []\n")
    with pytest.raises(StackFileError, match=r"offline-account\.yaml: expected a map of"):
        Account.load(tmp_path, {})


KEY = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0b0a-0908-0706-050403020100"
PROD_SNAPSHOT = "webstack-prod-db-final-0a1b2c3d"
LATEST = {"sourceInstance": "webstack-prod-db", "time": "latest"}


@pytest.mark.parametrize(
    "restore",
    [
        {"snapshot": PROD_SNAPSHOT},
        {"snapshot": f"arn:aws:rds:us-east-1:123456789012:snapshot:{PROD_SNAPSHOT}"},
        LATEST,
    ],
)
def test_a_restore_from_a_matching_source_passes(restore: dict[str, str]) -> None:
    facts, r = looked_up({"webstack:database": {"restore": restore, "allocatedStorage": 50}})
    assert facts.engine_version == "17.7"
    looked = {t.split(":")[-1] for t, _ in r.invokes}
    assert looked >= ({"getInstance"} if "sourceInstance" in restore else {"getSnapshot"})


RESTORE_PROBLEMS = [
    (
        {"restore": {"snapshot": PROD_SNAPSHOT}},
        ["the source has 50 GiB; set allocatedStorage to at least that"],
    ),
    (
        {"restore": {"snapshot": "legacy-unencrypted"}},
        [
            "the source runs postgres 16.11; set engineVersion to '16' (upgrade after the restore)",
            "the source is not encrypted, and a restore keeps that: copy its snapshot with a KMS "
            "key (aws rds copy-db-snapshot --kms-key-id …) and restore the copy",
        ],
    ),
    (
        {"restore": LATEST, "allocatedStorage": 50, "engine": "mysql"},
        ["the source is postgres; set engine to postgres"],
    ),
    (
        {"restore": LATEST, "allocatedStorage": 50, "username": "owner", "dbName": "orders"},
        [
            "the source's username is 'app_admin', which the restore keeps; set username to it",
            "the source's dbName is 'app', which the restore keeps; set dbName to it",
        ],
    ),
]


@pytest.mark.parametrize(("database", "expected"), RESTORE_PROBLEMS)
def test_a_restore_rds_would_refuse_or_alter_is_a_config_error(
    database: dict[str, Any], expected: list[str]
) -> None:
    assert refused({"webstack:database": database}) == [
        f"webstack:database.restore: {text}" for text in expected
    ]


def test_a_restore_keeps_the_sources_key_so_another_key_is_refused() -> None:
    (problem,) = refused(
        {"webstack:database": {"restore": LATEST, "allocatedStorage": 50, "kmsKeyArn": KEY}}
    )
    assert problem.startswith(
        "webstack:database.restore: the source is encrypted under arn:aws:kms:"
    )
    assert problem.endswith("which the restore keeps; set kmsKeyArn to it or leave kmsKeyArn out")


@pytest.mark.parametrize(
    ("restore", "expected"),
    [
        (
            {"snapshot": "nightly-gone"},
            "webstack:database.restore.snapshot: 'nightly-gone' is not there (invoke of "
            "aws:rds/getSnapshot:getSnapshot failed: fake AWS, offline: Your query returned no results.",
        ),
        (
            {"sourceInstance": "gone", "time": "latest"},
            "webstack:database.restore.sourceInstance: 'gone' is not there (invoke of "
            "aws:rds/getInstance:getInstance failed: fake AWS, offline: couldn't find resource",
        ),
    ],
)
def test_a_missing_restore_source_names_its_key(restore: dict[str, str], expected: str) -> None:
    (problem,) = refused({"webstack:database": {"restore": restore}}, strict=True)
    assert problem.startswith(expected)
