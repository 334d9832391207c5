"""Content Credentials round trips: sign with `clearance credentials sign`, read back with tools no one here wrote.

Readers: c2pa-python's Reader (the C2PA reference library), exiftool for the XMP fields, and Clearance's own
scanner. Media: the vendored C2PA fixtures, and stills, video and audio made by Pillow, FFmpeg (PyAV) and
Python's wave module in the test.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import c2pa
import credentials_media as media
import pytest
from publish_fixtures import NOW, approve, record_data, write_policy, write_record

from clearance.approvals import KeyRing, TrustedKeys
from clearance.cache import ApprovalCache
from clearance.cli.main import main
from clearance.provenance import scan_file

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


def run(*argv: str) -> int:
    return main([str(a) for a in argv])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read(path: Path, sidecar: Path | None = None) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(validation state, active manifest, whole store) as c2pa-python reads them."""
    with open(path, "rb") as fh:
        if sidecar is not None:
            reader = c2pa.Reader("application/octet-stream", fh, sidecar.read_bytes())
        else:
            reader = c2pa.Reader(path.suffix.lstrip("."), fh)
        store = json.loads(reader.json())
        state = reader.get_validation_state()
    return state, store["manifests"][store["active_manifest"]], store


def actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    for assertion in manifest["assertions"]:
        if assertion["label"].startswith("c2pa.actions"):
            return list(assertion["data"]["actions"])
    raise AssertionError("no actions assertion")


def disclosure(manifest: dict[str, Any]) -> dict[str, Any]:
    return next(a["data"] for a in manifest["assertions"] if a["label"] == "org.clearance.disclosure")


@pytest.fixture
def identity(clearance_home: Path) -> Path:
    assert run("credentials", "init") == 0
    return clearance_home / "credentials"


@pytest.fixture
def notify_record(tmp_path: Path) -> Path:
    data = record_data("notify")
    data["tool"]["version"] = "Image 3"
    write_record(tmp_path / "notify.yaml", data)
    return tmp_path / "notify.yaml"


def test_init_keeps_the_key_private_and_says_it_is_for_tests(clearance_home: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run("credentials", "init") == 0
    out = capsys.readouterr().out
    assert "TEST IDENTITY" in out and "trust list" in out
    folder = clearance_home / "credentials"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "signer-key.pem").stat().st_mode) == 0o600
    assert run("credentials", "init") == 2  # never overwritten by accident
    assert "--force" in capsys.readouterr().err


