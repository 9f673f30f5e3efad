"""Look-ups before any resource: zones, engine versions, solution stacks; a miss names its key."""

from __future__ import annotations

from typing import Any

import pytest

from components.settings import ConfigError
from tests.support import option_settings, run
from tools.fake_aws import answer_invoke
from tools.mock_engine import Run, run_stack

ENV = "aws:elasticbeanstalk/environment:Environment"
PARAMS = "aws:rds/parameterGroup:ParameterGroup"


def refused(overrides: dict[str, Any]) -> list[str]:
    """The problems of a run that must stop before registering anything."""
    record = Run(stack="dev")
    with pytest.raises(ConfigError) as caught:
        run_stack("dev", overrides, record=record)
    assert [r.type for r in record.resources] == ["pulumi:providers:aws"]
    return list(caught.value.problems)


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
    r = run("dev", {"webstack:app": {"platform": "(?i)python 3.13"}})
    assert r.one(ENV).inputs["solutionStackName"].endswith("running Python 3.13")


def test_an_exact_solution_stack_is_looked_up_literally() -> None:
    name = "64bit Amazon Linux 2023 v4.7.2 running Python 3.12"
    r = run("dev", {"webstack:app": {"solutionStackName": name}})
    assert r.one(ENV).inputs["solutionStackName"] == name
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
    r = run("dev", {"webstack:database": {"engine": engine, "engineVersion": version}})
    assert r.one(PARAMS).inputs["family"] == family
    assert r.one("aws:rds/instance:Instance").inputs["engineVersion"] == version
    (args,) = [a for t, a in r.invokes if t.endswith("getEngineVersion")]
    assert args == {"engine": engine, "version": version, "latest": True}
    found = answer_invoke("aws:rds/getEngineVersion:getEngineVersion", args, "us-east-1")
    assert found["version"] == actual


def test_an_engine_version_rds_does_not_offer_is_a_config_error() -> None:
    (problem,) = refused({"webstack:database": {"engineVersion": "12"}})
    assert problem.startswith(
        "webstack:database.engineVersion: '12' matches no postgres version RDS offers in us-east-1"
    )
    assert "aws rds describe-db-engine-versions --engine postgres" in problem


@pytest.mark.parametrize(
    ("region", "zones"), [("us-east-1", 6), ("us-west-2", 4), ("eu-west-1", 3)]
)
def test_zones_are_the_ones_the_region_has(region: str, zones: int) -> None:
    found = answer_invoke("aws:index/getAvailabilityZones:getAvailabilityZones", {}, region)
    assert len(found["names"]) == zones
    assert all(name.startswith(region) for name in found["names"])


def test_the_network_uses_the_zones_looked_up() -> None:
    r = run("prod", {"aws:region": "eu-west-1"})
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
