"""The stack's settings: every `webstack:*` config key read into one typed, validated object.

Each component declares its own settings class (`NetworkSettings` in `network.py`, …) with the
default, accepted values and meaning on every field; this module puts them together under the
`webstack` namespace. `load_settings()` reads the stack's config and returns frozen dataclasses,
or raises one `ConfigError` listing every problem by its full key path before any resource is
registered. `parse_settings()` does the same from raw config values, so tests need no runtime.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.alarms import AlarmsSettings
from components.database import DatabaseSettings
from components.fields import Check, Flag, Nested, Reader, TextMap, read_section, setting, shown
from components.hosting import AppSettings, WorkerSettings
from components.hosting.settings import nginx_timeout_problem
from components.naming import environment_name, physical_name, worker_environment_name
from components.network import NetworkSettings
from components.regions import REGIONS
from components.storage import StorageSettings
from components.tagging import BASE_TAG_KEYS

NAMESPACE = "webstack"
REGION_KEY = "aws:region"
REGION_PATTERN = r"[a-z]{2}(-[a-z]+)+-[0-9]"
# AWS allows 50 tags on a resource; Beanstalk keeps 3 of an environment's for itself
# (elasticbeanstalk:environment-name, elasticbeanstalk:environment-id, Name) and webstack sets 3
# (EB developer guide, "Tagging Elastic Beanstalk environments").
MAX_TAGS = 50 - 3 - len(BASE_TAG_KEYS)
# Letters, digits, white space and + - = . _ : / @, in any script (AWS's tag pattern
# ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, "Tag restrictions" in the AWS tagging guide).
_TAG_SYMBOLS = frozenset("_.:/=+-@")
# JSON nesting a config value may have: the deepest setting is 3 levels down.
MAX_CONFIG_DEPTH = 32


class ConfigError(pulumi.RunError):
    """Every problem with the stack's config, one per line, each naming its full key path.

    Subclasses `pulumi.RunError` so `pulumi up` prints the message without a traceback.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")


def _tag_text_ok(text: str) -> bool:
    return all(c in _TAG_SYMBOLS or unicodedata.category(c)[0] in "LZN" for c in text)


def _tag_key(key: str) -> str | None:
    if key in BASE_TAG_KEYS:
        return "is set by webstack itself; choose another tag key"
    if key == "Name" or key.lower().startswith(("aws:", "elasticbeanstalk:")):
        return "is reserved by AWS (Beanstalk refuses Name and aws:/elasticbeanstalk: keys)"
    if not 1 <= len(key) <= 128:
        return "tag keys are 1 to 128 characters"
    if not _tag_text_ok(key):
        return "tag keys take letters, digits, spaces and _ . : / = + - @ only"
    return None


def _tag_value_problem(value: str, environment: str) -> str | None:
    """Why AWS (or Beanstalk, which every tag also reaches) refuses a tag value, or None."""
    if not value:
        return "is empty; Beanstalk refuses empty tag values"
    if value.lower().startswith("aws:"):
        return "starts with aws:, which AWS reserves"
    if not _tag_text_ok(value):
        return "tag values take letters, digits, spaces and _ . : / = + - @ only"
    if value == environment:
        return f"equals the Beanstalk environment's name ({environment}), which Beanstalk refuses"
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
    worker: WorkerSettings = setting(
        WorkerSettings(), Nested(WorkerSettings), "background jobs: an SQS-fed worker environment"
    )
    alarms: AlarmsSettings = setting(
        AlarmsSettings(), Nested(AlarmsSettings), "alarms that reach a person"
    )

    @property
    def alarms_on(self) -> bool:
        """Alarms are on where asked for, and by default wherever data is protected."""
        return self.protect_data if self.alarms.enabled is None else self.alarms.enabled

    def checked(self, check: Check) -> StackSettings:
        if len(self.tags) > MAX_TAGS:
            check.report(
                "tags",
                f"{len(self.tags)} tags; at most {MAX_TAGS} fit, as AWS allows 50 per resource "
                "and Beanstalk and webstack set 6 of them",
            )
        if self.worker.enabled:
            bundle = self.worker.source_bundle or self.app.source_bundle
            seconds = self.worker.visibility_timeout_seconds
            why = nginx_timeout_problem(check.project_dir, bundle, seconds)
            if why:
                check.report("worker", why, "visibilityTimeoutSeconds")
        environments = [environment_name(check.physical_name)]
        if self.worker.enabled:
            environments.append(worker_environment_name(check.physical_name))
        kept = dict(self.tags)
        for key, value in self.tags.items():
            why = next(filter(None, (_tag_value_problem(value, e) for e in environments)), None)
            if why:
                check.report("tags", why, key)
                del kept[key]
        return dataclasses.replace(self, tags=kept)


