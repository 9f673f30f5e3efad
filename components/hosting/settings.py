"""The settings of the Beanstalk tiers: `webstack:app` (the web tier) and what it is told."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pulumi

from components.fields import (
    Check,
    Choice,
    Decimal,
    Flag,
    Nested,
    Text,
    TextMap,
    Texts,
    Whole,
    setting,
)
from components.hosting.bundle import source_bundle_problem
from components.iam import regional_arn_problem
from components.instances import architecture
from components.logs import LOG_RETENTION_DAYS
from components.re2 import NotRe2Error, python_equivalent

PLATFORM_REGEX = r"^64bit Amazon Linux 2023 v\d+\.\d+\.\d+ running (?:{platform})$"

DeploymentPolicy = Literal[
    "AllAtOnce", "Rolling", "RollingWithAdditionalBatch", "Immutable", "TrafficSplitting"
]
DEPLOYMENT_POLICIES: tuple[DeploymentPolicy, ...] = (
    "AllAtOnce",
    "Rolling",
    "RollingWithAdditionalBatch",
    "Immutable",
    "TrafficSplitting",
)
EnvironmentType = Literal["LoadBalanced", "SingleInstance"]
ENVIRONMENT_TYPES: tuple[EnvironmentType, ...] = ("LoadBalanced", "SingleInstance")
# What Beanstalk deploys to a single instance with ("Deployment policies and settings", EB
# developer guide): there is no load balancer to roll instances behind.
SINGLE_INSTANCE_POLICIES: tuple[DeploymentPolicy, ...] = ("AllAtOnce", "Immutable")
# `aws:ec2:instances` SpotMaxPrice: 0.001 to 20.0 USD per instance-hour.
SPOT_MAX_PRICE = Decimal(0.001, 20.0)
# Where a single instance's own TLS setup lives in the bundle: nginx server blocks in
# .platform/nginx/conf.d/*.conf ("Extending Elastic Beanstalk Linux platforms").
INSTANCE_NGINX_CONF = Path(".platform/nginx/conf.d")
UpdateLevel = Literal["minor", "patch"]
UPDATE_LEVELS: tuple[UpdateLevel, ...] = ("minor", "patch")
CERTIFICATE_ARN = r"arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}"
# Environment properties: names up to 128 characters, values up to 256 of letters, digits, white
# space and _ . : / = + \ - @ ' ", 4,096 bytes in all as key=value (EB developer guide,
# "Environment property limits").
MAX_PROPERTY_NAME = 128
MAX_PROPERTY_VALUE = 256
MAX_PROPERTIES_BYTES = 4096
# No needless escape: a JSON Schema pattern is ECMA-262 in unicode mode, where `\'` is invalid.
_PROPERTY_VALUE = r"[A-Za-z0-9\s_.:/=+\\@'" + '"' + r"-]*"
# The ALB's limit for a health-check path (elbv2 CreateTargetGroup, HealthCheckPath).
MAX_HEALTH_CHECK_PATH = 1024


@dataclass(frozen=True)
class AppConnections:
    """What the app is told about its stack: one environment variable per field, in capitals.

    These names are the contract with the app (`BUCKET_NAME`, `DB_HOST`, …); a stack's own
    `environmentVariables` may not reuse them."""

    # Each with the most bytes its value can take, so the stack's own variables are sized
    # against Beanstalk's limit before their values exist.
    bucket_name: pulumi.Input[str] = field(metadata={"max_bytes": 63})  # S3's longest name
    db_engine: pulumi.Input[str] = field(metadata={"max_bytes": 8})  # postgres, mysql, mariadb
    # identifier (63) + ".c" + 12 + "." + region + ".rds.amazonaws.com"
    db_host: pulumi.Input[str] = field(metadata={"max_bytes": 128})
    db_port: pulumi.Input[str] = field(metadata={"max_bytes": 5})
    db_name: pulumi.Input[str] = field(metadata={"max_bytes": 16})
    # arn:<partition>:secretsmanager:<region>:<account>:secret:rds!db-<uuid>-<6>
    db_secret_arn: pulumi.Input[str] = field(metadata={"max_bytes": 128})
    aws_region: pulumi.Input[str] = field(metadata={"max_bytes": 16})
    # With the worker tier: where the web tier sends jobs (https://sqs.<region>.amazonaws.com/
    # <account>/<name of up to 80>).
    queue_url: pulumi.Input[str] | None = field(default=None, metadata={"max_bytes": 160})

    def variables(self) -> dict[str, pulumi.Input[str]]:
        """The variables, without those the stack has no value for (no worker: no QUEUE_URL)."""
        found = {f.name.upper(): getattr(self, f.name) for f in dataclasses.fields(self)}
        return {key: value for key, value in found.items() if value is not None}


RESERVED_ENV_VARS = tuple(f.name.upper() for f in dataclasses.fields(AppConnections))
# key=value bytes of the stack's own variables at their longest.
RESERVED_PROPERTY_BYTES = sum(
    len(f.name) + 1 + f.metadata["max_bytes"] for f in dataclasses.fields(AppConnections)
)


def _env_var_name(name: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return "not an environment variable name (letters, digits and '_')"
    if len(name) > MAX_PROPERTY_NAME:
        return f"names are at most {MAX_PROPERTY_NAME} characters (Beanstalk's limit)"
    if name in RESERVED_ENV_VARS:
        return "is set by webstack itself; choose another name"
    return None


def _instance_tls_problem(project_dir: Path, source: str) -> str | None:
    """Why the bundle cannot end TLS on its instance, or None: an nginx server of its own must
    listen on 443 (the platform's listens on 80 only)."""
    folder = project_dir / source / INSTANCE_NGINX_CONF
    for conf in sorted(folder.glob("*.conf")) if folder.is_dir() else []:
        if re.search(r"^\s*listen\s+(\[::\]:)?443\b[^;]*\bssl\b", conf.read_text(), re.M):
            return None
    return (
        f"needs an nginx server listening on 443 with ssl in {source}/{INSTANCE_NGINX_CONF}/*.conf "
        "(and its certificate on the instance); none is there"
    )


NGINX_DEFAULT_TIMEOUT_SECONDS = 60
_NGINX_TIMEOUT = re.compile(r"^\s*proxy_read_timeout\s+([0-9]+)(s|m|h)?\s*;", re.M)
_NGINX_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


def nginx_timeout_problem(project_dir: Path, source: str, seconds: int) -> str | None:
    """Why the platform's nginx would cut off a job of `seconds` (its default is 60 s), or None:
    the bundle's `.platform/nginx/conf.d/*.conf` must set a `proxy_read_timeout` as long."""
    folder = project_dir / source / INSTANCE_NGINX_CONF
    found = [
        int(number) * _NGINX_UNITS[unit]
        for conf in (sorted(folder.glob("*.conf")) if folder.is_dir() else [])
        for number, unit in _NGINX_TIMEOUT.findall(conf.read_text())
    ]
    longest = max(found, default=NGINX_DEFAULT_TIMEOUT_SECONDS)
    if seconds - 1 <= longest:
        return None
    return (
        f"{seconds} s, but nginx on the workers gives up on a job after {longest} s and it runs "
        f"again: put `proxy_read_timeout {seconds}s;` in {source}/{INSTANCE_NGINX_CONF}/*.conf "
        "(the sample app has one), or give jobs at most "
        f"{longest + 1} s"
    )


def check_instance_types(
    check: Check,
    types: tuple[str, ...],
    spot: SpotSettings,
    max_instances: int,
    single: bool = False,
) -> None:
    """Beanstalk uses only the first type without Spot, and one architecture for all."""
    if len({architecture(t) for t in types}) > 1:
        kinds = ", ".join(f"{t} ({architecture(t)})" for t in types)
        check.report("instance_types", f"mixes architectures: {kinds}; Beanstalk needs one for all")
    elif len(types) > 1 and not spot.enabled:
        check.report(
            "instance_types",
            f"{len(types)} types, but without Spot Beanstalk launches only the first "
            f"({types[0]}); list one type, or enable spot",
        )
    if spot.enabled and not single and spot.on_demand_base > max_instances:
        check.report(
            "spot",
            f"onDemandBase {spot.on_demand_base} is more than maxInstances "
            f"({max_instances}); expected at most maxInstances",
            "onDemandBase",
        )


@dataclass(frozen=True)
class SpotSettings:
    """`webstack:app.spot`: Spot instances through Beanstalk's Spot fleet options."""

    enabled: bool = setting(False, Flag(), "run Spot instances (Beanstalk's `EnableSpot`)")
    on_demand_base: int = setting(
        0, Whole(0, 10000), "instances kept On-Demand before any Spot instance"
    )
    on_demand_above_percent: int | None = setting(
        None,
        Whole(0, 100),
        "percent of the instances above the base that are On-Demand",
        shown_default="Beanstalk's: 70 load-balanced, 0 single instance",
    )
    max_price: str | None = setting(
        None,
        SPOT_MAX_PRICE,
        "the most paid for a Spot instance-hour, in USD",
        shown_default="the On-Demand price",
    )

    def checked(self, check: Check) -> SpotSettings:
        if not self.enabled:
            for name in ("on_demand_base", "on_demand_above_percent", "max_price"):
                if getattr(self, name) != getattr(SpotSettings(), name):
                    check.report(name, "has no effect with enabled false; remove it or enable Spot")
        return self


_DOMAIN = r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?"


@dataclass(frozen=True)
class DomainSettings:
    """`webstack:app.domain`: the app's own name, its certificate and its DNS record."""

    name: str | None = setting(
        None,
        Text(_DOMAIN, "a lower-case domain name such as app.example.com (or example.com)"),
        "served over HTTPS with an ACM certificate validated in the zone, and pointed at the app "
        "by an alias record; excludes `certificateArn`",
    )
    hosted_zone_id: str | None = setting(
        None,
        Text(r"Z[A-Z0-9]{1,32}", "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ"),
        "the public hosted zone the name is in",
    )

    def checked(self, check: Check) -> DomainSettings:
        if check.given("name") != check.given("hosted_zone_id"):
            check.report(None, "needs name and hostedZoneId together")
        return self


@dataclass(frozen=True)
class ManagedUpdates:
    """`webstack:app.managedUpdates`: Beanstalk's managed platform updates."""

    enabled: bool = setting(True, Flag(), "managed platform updates in a weekly window")
    window: str = setting(
        "Sun:03:00",
        Text(
            r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01][0-9]|2[0-3]):[0-5][0-9]",
            "a weekly start time Day:HH:MM in UTC, such as Sun:03:00",
        ),
        "the weekly start, `Day:HH:MM` UTC",
    )
    level: UpdateLevel = setting("minor", Choice(UPDATE_LEVELS), "the largest update applied")


