"""What each supported RDS engine needs: port, TLS parameter, log types and a default version.

Kept in one table so the settings validate against exactly what the database component builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from components import sql_keywords

EngineName = Literal["postgres", "mysql", "mariadb"]


@dataclass(frozen=True)
class EngineSpec:
    """AWS facts about one RDS engine."""

    port: int
    default_version: str
    # How a major version is written: postgres majors are one number, mysql/mariadb two.
    major_pattern: str
    # Parameter that makes the server refuse connections without TLS, and the value that does so.
    tls_parameter: tuple[str, str]
    # CloudWatch log exports webstack offers for this engine, and the ones it turns on by default.
    log_types: frozenset[str]
    default_log_exports: tuple[str, ...]
    # What each export needs to have content: parameters (the slow and general logs are off by
    # default and, in MySQL and MariaDB, written to a table unless log_output is FILE) and
    # options of an option group (the audit log is a plugin). RDS user guide, "Publishing
    # MySQL/MariaDB logs to Amazon CloudWatch Logs".
    log_parameters: dict[str, tuple[tuple[str, str], ...]]
    log_options: dict[str, str]
    # Instance classes on which RDS offers no Performance Insights for this engine.
    no_performance_insights_classes: frozenset[str]
    # SQL words the engine reserves (RDS refuses them as master user or database name).
    reserved_words: frozenset[str]
    # Master user names the engine or RDS keeps for itself.
    reserved_users: frozenset[str]
    # Databases every instance already has: the app's database cannot take their name.
    system_databases: frozenset[str]
    # RDS's default max_connections: {DBInstanceClassMemory/divisor}, at most `cap` (RDS user
    # guide, "Maximum number of database connections").
    connections_divisor: int
    connections_cap: int | None


_MYSQL_FAMILY_LOGS = frozenset({"audit", "error", "general", "slowquery"})
_MYSQL_FAMILY_LOG_PARAMETERS: dict[str, tuple[tuple[str, str], ...]] = {
    "slowquery": (("slow_query_log", "1"), ("log_output", "FILE")),
    "general": (("general_log", "1"), ("log_output", "FILE")),
}
_MYSQL_FAMILY_LOG_OPTIONS = {"audit": "MARIADB_AUDIT_PLUGIN"}
_MYSQL_FAMILY_SYSTEM_DATABASES = frozenset(
    {"mysql", "sys", "information_schema", "performance_schema"}
)
_MYSQL_FAMILY_NO_PI = frozenset(
    {"db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}
)

ENGINES: dict[str, EngineSpec] = {
    "postgres": EngineSpec(
        port=5432,
        default_version="17",
        major_pattern=r"[0-9]+",
        tls_parameter=("rds.force_ssl", "1"),
        # The postgresql log has content as it is; upgrade is written by major upgrades.
        # (iam-db-auth-error needs IAM database authentication, which webstack does not use.)
        log_types=frozenset({"postgresql", "upgrade"}),
        default_log_exports=("postgresql", "upgrade"),
        log_parameters={},
        log_options={},
        no_performance_insights_classes=frozenset(),
        reserved_words=sql_keywords.POSTGRES,
        # RDS for PostgreSQL refuses "admin" as the master user ("a reserved word used by the
        # engine"); "postgres" is the engine's own superuser.
        reserved_users=frozenset({"admin", "postgres"}),
        system_databases=frozenset({"postgres", "template0", "template1"}),
        connections_divisor=9531392,
        connections_cap=5000,
    ),
    "mysql": EngineSpec(
        port=3306,
        default_version="8.4",
        major_pattern=r"[0-9]+\.[0-9]+",
        tls_parameter=("require_secure_transport", "1"),
        log_types=_MYSQL_FAMILY_LOGS,
        default_log_exports=("error", "slowquery"),
        log_parameters=_MYSQL_FAMILY_LOG_PARAMETERS,
        log_options=_MYSQL_FAMILY_LOG_OPTIONS,
        no_performance_insights_classes=_MYSQL_FAMILY_NO_PI,
        reserved_words=sql_keywords.MYSQL,
        reserved_users=frozenset({"root", "mysql"}),
        system_databases=_MYSQL_FAMILY_SYSTEM_DATABASES,
        connections_divisor=12582880,
        connections_cap=None,
    ),
    "mariadb": EngineSpec(
        port=3306,
        default_version="11.4",
        major_pattern=r"[0-9]+\.[0-9]+",
        tls_parameter=("require_secure_transport", "1"),
        log_types=_MYSQL_FAMILY_LOGS,
        default_log_exports=("error", "slowquery"),
        log_parameters=_MYSQL_FAMILY_LOG_PARAMETERS,
        log_options=_MYSQL_FAMILY_LOG_OPTIONS,
        no_performance_insights_classes=_MYSQL_FAMILY_NO_PI,
        reserved_words=sql_keywords.MARIADB,
        reserved_users=frozenset({"root", "mysql"}),
        system_databases=_MYSQL_FAMILY_SYSTEM_DATABASES,
        connections_divisor=12582880,
        connections_cap=None,
    ),
}


# Memory per vCPU of the RDS instance families (GiB), and vCPUs per size; burstable classes
# have their own sizes (Amazon RDS instance types, "Hardware specifications").
_GIB_PER_VCPU = {"m": 4, "r": 8, "x": 16, "z": 8}
_VCPUS = {
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "12xlarge": 48,
    "16xlarge": 64,
    "24xlarge": 96,
    "32xlarge": 128,
    "48xlarge": 192,
}
_BURSTABLE_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}


def instance_memory_bytes(instance_class: str) -> int | None:
    """The memory of a db.* class, where its family is known (t, m, r, x, z), else None."""
    _, family, size = instance_class.split(".", 2)
    gib = (
        _BURSTABLE_GIB.get(size)
        if family.startswith("t")
        else _GIB_PER_VCPU.get(family[:1], 0) * _VCPUS.get(size, 0) or None
    )
    return gib * 1024**3 if gib else None


def default_max_connections(engine: str, memory_bytes: int | None) -> int | None:
    """RDS's default max_connections for the engine on that much memory."""
    if memory_bytes is None:
        return None
    spec = ENGINES[engine]
    connections = memory_bytes // spec.connections_divisor
    return min(connections, spec.connections_cap) if spec.connections_cap else connections
