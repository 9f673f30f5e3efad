"""The database: its settings (`settings`, `webstack:database`) and the RDS instance that holds
the app's data (`instance`, `webstack:database:Database`)."""

from components.database.instance import RESTORE_ARGUMENTS, Database, DatabaseArgs
from components.database.settings import DatabaseSettings, RestoreSettings, reserved_name_problem

__all__ = [
    "RESTORE_ARGUMENTS",
    "Database",
    "DatabaseArgs",
    "DatabaseSettings",
    "RestoreSettings",
    "reserved_name_problem",
]
