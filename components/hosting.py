"""`webstack:hosting:AppHosting`: an Elastic Beanstalk environment that would pass a production review.

Application load balancer (or, for cheap stacks, a single instance on an Elastic IP), IMDSv2
only, enhanced health, managed platform updates, logs streamed to CloudWatch, rolling deploys,
Spot where asked, and IAM that grants the instances nothing but the web tier's managed policy
plus what `grant_*` helpers of other components add to `instance_role`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.base import Component
from components.edge import alias_record, validated_certificate, web_acl
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
from components.iam import managed_policy_arn, regional_arn_problem, service_trust_policy
from components.instances import EC2_SERVICE, SSM_MANAGED_INSTANCE_POLICY, architecture
from components.logs import LOG_RETENTION_DAYS
from components.naming import environment_name, physical_prefix
from components.re2 import NotRe2Error, python_equivalent
from components.storage import AccessLogDestination, Storage, StorageArgs, StorageSettings

EB_SERVICE = "elasticbeanstalk.amazonaws.com"
# AWS's documented trust condition for the Beanstalk service role.
EB_EXTERNAL_ID = "elasticbeanstalk"
SERVICE_ROLE_POLICIES = (
    "service-role/AWSElasticBeanstalkEnhancedHealth",
    "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
)
# The web tier's, and Systems Manager's core policy: operators open a shell or forward a port to
# the database through Session Manager, with no inbound port and no SSH key.
INSTANCE_ROLE_POLICIES = ("AWSElasticBeanstalkWebTier", SSM_MANAGED_INSTANCE_POLICY)

HTTP_PORT = 80
HTTPS_PORT = 443
APP_PORT = 80  # the platform's nginx proxy on each instance
ANYWHERE_IPV4 = "0.0.0.0/0"
ANYWHERE_IPV6 = "::/0"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ROOT_VOLUME_TYPE = "gp3"
PLATFORM_REGEX = r"^64bit Amazon Linux 2023 v\d+\.\d+\.\d+ running (?:{platform})$"
APP_VERSIONS_KEPT = 50
VERSIONS_EXPIRY_DAYS = 30  # superseded bundles in the app-versions bucket
ROLLING_BATCH_PERCENT = "30"
SCALE_OUT_CPU_PERCENT = "70"
SCALE_IN_CPU_PERCENT = "20"
REDIRECT_RULE_PRIORITY = 1
READY_TIMEOUT = "30m"
# Enhanced health's custom metrics (EB developer guide, "Publishing Amazon CloudWatch custom
# metrics for an environment"): EnvironmentHealth every 60 s, which the health alarm watches.
HEALTH_CONFIG_DOCUMENT = (
    '{"CloudWatchMetrics":{"Environment":{"EnvironmentHealth":60}},"Version":1}'
)

Setting = tuple[str, str, pulumi.Input[str]]

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
# How configuration changes that replace instances roll out, per deployment policy. An immutable
# deploy sent together with a change that needs a rolling update is refused, and the provider
# sends both in one UpdateEnvironment call: so immutable deploys pair with immutable updates, the
# one pairing AWS documents ("Immutable environment updates", EB developer guide: both options
# Immutable). The others, traffic splitting included (Beanstalk refuses immutable updates with a
# deployment policy that is not Immutable), roll out health-based.
ROLLING_UPDATE_TYPES: dict[DeploymentPolicy, str] = {
    "AllAtOnce": "Health",
    "Rolling": "Health",
    "RollingWithAdditionalBatch": "Health",
    "Immutable": "Immutable",
    "TrafficSplitting": "Health",
}
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
# Beanstalk's source bundle limit ("Create an application source bundle", EB developer guide).
MAX_BUNDLE_BYTES = 500 * 1024 * 1024
# Project folders that are never part of an app: the virtualenv, git's store, build output.
NOT_BUNDLED = ("venv", ".venv", ".git", "build")
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

    def variables(self) -> dict[str, pulumi.Input[str]]:
        return {f.name.upper(): getattr(self, f.name) for f in dataclasses.fields(self)}


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


def _source_bundle_problem(project_dir: Path, source: str) -> str | None:
    """Why `source` cannot be the app's bundle, or None: it must be a folder inside the project,
    not the project's own tooling, without links out of it, and within Beanstalk's size limit."""
    root = project_dir.resolve()
    folder = (project_dir / source).resolve()
    if not folder.is_relative_to(root) or folder == root:
        return f"a folder inside the project ({root}), not the project itself"
    if not folder.is_dir():
        return f"a folder that exists under {root}"
    if set(folder.relative_to(root).parts) & set(NOT_BUNDLED):
        return f"a folder outside {', '.join(NOT_BUNDLED)}"
    size = 0
    for path in folder.rglob("*"):
        if set(path.relative_to(folder).parts) & set(NOT_BUNDLED):
            return f"a folder without {', '.join(NOT_BUNDLED)} in it (found {path.name})"
        if path.is_symlink() and not path.resolve().is_relative_to(folder):
            return f"a folder whose links stay inside it ({path.name} points outside)"
        size += path.stat().st_size if path.is_file() else 0
        if size > MAX_BUNDLE_BYTES:
            return "a folder of at most 500 MB (Beanstalk's limit for a source bundle)"
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
        why = _source_bundle_problem(check.project_dir, self.source_bundle)
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
        """Beanstalk uses only the first type without Spot, and one architecture for all."""
        types = self.instance_types
        if len({architecture(t) for t in types}) > 1:
            kinds = ", ".join(f"{t} ({architecture(t)})" for t in types)
            check.report(
                "instance_types", f"mixes architectures: {kinds}; Beanstalk needs one for all"
            )
        elif len(types) > 1 and not self.spot.enabled:
            check.report(
                "instance_types",
                f"{len(types)} types, but without Spot Beanstalk launches only the first "
                f"({types[0]}); list one type, or enable spot",
            )
        if self.spot.enabled and not self.single and self.spot.on_demand_base > self.max_instances:
            check.report(
                "spot",
                f"onDemandBase {self.spot.on_demand_base} is more than maxInstances "
                f"({self.max_instances}); expected at most maxInstances",
                "onDemandBase",
            )

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


@dataclass(frozen=True)
class AppHostingArgs:
    """What `AppHosting` is built from: its settings, where it runs and what it connects to."""

    vpc_id: pulumi.Input[str]
    # The load balancer's subnets, and a single instance's (it takes an Elastic IP there).
    public_subnet_ids: pulumi.Input[list[str]]
    # Where load-balanced instances run: private subnets behind NAT, or public ones without.
    app_subnet_ids: pulumi.Input[list[str]]
    # Without NAT the instances sit in public subnets and need public IPs to reach AWS APIs.
    instances_in_public_subnets: bool
    connections: AppConnections
    # The newest solution stack of the configured branch (looked up from `platform`), or the
    # exact `solutionStackName`; the environment keeps the one it was first given (see _platform).
    solution_stack: pulumi.Input[str]
    settings: AppSettings = field(default_factory=AppSettings)
    # The stack's log bucket, for the versions bucket's access logs (with `storage.accessLogs`).
    access_logs: AccessLogDestination | None = None
    # Where the load balancer writes its access logs (with `app.accessLogs`).
    load_balancer_logs: AccessLogDestination | None = None
    # Elastic Beanstalk's hosted zone in the region: an alias to the environment's CNAME names it.
    environment_zone_id: str | None = None
    # The app subnets' way out (the network's `egress`): instances launched before it exists
    # cannot reach Beanstalk's service, and the environment's creation fails.
    egress: Sequence[pulumi.Resource] = ()


def _environment_waits_for(args: AppHostingArgs) -> list[pulumi.Resource]:
    """What must exist before the environment: the log bucket's policy, which ELB checks when
    access logs are turned on, and the app subnets' way out."""
    logs = args.load_balancer_logs.ready if args.load_balancer_logs else ()
    return [*logs, *args.egress]