def test_sign_without_identity_is_refused_in_one_line(tmp_path: Path, notify_record: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    still = media.still(tmp_path / "a.jpg")
    assert run("credentials", "sign", still, "--record", notify_record) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "credentials init" in err and "credentials.cert_chain" in err
    assert not (tmp_path / "a.signed.jpg").exists()


@pytest.mark.parametrize(("name", "make"), [
    ("still.jpg", media.still), ("still.png", media.still), ("still.tif", media.still),
    ("still.webp", media.still), ("clip.mp4", media.movie), ("clip.mov", media.movie), ("sound.wav", media.sound),
])
def test_generated_media_reads_back_as_ai_generated(identity: Path, tmp_path: Path, notify_record: Path,
                                                    name: str, make: Any) -> None:
    source = make(tmp_path / name)
    before = sha(source)
    assert run("credentials", "sign", source, "--record", notify_record, "--generated") == 0
    signed = source.with_name(f"{source.stem}.signed{source.suffix}")
    assert sha(source) == before, "the original must never be modified without --in-place"
    state, manifest, _ = read(signed)
    assert state == "Valid"  # intact; a test CA is on no trust list, so not "Trusted"
    first = actions(manifest)[0]
    assert first["action"] == "c2pa.created" and first["digitalSourceType"] == TRAINED
    assert first["softwareAgent"] == {"name": "Firefly", "version": "Image 3"}
    uses = disclosure(manifest)["uses"]
    assert uses[0]["record_id"] and uses[0]["decision"] == "notify" and "prompt" not in uses[0]
    assert scan_file(signed).verdict == "ai_generated"


def test_composite_keeps_the_camera_original_as_parent(identity: Path, tmp_path: Path, notify_record: Path,
                                                       shared_data: Path) -> None:
    plate = shutil.copy(shared_data / "provenance" / "C_with_CAWG_data.jpg", tmp_path / "plate.jpg")
    assert run("credentials", "sign", plate, "--record", notify_record, "-o", tmp_path / "comp.jpg") == 0
    state, manifest, store = read(tmp_path / "comp.jpg")
    assert state == "Valid"
    steps = actions(manifest)
    # the input is a camera capture: the source type follows the input without --composite
    assert [a["action"] for a in steps] == ["c2pa.opened", "c2pa.edited"]
    assert steps[1]["digitalSourceType"] == COMPOSITE
    parent = manifest["ingredients"][0]
    assert parent["relationship"] == "parentOf" and parent["active_manifest"] in store["manifests"]
    assert scan_file(tmp_path / "comp.jpg").verdict == "ai_composite"


def test_an_inputs_credentials_survive_as_an_ingredient(identity: Path, tmp_path: Path, notify_record: Path,
                                                        shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    element = shutil.copy(shared_data / "provenance" / "ocsp.jpg", tmp_path / "firefly.jpg")
    comp = media.still(tmp_path / "comp.png")
    assert run("credentials", "sign", comp, "--record", notify_record, "--composite", "--input", element) == 0
    state, manifest, store = read(tmp_path / "comp.signed.png")
    assert state == "Valid"
    placed = [a for a in actions(manifest) if a["action"] == "c2pa.placed"]
    assert placed and placed[0]["digitalSourceType"] == COMPOSITE
    ingredient = next(i for i in manifest["ingredients"] if i["title"] == "firefly.jpg")
    assert ingredient["relationship"] == "componentOf"
    inner = store["manifests"][ingredient["active_manifest"]]
    # the Photoshop composite of the fixture, with its own Firefly ingredient: the whole history is kept
    assert any(a.get("digitalSourceType", "").endswith("compositeWithTrainedAlgorithmicMedia")
               for a in actions(inner))
    assert len(store["manifests"]) >= 3
    capsys.readouterr()
    assert run("credentials", "verify", "--json", tmp_path / "comp.signed.png") == 0
    view = json.loads(capsys.readouterr().out)
    assert view["state"] == "valid" and view["test_identity"] is True
    assert view["source_types"] == [COMPOSITE]
    assert any(i["title"] == "firefly.jpg" and i["has_credentials"] for i in view["ingredients"])
    assert view["clearance"]["uses"][0]["decision"] == "notify"


def exiftool_tags(path: Path) -> dict[str, Any]:
    """The XMP properties exiftool reads from ``path``, keyed by group and name (``XMP-iptcExt:AISystemUsed``)."""
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        pytest.fail("exiftool is needed (Debian libimage-exiftool-perl; ./dev test installs it)")
    out = subprocess.run([exiftool, "-j", "-G1", "-XMP:all", str(path)], capture_output=True, text=True,
                         check=True).stdout
    tags: dict[str, Any] = json.loads(out)[0]
    return tags


def test_xmp_ai_fields_are_written_before_signing(identity: Path, tmp_path: Path, notify_record: Path) -> None:
    source = media.still(tmp_path / "still.jpg")
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    tags = exiftool_tags(tmp_path / "still.signed.jpg")
    assert tags["XMP-iptcExt:AISystemUsed"] == "Firefly" and tags["XMP-iptcExt:AISystemVersionUsed"] == "Image 3"
    assert tags["XMP-iptcExt:DigitalSourceType"] == TRAINED
    assert "XMP-iptcExt:AIPromptInformation" not in tags  # the record does not allow sharing prompts
    assert read(tmp_path / "still.signed.jpg")[0] == "Valid"  # the signature covers the XMP


def test_exr_gets_a_sidecar_and_header_attributes(identity: Path, tmp_path: Path, notify_record: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    source = media.exr(tmp_path / "sh010.1001.exr", extra={"owner": "vendor"})
    before = sha(source)
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    assert sha(source) == before
    signed = tmp_path / "sh010.1001.signed.exr"
    sidecar = tmp_path / "sh010.1001.signed.c2pa"
    assert sidecar.is_file()
    assert media.exr_chunks(signed) == media.exr_chunks(source), "pixels must be copied unchanged"
    assert b"owner\0string" in signed.read_bytes()
    state, manifest, _ = read(signed, sidecar)
    assert state == "Valid" and actions(manifest)[0]["digitalSourceType"] == TRAINED
    result = scan_file(signed)
    assert result.verdict == "ai_composite" and result.record_ids  # the clearance/record_ids attribute
    capsys.readouterr()
    assert run("credentials", "verify", signed) == 0
    assert "(sidecar)" in capsys.readouterr().out
    data = bytearray(signed.read_bytes())
    data[-1] ^= 0xFF
    signed.write_bytes(bytes(data))
    assert run("credentials", "verify", signed) == 1
    assert "INVALID" in capsys.readouterr().out


def test_dpx_gets_only_a_sidecar(identity: Path, tmp_path: Path, notify_record: Path) -> None:
    source = media.dpx(tmp_path / "sh010.1001.dpx")
    before = sha(source)
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    assert sha(source) == before
    state, _, _ = read(source, tmp_path / "sh010.1001.c2pa")
    assert state == "Valid"


def test_an_edited_byte_is_reported_invalid(identity: Path, tmp_path: Path, notify_record: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    source = media.still(tmp_path / "still.png")
    assert run("credentials", "sign", source, "--record", notify_record, "--in-place") == 0
    assert read(source)[0] == "Valid"
    capsys.readouterr()
    assert run("credentials", "verify", source) == 0
    out = capsys.readouterr().out
    assert "TEST identity" in out and "trainedAlgorithmicMedia" in out
    data = bytearray(source.read_bytes())
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0x01
    source.write_bytes(bytes(data))
    assert run("credentials", "verify", source) == 1
    assert "INVALID" in capsys.readouterr().out
    plain = media.still(tmp_path / "plain.jpg")
    assert run("credentials", "verify", plain) == 1


def test_approval_ids_go_into_the_manifest_and_a_missing_approval_refuses(
        identity: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ring = KeyRing.open(tmp_path / "keys")
    policy = write_policy(tmp_path / "policy.yaml", ring)
    record = write_record(tmp_path / "bg.yaml", record_data("approval"))
    source = media.still(tmp_path / "bg.jpg")
    assert run("credentials", "sign", source, "--record", tmp_path / "bg.yaml", "--policy", policy) == 2
    assert "needs a written approval" in capsys.readouterr().err
    assert not (tmp_path / "bg.signed.jpg").exists()
    approval = approve(ring, record)
    cache = ApprovalCache()
    cache.add_approval(approval)
    cache.store_revocations(ring.sign_document({"revocations": [], "generated_at": NOW.isoformat()}),
                            TrustedKeys.from_document(ring.public_keys_document()))
    assert run("credentials", "sign", source, "--record", tmp_path / "bg.yaml", "--policy", policy) == 0
    _, manifest, _ = read(tmp_path / "bg.signed.jpg")
    use = disclosure(manifest)["uses"][0]
    assert use["decision"] == "approval_required"
    assert use["approval_ids"] == [approval.approval_id] and use["approver"] == "sam.approver"


def test_a_prohibited_use_is_never_signed(identity: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_record(tmp_path / "fake.yaml", record_data("prohibited"))
    source = media.still(tmp_path / "news.jpg")
    assert run("credentials", "sign", source, "--record", tmp_path / "fake.yaml") == 2
    assert "prohibits" in capsys.readouterr().err
    assert not (tmp_path / "news.signed.jpg").exists()


SIGNER = """
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
r, s = decode_dss_signature(key.sign(sys.stdin.buffer.read(), ec.ECDSA(hashes.SHA256())))
sys.stdout.buffer.write(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
"""


def test_an_external_signer_command_signs(identity: Path, tmp_path: Path, notify_record: Path) -> None:
    script = tmp_path / "signer.py"
    script.write_text(SIGNER, encoding="utf-8")
    policy = write_policy(tmp_path / "policy.yaml", credentials={
        "cert_chain": str(identity / "signer-chain.pem"),
        "signer_command": [sys.executable, str(script), str(identity / "signer-key.pem")],
    })
    source = media.still(tmp_path / "hsm.jpg")
    assert run("credentials", "sign", source, "--record", notify_record, "--policy", policy) == 0
    assert read(tmp_path / "hsm.signed.jpg")[0] == "Valid"
    broken = write_policy(tmp_path / "broken.yaml", credentials={
        "cert_chain": str(identity / "signer-chain.pem"), "signer_command": [sys.executable, "-c", "import sys; "
                                                                             "sys.exit('HSM offline')"]})
    assert run("credentials", "sign", source, "--record", notify_record, "--policy", broken, "-o",
               tmp_path / "x.jpg") == 2
    assert not (tmp_path / "x.jpg").exists()


def test_the_policy_can_forbid_the_test_identity(identity: Path, tmp_path: Path, notify_record: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    policy = write_policy(tmp_path / "policy.yaml", credentials={"allow_test_identity": False})
    source = media.still(tmp_path / "a.jpg")
    assert run("credentials", "sign", source, "--record", notify_record, "--policy", policy) == 2
    assert "allow_test_identity" in capsys.readouterr().err


def test_a_world_readable_key_is_refused(identity: Path, tmp_path: Path, notify_record: Path) -> None:
    os.chmod(identity / "signer-key.pem", 0o644)
    assert run("credentials", "sign", media.still(tmp_path / "a.jpg"), "--record", notify_record) == 2


def test_unsupported_format_is_refused(identity: Path, tmp_path: Path, notify_record: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "notes.xyz"
    odd.write_bytes(b"x")
    assert run("credentials", "sign", odd, "--record", notify_record) == 2
    assert "cannot write Content Credentials for .xyz" in capsys.readouterr().err


def test_an_input_with_broken_credentials_is_refused(identity: Path, tmp_path: Path, notify_record: Path,
                                                     shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    element = tmp_path / "firefly.jpg"
    data = bytearray((shared_data / "provenance" / "ocsp.jpg").read_bytes())
    data[-200] ^= 0xFF  # in the image data, after the manifest: the hard binding no longer matches
    element.write_bytes(bytes(data))
    comp = media.still(tmp_path / "comp.png")
    assert run("credentials", "sign", comp, "--record", notify_record, "--input", element) == 2
    assert "invalid" in capsys.readouterr().err
    assert not (tmp_path / "comp.signed.png").exists()
    assert run("credentials", "sign", element, "--record", notify_record) == 2


def test_a_frame_sequence_is_signed_frame_by_frame_into_a_folder(identity: Path, tmp_path: Path, notify_record: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    plates = tmp_path / "plates"
    plates.mkdir()
    for frame in (1001, 1002, 1003):
        media.exr(plates / f"sh010.{frame}.exr")
    media.dpx(plates / "sh020.1001.dpx")
    out = tmp_path / "delivery"
    assert run("credentials", "sign", plates / "sh010.####.exr", plates / "sh020.1001.dpx", "--record",
               notify_record, "-o", out) == 0
    for frame in (1001, 1002, 1003):
        assert read(out / f"sh010.{frame}.exr", out / f"sh010.{frame}.c2pa")[0] == "Valid"
    assert (out / "sh020.1001.dpx").read_bytes() == (plates / "sh020.1001.dpx").read_bytes()
    assert read(out / "sh020.1001.dpx", out / "sh020.1001.c2pa")[0] == "Valid"
    capsys.readouterr()
    assert run("credentials", "verify", out / "sh010.%04d.exr") == 0
    assert capsys.readouterr().out.count("intact") == 3
    assert run("credentials", "sign", plates / "sh030.####.exr", "--record", notify_record) == 2
    assert "no frame of this sequence" in capsys.readouterr().err


def test_a_record_id_known_here_can_stand_for_the_file(identity: Path, tmp_path: Path, notify_record: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from clearance.editorial.tagging import remember_record
    from clearance.record import load_record

    record = load_record(notify_record)
    remember_record(record)  # what `clearance tag` keeps on this machine
    source = media.still(tmp_path / "a.png")
    assert run("credentials", "sign", source, "--record", str(record.id)) == 0
    _, manifest, _ = read(tmp_path / "a.signed.png")
    assert disclosure(manifest)["uses"][0]["record_id"] == str(record.id)
    assert run("credentials", "sign", source, "--record", "7d3c0000-0000-4000-8000-000000000000", "-o",
               tmp_path / "b.png") == 2
    assert "does not know that record" in capsys.readouterr().err


def test_verify_trusts_only_the_roots_given(identity: Path, tmp_path: Path, notify_record: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    source = media.still(tmp_path / "a.jpg")
    assert run("credentials", "sign", source, "--record", notify_record) == 0
    capsys.readouterr()
    assert run("credentials", "verify", "--json", "--trust-anchors", identity / "test-ca.pem",
               tmp_path / "a.signed.jpg") == 0
    assert json.loads(capsys.readouterr().out)["state"] == "trusted"
    assert run("credentials", "verify", "--json", tmp_path / "a.signed.jpg") == 0
    assert json.loads(capsys.readouterr().out)["state"] == "valid"
