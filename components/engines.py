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
    ),
}
