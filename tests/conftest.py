"""Shared test fixtures: an isolated CLEARANCE_HOME for every test, paths to the shared real data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = (ROOT.parent / "shared" / "data").resolve()


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
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared test data is missing: expected {SHARED_DATA} (a sibling of the repository)")
    return SHARED_DATA
