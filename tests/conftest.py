"""Shared test fixtures: an isolated CLEARANCE_HOME for every test, the vendored real data in tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest
from vendored import require_test_data


@pytest.fixture(autouse=True)
def clearance_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data folder: no test sees another's outbox or cache."""
    home = tmp_path_factory.mktemp("clearance-home")
    monkeypatch.setenv("CLEARANCE_HOME", str(home))
    for var in ("CLEARANCE_POLICY", "CLEARANCE_SERVER", "CLEARANCE_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """tests/data: third-party samples vendored with their licences; a missing file fails the test."""
    return require_test_data()
