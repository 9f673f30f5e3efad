"""Typed stack settings: every `webstack:*` config key, its safe default and its validation.

`load_settings()` reads the stack's config and returns frozen dataclasses, or raises one
`ConfigError` listing every problem by its full key path before any resource is registered.
`parse_settings()` does the same from raw config values, so tests need no Pulumi runtime.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import pulumi

from components.engines import ENGINES, EngineName

_T = TypeVar("_T")

NAMESPACE = "webstack"
REGION_KEY = "aws:region"

NatMode = Literal["none", "single", "perAz"]
NAT_MODES: tuple[NatMode, ...] = ("none", "single", "perAz")
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
UpdateLevel = Literal["minor", "patch"]
UPDATE_LEVELS: tuple[UpdateLevel, ...] = ("minor", "patch")
# The only values CloudWatch Logs accepts as a retention period (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
# Tags every taggable resource gets from the program itself; users cannot override them.
BASE_TAG_KEYS = ("project", "stack", "managed-by")
# Environment variables the program sets for the app (DESIGN.md); users cannot override them.
RESERVED_ENV_VARS = ("BUCKET_NAME", "DB_HOST", "DB_PORT", "DB_NAME", "DB_SECRET_ARN", "AWS_REGION")

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_DB_INSTANCE_CLASS = re.compile(r"^db\.[a-z0-9-]+\.[a-z0-9]+$")
_EC2_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_ENGINE_VERSION = re.compile(r"^\d+(\.\d+)?$")
_DB_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
_DB_PARAMETER = re.compile(r"^[A-Za-z0-9_.]+$")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ORIGIN = re.compile(r"^(\*|https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?)$")
_WINDOW = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):[0-5]\d$")
_HEALTH_PATH = re.compile(r"^/[A-Za-z0-9._~/%-]*$")
# Go's RE2 (which the provider uses for name_regex) has no look-around and no back-references.
_NOT_RE2 = re.compile(r"\(\?<?[=!]|\\[1-9]")
# Words the database engines reserve for their own administrators.
_RESERVED_DB_USERS = frozenset({"rdsadmin", "rdsrepladmin", "admin", "root", "postgres", "mysql"})


class ConfigError(pulumi.RunError):
    """Every problem with the stack's config, one per line, each naming its full key path.

    Subclasses `pulumi.RunError` so `pulumi up` prints the message without a traceback.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class NetworkSettings:
    """`webstack:network`: a new VPC carved from `cidr_block`, or an existing one passed through."""

    cidr_block: str = "10.0.0.0/16"
    availability_zones: int = 2
    nat_gateways: NatMode = "single"
    flow_logs: bool = True
    flow_log_retention_days: int = 30
    vpc_id: str | None = None
    public_subnet_ids: tuple[str, ...] = ()
    private_subnet_ids: tuple[str, ...] = ()

    @property
    def bring_your_own(self) -> bool:
        return self.vpc_id is not None


@dataclass(frozen=True)
class StorageSettings:
    """`webstack:storage`: the app's private, encrypted S3 bucket."""

    versioning: bool = True
    force_destroy: bool = False
    noncurrent_version_expiration_days: int = 90
    infrequent_access_after_days: int | None = None
    access_logs: bool = False
    cors_allowed_origins: tuple[str, ...] = ()
    kms_key_arn: str | None = None


@dataclass(frozen=True)
class DatabaseSettings:
    """`webstack:database`: the app's private, encrypted RDS instance."""

    engine: EngineName = "postgres"
    engine_version: str = ENGINES["postgres"].default_version
    instance_class: str = "db.t4g.micro"
    allocated_storage: int = 20
    max_allocated_storage: int = 100
    multi_az: bool = False
    backup_retention_days: int = 7
    deletion_protection: bool = True
    skip_final_snapshot: bool = False
    performance_insights: bool = False
    monitoring_interval: int = 0
    db_name: str = "app"
    username: str = "app_admin"
    parameters: Mapping[str, str] = field(default_factory=dict)
    log_exports: tuple[str, ...] = ENGINES["postgres"].default_log_exports
    log_retention_days: int = 30

    @property
    def port(self) -> int:
        return ENGINES[self.engine].port


