"""The sample app's contract against a real PostgreSQL server (the contract: tests/app_contract.py)."""

from __future__ import annotations

import pytest

from tests.app_contract import *  # noqa: F403 (the contract's fixtures and tests, for this engine)


@pytest.fixture(scope="module")
def engine() -> str:
    return "postgres"
