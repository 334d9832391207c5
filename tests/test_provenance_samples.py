"""The real third-party samples in tests/data/provenance: expected verdicts, evidence, --verify agreement."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clearance.provenance import is_genai, scan_file, scan_paths
from clearance.provenance.verify import verify_file

EXPECTED = {
    # ocsp.jpg: active manifest is a Photoshop composite, its ingredient a Firefly text-to-image.
    # The strongest evidence in the history decides: ai_generated (docs/scanner.md, "Verdicts").
    "ocsp.jpg": "ai_generated",
    "C.jpg": "synthetic",
    "C_with_CAWG_data.jpg": "camera",
    "no_manifest.jpg": "none",
    "video1.mp4": "none",
    "sample1_signed.wav": "none",
    "libpng-test.png": "none",
    "comfy_sdxl_simple_example.png": "ai_generated",
}


@pytest.fixture(scope="module")
def provenance(shared_data: Path) -> Path:
    return shared_data / "provenance"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_verdict(provenance: Path, name: str) -> None:
    result = scan_file(provenance / name)
    assert result.error is None, result.error
    assert result.verdict == EXPECTED[name]
    assert is_genai(result.verdict) == (EXPECTED[name] in ("ai_generated", "ai_composite"))
    # Header walks only: a small fraction of any file with a payload worth skipping.
    size = (provenance / name).stat().st_size
    assert result.bytes_read <= max(size, 16384)
    if size > 500_000:
        assert result.bytes_read < size / 4


def test_ocsp_reads_every_manifest(provenance: Path) -> None:
    result = scan_file(provenance / "ocsp.jpg")
    by_manifest = {(e.active_manifest, e.value) for e in result.evidence}
    assert (False, "trainedAlgorithmicMedia") in by_manifest  # the Firefly ingredient
    assert (True, "compositeWithTrainedAlgorithmicMedia") in by_manifest  # the Photoshop edit
    ingredient = next(e for e in result.evidence if e.value == "trainedAlgorithmicMedia")
    assert ingredient.generator == "Adobe Firefly"
    assert ingredient.format == "jpeg" and ingredient.location.startswith("APP11")
    assert "Adobe Photoshop 26.9.0" in result.generators
    assert result.confidence >= 0.9


def test_c_jpg_is_synthetic_not_genai(provenance: Path) -> None:
    result = scan_file(provenance / "C.jpg")
    assert not is_genai(result.verdict)
    assert result.evidence[0].value == "algorithmicMedia"
    assert result.evidence[0].field.endswith("c2pa.created/digitalSourceType")


def test_c2pa_in_mp4_and_wav_is_found(provenance: Path) -> None:
    video = scan_file(provenance / "video1.mp4")
    assert video.format == "bmff"
    assert {e.manifest for e in video.evidence} == {
        "urn:uuid:54281c07-ad34-430e-bea5-112a18facf0b", "urn:uuid:8da8ffb6-3de4-430a-8924-5b58b561e647"}
    assert any("c2patool/0.6.2" in g for g in video.generators)
    wav = scan_file(provenance / "sample1_signed.wav")
    assert wav.format == "riff"
    assert wav.evidence[0].location == "C2PA chunk" and wav.evidence[0].value == "empty"
    assert wav.evidence[0].generator == "c2pa-c test 0.2"
    assert wav.bytes_read < 100_000  # the 1 MB data chunk was seeked over


def test_comfyui_prompt_embedded(provenance: Path) -> None:
    result = scan_file(provenance / "comfy_sdxl_simple_example.png")
    assert result.prompt_embedded
    fields = {e.field for e in result.evidence}
    assert fields == {"prompt", "workflow"}
    assert any("sd_xl_base_1.0.safetensors" in g for g in result.generators)


def test_plain_files_have_no_evidence(provenance: Path) -> None:
    for name in ("no_manifest.jpg", "libpng-test.png"):
        result = scan_file(provenance / name)
        assert result.evidence == [] and result.confidence == 0.0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_reader_and_c2pa_python_agree(provenance: Path, name: str) -> None:
    """The fast path and c2pa-python reach the same C2PA verdict on every sample."""
    builtin = scan_file(provenance / name)
    c2pa_evidence = [e for e in builtin.evidence if e.manifest is not None]
    builtin_c2pa_verdict = max(
        (e.verdict for e in c2pa_evidence),
        key=["none", "camera", "synthetic", "ai_composite", "ai_generated"].index,
        default="none",
    )
    checked = verify_file(str(provenance / name))
    assert checked.verdict == builtin_c2pa_verdict
    if c2pa_evidence:
        # Test signers are not on any trust list; the signatures themselves are intact.
        assert checked.status == "untrusted", checked
    else:
        assert checked.status == "no_manifest"


def test_verify_attaches_status(provenance: Path) -> None:
    results = {Path(r.path).name: r for r in scan_paths([provenance], verify=True)}
    assert results["ocsp.jpg"].c2pa is not None and results["ocsp.jpg"].c2pa.status == "untrusted"
    assert results["ocsp.jpg"].c2pa.verdict == results["ocsp.jpg"].verdict
    assert results["no_manifest.jpg"].c2pa is None  # nothing to validate


def test_tampered_manifest_reported(provenance: Path, tmp_path: Path) -> None:
    data = bytearray((provenance / "C.jpg").read_bytes())
    data[-200] ^= 0xFF  # change the image data the manifest's hash covers
    target = tmp_path / "C_tampered.jpg"
    target.write_bytes(bytes(data))
    result = scan_file(target, verify=True)
    assert result.verdict == "synthetic"  # the claims are still read
    assert result.c2pa is not None and result.c2pa.status == "tampered"
    assert result.error and "C2PA validation failed" in result.error


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clearance.cli.main", "scan", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_json_lines(provenance: Path) -> None:
    proc = _cli("--json", str(provenance))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    by_name = {Path(r["path"]).name: r for r in rows}
    for name, verdict in EXPECTED.items():
        row = by_name[name]
        assert row["verdict"] == verdict
        assert {"path", "verdict", "evidence", "error", "confidence"} <= set(row)
    assert by_name["ocsp.jpg"]["evidence"][0]["generator"] == "Adobe Firefly"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from clearance.cli.main import main

    code = main(["scan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_human_output_and_exit_codes(provenance: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(provenance / "ocsp.jpg"), str(provenance / "C.jpg"))
    assert code == 0
    assert "ai_generated" in out and "ingredient manifest" in out
    assert "2 items: 1 ai_generated, 1 synthetic" in out
    assert _run(capsys, "--fail-on-genai", str(provenance / "ocsp.jpg"))[0] == 1
    code, _, err = _run(capsys, str(tmp_path / "nope.exr"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "nope.exr" in err
    assert _run(capsys, "--jobs", "0", str(provenance))[0] == 2
    assert _run(capsys, "--trust-anchors", str(provenance / "C.jpg"), str(provenance))[0] == 2
    assert _run(capsys, "--verify", "--trust-anchors", str(provenance / "C.jpg"), str(provenance))[0] == 2


def test_cli_verify(provenance: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--verify", "--json", str(provenance / "ocsp.jpg"))
    assert code == 0
    row = json.loads(out)
    assert row["c2pa"]["status"] == "untrusted" and row["c2pa"]["verdict"] == "ai_generated"
