"""The delivery packet: built from a real service and from local records, verified offline, any edited byte caught.

The PDF is printed by Debian's Chromium and its pages are rendered to PNG by poppler's pdftoppm (tools no one
here wrote); the tests check the pages carry ink where the register is, not a blank sheet.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest
from publish_fixtures import NOW, approve, record_data, write_policy, write_record
from server_fixtures import PRODUCTION, LiveServer, live_server, record_body  # noqa: F401

from clearance.approvals import KeyRing, TrustedKeys
from clearance.cache import ApprovalCache
from clearance.cli.main import main
from clearance.editorial.tagging import apply_tag
from clearance.record import UseRecord
from clearance.tags import Tag


def run(*argv: object) -> int:
    return main([str(a) for a in argv])


@pytest.fixture
def identity(clearance_home: Path) -> Path:
    assert run("credentials", "init") == 0
    return clearance_home / "credentials"


def replica_data() -> dict[str, Any]:
    data = record_data("approval", description="de-aged face of the lead actor in the flashback")
    data["use"]["media"] = "video"
    data["talent"] = {"digital_replica": "yes", "consent_documented": "yes", "consent_ref": "legal/consent-042.pdf",
                      "model_from_other_production": "no", "replaces_union_work": "no", "replica_exception": "none"}
    return data


def cut_with(path: Path, tagged: dict[str, UseRecord], untagged_media: Path | None = None) -> Path:
    rt = otio.opentime.RationalTime
    timeline = otio.schema.Timeline(name="reel 1")
    track = otio.schema.Track(name="V1")
    timeline.tracks.append(track)
    for name, record in tagged.items():
        clip = otio.schema.Clip(name=name, source_range=otio.opentime.TimeRange(rt(0, 24), rt(48, 24)))
        apply_tag(clip, Tag.for_record(record, target_ref="shot:" + name.split("_")[0]))
        track.append(clip)
    if untagged_media is not None:
        ref = otio.schema.ExternalReference(target_url=untagged_media.resolve().as_uri())
        track.append(otio.schema.Clip(name="sh090_plate", media_reference=ref,
                                      source_range=otio.opentime.TimeRange(rt(0, 24), rt(24, 24))))
    otio.adapters.write_to_file(timeline, str(path))
    return path


@pytest.fixture
def local_production(tmp_path: Path, identity: Path, shared_data: Path) -> dict[str, Any]:
    ring = KeyRing.open(tmp_path / "keys")
    policy = write_policy(tmp_path / "policy.yaml", ring)
    records = tmp_path / "records"
    notify = write_record(records / "moodboard.yaml", record_data("notify"))
    background = write_record(records / "signage.yaml", record_data("approval"))
    replica = write_record(records / "deage.yaml", replica_data())
    cache = ApprovalCache()
    cache.store_keys(ring.public_keys_document())
    approval = approve(ring, background)
    cache.add_approval(approval)
    cache.add_approval(approve(ring, replica))
    cache.store_revocations(ring.sign_document({"revocations": [], "generated_at": NOW.isoformat()}),
                            TrustedKeys.from_document(ring.public_keys_document()))
    ai_plate = shutil.copy(shared_data / "provenance" / "ocsp.jpg", tmp_path / "plate_ai.jpg")
    cut = cut_with(tmp_path / "cut.otio", {"sh010_comp": background, "sh020_comp": replica, "sh030_mood": notify},
                   untagged_media=Path(ai_plate))
    return {"policy": policy, "records": records, "cut": cut, "approval": approval, "replica": replica}


def test_local_packet_builds_and_verifies(tmp_path: Path, local_production: dict[str, Any],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "packet"
    assert run("packet", "EXAMPLE_S01", "--offline", "--records", local_production["records"], "--cut",
               local_production["cut"], "--policy", local_production["policy"], "-o", out, "--no-pdf") == 0
    said = capsys.readouterr().out
    assert "3 use(s)" in said and "1 untagged AI clip(s)" in said
    html = (out / "register.html").read_text(encoding="utf-8")
    approval = local_production["approval"]
    assert approval.approval_id in html and "sam.approver" in html
    assert "legal/consent-042.pdf" in html  # consent reference of the replica
    assert "Firefly" in html and "enterprise" in html  # tools and their terms
    assert "sh090_plate" in html and "plate_ai.jpg" in html  # AI media found untagged, with its file
    packet = json.loads((out / "bundle" / "packet.json").read_text(encoding="utf-8"))
    shots = {s["shot"]: s for s in packet["shots"]}
    assert shots["sh020"]["article_50"]["deep_fake"] == "yes"
    assert "replica" in shots["sh020"]["article_50"]["why"]
    assert shots["sh020"]["article_50"]["suggested_disclosure"]
    assert shots["sh010"]["article_50"]["deep_fake"] == "no"
    assert shots["sh010"]["clips"][0]["in"] and shots["sh010"]["record_ids"] == [str(approval.statement.record_id)]
    assert shots["sh090_plate"]["untagged_ai"] and shots["sh090_plate"]["article_50"]["deep_fake"] == "unsure"
    capsys.readouterr()
    assert run("packet", "verify", out) == 0
    lines = capsys.readouterr().out
    assert "FAILS" not in lines and "2 approval(s)" in lines and "revocation list is signed" in lines


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_any_edited_byte_is_caught(tmp_path: Path, local_production: dict[str, Any],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "packet"
    assert run("packet", "EXAMPLE_S01", "--offline", "--records", local_production["records"],
               "--policy", local_production["policy"], "-o", out, "--no-pdf") == 0
    for path in _files(out):
        original = path.read_bytes()
        for position in (0, len(original) // 2, len(original) - 2):
            data = bytearray(original)
            data[position] ^= 0x20
            path.write_bytes(bytes(data))
            capsys.readouterr()
            assert run("packet", "verify", out) == 1, f"an edit at byte {position} of {path.name} went unseen"
            assert "FAILS" in capsys.readouterr().out
        path.write_bytes(original)
    assert run("packet", "verify", out) == 0
    extra = out / "bundle" / "extra.json"
    extra.write_text("{}", encoding="utf-8")
    capsys.readouterr()
    assert run("packet", "verify", out) == 1
    assert "not covered by the manifest" in capsys.readouterr().out
    extra.unlink()
    (out / "bundle" / "approvals.json").unlink()
    assert run("packet", "verify", out) == 1


def test_a_resigned_manifest_does_not_hide_a_forged_approval(tmp_path: Path, local_production: dict[str, Any],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Editing an approval and re-signing the manifest with any identity still fails the approval's own check."""
    from clearance.credentials.identity import resolve_identity
    from clearance.packet import bundle

    out = tmp_path / "packet"
    assert run("packet", "EXAMPLE_S01", "--offline", "--records", local_production["records"],
               "--policy", local_production["policy"], "-o", out, "--no-pdf") == 0
    approvals_path = out / "bundle" / "approvals.json"
    approvals = json.loads(approvals_path.read_text(encoding="utf-8"))
    approvals[0]["statement"]["conditions"] = "none"
    approvals_path.write_bytes(bundle._dump(approvals))
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    data = approvals_path.read_bytes()
    manifest["files"]["bundle/approvals.json"] = {"sha256": bundle._digest(data), "bytes": len(data)}
    manifest.pop("signature")
    identity = resolve_identity(None)
    import base64

    from clearance.documents import canonical_json

    manifest["signature"] = base64.b64encode(bundle.sign_bytes(identity, canonical_json(manifest))).decode()
    (out / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    capsys.readouterr()
    assert run("packet", "verify", out) == 1
    said = capsys.readouterr().out
    assert "signature does not match" in said and "FAILS: approval" in said


def test_packet_without_identity_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_record(tmp_path / "r.yaml", record_data("notify"))
    assert run("packet", "EXAMPLE_S01", "--offline", "--records", tmp_path, "-o", tmp_path / "p", "--no-pdf") == 2
    assert "credentials init" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_verify_of_something_else_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("packet", "verify", tmp_path) == 2
    err = capsys.readouterr().err
    assert "MANIFEST.json" in err and err.count("\n") == 1


def _png_ink(path: Path) -> float:
    """Share of non-white pixels in an 8-bit RGB PNG written by pdftoppm (zlib, filter bytes per row)."""
    data = path.read_bytes()
    pos, chunks, width, height = 8, [], 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
            assert body[8] == 8 and body[9] == 2, "expected 8-bit RGB"
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    stride = width * 3 + 1
    rows = [raw[y * stride + 1:(y + 1) * stride] for y in range(height)]
    # Unfiltered bytes are enough to tell a blank page (all filters of a white row give 0 or 255) from ink.
    ink = sum(sum(1 for b in row if 0 < b < 250) for row in rows)
    return ink / (width * height * 3)


def test_pdf_pages_render_with_the_register(tmp_path: Path, local_production: dict[str, Any]) -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.fail("pdftoppm is needed (Debian poppler-utils; ./dev test installs it)")
    out = tmp_path / "packet"
    assert run("packet", "EXAMPLE_S01", "--offline", "--records", local_production["records"], "--cut",
               local_production["cut"], "--policy", local_production["policy"], "-o", out) == 0
    pdf = out / "register.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "841.92 x 594.96 pts (A4)" in info  # A4 landscape, as the print CSS asks
    subprocess.run([pdftoppm, "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages, "pdftoppm rendered no page"
    assert _png_ink(pages[0]) > 0.005, "the first page is blank"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "GenAI delivery packet: EXAMPLE_S01" in text and "Article 50" in text
    assert run("packet", "verify", out) == 0


def test_packet_from_a_real_service(tmp_path: Path, identity: Path, live_server: LiveServer,  # noqa: F811
                                    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    artist, approver = live_server.tokens["ana.artist"], live_server.tokens["sam.approver"]
    bodies = [record_body("notify"), record_body("approval_required"), record_body("approval_required")]
    for body in bodies:
        assert live_server.post("/records", artist, body).status_code in (200, 201)
    from clearance.client import DisclosureClient

    # the client's own decision call (whatever the decision endpoint asks of it), as an approver
    with DisclosureClient(server=live_server.url, token=approver) as client:
        answer = client.decide(bodies[1]["id"], "approve", conditions="background only")
    approval_id = answer["statement"]["approval_id"]
    monkeypatch.setenv("CLEARANCE_SERVER", live_server.url)
    monkeypatch.setenv("CLEARANCE_TOKEN", artist)
    out = tmp_path / "packet"
    assert run("packet", PRODUCTION, "-o", out, "--no-pdf") == 0
    html = (out / "register.html").read_text(encoding="utf-8")
    assert approval_id in html and "background only" in html and "waiting" in html
    records = json.loads((out / "bundle" / "records.json").read_text(encoding="utf-8"))
    assert {b["id"] for b in bodies} <= set(records)
    assert json.loads((out / "bundle" / "revocations.json").read_text(encoding="utf-8"))["documents"][0]["signature"]
    # the decision above was anchored by a signed checkpoint; the packet carries the newest one
    checkpoint = json.loads((out / "bundle" / "checkpoint.json").read_text(encoding="utf-8"))
    assert checkpoint == live_server.get("/audit/checkpoint", artist).json() and checkpoint["signature"]["value"]
    capsys.readouterr()
    assert run("packet", "verify", out) == 0
    assert "the audit checkpoint is signed by approver key" in capsys.readouterr().out
    keys = tmp_path / "studio-keys.json"
    keys.write_text(json.dumps(live_server.get("/keys", artist).json()), encoding="utf-8")
    assert run("packet", "verify", out, "--keys", keys) == 0
    other = KeyRing.open(tmp_path / "other-keys")
    keys.write_text(json.dumps(other.public_keys_document()), encoding="utf-8")
    capsys.readouterr()
    assert run("packet", "verify", out, "--keys", keys) == 1
    assert "not among the studio's pinned keys" in capsys.readouterr().out



def test_without_a_cut_the_article_50_assessment_is_per_use(tmp_path: Path, local_production: dict[str, Any]) -> None:
    out = tmp_path / "packet"
    assert run("packet", "EXAMPLE_S01", "--offline", "--records", local_production["records"],
               "--policy", local_production["policy"], "-o", out, "--no-pdf") == 0
    html = (out / "register.html").read_text(encoding="utf-8")
    assert "assessment per use" in html and "digital replica of a real performer" in html
    packet = json.loads((out / "bundle" / "packet.json").read_text(encoding="utf-8"))
    replica = next(u for u in packet["uses"] if u["record_id"] == str(local_production["replica"].id))
    assert replica["article_50"]["deep_fake"] == "yes" and replica["article_50"]["suggested_disclosure"]
    assert packet["shots"] is None


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes are POSIX")
def test_a_pipe_among_the_records_stops_the_packet(tmp_path: Path, local_production: dict[str, Any],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # A register missing a record would read as complete: the packet is refused, naming the file.
    os.mkfifo(local_production["records"] / "late.yaml")
    out = tmp_path / "packet"
    capsys.readouterr()
    assert run("packet", "EXAMPLE_S01", "--offline", "--records", local_production["records"], "--policy",
               local_production["policy"], "-o", out, "--no-pdf") == 2
    said = capsys.readouterr()
    assert "late.yaml" in said.err and "pipe" in said.err and len(said.err.strip().splitlines()) == 1
    assert not (out / "bundle").exists()


def test_offline_packet_finds_records_this_machine_submitted(tmp_path: Path, identity: Path) -> None:
    from clearance.outbox import Outbox

    record = UseRecord.model_validate(record_data("notify"))
    with Outbox() as outbox:
        outbox.add(record)  # `clearance submit --offline`
    out = tmp_path / "packet"
    assert run("packet", "EXAMPLE_S01", "--offline", "-o", out, "--no-pdf") == 0
    records = json.loads((out / "bundle" / "records.json").read_text(encoding="utf-8"))
    assert str(record.id) in records


def test_signer_trust_is_checked_against_the_roots_given(tmp_path: Path, local_production: dict[str, Any],
                                                         identity: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from clearance.credentials.identity import init_test_identity

    out = tmp_path / "packet"
    assert run("packet", "EXAMPLE_S01", "--offline", "--records", local_production["records"],
               "--policy", local_production["policy"], "-o", out, "--no-pdf") == 0
    capsys.readouterr()
    assert run("packet", "verify", out, "--trust-anchors", identity / "test-ca.pem") == 0
    assert "chains to a trusted root" in capsys.readouterr().out
    other = init_test_identity(tmp_path / "other-identity")
    assert run("packet", "verify", out, "--trust-anchors", other / "test-ca.pem") == 1
    assert "FAILS: signer trust" in capsys.readouterr().out
