"""AWS list prices (USD, On-Demand) for the cost floor `make plan` prints, with their sources.

A small table, not a price feed: `prices.json` beside this file holds the regions it covers, and
what it does not list (a region, a size, or a price no source gave for that region, null there)
is reported as "not priced" rather than guessed. Entries from AWS itself (its Price List API,
its pricing pages or a committed copy of its pricing feed) are marked primary; the others come
from dated secondary write-ups of AWS's pricing page and are marked so. Refresh it when AWS
changes a price, and date it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOURS_PER_MONTH = 730  # AWS's own convention for monthly estimates
_TABLE: dict[str, Any] = json.loads((Path(__file__).parent / "prices.json").read_text())
COMPILED: str = _TABLE["compiled"]


@dataclass(frozen=True)
class Source:
    """Where a price comes from: AWS itself (primary), or a dated quote of AWS's page."""

    what: str
    url: str  # the page read, or for a quote AWS's own page to check it against
    primary: bool


SOURCES: dict[str, Source] = {
    "ec2": Source(
        "EC2 On-Demand Linux (shared tenancy) per region, AWS's pricing feed published 2025-04-04"
        " (a copy committed to yeo/ec2.shop); us-east-1 agrees with the Price List API table"
        " Karpenter generated on 2026-07-20",
        "https://github.com/yeo/ec2.shop/tree/73696e380ae600b175f859850a726edebd1de72f/data/ec2",
        primary=True,
    ),
    "rds": Source(
        "RDS On-Demand Single-AZ instance-hours per region for PostgreSQL, MySQL and MariaDB,"
        " AWS's pricing data feed published 2024-09-28 (a copy committed to yeo/ec2.shop),"
        " unchanged in a table checked against AWS's Price List API on 2026-09-29 (TerraTofuGUi,"
        " us-east-1 and eu-west-1); Multi-AZ bills both instances (AWS RDS user guide,"
        " 'On-Demand DB instances')",
        "https://github.com/yeo/ec2.shop/tree/44337592ba034dd0cdd1e71a1670b17f8c3f6002/data/rds",
        primary=True,
    ),
    "rds_storage": Source(
        "RDS gp3 storage per GB-month, Single-AZ, per region, from the same AWS feed (Multi-AZ"
        " bills both copies)",
        "https://github.com/yeo/ec2.shop/tree/44337592ba034dd0cdd1e71a1670b17f8c3f6002/data/rds",
        primary=True,
    ),
    "alb": Source(
        "Application Load Balancer hour (LCUs extra), Price List API (AWSELB LoadBalancerUsage),"
        " checked 2026-09-29 in TerraTofuGUi's aws.toml; us-east-1 and eu-west-1 only, the"
        " other regions not priced",
        "https://github.com/geawilliamsUK/TerraTofuGUi/blob/3b03db864307cddd2ad3da31cac194a7efaa943d/"
        "definitions/prices/aws.toml",
        primary=False,
    ),
    "nat": Source(
        "NAT gateway hour (data processed extra) per region, AWS's pricing feed published"
        " 2026-09-03 (natgateway.json, a copy in iammanis/ec2-vps)",
        "https://github.com/iammanis/ec2-vps/blob/01472877498e3db6202b15540136df1a7f72cae9/_data/rates.json",
        primary=True,
    ),
    "ipv4": Source(
        "public IPv4 address hour, in use or idle, per region, AWS's pricing feed published"
        " 2026-08-31 (vpc.json, a copy in iammanis/ec2-vps)",
        "https://github.com/iammanis/ec2-vps/blob/01472877498e3db6202b15540136df1a7f72cae9/_data/rates.json",
        primary=True,
    ),
    "nat_gb": Source(
        "NAT gateway data processed per GB, per region, from the same feed",
        "https://github.com/iammanis/ec2-vps/blob/01472877498e3db6202b15540136df1a7f72cae9/_data/rates.json",
        primary=True,
    ),
    "endpoint": Source(
        "interface endpoint per zone-hour and per GB processed (the first tier), Price List API"
        " (vpc.json 'VPC Endpoints'), checked 2026-09-29 in TerraTofuGUi's aws.toml; us-east-1"
        " and eu-west-1 only, the other regions not priced",
        "https://github.com/geawilliamsUK/TerraTofuGUi/blob/3b03db864307cddd2ad3da31cac194a7efaa943d/"
        "definitions/prices/aws.toml",
        primary=False,
    ),
    "transfer_out": Source(
        "data transfer out to the internet per GB, the first 10 TB a month (the first 100 GB a"
        " month are free account-wide), AWS's feed published 2026-08-31 (datatransfer.json, a"
        " copy in iammanis/ec2-vps)",
        "https://github.com/iammanis/ec2-vps/blob/01472877498e3db6202b15540136df1a7f72cae9/_data/rates.json",
        primary=True,
    ),
    "secrets": Source(
        "Secrets Manager secret-month (API calls extra), as quoted by hivebook.wiki, 2026",
        "https://aws.amazon.com/secrets-manager/pricing/",
        primary=False,
    ),
    "kms": Source(
        "KMS customer managed key-month (requests extra; AWS managed keys free)",
        "https://aws.amazon.com/kms/pricing/",
        primary=True,
    ),
    "waf": Source(
        "WAF web ACL-month and rule-month (requests extra), the same in every region, as quoted by c3x.dev, 2026",
        "https://aws.amazon.com/waf/pricing/",
        primary=False,
    ),
    "cloudwatch": Source(
        "CloudWatch standard alarm-month and dashboard-month (free tier not deducted), as "
        "quoted by c3x.dev and factualminds.com, June 2026, and for eu-west-1's alarm by "
        "TerraTofuGUi's Price List table (2026-09-29); alarms elsewhere not priced",
        "https://aws.amazon.com/cloudwatch/pricing/",
        primary=False,
    ),
}


@dataclass(frozen=True)
class RegionPrices:
    """Hourly or monthly list prices of one region; None where no source gave one."""

    ec2_hour: dict[str, float]
    # Single-AZ instance-hours per engine and class (Multi-AZ bills two instances).
    rds_hour: dict[str, dict[str, float]]
    rds_gp3_gb_month: float
    alb_hour: float | None
    nat_hour: float
    nat_gb: float
    ipv4_hour: float
    endpoint_hour: float | None  # an interface endpoint in one zone
    endpoint_gb: float | None
    transfer_out_gb: float  # to the internet, the first 10 TB of a month
    secret_month: float
    kms_key_month: float
    waf_acl_month: float
    waf_rule_month: float
    alarm_month: float | None
    dashboard_month: float

    def rds(self, engine: str, instance_class: str) -> float | None:
        """The Single-AZ hour of `instance_class` for `engine`, or None where not listed."""
        return self.rds_hour.get(engine, {}).get(instance_class)


REGIONS: dict[str, RegionPrices] = {
    region: RegionPrices(**prices) for region, prices in _TABLE["regions"].items()
}
