"""The vendored third-party data in tests/data (origins and licences: tests/data/README.md).

Every file the tests rely on is listed here, so a missing one fails the tests that need it with its path
instead of shrinking a parametrized test to nothing (which pytest reports as a skip).
"""

from __future__ import annotations

from pathlib import Path

import pytest

TEST_DATA = Path(__file__).resolve().parent / "data"

VENDORED: dict[str, tuple[str, ...]] = {
    "otio": (
        "effects.otio", "generator_reference_test.otio", "multitrack.otio", "nested_example.otio",
        "premiere_example.otio", "screening_example.otio", "simple_cut.otio", "transition.otio",
    ),
    "edl": (
        "avid_example.edl", "cdl.edl", "gap_test.edl", "nucoda_example.edl", "premiere_example.edl",
        "screening_example.edl", "speed_effects_small.edl",
    ),
    "fcpxml": ("hiero_xml_export.xml", "premiere_example.xml", "premiere_generators.xml"),
    "provenance": (
        "C.jpg", "C_with_CAWG_data.jpg", "comfy_sdxl_simple_example.png", "libpng-test.png", "no_manifest.jpg",
        "ocsp.jpg", "sample1_signed.wav", "video1.mp4",
    ),
}
LICENCES: dict[str, tuple[str, ...]] = {
    "otio": ("LICENSE.txt",),
    "edl": ("LICENSE.txt",),
    "fcpxml": ("LICENSE.txt",),
    "provenance": ("LICENSE-c2pa-APACHE", "LICENSE-c2pa-MIT", "LICENSE-comfyui-examples"),
}


def missing_files() -> list[Path]:
    """Every listed data or licence file that is not in tests/data."""
    wanted = [TEST_DATA / folder / name for folder, names in VENDORED.items() for name in names]
    wanted += [TEST_DATA / folder / name for folder, names in LICENCES.items() for name in names]
    return [path for path in wanted if not path.is_file()]


def require_test_data() -> Path:
    """tests/data, or a test failure naming every missing file (never a skip)."""
    missing = missing_files()
    if missing:
        pytest.fail("the vendored test data is incomplete; missing: " + ", ".join(str(p) for p in missing))
    return TEST_DATA


def timelines() -> list[Path]:
    """Every vendored timeline (otio/, edl/, fcpxml/), listed by name so a missing file fails, not skips."""
    return [TEST_DATA / folder / name for folder in ("otio", "edl", "fcpxml") for name in VENDORED[folder]]
