"""Physical names for the few resources AWS needs named up front (DB identifier, Beanstalk names)."""

from __future__ import annotations

import re

import pulumi

MAX_PREFIX = 30
MIN_ENVIRONMENT_NAME = 4  # Beanstalk environment names take 4 to 40 characters


def physical_name(project: str, stack: str) -> str:
    """`<project>-<stack>` in the alphabet every AWS name accepts: lowercase letters, digits, '-'."""
    raw = f"{project}-{stack}".lower()
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", raw)).strip("-")
    if not cleaned[:1].isalpha():
        cleaned = f"w-{cleaned}"
    return cleaned[:MAX_PREFIX].rstrip("-")


def physical_prefix() -> str:
    """The physical name of the stack being deployed."""
    return physical_name(pulumi.get_project(), pulumi.get_stack())


def environment_name(physical: str) -> str:
    """The Beanstalk environment's name: the physical name, padded to Beanstalk's minimum."""
    return physical if len(physical) >= MIN_ENVIRONMENT_NAME else f"{physical}-env"


def worker_environment_name(physical: str) -> str:
    """The worker tier's environment: `<physical>-worker` (at most 37 of Beanstalk's 40)."""
    return f"{physical}-worker"
