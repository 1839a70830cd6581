"""Fixtures shared by the tests."""

from __future__ import annotations

import pytest
from helpers import ENV_IDS


@pytest.fixture(params=ENV_IDS)
def env_id(request: pytest.FixtureRequest) -> str:
    return request.param
