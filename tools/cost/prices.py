"""AWS list prices (USD, On-Demand) for the cost floor `make plan` prints, with their sources.

A small table, not a price feed: it covers the regions in `REGIONS`, and what it does not list is
reported as "no price known" rather than guessed. Entries from AWS itself (its Price List API,
its pricing pages) are marked primary; the others come from dated secondary write-ups of AWS's
pricing page and are marked so. Refresh it when AWS changes a price, and date it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COMPILED = "2026-12-07"
HOURS_PER_MONTH = 730  # AWS's own convention for monthly estimates


@dataclass(frozen=True)
class Source:
    """Where a price comes from: AWS itself (primary), or a dated quote of AWS's page."""

    what: str
    url: str  # the page read, or for a quote AWS's own page to check it against
    primary: bool


SOURCES: dict[str, Source] = {
    "ec2": Source(
        "AWS Price List API, On-Demand Linux, generated 2026-07-20 into Karpenter's price table",
        "https://github.com/aws/karpenter-provider-aws/blob/6fc13b5236fd04fd16ff3f9dc7490d0813994099/"
        "pkg/providers/pricing/zz_generated.pricing_aws.go",
        primary=True,
    ),
    "rds": Source(
        "RDS On-Demand Single-AZ instance-hours for PostgreSQL, MySQL and MariaDB, AWS's pricing"
        " data feed published 2024-09-28 (a copy committed to yeo/ec2.shop), unchanged in a"
        " table checked against AWS's Price List API on 2026-09-29 (TerraTofuGUi); Multi-AZ"
        " bills both instances (AWS RDS user guide, 'On-Demand DB instances')",
        "https://github.com/yeo/ec2.shop/blob/44337592ba034dd0cdd1e71a1670b17f8c3f6002/"
        "data/rds/rds-postgresql-ondemand.json",
        primary=True,
    ),
    "rds_storage": Source(
        "RDS gp3 storage per GB-month, US East, June 2026 (Multi-AZ bills both copies)",
        "https://www.usage.ai/blogs/aws/reserved-instances/rds/pricing-calculator/",
        primary=False,
    ),
    "alb": Source(
        "Application Load Balancer hour (LCUs extra), as quoted by cloud-horizons.com, May 2026",
        "https://aws.amazon.com/elasticloadbalancing/pricing/",
        primary=False,
    ),
    "nat": Source(
        "NAT gateway hour (data processed extra), as quoted by cloudburn.io, February 2026",
        "https://aws.amazon.com/vpc/pricing/",
        primary=False,
    ),
    "ipv4": Source(
        "public IPv4 address hour, in use or idle, since 2024-02-01, as quoted from AWS's announcement",
        "https://aws.amazon.com/vpc/pricing/",
        primary=False,
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
        "quoted by c3x.dev and factualminds.com, June 2026",
        "https://aws.amazon.com/cloudwatch/pricing/",
        primary=False,
    ),
}


@dataclass(frozen=True)
class RegionPrices:
    """Hourly or monthly list prices of one region."""

    ec2_hour: dict[str, float]
    # Single-AZ instance-hours of RDS for PostgreSQL (Multi-AZ bills two instances) ...
    rds_hour: dict[str, float]
    # ... and where MySQL or MariaDB list another rate for a class (db.t3, db.m6g, db.r6g).
    rds_engine_hour: dict[str, dict[str, float]]
    rds_gp3_gb_month: float
    alb_hour: float
    nat_hour: float
    ipv4_hour: float
    secret_month: float
    kms_key_month: float
    waf_acl_month: float
    waf_rule_month: float
    alarm_month: float
    dashboard_month: float
    engines: frozenset[str] = field(default=frozenset({"postgres", "mysql", "mariadb"}))

    def rds(self, engine: str, instance_class: str) -> float | None:
        """The Single-AZ hour of `instance_class` for `engine`, or None where not listed."""
        if engine not in self.engines:
            return None
        return self.rds_engine_hour.get(engine, {}).get(
            instance_class, self.rds_hour.get(instance_class)
        )


# MySQL and MariaDB list the same rates, lower than PostgreSQL for these classes (us-east-1).
_MYSQL_US_EAST_1 = {
    "db.t3.micro": 0.017,
    "db.t3.small": 0.034,
    "db.t3.medium": 0.068,
    "db.t3.large": 0.136,
    "db.t3.xlarge": 0.272,
    "db.t3.2xlarge": 0.544,
    "db.m6g.large": 0.152,
    "db.m6g.xlarge": 0.304,
    "db.m6g.2xlarge": 0.608,
    "db.m6g.4xlarge": 1.216,
    "db.r6g.large": 0.215,
    "db.r6g.xlarge": 0.43,
    "db.r6g.2xlarge": 0.859,
    "db.r6g.4xlarge": 1.718,
}