@dataclass(frozen=True)
class ManagedUpdates:
    """`webstack:app.managedUpdates`: Beanstalk's managed platform updates."""

    enabled: bool = True
    window: str = "Sun:03:00"
    level: UpdateLevel = "minor"


@dataclass(frozen=True)
class AppSettings:
    """`webstack:app`: the Elastic Beanstalk environment that runs the app."""

    platform: str = "Python 3.12"
    solution_stack_name: str | None = None
    instance_types: tuple[str, ...] = ("t3.micro",)
    min_instances: int = 1
    max_instances: int = 2
    health_check_path: str = "/health"
    certificate_arn: str | None = None
    source_bundle: str = "app"
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    deployment_policy: DeploymentPolicy = "Rolling"
    log_retention_days: int = 7
    managed_updates: ManagedUpdates = field(default_factory=ManagedUpdates)


@dataclass(frozen=True)
class StackSettings:
    """Everything one stack is configured with."""

    region: str
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = True
    network: NetworkSettings = field(default_factory=NetworkSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    app: AppSettings = field(default_factory=AppSettings)


class _Section:
    """One YAML object of config: typed getters that record problems against full key paths."""

    def __init__(self, problems: list[str], path: str, value: Any, separator: str = ".") -> None:
        self.problems = problems
        self.path = path
        self.separator = separator
        self._seen: set[str] = set()
        self._raw: Mapping[str, Any] = {}
        if isinstance(value, Mapping):
            self._raw = value
        elif value is not None:
            problems.append(f"{path}: {value!r} is not valid; expected a YAML object")

    def key(self, name: str) -> str:
        return f"{self.path}{self.separator}{name}"

    def has(self, name: str) -> bool:
        return name in self._raw

    def fail(self, name: str, value: Any, accepted: str) -> None:
        self.problems.append(f"{self.key(name)}: {value!r} is not valid; expected {accepted}")

    def _get(self, name: str) -> Any:
        self._seen.add(name)
        return self._raw.get(name)

    def boolean(self, name: str, default: bool) -> bool:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.fail(name, value, "true or false")
        return default

    def integer(
        self, name: str, default: int, low: int, high: int, choices: tuple[int, ...] = ()
    ) -> int:
        number = self.optional_integer(name, low, high, choices)
        return default if number is None else number

    def optional_integer(
        self, name: str, low: int, high: int, choices: tuple[int, ...] = ()
    ) -> int | None:
        value = self._get(name)
        if value is None:
            return None
        number = _as_int(value)
        if choices:
            if number not in choices:
                self.fail(name, value, "one of " + ", ".join(map(str, choices)))
                return None
        elif number is None or not low <= number <= high:
            self.fail(name, value, f"a whole number from {low} to {high}")
            return None
        return number

    def text(
        self,
        name: str,
        default: str,
        pattern: re.Pattern[str] | None = None,
        accepted: str = "a string",
        choices: tuple[str, ...] = (),
        numbers_ok: bool = False,
    ) -> str:
        value = self._get(name)
        if value is None:
            return default
        if numbers_ok and isinstance(value, int | float) and not isinstance(value, bool):
            value = format(value, "g")
        if choices:
            if value not in choices:
                self.fail(name, value, "one of " + ", ".join(choices))
                return default
            return cast(str, value)
        if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
            self.fail(name, value, accepted)
            return default
        return value

    def optional_text(self, name: str, pattern: re.Pattern[str], accepted: str) -> str | None:
        if self.has(name) and self._raw[name] is not None:
            return self.text(name, "", pattern, accepted) or None
        self._seen.add(name)
        return None

    def text_list(
        self,
        name: str,
        default: tuple[str, ...],
        item: Callable[[str], bool],
        accepted: str,
        min_items: int = 0,
        max_items: int = 100,
    ) -> tuple[str, ...]:
        value = self._get(name)
        if value is None:
            return default
        if (
            not isinstance(value, list)
            or not min_items <= len(value) <= max_items
            or not all(isinstance(v, str) and item(v) for v in value)
            or len(set(value)) != len(value)
        ):
            self.fail(name, value, f"a list of {min_items} to {max_items} distinct {accepted}")
            return default
        return tuple(value)

    def text_map(
        self, name: str, key_ok: Callable[[str], str | None], value_max: int = 256
    ) -> dict[str, str]:
        """A map of strings; `key_ok` returns why a key is refused, or None."""
        value = self._get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(name, value, "a YAML map of names to strings")
            return {}
        result: dict[str, str] = {}
        for key, item in value.items():
            why = key_ok(str(key))
            if why:
                self.problems.append(f"{self.key(name)}.{key}: {why}")
                continue
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.fail(f"{name}.{key}", item, "a string")
                continue
            text = item if isinstance(item, str) else format(item, "g")
            if len(text) > value_max:
                self.fail(f"{name}.{key}", text, f"at most {value_max} characters")
                continue
            result[str(key)] = text
        return result

    def section(self, name: str) -> _Section:
        return _Section(self.problems, self.key(name), self._get(name))

    def reject_unknown(self) -> None:
        for name in self._raw:
            if name not in self._seen:
                hint = difflib.get_close_matches(name, sorted(self._seen), n=1)
                also = f" (did you mean {hint[0]!r}?)" if hint else ""
                accepted = ", ".join(sorted(self._seen))
                self.problems.append(
                    f"{self.key(name)}: unknown key{also}; accepted keys: {accepted}"
                )


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _parse_json(raw: str | None) -> Any:
    """Config values arrive as strings; structured ones are JSON."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _network(s: _Section) -> NetworkSettings:
    d = NetworkSettings()
    vpc_id = s.optional_text("vpcId", _VPC_ID, "a VPC id such as vpc-0123456789abcdef0")
    # Two of each: an RDS subnet group and an application load balancer both span two zones.
    subnets = "subnet ids (subnet-0123456789abcdef0) in different zones"
    public = s.text_list(
        "publicSubnetIds", (), lambda v: bool(_SUBNET_ID.fullmatch(v)), subnets, min_items=2
    )
    private = s.text_list(
        "privateSubnetIds", (), lambda v: bool(_SUBNET_ID.fullmatch(v)), subnets, min_items=2
    )
    cidr = s.text("cidrBlock", d.cidr_block, accepted="an IPv4 CIDR block such as 10.0.0.0/16")
    zones = s.integer("availabilityZones", d.availability_zones, 2, 6)
    nat = s.text("natGateways", d.nat_gateways, choices=NAT_MODES)
    flow_logs = s.boolean("flowLogs", d.flow_logs)
    retention = s.integer(
        "flowLogRetentionDays", d.flow_log_retention_days, 1, 3653, LOG_RETENTION_DAYS
    )
    own_keys = ("vpcId", "publicSubnetIds", "privateSubnetIds")
    if any(s.has(key) for key in own_keys):
        if not all(s.has(key) for key in own_keys):
            s.problems.append(
                f"{s.path}: bringing your own network needs vpcId, publicSubnetIds and "
                "privateSubnetIds together"
            )
        if set(public) & set(private):
            s.problems.append(f"{s.path}: a subnet cannot be both public and private")
        for own in ("cidrBlock", "availabilityZones", "natGateways", "flowLogs"):
            if s.has(own):
                s.problems.append(
                    f"{s.key(own)}: has no effect with vpcId (the network is not created); remove it"
                )
    else:
        _check_cidr(s, cidr, zones)
    return NetworkSettings(
        cidr_block=cidr,
        availability_zones=zones,
        nat_gateways=cast(NatMode, nat),
        flow_logs=flow_logs,
        flow_log_retention_days=retention,
        vpc_id=vpc_id,
        public_subnet_ids=public,
        private_subnet_ids=private,
    )


# Subnets take a fixed 1/16 of the VPC each (public in slots 0-5, private in 8-13), so adding a
# zone later never moves an existing subnet.
SUBNET_EXTRA_BITS = 4
PRIVATE_SLOT_OFFSET = 8
SMALLEST_SUBNET_PREFIX = 28  # AWS's smallest subnet


def _check_cidr(s: _Section, cidr: str, zones: int) -> None:
    try:
        network = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError:
        s.fail("cidrBlock", cidr, "an IPv4 CIDR block with no host bits set, such as 10.0.0.0/16")
        return
    if network.prefixlen < 16:
        s.fail("cidrBlock", cidr, "a block from /16 (AWS's largest VPC) to /24")
    elif network.prefixlen + SUBNET_EXTRA_BITS > SMALLEST_SUBNET_PREFIX:
        s.problems.append(
            f"{s.key('cidrBlock')}: {cidr!r} is too small for {zones} zones: each zone needs a "
            f"public and a private subnet of 1/16 of the block (/{network.prefixlen + SUBNET_EXTRA_BITS})"
            f" and AWS's smallest subnet is /{SMALLEST_SUBNET_PREFIX}; use a /24 or larger block"
        )


def _storage(s: _Section) -> StorageSettings:
    d = StorageSettings()
    versioning = s.boolean("versioning", d.versioning)
    expiry = s.integer(
        "noncurrentVersionExpirationDays", d.noncurrent_version_expiration_days, 1, 36500
    )
    if not versioning and s.has("noncurrentVersionExpirationDays"):
        s.problems.append(
            f"{s.key('noncurrentVersionExpirationDays')}: has no effect with versioning false; "
            "remove it or turn versioning on"
        )
    return StorageSettings(
        versioning=versioning,
        force_destroy=s.boolean("forceDestroy", d.force_destroy),
        noncurrent_version_expiration_days=expiry,
        # S3 moves objects to STANDARD_IA no sooner than 30 days after creation.
        infrequent_access_after_days=s.optional_integer("infrequentAccessAfterDays", 30, 36500),
        access_logs=s.boolean("accessLogs", d.access_logs),
        cors_allowed_origins=s.text_list(
            "corsAllowedOrigins",
            (),
            lambda v: bool(_ORIGIN.fullmatch(v)),
            "origins such as https://app.example.com or *",
        ),
        kms_key_arn=s.optional_text(
            "kmsKeyArn", _KMS_KEY_ARN, "a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID)"
        ),
    )


def _database(s: _Section) -> DatabaseSettings:
    d = DatabaseSettings()
    engine = cast(EngineName, s.text("engine", d.engine, choices=tuple(ENGINES)))
    spec = ENGINES[engine]
    version = s.text(
        "engineVersion",
        spec.default_version,
        _ENGINE_VERSION,
        'a major version such as "16" (postgres) or "8.4" (mysql)',
        numbers_ok=True,
    )
    instance_class = s.text(
        "instanceClass",
        d.instance_class,
        _DB_INSTANCE_CLASS,
        "an RDS instance class such as db.t4g.micro",
    )
    allocated = s.integer("allocatedStorage", d.allocated_storage, 20, 65536)
    max_allocated = s.integer("maxAllocatedStorage", d.max_allocated_storage, 20, 65536)
    if max_allocated < allocated:
        s.fail("maxAllocatedStorage", max_allocated, f"at least allocatedStorage ({allocated} GiB)")
    performance_insights = s.boolean("performanceInsights", d.performance_insights)
    if performance_insights and instance_class in spec.no_performance_insights_classes:
        s.problems.append(
            f"{s.key('performanceInsights')}: RDS offers no Performance Insights for {engine} on "
            f"{instance_class}; use a larger instanceClass or set it to false"
        )
    name_accepted = "1-16 letters, digits or underscores, starting with a letter"
    db_name = s.text("dbName", d.db_name, _DB_IDENTIFIER, name_accepted)
    username = s.text("username", d.username, _DB_IDENTIFIER, name_accepted)
    if username.lower() in _RESERVED_DB_USERS:
        s.fail(
            "username",
            username,
            "a name the engine does not reserve (not "
            + ", ".join(sorted(_RESERVED_DB_USERS))
            + ")",
        )

    def parameter_key(key: str) -> str | None:
        if not _DB_PARAMETER.fullmatch(key):
            return "not a parameter name (letters, digits, '_' and '.')"
        if key == spec.tls_parameter[0]:
            return "is managed by webstack: TLS is always required"
        return None

    accepted_logs = "log types of " + engine + ": " + ", ".join(sorted(spec.log_types))
    return DatabaseSettings(
        engine=engine,
        engine_version=version,
        instance_class=instance_class,
        allocated_storage=allocated,
        max_allocated_storage=max_allocated,
        multi_az=s.boolean("multiAz", d.multi_az),
        backup_retention_days=s.integer("backupRetentionDays", d.backup_retention_days, 1, 35),
        deletion_protection=s.boolean("deletionProtection", d.deletion_protection),
        skip_final_snapshot=s.boolean("skipFinalSnapshot", d.skip_final_snapshot),
        performance_insights=performance_insights,
        monitoring_interval=s.integer(
            "monitoringInterval", d.monitoring_interval, 0, 60, MONITORING_INTERVALS
        ),
        db_name=db_name,
        username=username,
        parameters=s.text_map("parameters", parameter_key, value_max=4096),
        log_exports=s.text_list(
            "logExports", spec.default_log_exports, lambda v: v in spec.log_types, accepted_logs
        ),
        log_retention_days=s.integer(
            "logRetentionDays", d.log_retention_days, 1, 3653, LOG_RETENTION_DAYS
        ),
    )


def _platform_regex(s: _Section, default: str) -> str:
    platform = s.text("platform", default, accepted="a solution-stack regex such as 'Python 3.12'")
    try:
        re.compile(platform)
    except re.error as error:
        s.fail("platform", platform, f"a valid regular expression ({error})")
        return default
    if not platform.strip() or _NOT_RE2.search(platform):
        s.fail(
            "platform",
            platform,
            "a non-empty RE2 regular expression (no look-around, no back-references)",
        )
        return default
    return platform


def _app(s: _Section, project_dir: Path) -> AppSettings:
    d = AppSettings()
    minimum = s.integer("minInstances", d.min_instances, 1, 10000)
    maximum = s.integer("maxInstances", d.max_instances, 1, 10000)
    if minimum > maximum:
        s.problems.append(
            f"{s.key('minInstances')}: {minimum} is greater than maxInstances ({maximum}); "
            "expected minInstances <= maxInstances"
        )
    source = s.text("sourceBundle", d.source_bundle, accepted="a folder of the project")
    if not (project_dir / source).is_dir():
        s.fail("sourceBundle", source, f"a folder that exists under {project_dir}")

    def env_key(key: str) -> str | None:
        if not _ENV_VAR.fullmatch(key):
            return "not an environment variable name (letters, digits and '_')"
        if key in RESERVED_ENV_VARS:
            return "is set by webstack itself; choose another name"
        return None

    updates = s.section("managedUpdates")
    managed = ManagedUpdates(
        enabled=updates.boolean("enabled", ManagedUpdates.enabled),
        window=updates.text(
            "window",
            ManagedUpdates.window,
            _WINDOW,
            "a weekly start time Day:HH:MM in UTC, such as Sun:03:00",
        ),
        level=cast(UpdateLevel, updates.text("level", ManagedUpdates.level, choices=UPDATE_LEVELS)),
    )
    updates.reject_unknown()
    return AppSettings(
        platform=_platform_regex(s, d.platform),
        solution_stack_name=s.optional_text(
            "solutionStackName",
            re.compile(r"^\S.*\S$"),
            "an exact solution stack name such as '64bit Amazon Linux 2023 v4.5.0 running Python 3.12'",
        ),
        instance_types=s.text_list(
            "instanceTypes",
            d.instance_types,
            lambda v: bool(_EC2_INSTANCE_TYPE.fullmatch(v)),
            "EC2 instance types such as t3.micro",
            min_items=1,
            max_items=40,
        ),
        min_instances=minimum,
        max_instances=maximum,
        health_check_path=s.text(
            "healthCheckPath", d.health_check_path, _HEALTH_PATH, "a URL path starting with /"
        ),
        certificate_arn=s.optional_text(
            "certificateArn",
            _CERTIFICATE_ARN,
            "an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)",
        ),
        source_bundle=source,
        environment_variables=s.text_map("environmentVariables", env_key),
        deployment_policy=cast(
            DeploymentPolicy,
            s.text("deploymentPolicy", d.deployment_policy, choices=DEPLOYMENT_POLICIES),
        ),
        log_retention_days=s.integer(
            "logRetentionDays", d.log_retention_days, 1, 3653, LOG_RETENTION_DAYS
        ),
        managed_updates=managed,
    )


def _tag_key(key: str) -> str | None:
    if key in BASE_TAG_KEYS:
        return "is set by webstack itself; choose another tag key"
    if key == "Name" or key.lower().startswith(("aws:", "elasticbeanstalk:")):
        return "is reserved by AWS (Beanstalk refuses Name and aws:/elasticbeanstalk: keys)"
    if not 1 <= len(key) <= 128:
        return "tag keys are 1 to 128 characters"
    return None


SECTIONS = ("tags", "protectData", "network", "storage", "database", "app")


def parse_settings(
    raw: Mapping[str, str | None],
    secret_keys: frozenset[str] = frozenset(),
    project_dir: Path = Path("."),
) -> StackSettings:
    """Build settings from raw config values (`{"webstack:network": "<json>", ...}`)."""
    problems: list[str] = []
    region = raw.get(REGION_KEY)
    if not region or not _REGION.fullmatch(region):
        problems.append(
            f"{REGION_KEY}: {region!r} is not valid; expected a region such as us-east-1"
        )
        region = "us-east-1"
    prefix = f"{NAMESPACE}:"
    top: dict[str, Any] = {}
    for full_key, value in raw.items():
        if not full_key.startswith(prefix):
            continue
        if full_key in secret_keys:
            problems.append(
                f"{full_key}: holds a secret; webstack config carries no secrets "
                "(the database password lives in Secrets Manager)"
            )
        top[full_key[len(prefix) :]] = _parse_json(value)
    root = _Section(problems, NAMESPACE, top, separator=":")
    tags = root.text_map("tags", _tag_key)
    protect_data = root.boolean("protectData", True)
    settings = StackSettings(
        region=region,
        tags=tags,
        protect_data=protect_data,
        network=_finished(root.section("network"), _network),
        storage=_finished(root.section("storage"), _storage),
        database=_finished(root.section("database"), _database),
        app=_finished(root.section("app"), lambda s: _app(s, project_dir)),
    )
    root.reject_unknown()
    if problems:
        raise ConfigError(problems)
    return settings


def _finished(section: _Section, build: Callable[[_Section], _T]) -> _T:
    result = build(section)
    section.reject_unknown()
    return result


def load_settings(project_dir: Path = Path(".")) -> StackSettings:
    """Read and validate this stack's config through the Pulumi runtime."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw = {key: pulumi.runtime.get_config(key) for key in keys}
    raw.setdefault(REGION_KEY, pulumi.runtime.get_config(REGION_KEY))
    secret = frozenset(k for k in keys if pulumi.runtime.is_config_secret(k))
    return parse_settings(raw, secret, project_dir)