def _csv(values: pulumi.Input[list[str]]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(values).apply(lambda v: ",".join(v))


def bundle_digest(folder: Path) -> str:
    """A digest of every file's path and bytes: the version label changes exactly when the app does."""
    digest = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def version_label(physical: str, bundle: str, bucket: str) -> str:
    """`<project>-<stack>-<12 hex>`: a digest of the bundle's digest and the bucket holding it."""
    both = hashlib.sha256(f"{bundle}\0{bucket}".encode()).hexdigest()[:12]
    return f"{physical}-{both}"


@dataclass(frozen=True)
class Wiring:
    """The resources an environment's option settings name, created by `AppHosting` itself."""

    service_role_arn: pulumi.Input[str]
    instance_profile: pulumi.Input[str]
    instance_security_group_id: pulumi.Input[str]
    # None on a single instance: there is no load balancer.
    load_balancer_security_group_id: pulumi.Input[str] | None
    # The HTTPS listener's certificate: the stack's own, or the one made for its domain.
    certificate_arn: pulumi.Input[str] | None = None


def environment_settings(
    args: AppHostingArgs, wiring: Wiring
) -> list[aws.elasticbeanstalk.EnvironmentSettingArgs]:
    """Every option setting, sorted, each with resource="", only the options the environment's
    type reads: a single instance gets none of the load balancer's, scaling's or rolling's."""
    settings = args.settings
    rows = [
        *_placement_options(args, wiring),
        *_spot_options(settings.spot),
        *_deployment_options(settings),
        *_health_and_log_options(settings, wiring),
        *_managed_update_options(settings, wiring),
    ]
    if not settings.single:
        rows += [*_capacity_options(settings), *_load_balancer_options(args, wiring)]
    env_vars = "aws:elasticbeanstalk:application:environment"
    variables = {**settings.environment_variables, **args.connections.variables()}
    rows += [(env_vars, key, value) for key, value in variables.items()]
    rows.sort(key=lambda row: (row[0], row[1]))
    return [
        aws.elasticbeanstalk.EnvironmentSettingArgs(
            namespace=namespace, name=name, value=value, resource=""
        )
        for namespace, name, value in rows
    ]


def _placement_options(args: AppHostingArgs, wiring: Wiring) -> list[Setting]:
    """Where the load balancer and the instances run, and what the instances are. A single
    instance runs in a public subnet on its Elastic IP (AssociatePublicIpAddress does nothing
    there)."""
    vpc = "aws:ec2:vpc"
    launch = "aws:autoscaling:launchconfiguration"
    rows: list[Setting] = [
        (vpc, "VPCId", args.vpc_id),
        (launch, "IamInstanceProfile", wiring.instance_profile),
        (launch, "SecurityGroups", wiring.instance_security_group_id),
        # Beanstalk's own instance group opens port 22 to the world; the instances take only
        # the group above, which admits the load balancer alone (or, on a single instance, the
        # app's ports).
        (launch, "DisableDefaultEC2SecurityGroup", "true"),
        (launch, "DisableIMDSv1", "true"),
        (launch, "RootVolumeType", ROOT_VOLUME_TYPE),
        ("aws:ec2:instances", "InstanceTypes", ",".join(args.settings.instance_types)),
    ]
    if args.settings.single:
        return [*rows, (vpc, "Subnets", _csv(args.public_subnet_ids))]
    return [
        *rows,
        (vpc, "Subnets", _csv(args.app_subnet_ids)),
        (vpc, "ELBSubnets", _csv(args.public_subnet_ids)),
        (vpc, "ELBScheme", "public"),
        (vpc, "AssociatePublicIpAddress", str(args.instances_in_public_subnets).lower()),
    ]


def _spot_options(spot: SpotSettings) -> list[Setting]:
    """Beanstalk's Spot fleet: On-Demand base and share, and a price cap, only where set."""
    if not spot.enabled:
        return []
    instances = "aws:ec2:instances"
    rows: list[Setting] = [
        (instances, "EnableSpot", "true"),
        (instances, "SpotFleetOnDemandBase", str(spot.on_demand_base)),
    ]
    if spot.on_demand_above_percent is not None:
        rows.append(
            (instances, "SpotFleetOnDemandAboveBasePercentage", str(spot.on_demand_above_percent))
        )
    if spot.max_price is not None:
        rows.append((instances, "SpotMaxPrice", spot.max_price))
    return rows


def _capacity_options(settings: AppSettings) -> list[Setting]:
    """Instance count, scaled on average CPU."""
    trigger = "aws:autoscaling:trigger"
    return [
        ("aws:autoscaling:asg", "MinSize", str(settings.min_instances)),
        ("aws:autoscaling:asg", "MaxSize", str(settings.max_instances)),
        (trigger, "MeasureName", "CPUUtilization"),
        (trigger, "Statistic", "Average"),
        (trigger, "Unit", "Percent"),
        (trigger, "UpperThreshold", SCALE_OUT_CPU_PERCENT),
        (trigger, "LowerThreshold", SCALE_IN_CPU_PERCENT),
    ]


def _deployment_options(settings: AppSettings) -> list[Setting]:
    """How app versions and configuration changes reach the instances. A single instance has no
    rolling updates (Beanstalk refuses to enable them); an immutable one still pairs with
    immutable configuration updates."""
    rolling = "aws:autoscaling:updatepolicy:rollingupdate"
    command = "aws:elasticbeanstalk:command"
    policy = settings.deployment_policy
    rows: list[Setting] = [(command, "DeploymentPolicy", policy)]
    if settings.single:
        return (
            [*rows, (rolling, "RollingUpdateType", "Immutable")] if policy == "Immutable" else rows
        )
    rows += [
        (rolling, "RollingUpdateEnabled", "true"),
        (rolling, "RollingUpdateType", ROLLING_UPDATE_TYPES[policy]),
    ]
    if policy in ("Rolling", "RollingWithAdditionalBatch"):
        rows += [
            (command, "BatchSizeType", "Percentage"),
            (command, "BatchSize", ROLLING_BATCH_PERCENT),
        ]
    return rows


def _health_and_log_options(settings: AppSettings, wiring: Wiring) -> list[Setting]:
    """Enhanced health (on the app's health path behind a load balancer; a single instance is
    judged by its EC2 status), instance and health logs to CloudWatch."""
    env = "aws:elasticbeanstalk:environment"
    process = "aws:elasticbeanstalk:environment:process:default"
    logs = "aws:elasticbeanstalk:cloudwatch:logs"
    health_logs = "aws:elasticbeanstalk:cloudwatch:logs:health"
    retention = str(settings.log_retention_days)
    rows: list[Setting] = [
        (env, "EnvironmentType", settings.environment_type),
        (env, "ServiceRole", wiring.service_role_arn),
        ("aws:elasticbeanstalk:healthreporting:system", "SystemType", "enhanced"),
        ("aws:elasticbeanstalk:healthreporting:system", "ConfigDocument", HEALTH_CONFIG_DOCUMENT),
        (logs, "StreamLogs", "true"),
        (logs, "DeleteOnTerminate", "false"),
        (logs, "RetentionInDays", retention),
        (health_logs, "HealthStreamingEnabled", "true"),
        (health_logs, "DeleteOnTerminate", "false"),
        (health_logs, "RetentionInDays", retention),
    ]
    if settings.single:
        return rows
    return [
        *rows,
        (env, "LoadBalancerType", "application"),
        (process, "Port", str(APP_PORT)),
        (process, "Protocol", "HTTP"),
        (process, "HealthCheckPath", settings.health_check_path),
        (process, "MatcherHTTPCode", "200"),
    ]


def _load_balancer_options(args: AppHostingArgs, wiring: Wiring) -> list[Setting]:
    """The ALB's own security group, HTTP, HTTPS with a modern TLS policy when certified, and
    access logs when asked for."""
    group = wiring.load_balancer_security_group_id
    if group is None:
        raise ValueError("a load-balanced environment needs the load balancer's security group")
    balancer = "aws:elbv2:loadbalancer"
    rows: list[Setting] = [
        (balancer, "SecurityGroups", group),
        (balancer, "ManagedSecurityGroup", group),
        ("aws:elbv2:listener:default", "ListenerEnabled", "true"),
    ]
    if wiring.certificate_arn is not None:
        https = f"aws:elbv2:listener:{HTTPS_PORT}"
        rows += [
            (https, "ListenerEnabled", "true"),
            (https, "Protocol", "HTTPS"),
            (https, "SSLCertificateArns", wiring.certificate_arn),
            (https, "SSLPolicy", TLS_POLICY),
        ]
    if args.load_balancer_logs is not None:
        rows += [
            (balancer, "AccessLogsS3Enabled", "true"),
            (balancer, "AccessLogsS3Bucket", args.load_balancer_logs.bucket),
            (balancer, "AccessLogsS3Prefix", args.load_balancer_logs.prefix),
        ]
    return rows


def _managed_update_options(settings: AppSettings, wiring: Wiring) -> list[Setting]:
    updates = settings.managed_updates
    managed = "aws:elasticbeanstalk:managedactions"
    rows: list[Setting] = [(managed, "ManagedActionsEnabled", str(updates.enabled).lower())]
    if updates.enabled:
        rows += [
            (managed, "PreferredStartTime", updates.window),
            (managed, "ServiceRoleForManagedUpdates", wiring.service_role_arn),
            ("aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel", updates.level),
        ]
    return rows


class AppHosting(Component):
    """An Elastic Beanstalk application, its versions and one environment: load-balanced, or a
    single instance."""

    application_name: pulumi.Output[str]
    environment_name: pulumi.Output[str]
    url: pulumi.Output[str]
    cname: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    instance_role_arn: pulumi.Output[str]
    # The environment's application load balancer, for alarms on its metrics; None on a single
    # instance.
    load_balancer_arn: pulumi.Output[str] | None
    # Other components grant the app access through this role (`storage.grant_read_write(...)`).
    instance_role: aws.iam.Role
    security_group: aws.ec2.SecurityGroup

    def __init__(
        self, name: str, args: AppHostingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webstack:hosting:AppHosting", name, opts)
        settings = args.settings
        service_role, profile = self._roles()
        load_balancer_sg, self.security_group = self._security_groups(settings, args.vpc_id)
        application = self._application(service_role)
        version = self._application_version(args, application, service_role)
        env = aws.elasticbeanstalk.Environment(
            f"{name}-environment",
            name=environment_name(physical_prefix()),
            application=application.name,
            solution_stack_name=self._platform(args),
            tier="WebServer",
            version=version.name,
            settings=environment_settings(
                args,
                Wiring(
                    service_role_arn=service_role.arn,
                    instance_profile=profile.name,
                    instance_security_group_id=self.security_group.id,
                    load_balancer_security_group_id=load_balancer_sg.id
                    if load_balancer_sg
                    else None,
                    certificate_arn=self._certificate(settings),
                ),
            ),
            wait_for_ready_timeout=READY_TIMEOUT,
            # A fixed name: a replacement must delete the old one first. A new environment type
            # replaces the environment: Beanstalk takes a load balancer's type only at creation.
            opts=self.child(
                depends_on=_environment_waits_for(args),
                delete_before_replace=True,
                replacement_trigger=settings.environment_type,
            ),
        )
        self._front(args, env)
        self.application_name = application.name
        self.environment_name = env.name
        self.cname = env.cname
        self.url = self._url(settings, env)
        self.security_group_id = self.security_group.id
        self.instance_role_arn = self.instance_role.arn
        self.load_balancer_arn = (
            None if settings.single else env.load_balancers.apply(lambda arns: arns[0])
        )
        self.register_outputs(
            {
                "application_name": self.application_name,
                "environment_name": self.environment_name,
                "url": self.url,
                "cname": self.cname,
                "security_group_id": self.security_group_id,
                "instance_role_arn": self.instance_role_arn,
                "load_balancer_arn": self.load_balancer_arn,
            }
        )

    def _certificate(self, settings: AppSettings) -> pulumi.Input[str] | None:
        """The load balancer's certificate: the one given, or one made for the domain."""
        domain = settings.domain
        if domain.name and domain.hosted_zone_id:
            return validated_certificate(self, domain.name, domain.hosted_zone_id)
        return settings.certificate_arn

    def _front(self, args: AppHostingArgs, env: aws.elasticbeanstalk.Environment) -> None:
        """The redirect to HTTPS, the domain's alias and the web ACL, each when configured."""
        settings = args.settings
        if settings.single:
            # The bundle's own nginx serves HTTPS on 443 where instanceHttps says so.
            if not settings.instance_https:
                pulumi.log.warn(
                    "webstack:app.environmentType is SingleInstance without instanceHttps: the "
                    "app is served over plain HTTP only, on the instance's Elastic IP. HTTPS on a "
                    "single instance means a certificate on the instance itself (instanceHttps, "
                    "with an nginx server on 443 in the bundle); ACM certificates need a load "
                    "balancer.",
                    resource=self,
                )
        elif settings.https:
            self._redirect_http_to_https(env)
        else:
            pulumi.log.warn(
                "webstack:app.domain and certificateArn are not set: the app is served over "
                "plain HTTP only. Set domain (or certificateArn) to serve HTTPS and redirect "
                "HTTP to it.",
                resource=self,
            )
        domain = settings.domain
        if domain.name and domain.hosted_zone_id:
            if args.environment_zone_id is None:
                raise ValueError("a domain needs the region's Elastic Beanstalk hosted zone id")
            alias_record(self, domain.name, domain.hosted_zone_id, env, args.environment_zone_id)
        if settings.waf:
            web_acl(
                self,
                env.load_balancers.apply(lambda arns: arns[0]),
                settings.waf_rate_limit,
                physical_prefix(),
                settings.log_retention_days,
            )

    @staticmethod
    def _url(settings: AppSettings, env: aws.elasticbeanstalk.Environment) -> pulumi.Output[str]:
        if settings.domain.name:
            return pulumi.Output.from_input(f"https://{settings.domain.name}")
        scheme = "https" if settings.https else "http"
        return env.cname.apply(lambda cname: f"{scheme}://{cname}")

    def _roles(self) -> tuple[aws.iam.Role, aws.iam.InstanceProfile]:
        """The service role Beanstalk acts with, and the instances' role and profile."""
        service_role = aws.iam.Role(
            f"{self.prefix}-service-role",
            assume_role_policy=service_trust_policy(
                EB_SERVICE, {"StringEquals": {"sts:ExternalId": EB_EXTERNAL_ID}}
            ),
            opts=self.child(),
        )
        self._attach(service_role, "service", SERVICE_ROLE_POLICIES)
        self.instance_role = aws.iam.Role(
            f"{self.prefix}-instance-role",
            assume_role_policy=service_trust_policy(EC2_SERVICE),
            opts=self.child(),
        )
        self._attach(self.instance_role, "instance", INSTANCE_ROLE_POLICIES)
        profile = aws.iam.InstanceProfile(
            f"{self.prefix}-instance-profile", role=self.instance_role.name, opts=self.child()
        )
        return service_role, profile

    def _application(self, service_role: aws.iam.Role) -> aws.elasticbeanstalk.Application:
        return aws.elasticbeanstalk.Application(
            f"{self.prefix}-application",
            name=physical_prefix(),
            description=f"{pulumi.get_project()} {pulumi.get_stack()}",
            appversion_lifecycle={
                "service_role": service_role.arn,
                "max_count": APP_VERSIONS_KEPT,
                # The service role may delete bundles from the versions bucket (grant_delete).
                "delete_source_from_s3": True,
            },
            opts=self.child(delete_before_replace=True),
        )

    def _platform(self, args: AppHostingArgs) -> pulumi.Output[str]:
        """The solution stack, pinned: the newest of the configured branch when the branch was
        last set, kept in the stack's state (a Stash) until the branch in config changes.

        So a routine `pulumi up` never moves the platform; a new `platform` (or
        `solutionStackName`) replaces the pin and is applied; Beanstalk's managed updates move
        minor and patch versions inside their window."""
        configured = args.settings.solution_stack_name or args.settings.platform
        pin = pulumi.Stash(
            f"{self.prefix}-platform",
            input=args.solution_stack,
            opts=self.child(replacement_trigger=configured),
        )
        return pulumi.Output.from_input(pin.output).apply(str)

    def _attach(self, role: aws.iam.Role, label: str, policies: tuple[str, ...]) -> None:
        for policy in policies:
            short = policy.rsplit("/", 1)[-1]
            aws.iam.RolePolicyAttachment(
                f"{self.prefix}-{label}-{short}",
                role=role.name,
                policy_arn=managed_policy_arn(policy, self),
                opts=self.child(),
            )

    def _security_groups(
        self, settings: AppSettings, vpc_id: pulumi.Input[str]
    ) -> tuple[aws.ec2.SecurityGroup | None, aws.ec2.SecurityGroup]:
        """The load balancer takes the web; the instances take only the load balancer. A single
        instance takes the web itself, on the app's HTTP(S) ports only."""
        name = self.prefix
        child = self.child()
        instances = aws.ec2.SecurityGroup(
            f"{name}-instance-sg",
            vpc_id=vpc_id,
            description="App instance: HTTP(S) from the internet"
            if settings.single
            else "App instances: app port from the load balancer",
            opts=child,
        )
        # Instances call AWS APIs, package mirrors and the database.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-instances-out",
            security_group_id=instances.id,
            ip_protocol="-1",
            cidr_ipv4=ANYWHERE_IPV4,
            description="outbound to AWS APIs, package mirrors and the database",
            opts=child,
        )
        ports = [HTTP_PORT] + ([HTTPS_PORT] if settings.https else [])
        if settings.single:
            self._open_to_the_internet(instances, "instance", ports)
            return None, instances
        load_balancer = aws.ec2.SecurityGroup(
            f"{name}-lb-sg",
            vpc_id=vpc_id,
            description="App load balancer: HTTP(S) from the internet",
            opts=child,
        )
        self._open_to_the_internet(load_balancer, "lb", ports)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-lb-to-instances",
            security_group_id=load_balancer.id,
            referenced_security_group_id=instances.id,
            ip_protocol="tcp",
            from_port=APP_PORT,
            to_port=APP_PORT,
            description="to the app instances",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-instances-from-lb",
            security_group_id=instances.id,
            referenced_security_group_id=load_balancer.id,
            ip_protocol="tcp",
            from_port=APP_PORT,
            to_port=APP_PORT,
            description="app port from the load balancer",
            opts=child,
        )
        return load_balancer, instances

    def _open_to_the_internet(
        self, group: aws.ec2.SecurityGroup, label: str, ports: list[int]
    ) -> None:
        """Ingress on each port from every IPv4 and IPv6 address."""
        for port in ports:
            for family, cidr in (("ipv4", ANYWHERE_IPV4), ("ipv6", ANYWHERE_IPV6)):
                aws.vpc.SecurityGroupIngressRule(
                    f"{self.prefix}-{label}-{port}-{family}",
                    security_group_id=group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr if family == "ipv4" else None,
                    cidr_ipv6=cidr if family == "ipv6" else None,
                    description=f"port {port} from the internet",
                    opts=self.child(),
                )

    def _application_version(
        self,
        args: AppHostingArgs,
        application: aws.elasticbeanstalk.Application,
        service_role: aws.iam.Role,
    ) -> aws.elasticbeanstalk.ApplicationVersion:
        """Zip `sourceBundle`, upload it to a private versions bucket, register it as a version."""
        name = self.prefix
        settings = args.settings
        folder = Path(settings.source_bundle)
        versions = Storage(
            f"{name}-versions",
            StorageArgs(
                StorageSettings(
                    force_destroy=True, noncurrent_version_expiration_days=VERSIONS_EXPIRY_DAYS
                ),
                protect=False,
                log_to=args.access_logs,
            ),
            opts=self.child(),
        )
        # Instances fetch the bundle on deploy; the version lifecycle deletes superseded ones.
        versions.grant_read(self.instance_role)
        versions.grant_delete(service_role)
        # The label names the version within the application, so it changes with everything
        # that replaces the version (the app's files, the bucket): a replacement never takes
        # the name its predecessor still holds while the environment runs it.
        digest = bundle_digest(folder)
        physical = physical_prefix()
        label = versions.bucket_name.apply(lambda bucket: version_label(physical, digest, bucket))
        bundle = aws.s3.BucketObjectv2(
            f"{name}-bundle",
            bucket=versions.bucket_name,
            key=label.apply(lambda text: f"{text}.zip"),
            source=pulumi.FileArchive(str(folder)),
            opts=self.child(),
        )
        return aws.elasticbeanstalk.ApplicationVersion(
            f"{name}-version",
            name=label,
            application=application.name,
            bucket=versions.bucket_name,
            key=bundle.key,
            description=f"{settings.source_bundle} ({digest})",
            opts=self.child(),
        )

    def _redirect_http_to_https(self, env: aws.elasticbeanstalk.Environment) -> None:
        """Beanstalk has no option for the redirect: add a rule to its ALB's HTTP listener."""
        listener = aws.lb.get_listener_output(
            load_balancer_arn=env.load_balancers[0],
            port=HTTP_PORT,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        aws.lb.ListenerRule(
            f"{self.prefix}-https-redirect",
            listener_arn=listener.arn,
            priority=REDIRECT_RULE_PRIORITY,
            actions=[
                {
                    "type": "redirect",
                    "redirect": {
                        "port": str(HTTPS_PORT),
                        "protocol": "HTTPS",
                        "status_code": "HTTP_301",
                    },
                }
            ],
            conditions=[{"path_pattern": {"values": ["/*"]}}],
            opts=self.child(),
        )
