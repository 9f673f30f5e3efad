"""Helpers the test modules share; the mock machinery itself lives in tools/engine.py."""

from __future__ import annotations

import functools
import json
from typing import Any

from tools.engine import Registration, Run, run_stack

REGION = {"aws:region": "us-east-1"}


def document(resource: Registration, key: str = "policy") -> dict[str, Any]:
    """A JSON input (a policy document) parsed, so tests compare data, not strings."""
    parsed: dict[str, Any] = json.loads(resource.plain_inputs[key])
    return parsed


def statements(resource: Registration, key: str = "policy") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = document(resource, key)["Statement"]
    return found


def option_settings(run: Run) -> dict[tuple[str, str], Any]:
    """The Beanstalk environment's option settings keyed by (namespace, option)."""
    env = run.one("aws:elasticbeanstalk/environment:Environment")
    return {(s["namespace"], s["name"]): s["value"] for s in env.plain_inputs["settings"]}


@functools.cache
def _cached(stack: str, overrides: str) -> Run:
    return run_stack(stack, json.loads(overrides))


def run(stack: str, overrides: dict[str, Any] | None = None) -> Run:
    """One run per distinct (stack, overrides) for the whole session: runs are pure."""
    return _cached(stack, json.dumps(overrides or {}, sort_keys=True))


def by_id(run_: Run, type_: str) -> dict[str, Registration]:
    return {r.id: r for r in run_.of_type(type_)}
