"""Helpers the test modules share; the mock machinery itself lives in tools/engine/mock_engine.py."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from components.fields import Reader, read_section
from components.settings import ConfigError
from tools.engine.mock_engine import Registration, Run, run_component, run_stack
from tools.review.readable import beanstalk_options

_S = TypeVar("_S")
REGION = {"aws:region": "us-east-1"}


def document(resource: Registration, key: str = "policy") -> dict[str, Any]:
    """A JSON input (a policy document) parsed, so tests compare data, not strings."""
    parsed: dict[str, Any] = json.loads(resource.plain_inputs[key])
    return parsed


def statements(resource: Registration, key: str = "policy") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = document(resource, key)["Statement"]
    return found


def option_settings(run: Run, name: str = "app-environment") -> dict[tuple[str, str], Any]:
    """A Beanstalk environment's option settings keyed by (namespace, option): the web tier's,
    or the one `name`d."""
    env = run.one("aws:elasticbeanstalk/environment:Environment", name)
    return beanstalk_options(env.plain_inputs["settings"])


@functools.cache
def _cached(stack: str, overrides: str) -> Run:
    return run_stack(stack, json.loads(overrides))


def run(stack: str, overrides: dict[str, Any] | None = None) -> Run:
    """One run per distinct (stack, overrides) for the whole session: runs are pure."""
    return _cached(stack, json.dumps(overrides or {}, sort_keys=True))


_COMPONENT_RUNS: dict[str, Run] = {}


def component(key: Any, build: Callable[[], None]) -> Run:
    """Run `build` alone in an empty stack, once per distinct `key` for the whole session."""
    text = json.dumps(key, sort_keys=True, default=repr)
    if text not in _COMPONENT_RUNS:
        _COMPONENT_RUNS[text] = run_component(build)
    return _COMPONENT_RUNS[text]


def settings_of(cls: type[_S], path: str, fields: dict[str, Any]) -> _S:
    """A settings object read from config-style keys (`{"multiAz": True}`), as a stack file gives them."""
    reader = Reader()
    settings = read_section(cls, fields, path, reader)
    if reader.problems:
        raise ConfigError(reader.problems)
    return settings


def by_id(run_: Run, type_: str) -> dict[str, Registration]:
    return {r.id: r for r in run_.of_type(type_)}
