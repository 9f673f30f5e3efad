"""A stack's monthly list-price floor: what its resources cost by the hour or the month when
idle, itemised, from the plan's own resources and the table of `tools/cost/prices.py`.

A floor, not an estimate: traffic, requests, logs and metrics, backups beyond the free
allowance, root volumes and Spot instances are left out, and free tiers are not deducted.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from typing import Any

from tools.cost.prices import COMPILED, HOURS_PER_MONTH, REGIONS, RegionPrices
from tools.engine.mock_engine import Registration, Run
from tools.review.readable import beanstalk_options

ENVIRONMENT = "aws:elasticbeanstalk/environment:Environment"
DB_INSTANCE = "aws:rds/instance:Instance"
EC2_INSTANCE = "aws:ec2/instance:Instance"  # the NAT instance: the app's are Beanstalk's
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
# Beanstalk's default On-Demand share above the base with Spot (EB developer guide, aws:ec2:instances)
SPOT_ON_DEMAND_PERCENT = {"LoadBalanced": 70, "SingleInstance": 0}
WIDTH = 120
LEFT_OUT = (
    "traffic (data transfer, NAT and load-balancer processing, LCUs), requests (S3, KMS, "
    "Secrets Manager, WAF), logs and metrics ingestion, backup storage beyond the database's "
    "size, EBS root volumes and Spot instances; free tiers are not deducted"
)


@dataclass(frozen=True)
class Item:
    what: str
    detail: str
    monthly: float


@dataclass
class Floor:
    region: str
    items: list[Item] = field(default_factory=list)
    # What the table has no price for: the floor is then "at least".
    unpriced: list[str] = field(default_factory=list)
    # What the stack's traffic costs per GB, for a reader to estimate: (what, price).
    per_gb: list[tuple[str, float]] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(item.monthly for item in self.items)


def usd(price: float) -> str:
    """A price as AWS lists it: cents, or as many decimals as it has ($0.0084)."""
    return f"${price:.2f}" if round(price, 2) == price else f"${price:g}"


def _hourly(what: str, count: int, unit: str, price: float) -> Item:
    if not count:
        return Item(what, "none", 0.0)
    return Item(
        what,
        f"{count} x {unit}, {HOURS_PER_MONTH} h x {usd(price)}",
        count * HOURS_PER_MONTH * price,
    )


def _monthly(what: str, count: int, unit: str, price: float) -> Item:
    if not count:
        return Item(what, "none", 0.0)
    return Item(what, f"{count} x {unit} x {usd(price)} a month", count * price)


def _instances(env: Registration, prices: RegionPrices, floor: Floor) -> int:
    """The environment's On-Demand instances at their smallest count; returns how many public
    IPv4 addresses they hold. A worker environment has no load balancer."""
    options = beanstalk_options(env.plain_inputs["settings"])
    worker = env.plain_inputs.get("tier") == "Worker"
    what = "worker instances" if worker else "instances"
    kind = options.get(("aws:elasticbeanstalk:environment", "EnvironmentType"), "LoadBalanced")
    count = 1 if kind == "SingleInstance" else int(options[("aws:autoscaling:asg", "MinSize")])
    on_demand = count
    if options.get(("aws:ec2:instances", "EnableSpot")) == "true":
        base = min(count, int(options.get(("aws:ec2:instances", "SpotFleetOnDemandBase"), "0")))
        percent = int(
            options.get(
                ("aws:ec2:instances", "SpotFleetOnDemandAboveBasePercentage"),
                str(SPOT_ON_DEMAND_PERCENT[kind]),
            )
        )
        on_demand = base + math.ceil((count - base) * percent / 100)
        if count > on_demand:
            spot = f"{count - on_demand} Spot {'worker ' if worker else ''}instance(s)"
            floor.unpriced.append(f"{spot} (Spot prices vary)")
    instance_type = options[("aws:ec2:instances", "InstanceTypes")].split(",")[0]
    if instance_type not in prices.ec2_hour:
        floor.unpriced.append(f"{on_demand} x {instance_type} (not in the price table)")
    elif on_demand:
        price = prices.ec2_hour[instance_type]
        floor.items.append(_hourly(what, on_demand, instance_type, price))
    if kind == "SingleInstance":
        floor.items.append(Item("load balancer", "none (a single instance)", 0.0))
        return 1  # its Elastic IP
    public = options.get(("aws:ec2:vpc", "AssociatePublicIpAddress")) == "true"
    if worker:
        return count if public else 0
    if prices.alb_hour is None:
        floor.unpriced.append(f"1 Application Load Balancer (no price known in {floor.region})")
    else:
        floor.items.append(
            _hourly("load balancer", 1, "Application Load Balancer", prices.alb_hour)
        )
    # An internet-facing ALB holds a public IPv4 address in each of its subnets.
    zones = len(options[("aws:ec2:vpc", "ELBSubnets")].split(","))
    return zones + (count if public else 0)


def _database(db: Registration, prices: RegionPrices, floor: Floor) -> None:
    inputs: dict[str, Any] = db.plain_inputs
    copies = 2 if inputs.get("multiAz") else 1
    deployment = "Multi-AZ" if copies == 2 else "Single-AZ"
    klass = str(inputs["instanceClass"])
    hour = prices.rds(str(inputs.get("engine")), klass)
    if hour is None:
        floor.unpriced.append(f"{klass} {inputs.get('engine')} (not in the price table)")
    else:
        floor.items.append(_hourly("database", copies, f"{klass} ({deployment})", hour))
    gib = int(inputs["allocatedStorage"])
    price = prices.rds_gp3_gb_month
    floor.items.append(
        Item(
            "database storage",
            f"{copies} x {gib} GiB gp3 x {usd(price)} a GiB-month",
            copies * gib * price,
        )
    )


def floor_of(run: Run) -> Floor | None:
    """The list-price floor of a planned stack; None where the table has no prices for its
    region (the floor then names the regions it covers)."""
    region = str(run.one("pulumi:providers:aws", "aws").plain_inputs["region"])
    prices = REGIONS.get(region)
    if prices is None:
        return None
    floor = Floor(region)
    public_ips = sum(_instances(env, prices, floor) for env in run.of_type(ENVIRONMENT))
    for db in run.of_type(DB_INSTANCE):
        _database(db, prices, floor)
    nat = len(run.of_type(NAT_GATEWAY))
    floor.items.append(_hourly("NAT gateways", nat, "NAT gateway", prices.nat_hour))
    _network(run, prices, floor)
    public_ips += len(run.of_type("aws:ec2/eip:Eip"))
    floor.items.append(_hourly("public IPv4", public_ips, "address", prices.ipv4_hour))
    secrets = sum(1 for db in run.of_type(DB_INSTANCE) if db.inputs.get("manageMasterUserPassword"))
    floor.items.append(_monthly("secrets", secrets, "secret", prices.secret_month))
    keys = len(run.of_type("aws:kms/key:Key"))
    floor.items.append(_monthly("KMS keys", keys, "customer managed key", prices.kms_key_month))
    _monitoring(run, prices, floor)
    return floor


def _network(run: Run, prices: RegionPrices, floor: Floor) -> None:
    """The NAT instance, the interface endpoints (each zone an hour), and the per-GB prices of
    what the floor cannot know: how much the stack sends."""
    for instance in run.of_type(EC2_INSTANCE):
        kind = str(instance.plain_inputs["instanceType"])
        if kind in prices.ec2_hour:
            floor.items.append(_hourly("NAT instance", 1, kind, prices.ec2_hour[kind]))
        else:
            floor.unpriced.append(f"1 x {kind} NAT instance (not in the price table)")
    endpoints = [
        e for e in run.of_type(VPC_ENDPOINT) if e.plain_inputs.get("vpcEndpointType") == "Interface"
    ]
    zone_hours = sum(len(e.plain_inputs.get("subnetIds") or []) for e in endpoints)
    if zone_hours:
        if prices.endpoint_hour is None:
            floor.unpriced.append(
                f"{len(endpoints)} interface endpoints (no price known in {floor.region})"
            )
        else:
            unit = f"endpoint-zone ({len(endpoints)} endpoints)"
            floor.items.append(_hourly("endpoints", zone_hours, unit, prices.endpoint_hour))
    if run.of_type(NAT_GATEWAY):
        floor.per_gb.append(("NAT gateway processing", prices.nat_gb))
    if endpoints and prices.endpoint_gb is not None:
        floor.per_gb.append(("endpoint processing", prices.endpoint_gb))
    floor.per_gb.append(
        ("out to the internet (the first 100 GB a month free)", prices.transfer_out_gb)
    )


def _monitoring(run: Run, prices: RegionPrices, floor: Floor) -> None:
    """The web ACL with its rules, the alarms and the dashboard, where the stack has them."""
    for acl in run.of_type("aws:wafv2/webAcl:WebAcl"):
        rules = len(acl.plain_inputs.get("rules") or [])
        floor.items.append(
            Item(
                "WAF",
                f"1 web ACL x {usd(prices.waf_acl_month)} + {rules} rules x "
                f"{usd(prices.waf_rule_month)} a month",
                prices.waf_acl_month + rules * prices.waf_rule_month,
            )
        )
    alarms = len(run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"))
    if alarms:
        if prices.alarm_month is None:
            floor.unpriced.append(f"{alarms} alarms (no price known in {floor.region})")
        else:
            floor.items.append(_monthly("alarms", alarms, "alarm", prices.alarm_month))
    dashboards = len(run.of_type("aws:cloudwatch/dashboard:Dashboard"))
    if dashboards:
        floor.items.append(_monthly("dashboards", dashboards, "dashboard", prices.dashboard_month))


def render_floor(run: Run) -> list[str]:
    """The floor as the plan prints it."""
    floor = floor_of(run)
    title = "Monthly list-price floor"
    if floor is None:
        region = run.one("pulumi:providers:aws", "aws").plain_inputs["region"]
        covered = ", ".join(sorted(REGIONS))
        return [f"{title}: no prices known for {region} (tools/cost/prices.json covers {covered})"]
    lines = [f"{title} ({floor.region}, prices of tools/cost/prices.json compiled {COMPILED}):"]
    lines += [f"    {i.what:<17}{i.detail:<68}{f'${i.monthly:,.2f}':>12}" for i in floor.items]
    if floor.unpriced:
        unpriced = f"{'not priced':<17}{'; '.join(floor.unpriced)}"
        lines += textwrap.wrap(unpriced, WIDTH, initial_indent="    ", subsequent_indent=" " * 21)
    least = "at least" if floor.unpriced else ""
    lines.append(f"    {'total':<17}{least:<68}{f'${floor.total:,.2f}':>12}")
    per_gb = "; ".join(f"{what} {usd(price)}" for what, price in floor.per_gb)
    lines += textwrap.wrap(
        f"Per GB of traffic, not in the floor: {per_gb}.",
        WIDTH,
        initial_indent="    ",
        subsequent_indent="    ",
    )
    lines += textwrap.wrap(
        f"Left out: {LEFT_OUT}.", WIDTH, initial_indent="    ", subsequent_indent="    "
    )
    return lines
