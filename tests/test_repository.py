"""The repository stands alone: vendored data complete with licences, no test reading outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

from vendored import LICENCES, TEST_DATA, VENDORED, missing_files

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# A path that climbs out of the checkout ("../shared", parents[2], parent.parent.parent) or names the
# workspace's data folder directly.
OUTSIDE = re.compile(r"""\.\./shared|["']shared["']|parents\[[2-9]\]|parent\.parent\.parent""")


def test_every_vendored_file_and_licence_is_present() -> None:
    assert missing_files() == []
    for folder in VENDORED:
        on_disk = {p.name for p in (TEST_DATA / folder).iterdir() if p.is_file()}
        assert on_disk == set(VENDORED[folder]) | set(LICENCES[folder]), folder


def test_the_data_readme_names_every_file_and_licence() -> None:
    readme = (TEST_DATA / "README.md").read_text(encoding="utf-8")
    for folder, names in VENDORED.items():
        for name in (*names, *LICENCES[folder]):
            assert Path(name).stem in readme, f"tests/data/README.md does not mention {folder}/{name}"


def test_no_test_or_bench_reads_outside_the_repository() -> None:
    offenders = []
    for folder in (TESTS, ROOT / "bench"):
        for path in folder.rglob("*.py"):
            if path == Path(__file__).resolve():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if OUTSIDE.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_example_studio_policy_is_the_packaged_one() -> None:
    import yaml

    from clearance.examples import studio_policy_path

    shipped = yaml.safe_load((ROOT / "examples" / "studio_policy.yaml").read_text(encoding="utf-8"))
    packaged = yaml.safe_load(Path(studio_policy_path()).read_text(encoding="utf-8"))
    assert shipped == packaged


def test_the_example_plates_are_vendored_files_with_their_licences() -> None:
    plates = ROOT / "examples" / "plates"
    provenance = TEST_DATA / "provenance"
    sources = {"sh010_street_extension.jpg": "ocsp.jpg", "sh020_harbour.jpg": "no_manifest.jpg",
               "sh030_title_card.png": "libpng-test.png"}
    for plate, source in sources.items():
        assert (plates / plate).read_bytes() == (provenance / source).read_bytes(), plate
    for licence in ("LICENSE-c2pa-MIT", "LICENSE-c2pa-APACHE"):
        assert (plates / licence).read_bytes() == (provenance / licence).read_bytes()
