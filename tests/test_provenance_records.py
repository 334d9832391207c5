"""`clearance scan` writes plain records, the Python API returns pydantic models: the two must agree.

The command line never imports pydantic (it costs more than scanning a thousand files), so its records
are built already in the shape ``ScanResult.model_dump(mode="json")`` gives. These tests hold the two to
the same bytes on the vendored samples, a sequence, broken files and --verify.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clearance.provenance import ScanResult, samples, scan_file, scan_paths
from clearance.provenance.scanner import scan_record, scan_records


@pytest.fixture(scope="module")
def folder(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The vendored samples, a sequence with a gap and a tagged frame, files that cannot be read fully."""
    root = tmp_path_factory.mktemp("records")
    for src in (shared_data / "provenance").iterdir():
        if not src.name.startswith("LICENSE"):
            (root / src.name).write_bytes(src.read_bytes())
    seq = root / "renders"
    seq.mkdir()
    for frame in (1001, 1002, 1004):
        strings = {"software": "Nuke 15.1v3"}
        if frame == 1002:
            strings["clearance/record_ids"] = "0b1f3c9e-6c1d-4c2a-9a59-3f3b8e2d1a01"
        (seq / f"sh010.{frame}.exr").write_bytes(samples.exr(strings))
    (root / "cut.jpg").write_bytes((shared_data / "provenance" / "ocsp.jpg").read_bytes()[:40_000])
    (root / "named.png").write_bytes(samples.jpeg(xmp=samples.xmp_packet("trainedAlgorithmicMedia")))
    (root / "notes.txt").write_text("not media")
    (root / "gen.mp3").write_bytes(samples.mp3(encoder="Suno v4", audio=1000))
    return root


def _model_lines(results: list[ScanResult]) -> list[str]:
    return [json.dumps(r.model_dump(mode="json"), ensure_ascii=False) for r in results]


@pytest.mark.parametrize("verify", [False, True])
def test_records_are_what_the_models_dump(folder: Path, verify: bool) -> None:
    records = scan_records([folder], recursive=True, verify=verify)
    results = scan_paths([folder], recursive=True, verify=verify)
    assert len(records) == len(results) >= 12
    assert [json.dumps(r, ensure_ascii=False) for r in records] == _model_lines(results)
    for record in records:  # already normal: validating and dumping changes nothing, not even a float's type
        assert ScanResult.model_validate(record).model_dump(mode="json") == record
        assert isinstance(record["confidence"], float)
        assert all(isinstance(e["confidence"], float) for e in record["evidence"])
    assert any(r["frames"] == "1001-1004" and r["missing_frames"] == [1003] for r in records)
    assert any(r["error"] for r in records) and any(r["verdict"] == "ai_generated" for r in records)
    if verify:
        assert any(r["c2pa"] is not None for r in records)


def test_cli_json_is_the_models_json_without_pydantic(folder: Path) -> None:
    """The command's bytes equal the API's model dump, and the command never imported pydantic (nor the packages'
    metadata, which only pydantic's plugins and rule packs are looked up in)."""
    probe = (
        "import sys\n"
        "from clearance.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "sys.stdout.flush()\n"
        "print('PYDANTIC' if any(m == 'pydantic' or m.startswith('pydantic.') for m in sys.modules) else"
        " 'METADATA' if 'importlib.metadata' in sys.modules else 'NONE', file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe, "scan", "-r", "--json", str(folder)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "NONE"
    assert proc.stdout.splitlines() == _model_lines(scan_paths([folder], recursive=True))


def test_one_file_as_a_record_is_its_model_dump(folder: Path) -> None:
    for path in sorted(folder.iterdir()):
        if path.is_file():
            assert scan_record(path) == scan_file(path).model_dump(mode="json")
