"""What `make verify --variants` and `--second-up` plan besides the shipped stacks.

A variant is a shipped stack file with some keys changed (merged into its sections, so
`{"webstack:database": {"engine": "mysql"}}` keeps the rest of the database's settings; None
removes a key). `VARIANTS` are first `up`s: one per feature a stack file can turn on. `CHANGES`
are second `up`s: a stack after a first `up` of `base`, with the stack file changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.network import ENDPOINT_SERVICES
from tools.engine import stack_file
from tools.engine.mock_engine import PROJECT_DIR

KEY = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
OTHER_KEY = "arn:aws:kms:us-east-1:123456789012:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/8f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b"
DOMAIN = {"name": "app.example.com", "hostedZoneId": "Z0123456789EXAMPLE"}
SNAPSHOT = {"snapshot": "webstack-prod-db-final-0a1b2c3d"}
POINT_IN_TIME = {"sourceInstance": "webstack-prod-db", "time": "2026-11-20T10:00:00Z"}
# The worker with code of its own (a second application version), Spot and more retries.
WORKER_OWN_BUNDLE = {
    "enabled": True,
    "sourceBundle": "schema",
    "visibilityTimeoutSeconds": 60,  # the bundle sets no nginx timeout: 60 s is its limit
    "maxInstances": 4,
    "maxReceiveCount": 3,
    "spot": {"enabled": True},
}
NAT_INSTANCE_X86 = {"natGateways": "instance", "natInstanceType": "t3.nano"}
OWN_NETWORK = {
    "vpcId": "vpc-0123456789abcdef0",
    "publicSubnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
    "privateSubnetIds": ["subnet-0000000000000000c", "subnet-0000000000000000d"],
}
LOAD_BALANCED = {"environmentType": "LoadBalanced", "deploymentPolicy": "Rolling"}


@dataclass(frozen=True)
class Variant:
    """A shipped stack file with `changes` merged in; `key` names it in Terraform (and says
    what it is, for a reader of `make verify`'s report)."""

    key: str
    stack: str
    changes: Mapping[str, Any] = field(default_factory=dict)

    def overrides(self, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
        """Whole config keys for `run_stack`: the stack file's sections with the changes."""
        name = f"Pulumi.{self.stack}.yaml"
        config = stack_file.config_of(stack_file.load(project_dir / name), name)
        return {key: merged(config.get(key), value) for key, value in self.changes.items()}


def merged(base: Any, change: Any) -> Any:
    """`change` over `base`: mappings key by key (None removes a key), anything else replaced."""
    if isinstance(base, Mapping) and isinstance(change, Mapping):
        result = dict(base)
        for key, value in change.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = merged(base.get(key), value)
        return result
    return change


@dataclass(frozen=True)
class Case:
    """A second `up`: `base` deployed, then `head` planned against what it left."""

    key: str
    base: Variant
    head: Variant


DEV = Variant("dev", "dev")
PROD = Variant("prod", "prod")
SOURCE_GIB = {"allocatedStorage": 50}  # the size of fake AWS's backups of prod
DEV_WORKER = Variant("worker", "dev", {"webstack:worker": {"enabled": True}})
DEV_SNAPSHOT = Variant(
    "dev_snapshot", "dev", {"webstack:database": {**SOURCE_GIB, "restore": SNAPSHOT}}
)
DEV_POINT_IN_TIME = Variant(
    "dev_point_in_time", "dev", {"webstack:database": {**SOURCE_GIB, "restore": POINT_IN_TIME}}
)
DEV_LOAD_BALANCED = Variant("dev_load_balanced", "dev", {"webstack:app": LOAD_BALANCED})

VARIANTS: tuple[Variant, ...] = (
    Variant("mysql", "dev", {"webstack:database": {"engine": "mysql"}}),
    Variant("mariadb", "dev", {"webstack:database": {"engine": "mariadb"}}),
    DEV_LOAD_BALANCED,
    Variant(
        "certificate", "dev", {"webstack:app": {**LOAD_BALANCED, "certificateArn": CERTIFICATE}}
    ),
    Variant(
        "edge",
        "dev",
        {
            "webstack:app": {**LOAD_BALANCED, "domain": DOMAIN, "waf": True, "accessLogs": True},
            "webstack:alarms": {"enabled": True, "emails": ["ops@example.com"]},
        },
    ),
    Variant("spot", "dev", {"webstack:app": {"spot": {"enabled": True}}}),
    Variant(
        "spot_fleet",
        "prod",
        {
            "webstack:app": {
                "instanceTypes": ["t4g.small", "m7g.medium"],
                "spot": {"enabled": True, "onDemandBase": 1, "onDemandAbovePercent": 25},
            }
        },
    ),
    Variant("x86", "dev", {"webstack:app": {"instanceTypes": ["t3.micro"]}}),
    DEV_SNAPSHOT,
    DEV_POINT_IN_TIME,
    Variant(
        "latest_point",
        "dev",
        {
            "webstack:database": {
                **SOURCE_GIB,
                "restore": {"sourceInstance": "webstack-prod-db", "time": "latest"},
            }
        },
    ),
    Variant(
        "own_network",
        "dev",
        {
            "webstack:network": {
                **OWN_NETWORK,
                "availabilityZones": None,
                "natGateways": None,
                "flowLogRetentionDays": None,
            }
        },
    ),
    Variant(
        "kms",
        "prod",
        {"webstack:storage": {"kmsKeyArn": KEY}, "webstack:database": {"kmsKeyArn": KEY}},
    ),
    Variant(
        "parameters",
        "dev",
        {"webstack:database": {"parameters": {"log_min_duration_statement": "500"}}},
    ),
    Variant(
        "traffic_splitting", "prod", {"webstack:app": {"deploymentPolicy": "TrafficSplitting"}}
    ),
    Variant("single_nat", "dev", {"webstack:network": {"natGateways": "single"}}),
    Variant("nat_instance", "prod", {"webstack:network": {"natGateways": "instance"}}),
    Variant("x86_nat_instance", "dev", {"webstack:network": NAT_INSTANCE_X86}),
    Variant("endpoints", "dev", {"webstack:network": {"endpoints": list(ENDPOINT_SERVICES)}}),
    DEV_WORKER,
    Variant("worker_prod", "prod", {"webstack:worker": WORKER_OWN_BUNDLE}),
    Variant(
        "storage_extras",
        "dev",
        {
            "webstack:storage": {
                "accessLogs": True,
                "corsAllowedOrigins": ["https://app.example.com"],
                "infrequentAccessAfterDays": 30,
            }
        },
    ),
)


def _dev(key: str, changes: Mapping[str, Any]) -> Case:
    return Case(key, DEV, Variant(key, "dev", changes))


def _prod(key: str, changes: Mapping[str, Any]) -> Case:
    return Case(key, PROD, Variant(key, "prod", changes))


def _db(**fields: Any) -> dict[str, Any]:
    return {"webstack:database": fields}


def _app(**fields: Any) -> dict[str, Any]:
    return {"webstack:app": fields}


CHANGES: tuple[Case, ...] = (
    # The database
    _dev("db_class", _db(instanceClass="db.t4g.small")),
    _dev("db_storage", _db(allocatedStorage=30, maxAllocatedStorage=200)),
    _dev("db_multi_az", _db(multiAz=True)),
    _dev("db_engine", _db(engine="mysql")),
    _dev("db_name", _db(dbName="shop")),
    _dev("db_username", _db(username="shop_admin")),
    _dev("db_kms_key", _db(kmsKeyArn=KEY)),
    _prod("db_other_kms_key", {"webstack:database": {"kmsKeyArn": OTHER_KEY}}),
    _dev("db_parameters", _db(parameters={"log_min_duration_statement": "500"})),
    _dev(
        "db_major",
        _db(engineVersion="18", allowMajorVersionUpgrade=True, applyImmediately=True),
    ),
    _dev("db_backups", _db(backupRetentionDays=14)),
    _dev("db_log_exports", _db(logExports=["postgresql"])),
    _dev("db_rotation", _db(secretRotationDays=30)),
    _prod("db_replica_region", _db(backupReplicaRegion="eu-west-1")),
    _prod("db_replica_off", _db(backupReplicaRegion=None)),
    # The app
    _dev("app_instance_type", _app(instanceTypes=["t4g.small"])),
    _dev("app_architecture", _app(instanceTypes=["t3.micro"])),
    _dev("app_environment_type", _app(**LOAD_BALANCED)),
    _dev("app_variables", _app(environmentVariables={"FEATURE_FLAGS": "beta"})),
    _dev("app_platform", _app(platform="Node.js 22")),
    _dev("app_spot", _app(spot={"enabled": True})),
    _prod("app_domain_off", _app(domain=None)),
    _prod("app_waf_off", _app(waf=False, accessLogs=False)),
    Case(
        "app_domain_on",
        DEV_LOAD_BALANCED,
        Variant("app_domain_on", "dev", {"webstack:app": {**LOAD_BALANCED, "domain": DOMAIN}}),
    ),
    # The network
    _dev("net_zones", {"webstack:network": {"availabilityZones": 3}}),
    _dev("net_cidr", {"webstack:network": {"cidrBlock": "10.1.0.0/16"}}),
    _dev("net_nat", {"webstack:network": {"natGateways": "single"}}),
    _prod("net_nat_single", {"webstack:network": {"natGateways": "single"}}),
    _prod("net_nat_instance", {"webstack:network": {"natGateways": "instance"}}),
    _dev("net_nat_instance_dev", {"webstack:network": {"natGateways": "instance"}}),
    _dev("worker_on", {"webstack:worker": {"enabled": True}}),
    Case(
        "worker_timeout",
        DEV_WORKER,
        Variant(
            "worker_timeout",
            "dev",
            {"webstack:worker": {"enabled": True, "visibilityTimeoutSeconds": 900}},
        ),
    ),
    Case("worker_off", DEV_WORKER, Variant("worker_off", "dev", {"webstack:worker": None})),
    _dev("net_endpoints", {"webstack:network": {"endpoints": ["ssm", "ssmmessages", "logs"]}}),
    _dev("net_flow_logs", {"webstack:network": {"flowLogs": False}}),
    # The bucket
    _dev(
        "bucket_versioning",
        {"webstack:storage": {"versioning": False, "noncurrentVersionExpirationDays": None}},
    ),
    _dev("bucket_kms_key", {"webstack:storage": {"kmsKeyArn": KEY}}),
    _dev("bucket_cors", {"webstack:storage": {"corsAllowedOrigins": ["https://app.example.com"]}}),
    _dev("bucket_access_logs", {"webstack:storage": {"accessLogs": True}}),
    # The stack
    _dev("tags", {"webstack:tags": {"environment": "dev", "team": "web"}}),
    _prod("tags_prod", {"webstack:tags": {"environment": "production"}}),
    _dev("protect_data", {"webstack:protectData": True}),
    _prod("alarm_emails", {"webstack:alarms": {"emails": ["oncall@example.com"]}}),
    # Restores: added to an instance that exists, and removed
    _dev("restore_snapshot_added", _db(**SOURCE_GIB, restore=SNAPSHOT)),
    _dev("restore_point_added", _db(**SOURCE_GIB, restore=POINT_IN_TIME)),
    Case(
        "restore_snapshot_removed",
        DEV_SNAPSHOT,
        Variant("restore_snapshot_removed", "dev", _db(**SOURCE_GIB)),
    ),
    Case(
        "restore_point_removed",
        DEV_POINT_IN_TIME,
        Variant("restore_point_removed", "dev", _db(**SOURCE_GIB)),
    ),
)
