"""Helpers the test modules share; the mock machinery itself lives in tools/engine.py."""

from __future__ import annotations

import json
from typing import Any

from tools.engine import Registration, Run

REGION = {"aws:region": "us-east-1"}


def document(resource: Registration, key: str = "policy") -> dict[str, Any]:
    """A JSON input (a policy document) parsed, so tests compare data, not strings."""
    parsed: dict[str, Any] = json.loads(resource.plain_inputs[key])
    return parsed


def statements(resource: Registration, key: str = "policy") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = document(resource, key)["Statement"]
    return found


def names(resources: list[Registration]) -> list[str]:
    return sorted(r.name for r in resources)


def option_settings(run: Run) -> dict[tuple[str, str], Any]:
    """The Beanstalk environment's option settings keyed by (namespace, option)."""
    env = run.one("aws:elasticbeanstalk/environment:Environment")
    return {(s["namespace"], s["name"]): s["value"] for s in env.plain_inputs["settings"]}
