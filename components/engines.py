"""What each supported RDS engine needs: port, TLS parameter, log types and a default version.

Kept in one table so the settings validate against exactly what the database component builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EngineName = Literal["postgres", "mysql", "mariadb"]


@dataclass(frozen=True)
class EngineSpec:
    """AWS facts about one RDS engine."""

    port: int
    default_version: str
    # Parameter that makes the server refuse connections without TLS, and the value that does so.
    tls_parameter: tuple[str, str]
    # CloudWatch log exports RDS accepts for this engine, and the ones webstack turns on by default.
    log_types: frozenset[str]
    default_log_exports: tuple[str, ...]
    # Parameters the default log exports need to produce anything (the slow query log is off by default).
    log_parameters: tuple[tuple[str, str], ...]
    # Instance classes on which RDS offers no Performance Insights for this engine.
    no_performance_insights_classes: frozenset[str]


_MYSQL_FAMILY_NO_PI = frozenset(
    {"db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}
)

ENGINES: dict[str, EngineSpec] = {
    "postgres": EngineSpec(
        port=5432,
        default_version="17",
        tls_parameter=("rds.force_ssl", "1"),
        log_types=frozenset({"postgresql", "upgrade", "iam-db-auth-error"}),
        default_log_exports=("postgresql", "upgrade"),
        log_parameters=(),
        no_performance_insights_classes=frozenset(),
    ),
    "mysql": EngineSpec(
        port=3306,
        default_version="8.4",
        tls_parameter=("require_secure_transport", "1"),
        log_types=frozenset({"audit", "error", "general", "slowquery", "iam-db-auth-error"}),
        default_log_exports=("error", "slowquery"),
        log_parameters=(("slow_query_log", "1"),),
        no_performance_insights_classes=_MYSQL_FAMILY_NO_PI,
    ),
    "mariadb": EngineSpec(
        port=3306,
        default_version="11.4",
        tls_parameter=("require_secure_transport", "1"),
        log_types=frozenset({"audit", "error", "general", "slowquery", "iam-db-auth-error"}),
        default_log_exports=("error", "slowquery"),
        log_parameters=(("slow_query_log", "1"),),
        no_performance_insights_classes=_MYSQL_FAMILY_NO_PI,
    ),
}