@dataclass(frozen=True)
class AppSettings:
    """`webstack:app`: the Elastic Beanstalk environment that runs the app."""

    platform: str = setting(
        "Python 3.12",
        Text(r"[\s\S]*", "a solution-stack regex such as 'Python 3.12'"),
        "the platform part of an Amazon Linux 2023 solution stack name, as an RE2 regex",
    )
    solution_stack_name: str | None = setting(
        None,
        Text(
            r"64bit Amazon Linux 2023 v[0-9]+\.[0-9]+\.[0-9]+ running [A-Za-z0-9.+ -]+",
            "an Amazon Linux 2023 solution stack name such as "
            "'64bit Amazon Linux 2023 v4.8.1 running Python 3.12'",
        ),
        "an exact solution stack name, overrides `platform`",
    )
    environment_type: EnvironmentType = setting(
        "LoadBalanced",
        Choice(ENVIRONMENT_TYPES),
        "`SingleInstance`: one instance on an Elastic IP in a public subnet, no load balancer "
        "(no domain, WAF, load-balancer logs or second instance)",
    )
    instance_types: tuple[str, ...] = setting(
        ("t4g.micro",),
        Texts(
            Text(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "EC2 instance types such as t3.micro"),
            min_items=1,
            max_items=40,
        ),
        "EC2 instance types of one architecture (Graviton t4g, m7g, c7g… are arm64); several "
        "only with Spot",
    )
    spot: SpotSettings = setting(SpotSettings(), Nested(SpotSettings), "Spot instances")
    min_instances: int = setting(1, Whole(1, 10000), "fewest instances, at most `maxInstances`")
    max_instances: int = setting(
        2, Whole(1, 10000), "most instances; scaled on average CPU (out above 70 %, in below 20 %)"
    )
    health_check_path: str = setting(
        "/health",
        Text(
            r"/[A-Za-z0-9._~/%-]{0,1023}",
            f"a URL path starting with /, at most {MAX_HEALTH_CHECK_PATH} characters",
        ),
        "the path the load balancer checks (a single instance is checked by its EC2 status)",
    )
    certificate_arn: str | None = setting(
        None,
        Text(CERTIFICATE_ARN, "an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)"),
        "ACM certificate: HTTPS on 443 and HTTP→HTTPS redirect",
    )
    instance_https: bool = setting(
        False,
        Flag(),
        "`SingleInstance` only: the bundle ends TLS on the instance itself (an nginx server on 443 "
        "in `.platform/nginx/conf.d/`, with its certificate); opens 443 to the instance",
    )
    source_bundle: str = setting(
        "app",
        Text(r"[\s\S]+", "a folder of the project"),
        "a folder of this project, zipped and deployed as the app version",
    )
    environment_variables: Mapping[str, str] = setting(
        {},
        TextMap(
            r"[A-Za-z_][A-Za-z0-9_]{0,127}",
            _env_var_name,
            value_max=MAX_PROPERTY_VALUE,
            value_pattern=_PROPERTY_VALUE,
            value_accepted="letters, digits, white space and _ . : / = + \\ - @ ' \"",
        ),
        "extra variables for the app; not the ones webstack sets, never secrets",
    )
    deployment_policy: DeploymentPolicy = setting(
        "Rolling", Choice(DEPLOYMENT_POLICIES), "how a new app version reaches the instances"
    )
    log_retention_days: int = setting(
        7,
        Whole(choices=LOG_RETENTION_DAYS),
        "days CloudWatch keeps the instance and health logs streamed to it",
    )
    managed_updates: ManagedUpdates = setting(
        ManagedUpdates(), Nested(ManagedUpdates), "managed platform updates"
    )
    domain: DomainSettings = setting(DomainSettings(), Nested(DomainSettings), "the app's domain")
    access_logs: bool = setting(
        False, Flag(), "the load balancer's access logs, to the stack's private log bucket"
    )
    waf: bool = setting(
        False,
        Flag(),
        "a WAF web ACL on the load balancer: AWS's core, known-bad-inputs and IP-reputation rule "
        "groups, and a per-IP rate limit",
    )
    waf_rate_limit: int = setting(
        2000, Whole(10, 2_000_000_000), "requests one IP may make in 5 minutes, with `waf`"
    )

    @property
    def single(self) -> bool:
        return self.environment_type == "SingleInstance"

    @property
    def https(self) -> bool:
        """HTTPS served: by the load balancer (domain or certificate) or the instance itself."""
        return bool(self.certificate_arn or self.domain.name or self.instance_https)

    def checked(self, check: Check) -> AppSettings:
        if self.min_instances > self.max_instances:
            check.report(
                "min_instances",
                f"{self.min_instances} is greater than maxInstances ({self.max_instances}); "
                "expected minInstances <= maxInstances",
            )
        why = source_bundle_problem(check.project_dir, self.source_bundle)
        if why:
            check.fail("source_bundle", self.source_bundle, why)
        why = self.certificate_arn and regional_arn_problem(self.certificate_arn, check.region)
        if why:
            check.report("certificate_arn", f"{self.certificate_arn!r} {why}")
        if self.certificate_arn and self.domain.name:
            check.report(
                "certificate_arn",
                "set together with domain; use domain (a certificate is made for it) or "
                "certificateArn (one made elsewhere), not both",
            )
        if self.waf_rate_limit != AppSettings.waf_rate_limit and not self.waf:
            check.report("waf_rate_limit", "has no effect with waf false; remove it or turn waf on")
        self._check_instance_types(check)
        self._check_properties_size(check)
        result = self._type_checked(check)
        return result._platform_checked(check)

    def _type_checked(self, check: Check) -> AppSettings:
        """What a single instance cannot have: everything a load balancer provides."""
        if not self.single:
            if self.instance_https:
                check.report(
                    "instance_https",
                    "only with environmentType SingleInstance; a load balancer ends TLS with "
                    "domain or certificateArn",
                )
            return self
        needs_balancer = {
            "domain": self.domain.name is not None,
            "certificate_arn": self.certificate_arn is not None,
            "waf": self.waf,
            "access_logs": self.access_logs,
            "health_check_path": check.given("health_check_path"),
            "min_instances": check.given("min_instances") and self.min_instances > 1,
            "max_instances": check.given("max_instances") and self.max_instances > 1,
        }
        for name, used in needs_balancer.items():
            if used:
                check.report(
                    name,
                    "needs a load balancer, and environmentType is SingleInstance (one instance, "
                    "no load balancer); remove it or use LoadBalanced",
                )
        policy = self.deployment_policy if check.given("deployment_policy") else "AllAtOnce"
        if policy not in SINGLE_INSTANCE_POLICIES:
            check.fail(
                "deployment_policy",
                policy,
                "AllAtOnce or Immutable on a SingleInstance environment",
            )
            policy = "AllAtOnce"
        self._check_single_spot(check)
        why = self.instance_https and _instance_tls_problem(check.project_dir, self.source_bundle)
        if why:
            check.report("instance_https", why)
        return dataclasses.replace(self, deployment_policy=policy, min_instances=1, max_instances=1)

    def _check_single_spot(self, check: Check) -> None:
        """On one instance, Spot means no On-Demand base or share: "any other settings result in
        an On-Demand Instance" (EB developer guide, "Spot Instance support")."""
        spot = self.spot
        for key, value in (
            ("onDemandBase", spot.on_demand_base),
            ("onDemandAbovePercent", spot.on_demand_above_percent),
        ):
            if spot.enabled and value:
                check.report(
                    "spot",
                    f"{value} gives the only instance of a SingleInstance environment On-Demand; "
                    "set 0 for a Spot instance, or disable spot",
                    key,
                )

    def _check_instance_types(self, check: Check) -> None:
        check_instance_types(check, self.instance_types, self.spot, self.max_instances, self.single)

    def _check_properties_size(self, check: Check) -> None:
        used = RESERVED_PROPERTY_BYTES + sum(
            len(f"{k}={v}".encode()) for k, v in self.environment_variables.items()
        )
        if used > MAX_PROPERTIES_BYTES:
            check.report(
                "environment_variables",
                f"take {used} bytes as key=value with webstack's own "
                f"({RESERVED_PROPERTY_BYTES} at most); Beanstalk allows {MAX_PROPERTIES_BYTES}",
            )

    def _platform_checked(self, check: Check) -> AppSettings:
        """`platform` must be a regex the provider's RE2 compiles, before any look-up."""
        if not self.platform.strip():
            check.fail("platform", self.platform, "a non-empty RE2 regular expression")
            return dataclasses.replace(self, platform=AppSettings.platform)
        try:
            re.compile(python_equivalent(PLATFORM_REGEX.format(platform=self.platform)))
        except (NotRe2Error, re.error) as error:
            check.fail("platform", self.platform, f"an RE2 regular expression ({error})")
            return dataclasses.replace(self, platform=AppSettings.platform)
        return self


