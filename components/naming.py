"""Physical names for the few resources AWS needs named up front (DB identifier, Beanstalk names)."""

from __future__ import annotations

import re

import pulumi

MAX_PREFIX = 30


def physical_prefix() -> str:
    """`<project>-<stack>` in the alphabet every AWS name accepts: lowercase letters, digits, '-'."""
    raw = f"{pulumi.get_project()}-{pulumi.get_stack()}".lower()
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", raw)).strip("-")
    if not cleaned[:1].isalpha():
        cleaned = f"w-{cleaned}"
    return cleaned[:MAX_PREFIX].rstrip("-")
