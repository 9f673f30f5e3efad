"""The stack's settings: every `webstack:*` config key read into one typed, validated object.

Each component declares its own settings class (`NetworkSettings` in `network.py`, …) with the
default, accepted values and meaning on every field; this module puts them together under the
`webstack` namespace. `load_settings()` reads the stack's config and returns frozen dataclasses,
or raises one `ConfigError` listing every problem by its full key path before any resource is
registered. `parse_settings()` does the same from raw config values, so tests need no runtime.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.database import DatabaseSettings
from components.fields import Flag, Nested, Reader, TextMap, read_section, setting
from components.hosting import AppSettings
from components.network import NetworkSettings
from components.storage import StorageSettings
from components.tagging import BASE_TAG_KEYS

NAMESPACE = "webstack"
REGION_KEY = "aws:region"
REGION_PATTERN = r"[a-z]{2}(-[a-z]+)+-[0-9]"


class ConfigError(pulumi.RunError):
    """Every problem with the stack's config, one per line, each naming its full key path.

    Subclasses `pulumi.RunError` so `pulumi up` prints the message without a traceback.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")


def _tag_key(key: str) -> str | None:
    if key in BASE_TAG_KEYS:
        return "is set by webstack itself; choose another tag key"
    if key == "Name" or key.lower().startswith(("aws:", "elasticbeanstalk:")):
        return "is reserved by AWS (Beanstalk refuses Name and aws:/elasticbeanstalk: keys)"
    if not 1 <= len(key) <= 128:
        return "tag keys are 1 to 128 characters"
    return None


@dataclass(frozen=True)
class StackSettings:
    """Everything one stack is configured with."""

    region: str
    tags: Mapping[str, str] = setting(
        {},
        TextMap(r"[\s\S]{1,128}", _tag_key),
        "extra tags for every taggable resource; not `project`, `stack`, `managed-by` (set by "
        "webstack), `Name` or `aws:`/`elasticbeanstalk:` keys (reserved by Beanstalk)",
    )
    protect_data: bool = setting(
        True,
        Flag(),
        "Pulumi `protect` and retain-on-delete on the database, the bucket and its access-log "
        "bucket",
    )
    network: NetworkSettings = setting(
        NetworkSettings(), Nested(NetworkSettings), "the VPC and its subnets"
    )
    storage: StorageSettings = setting(
        StorageSettings(), Nested(StorageSettings), "the app's S3 bucket"
    )
    database: DatabaseSettings = setting(
        DatabaseSettings(), Nested(DatabaseSettings), "the app's RDS database"
    )
    app: AppSettings = setting(AppSettings(), Nested(AppSettings), "the Beanstalk environment")


def _parse_json(raw: str | None) -> Any:
    """Config values arrive as strings; structured ones are JSON."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_settings(
    raw: Mapping[str, str | None],
    secret_keys: frozenset[str] = frozenset(),
    project_dir: Path = Path("."),
) -> StackSettings:
    """Build settings from raw config values (`{"webstack:network": "<json>", ...}`)."""
    reader = Reader(project_dir=project_dir)
    region = raw.get(REGION_KEY)
    if not region or not re.fullmatch(REGION_PATTERN, region):
        reader.problems.append(
            f"{REGION_KEY}: {region!r} is not valid; expected a region such as us-east-1"
        )
        region = "us-east-1"
    prefix = f"{NAMESPACE}:"
    top: dict[str, Any] = {}
    for full_key, value in raw.items():
        if not full_key.startswith(prefix):
            continue
        if full_key in secret_keys:
            reader.problems.append(
                f"{full_key}: holds a secret; webstack config carries no secrets "
                "(the database password lives in Secrets Manager)"
            )
        top[full_key[len(prefix) :]] = _parse_json(value)
    settings = read_section(StackSettings, top, NAMESPACE, reader, sep=":", region=region)
    if reader.problems:
        raise ConfigError(reader.problems)
    return settings


def load_settings(project_dir: Path = Path(".")) -> StackSettings:
    """Read and validate this stack's config through the Pulumi runtime."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw = {key: pulumi.runtime.get_config(key) for key in keys}
    raw.setdefault(REGION_KEY, pulumi.runtime.get_config(REGION_KEY))
    secret = frozenset(k for k in keys if pulumi.runtime.is_config_secret(k))
    return parse_settings(raw, secret, project_dir)
