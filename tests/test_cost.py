"""The cost floor in the plan: the arithmetic, the itemisation, and the dev stack under $25."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import run
from tools.cost.floor import Floor, floor_of, render_floor
from tools.cost.prices import HOURS_PER_MONTH, REGIONS, SOURCES
from tools.engine.mock_engine import Registration, Run

US_EAST_1 = REGIONS["us-east-1"]


def items(stack: str, overrides: dict[str, object] | None = None) -> dict[str, float]:
    floor = floor_of(run(stack, overrides))
    assert floor is not None
    return {item.what: round(item.monthly, 6) for item in floor.items}


def test_the_dev_floor_is_the_sum_of_its_list_prices_and_under_25_dollars() -> None:
    hours = HOURS_PER_MONTH
    expected = {
        "instances": round(hours * 0.0084, 6),  # one t4g.micro
        "load balancer": 0.0,  # a single instance has none
        "database": round(hours * 0.016, 6),  # db.t4g.micro, Single-AZ
        "database storage": round(20 * 0.115, 6),  # 20 GiB gp3
        "NAT gateways": 0.0,
        "public IPv4": round(hours * 0.005, 6),  # the instance's Elastic IP
        "secrets": 0.40,  # the RDS-managed master secret
        "KMS keys": 0.0,
    }
    assert items("dev") == expected
    floor = floor_of(run("dev"))
    assert floor is not None and floor.unpriced == []
    assert floor.total == pytest.approx(24.162)
    assert floor.total <= 25


def test_the_prod_floor_counts_each_nat_gateway_and_every_public_address() -> None:
    found = items("prod")
    hours = HOURS_PER_MONTH
    assert found["NAT gateways"] == pytest.approx(3 * hours * US_EAST_1.nat_hour)
    # The load balancer's address in each of 3 zones, and each NAT gateway's Elastic IP.
    assert found["public IPv4"] == pytest.approx(6 * hours * US_EAST_1.ipv4_hour)
    assert found["load balancer"] == pytest.approx(hours * 0.0225)  # us-east-1
    assert found["instances"] == pytest.approx(2 * hours * US_EAST_1.ec2_hour["t4g.small"])
    assert found["database storage"] == pytest.approx(2 * 50 * US_EAST_1.rds_gp3_gb_month)
    assert found["KMS keys"] == 2  # the alarms topic's key and the backup copy's key
    assert found["WAF"] == pytest.approx(5 + 4 * 1)
    # Prod's own class, Multi-AZ: two instances at the listed Single-AZ rate.
    assert found["database"] == pytest.approx(2 * hours * 0.168)
    floor = floor_of(run("prod"))
    assert floor is not None and floor.unpriced == []
    text = "\n".join(render_floor(run("prod")))
    assert "not priced" not in text and "at least" not in text


PRICED_REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"]


def test_the_table_covers_the_regions_teams_deploy_to() -> None:
    assert sorted(REGIONS) == sorted(PRICED_REGIONS)


@pytest.mark.parametrize("region", PRICED_REGIONS)
@pytest.mark.parametrize("family", ["t4g", "t3", "m7g", "m6g", "r7g", "r6g", "c7g"])
def test_every_size_of_the_families_the_stacks_take_is_priced(region: str, family: str) -> None:
    prices = REGIONS[region]
    sizes = ["medium", "large", "xlarge", "2xlarge", "4xlarge"]
    if family in ("t4g", "t3"):
        sizes = ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"]
    assert [f"{family}.{s}" for s in sizes if f"{family}.{s}" not in prices.ec2_hour] == []
    if family != "c7g":
        db_sizes = sizes if family in ("t4g", "t3") else ["large", "xlarge", "2xlarge", "4xlarge"]
        db_sizes = [s for s in db_sizes if s != "nano"]
        for engine in ("postgres", "mysql", "mariadb"):
            missing = [s for s in db_sizes if prices.rds(engine, f"db.{family}.{s}") is None]
            assert missing == [], (engine, family)


def test_each_region_has_its_own_rates() -> None:
    # AWS's feed: Frankfurt and Ireland list above Virginia; Ohio's c7g below it.
    assert REGIONS["eu-central-1"].rds("postgres", "db.t4g.micro") == 0.019
    assert REGIONS["eu-west-1"].ec2_hour["t4g.micro"] == 0.0092
    assert REGIONS["us-east-2"].ec2_hour["c7g.large"] < US_EAST_1.ec2_hour["c7g.large"]
    assert REGIONS["eu-central-1"].rds_gp3_gb_month == 0.137
    assert REGIONS["eu-central-1"].nat_hour == 0.052


def test_a_price_no_source_gave_is_named_not_guessed() -> None:
    floor = floor_of(run("prod", {"aws:region": "us-east-2"}))
    assert floor is not None
    assert floor.unpriced == [
        "1 Application Load Balancer (no price known in us-east-2)",
        f"{len(run('prod').of_type('aws:cloudwatch/metricAlarm:MetricAlarm'))} alarms"
        " (no price known in us-east-2)",
    ]
    names = {item.what for item in floor.items}
    assert {"instances", "database", "NAT gateways"} <= names and "load balancer" not in names
    text = "\n".join(render_floor(run("prod", {"aws:region": "us-east-2"})))
    assert "not priced" in text and "at least" in text


def test_mysql_and_mariadb_have_their_own_rates_where_aws_lists_them() -> None:
    assert US_EAST_1.rds("postgres", "db.r6g.large") == 0.225
    assert US_EAST_1.rds("mysql", "db.r6g.large") == 0.215
    assert US_EAST_1.rds("mariadb", "db.t4g.micro") == US_EAST_1.rds("postgres", "db.t4g.micro")
    assert US_EAST_1.rds("sqlserver-ex", "db.t4g.micro") is None


def registration(type_: str, name: str, inputs: dict[str, Any]) -> Registration:
    return Registration(
        type=type_,
        name=name,
        urn=f"urn:pulumi:test::webstack::{type_}::{name}",
        id=f"{name}-id",
        parent="",
        custom=True,
        provider="",
        inputs=inputs,
        outputs=inputs,
        dependencies=[],
        property_dependencies={},
        protect=False,
        retain_on_delete=False,
    )


def planned(region: str, options: dict[tuple[str, str], str]) -> Run:
    """A stack of one provider and one environment with these option settings."""
    settings = [{"namespace": ns, "name": n, "value": v} for (ns, n), v in options.items()]
    return Run(
        stack="test",
        resources=[
            registration("pulumi:providers:aws", "aws", {"region": region}),
            registration(
                "aws:elasticbeanstalk/environment:Environment", "env", {"settings": settings}
            ),
        ],
    )


def test_spot_instances_above_the_on_demand_share_are_not_priced() -> None:
    spot = planned(
        "us-east-1",
        {
            ("aws:elasticbeanstalk:environment", "EnvironmentType"): "LoadBalanced",
            ("aws:autoscaling:asg", "MinSize"): "4",
            ("aws:ec2:instances", "InstanceTypes"): "t4g.small,t4g.medium",
            ("aws:ec2:instances", "EnableSpot"): "true",
            ("aws:ec2:instances", "SpotFleetOnDemandBase"): "1",
            ("aws:ec2:instances", "SpotFleetOnDemandAboveBasePercentage"): "50",
            ("aws:ec2:vpc", "ELBSubnets"): "subnet-a,subnet-b",
            ("aws:ec2:vpc", "AssociatePublicIpAddress"): "false",
        },
    )
    floor = floor_of(spot)
    assert floor is not None
    # 1 base + half of the 3 above it, rounded up: 3 On-Demand (the first type's price), 1 Spot.
    (instances,) = [i for i in floor.items if i.what == "instances"]
    assert instances.monthly == pytest.approx(3 * HOURS_PER_MONTH * 0.0168)
    assert floor.unpriced == ["1 Spot instance(s) (Spot prices vary)"]
    (addresses,) = [i for i in floor.items if i.what == "public IPv4"]
    assert addresses.monthly == pytest.approx(2 * HOURS_PER_MONTH * 0.005)  # the ALB's two


def test_a_region_outside_the_table_says_no_price_is_known() -> None:
    assert render_floor(planned("ap-south-1", {})) == [
        "Monthly list-price floor: no prices known for ap-south-1 (tools/cost/prices.json covers"
        " eu-central-1, eu-west-1, us-east-1, us-east-2, us-west-2)"
    ]


def test_every_price_names_a_source_and_the_plan_says_what_it_leaves_out() -> None:
    assert all(source.url.startswith("https://") for source in SOURCES.values())
    assert SOURCES["ec2"].primary and SOURCES["kms"].primary
    text = " ".join(render_floor(run("dev")))
    for left_out in ("traffic", "requests", "logs"):
        assert left_out in text


NAT_INSTANCE = {"webstack:network": {"natGateways": "instance", "availabilityZones": 3}}


def test_a_nat_instance_costs_at_least_60_dollars_less_than_gateways_per_zone() -> None:
    per_az = floor_of(run("prod"))
    instance = floor_of(run("prod", NAT_INSTANCE))
    assert per_az is not None and instance is not None
    found = {item.what: item.monthly for item in instance.items}
    assert found["NAT gateways"] == 0
    assert found["NAT instance"] == pytest.approx(HOURS_PER_MONTH * 0.0042)  # t4g.nano
    # The load balancer's 3 addresses and the NAT instance's Elastic IP.
    assert found["public IPv4"] == pytest.approx(4 * HOURS_PER_MONTH * 0.005)
    assert per_az.total - instance.total >= 60
    assert instance.unpriced == []


def test_interface_endpoints_are_priced_per_zone_hour() -> None:
    endpoints = {"webstack:network": {"endpoints": ["ssm", "ssmmessages", "logs"]}}
    floor = floor_of(run("dev", endpoints))
    assert floor is not None
    (item,) = [i for i in floor.items if i.what == "endpoints"]
    # 3 endpoints in each of dev's 2 zones.
    assert item.monthly == pytest.approx(6 * HOURS_PER_MONTH * 0.01)
    assert "6 x endpoint-zone (3 endpoints)" in item.detail
    assert ("endpoint processing", 0.01) in floor.per_gb
    elsewhere = floor_of(run("dev", {**endpoints, "aws:region": "eu-central-1"}))
    assert elsewhere is not None
    assert "3 interface endpoints (no price known in eu-central-1)" in elsewhere.unpriced


def test_the_floor_names_the_per_gb_prices_it_leaves_out() -> None:
    text = " ".join(" ".join(render_floor(run("prod"))).split())
    assert "Per GB of traffic, not in the floor: NAT gateway processing $0.045" in text
    assert "out to the internet (the first 100 GB a month free) $0.09" in text
    # Dev has no NAT gateway: no processing charge.
    dev = " ".join(" ".join(render_floor(run("dev"))).split())
    assert "NAT gateway processing" not in dev and "out to the internet" in dev


def test_the_worker_tiers_instances_are_counted_without_a_load_balancer() -> None:
    worker = {"webstack:worker": {"enabled": True, "minInstances": 2, "maxInstances": 3}}
    dev = floor_of(run("dev", worker))
    prod = floor_of(run("prod", worker))
    assert dev is not None and prod is not None
    for floor in (dev, prod):
        (workers,) = [i for i in floor.items if i.what == "worker instances"]
        assert workers.monthly == pytest.approx(2 * HOURS_PER_MONTH * 0.0084)  # t4g.micro
        assert [i.what for i in floor.items].count("load balancer") == 1  # the web tier's

    # Without NAT (dev) the workers hold public addresses; behind it (prod) they do not.
    def addresses(floor: Floor) -> float:
        return next(i.monthly for i in floor.items if i.what == "public IPv4")

    plain = floor_of(run("prod"))
    assert plain is not None
    assert addresses(dev) == pytest.approx(3 * HOURS_PER_MONTH * 0.005)  # its EIP and 2 workers
    assert addresses(prod) == pytest.approx(addresses(plain))
