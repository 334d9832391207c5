"""The Clearance extension in real Blender (bpy 5.0.1, headless), each scenario in a fresh Blender process."""

from __future__ import annotations

from pathlib import Path

import pytest
from blender_fixtures import run_in_blender

pytestmark = pytest.mark.blender


def test_extension_registers_and_unregisters_cleanly_twice(tmp_path: Path) -> None:
    rounds = run_in_blender(tmp_path, "register_twice")["rounds"]
    assert len(rounds) == 4
    for enabled in (rounds[0], rounds[2]):
        assert all(enabled["props"]), enabled["props"]
        assert all(enabled["operators"]), enabled["operators"]
        assert len(enabled["panels"]) == 9  # three panels in each of three editors
        assert enabled["handlers"] == {"load_post": 1, "save_pre": 1, "render_init": 1,
                                       "render_cancel": 1, "render_complete": 1}
    for disabled in (rounds[1], rounds[3]):
        assert disabled == {"props": [False, False, False], "panels": [], "handlers": 0}