REGIONS: dict[str, RegionPrices] = {
    "us-east-1": RegionPrices(
        ec2_hour={
            "t3.nano": 0.0052,
            "t3.micro": 0.0104,
            "t3.small": 0.0208,
            "t3.medium": 0.0416,
            "t3.large": 0.0832,
            "t3.xlarge": 0.1664,
            "t3.2xlarge": 0.3328,
            "t3a.nano": 0.0047,
            "t3a.micro": 0.0094,
            "t3a.small": 0.0188,
            "t3a.medium": 0.0376,
            "t3a.large": 0.0752,
            "t3a.xlarge": 0.1504,
            "t3a.2xlarge": 0.3008,
            "t4g.nano": 0.0042,
            "t4g.micro": 0.0084,
            "t4g.small": 0.0168,
            "t4g.medium": 0.0336,
            "t4g.large": 0.0672,
            "t4g.xlarge": 0.1344,
            "t4g.2xlarge": 0.2688,
            "m6g.medium": 0.0385,
            "m6g.large": 0.077,
            "m6g.xlarge": 0.154,
            "m6g.2xlarge": 0.308,
            "m7g.medium": 0.0408,
            "m7g.large": 0.0816,
            "m7g.xlarge": 0.1632,
            "m7g.2xlarge": 0.3264,
            "m8g.medium": 0.04488,
            "m8g.large": 0.08976,
            "m8g.xlarge": 0.17952,
            "m8g.2xlarge": 0.35904,
            "c6g.medium": 0.034,
            "c6g.large": 0.068,
            "c6g.xlarge": 0.136,
            "c6g.2xlarge": 0.272,
            "c7g.medium": 0.0363,
            "c7g.large": 0.0725,
            "c7g.xlarge": 0.145,
            "c7g.2xlarge": 0.29,
            "c8g.medium": 0.03988,
            "c8g.large": 0.07976,
            "c8g.xlarge": 0.15952,
            "c8g.2xlarge": 0.31904,
            "r6g.medium": 0.0504,
            "r6g.large": 0.1008,
            "r6g.xlarge": 0.2016,
            "r6g.2xlarge": 0.4032,
            "r7g.medium": 0.0536,
            "r7g.large": 0.1071,
            "r7g.xlarge": 0.2142,
            "r7g.2xlarge": 0.4284,
            "m6i.large": 0.096,
            "m6i.xlarge": 0.192,
            "m6i.2xlarge": 0.384,
            "m7i.large": 0.1008,
            "m7i.xlarge": 0.2016,
            "m7i.2xlarge": 0.4032,
            "c7i.large": 0.08925,
            "c7i.xlarge": 0.1785,
            "c7i.2xlarge": 0.357,
            "m7g.4xlarge": 0.6528,
            "m6g.4xlarge": 0.616,
            "r7g.4xlarge": 0.8568,
            "r6g.4xlarge": 0.8064,
            "c7g.4xlarge": 0.58,
        },
        rds_hour={
            "db.t4g.micro": 0.016,
            "db.t4g.small": 0.032,
            "db.t4g.medium": 0.065,
            "db.t4g.large": 0.129,
            "db.t4g.xlarge": 0.258,
            "db.t4g.2xlarge": 0.517,
            "db.t3.micro": 0.018,
            "db.t3.small": 0.036,
            "db.t3.medium": 0.072,
            "db.t3.large": 0.145,
            "db.t3.xlarge": 0.29,
            "db.t3.2xlarge": 0.579,
            "db.m7g.large": 0.168,
            "db.m7g.xlarge": 0.337,
            "db.m7g.2xlarge": 0.674,
            "db.m7g.4xlarge": 1.348,
            "db.m6g.large": 0.159,
            "db.m6g.xlarge": 0.318,
            "db.m6g.2xlarge": 0.636,
            "db.m6g.4xlarge": 1.272,
            "db.r7g.large": 0.239,
            "db.r7g.xlarge": 0.478,
            "db.r7g.2xlarge": 0.956,
            "db.r7g.4xlarge": 1.913,
            "db.r6g.large": 0.225,
            "db.r6g.xlarge": 0.45,
            "db.r6g.2xlarge": 0.899,
            "db.r6g.4xlarge": 1.798,
        },
        rds_engine_hour={"mysql": _MYSQL_US_EAST_1, "mariadb": _MYSQL_US_EAST_1},
        rds_gp3_gb_month=0.115,
        alb_hour=0.0225,
        nat_hour=0.045,
        ipv4_hour=0.005,
        secret_month=0.40,
        kms_key_month=1.0,
        waf_acl_month=5.0,
        waf_rule_month=1.0,
        alarm_month=0.10,
        dashboard_month=3.0,
    ),
}