def _parse_json(key: str, raw: str | None, problems: list[str]) -> Any:
    """Config values arrive as strings; structured ones are JSON (refused past a sane depth)."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    except RecursionError:
        problems.append(f"{key}: nested too deeply; a setting is never more than 3 levels down")
        return None
    if _depth(value) > MAX_CONFIG_DEPTH:
        problems.append(f"{key}: nested too deeply; a setting is never more than 3 levels down")
        return None
    return value


def _depth(value: Any) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_CONFIG_DEPTH and isinstance(item, dict | list):
            children = item.values() if isinstance(item, dict) else item
            pending += [(child, depth + 1) for child in children]
    return deepest


def _region_problem(region: str | None) -> str | None:
    if region is None or region == "":
        return (
            f"{REGION_KEY}: missing; set the stack's region, for example "
            f"`pulumi config set {REGION_KEY} us-east-1`"
        )
    if region in REGIONS:
        return None
    hint = difflib.get_close_matches(region, list(REGIONS), n=1)
    also = f" (did you mean {hint[0]!r}?)" if hint else ""
    return (
        f"{REGION_KEY}: {shown(region)} is not an AWS region{also}; expected one of "
        + ", ".join(sorted(REGIONS))
    )


def _secret_problems(secret_paths: frozenset[str]) -> list[str]:
    """One problem per secret under webstack:, at the deepest path Pulumi marks secret."""
    paths = sorted(p for p in secret_paths if p.startswith(f"{NAMESPACE}:"))
    deepest = [p for p in paths if not any(q.startswith((f"{p}.", f"{p}[")) for q in paths)]
    return [
        f"{path}: is a secret (`secure:`); webstack config carries no secrets, and none is "
        "needed: the database password lives in Secrets Manager"
        for path in deepest
    ]


def parse_settings(
    raw: Mapping[str, str | None],
    secret_paths: frozenset[str] = frozenset(),
    project_dir: Path = Path("."),
    project: str = "webstack",
    stack: str = "stack",
) -> StackSettings:
    """Build settings from raw config values (`{"webstack:network": "<json>", ...}`).

    `secret_paths` are the keys, or deeper paths, that Pulumi marks secret."""
    region = raw.get(REGION_KEY)
    problems = [p for p in (_region_problem(region),) if p]
    reader = Reader(
        project_dir=project_dir,
        region=region if region in REGIONS else "us-east-1",
        physical_name=physical_name(project, stack),
        problems=problems,
    )
    problems += _secret_problems(secret_paths)
    prefix = f"{NAMESPACE}:"
    top = {
        key[len(prefix) :]: _parse_json(key, value, problems)
        for key, value in raw.items()
        if key.startswith(prefix)
    }
    settings = read_section(StackSettings, top, NAMESPACE, reader, sep=":", region=reader.region)
    if problems:
        raise ConfigError(problems)
    return settings


def _leaf_paths(key: str, value: Any) -> Iterator[str]:
    """Every path under a config value, as `pulumi config set --path` writes them."""
    pending = [(key, value, 0)]
    while pending:
        path, item, depth = pending.pop()
        yield path
        if depth < MAX_CONFIG_DEPTH and isinstance(item, dict):
            pending += [(f"{path}.{k}", v, depth + 1) for k, v in item.items()]
        elif depth < MAX_CONFIG_DEPTH and isinstance(item, list):
            pending += [(f"{path}[{i}]", v, depth + 1) for i, v in enumerate(item)]


def load_settings(project_dir: Path = Path(".")) -> StackSettings:
    """Read and validate this stack's config through the Pulumi runtime."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw = {key: pulumi.runtime.get_config(key) for key in keys}
    raw.setdefault(REGION_KEY, pulumi.runtime.get_config(REGION_KEY))
    secret: set[str] = set()
    for key in keys:
        if key.startswith(f"{NAMESPACE}:") and pulumi.runtime.is_config_secret(key):
            try:
                value = json.loads(raw[key] or "null")
            except (ValueError, RecursionError):
                value = None
            # Pulumi marks the key; where it knows the leaf's own path, that is reported.
            secret |= {p for p in _leaf_paths(key, value) if pulumi.runtime.is_config_secret(p)}
    return parse_settings(
        raw, frozenset(secret), project_dir, pulumi.get_project(), pulumi.get_stack()
    )