# sqsd's own limits (EB developer guide, "aws:elasticbeanstalk:sqsd"): its inactivity timeout
# takes 1 to 36,000 s and stays one second under the queue's visibility timeout, so a job still
# running never reappears on the queue for a second worker.
MAX_JOB_SECONDS = 36_000
SQS_MAX_RETENTION_DAYS = 14  # SQS keeps a message 1 minute to 14 days


@dataclass(frozen=True)
class WorkerSettings:
    """`webstack:worker`: a Worker-tier environment whose daemon (sqsd) takes each job off an SQS
    queue and POSTs it to the app; a job that keeps failing moves to a dead-letter queue."""

    enabled: bool = setting(
        False, Flag(), "the worker tier: an SQS queue, its dead-letter queue, a worker environment"
    )
    instance_types: tuple[str, ...] = setting(
        ("t4g.micro",),
        Texts(
            Text(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "EC2 instance types such as t4g.micro"),
            min_items=1,
            max_items=40,
        ),
        "the workers' EC2 instance types, of one architecture; several only with Spot",
    )
    min_instances: int = setting(1, Whole(1, 10000), "fewest workers, at most `maxInstances`")
    max_instances: int = setting(
        2, Whole(1, 10000), "most workers; scaled on average CPU (out above 70 %, in below 20 %)"
    )
    http_path: str = setting(
        "/work",
        Text(r"/[A-Za-z0-9._~/%-]{0,1023}", "a URL path starting with /"),
        "the path on the worker that sqsd POSTs each job to",
    )
    visibility_timeout_seconds: int = setting(
        300,
        Whole(30, MAX_JOB_SECONDS),
        "how long one job may run: the queue's visibility timeout (sqsd waits a second less)",
    )
    max_receive_count: int = setting(
        5, Whole(1, 100), "deliveries of a job before it moves to the dead-letter queue"
    )
    http_connections: int = setting(
        8,
        Whole(1, 100),
        "jobs sqsd posts to one instance at a time: what the app serves at once (the sample "
        "app's gunicorn: 2 workers x 4 threads)",
    )
    retention_days: int = setting(
        4, Whole(1, SQS_MAX_RETENTION_DAYS), "days the queue keeps a job nobody has taken"
    )
    dead_letter_retention_days: int = setting(
        14,
        Whole(1, SQS_MAX_RETENTION_DAYS),
        "days the dead-letter queue keeps a failed job, at least `retentionDays` (a job's age "
        "counts from when it was first queued)",
    )
    spot: SpotSettings = setting(SpotSettings(), Nested(SpotSettings), "Spot workers")
    source_bundle: str | None = setting(
        None,
        Text(r"[\s\S]+", "a folder of the project"),
        "a folder of this project deployed to the workers",
        shown_default="the app's `sourceBundle`: the same code, as sqsd calls it",
    )

    def checked(self, check: Check) -> WorkerSettings:
        if not self.enabled:
            defaults = WorkerSettings()
            for name in (f.name for f in dataclasses.fields(self) if f.name != "enabled"):
                if getattr(self, name) != getattr(defaults, name):
                    check.report(name, "has no effect with enabled false; remove it or enable it")
            return self
        if self.min_instances > self.max_instances:
            check.report(
                "min_instances",
                f"{self.min_instances} is greater than maxInstances ({self.max_instances}); "
                "expected minInstances <= maxInstances",
            )
        if self.dead_letter_retention_days < self.retention_days:
            check.report(
                "dead_letter_retention_days",
                f"{self.dead_letter_retention_days} is less than retentionDays "
                f"({self.retention_days}); a failed job would expire on arrival (its age counts "
                "from when it was queued): expected at least retentionDays",
            )
        check_instance_types(check, self.instance_types, self.spot, self.max_instances)
        why = self.source_bundle and source_bundle_problem(check.project_dir, self.source_bundle)
        if why:
            check.fail("source_bundle", self.source_bundle, why)
        return self
