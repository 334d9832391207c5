"""Content Credentials on publish: real pyblish.util.publish, plugins from PYBLISHPLUGINPATH, read back with
c2pa-python."""

from __future__ import annotations

import json
from pathlib import Path

import c2pa
import credentials_media as media
import pytest
from publish_fixtures import (
    approve,
    errors,
    pyblish_env,  # noqa: F401 - fixture
    record_data,
    run_publish,
    store_revocations,
    write_manifest,
    write_policy,
    write_record,
)

from clearance.approvals import KeyRing
from clearance.cache import ApprovalCache
from clearance.cli.main import main
from clearance.policy import load_policy

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


@pytest.fixture
def studio(tmp_path: Path, pyblish_env: Path) -> dict:  # noqa: F811
    work = tmp_path / "work"
    work.mkdir()
    ring = KeyRing.open(tmp_path / "keys")
    store_revocations(ring)
    return {"work": work, "ring": ring, "dest": tmp_path / "publish", "tmp": tmp_path}


def _publish(studio: dict, family: str, files: list[str], inputs: list[str] | None = None,
             **policy_extra: object) -> object:
    record = write_record(studio["work"] / "records" / "look.yaml", record_data("approval"))
    ApprovalCache().add_approval(approve(studio["ring"], record))
    items = [{"name": "sh010_look", "files": files, "records": ["records/look.yaml"], "inputs": inputs or []}]
    manifest = write_manifest(studio["work"], items, family=family)
    policy = write_policy(studio["tmp"] / "policy.yaml", studio["ring"], **policy_extra)
    context = run_publish(manifest, load_policy([str(policy)]))
    context.data["_record"] = record
    return context


def _active(path: Path) -> tuple[str, dict]:
    with open(path, "rb") as fh:
        reader = c2pa.Reader(path.suffix.lstrip("."), fh)
        store = json.loads(reader.json())
        return reader.get_validation_state(), store["manifests"][store["active_manifest"]]


def test_a_delivery_publish_signs_its_copy_and_the_manifest_describes_the_signed_bytes(studio: dict) -> None:
    assert main(["credentials", "init"]) == 0
    media.still(studio["work"] / "sh010_look.jpg")
    media.exr(studio["work"] / "sh010_look.1001.exr")
    original = (studio["work"] / "sh010_look.jpg").read_bytes()
    context = _publish(studio, "delivery", ["sh010_look.jpg", "sh010_look.1001.exr"])
    assert not errors(context), errors(context)
    published = studio["dest"] / "sh010_look.jpg"
    state, active = _active(published)
    assert state == "Valid"
    actions = next(a for a in active["assertions"] if a["label"] == "c2pa.actions.v2")["data"]["actions"]
    assert actions[0]["digitalSourceType"] == TRAINED
    clearance = next(a for a in active["assertions"] if a["label"] == "org.clearance.disclosure")["data"]
    assert clearance["uses"][0]["record_id"] == str(context.data["_record"].id)
    assert (studio["work"] / "sh010_look.jpg").read_bytes() == original, "the artist's file is never signed"
    assert (studio["dest"] / "sh010_look.1001.c2pa").is_file()  # EXR: sidecar beside the published copy
    disclosure = json.loads((studio["dest"] / "clearance-disclosure.json").read_text(encoding="utf-8"))
    import hashlib

    entries = {Path(f["published"]).name: f for item in disclosure["items"] for f in item["files"]}
    assert entries["sh010_look.jpg"]["sha256"] == hashlib.sha256(published.read_bytes()).hexdigest()
    sidecar = json.loads((studio["dest"] / "sh010_look.jpg.clearance.json").read_text(encoding="utf-8"))
    assert sidecar["sha256"] == entries["sh010_look.jpg"]["sha256"]


def test_comp_family_signed_as_composite_keeping_the_inputs_credentials(studio: dict, shared_data: Path) -> None:
    assert main(["credentials", "init"]) == 0
    media.still(studio["work"] / "sh010_look.png")
    (studio["work"] / "elements").mkdir()
    sky = (shared_data / "provenance" / "ocsp.jpg").read_bytes()
    (studio["work"] / "elements" / "firefly_sky.jpg").write_bytes(sky)
    context = _publish(studio, "comp", ["sh010_look.png"], inputs=["elements/firefly_sky.jpg"],
                       credentials={"families": ["delivery", "final", "comp"]})
    assert not errors(context), errors(context)
    state, active = _active(studio["dest"] / "sh010_look.png")
    assert state == "Valid"
    actions = next(a for a in active["assertions"] if a["label"] == "c2pa.actions.v2")["data"]["actions"]
    assert actions[0]["digitalSourceType"] == COMPOSITE
    assert [a["action"] for a in actions][-1] == "c2pa.placed"
    ingredient = next(i for i in active["ingredients"] if i["title"] == "firefly_sky.jpg")
    assert ingredient["relationship"] == "componentOf" and ingredient.get("active_manifest")


def test_no_identity_refuses_the_publish_before_anything_is_copied(studio: dict) -> None:
    media.still(studio["work"] / "sh010_look.jpg")
    context = _publish(studio, "delivery", ["sh010_look.jpg"])
    failed = errors(context)
    assert "ValidateClearanceSigningIdentity" in failed
    assert "credentials init" in str(failed["ValidateClearanceSigningIdentity"])
    assert not studio["dest"].exists() or not any(studio["dest"].iterdir())


def test_review_family_is_not_signed(studio: dict) -> None:
    media.still(studio["work"] / "sh010_look.jpg")
    context = _publish(studio, "review", ["sh010_look.jpg"])  # no identity needed: nothing to sign
    assert not errors(context), errors(context)
    with open(studio["dest"] / "sh010_look.jpg", "rb") as fh:
        assert c2pa.Reader.try_create("image/jpeg", fh) is None


def test_a_delivery_publish_writes_the_xmp_into_tiff_movies_and_sound(studio: dict) -> None:
    from test_credentials import exiftool_tags

    assert main(["credentials", "init"]) == 0
    names = ["sh010_look.tif", "sh010_look.mov", "sh010_look.wav"]
    media.still(studio["work"] / names[0])
    media.movie(studio["work"] / names[1])
    media.sound(studio["work"] / names[2])
    context = _publish(studio, "delivery", names)
    assert not errors(context), errors(context)
    for name in names:
        published = studio["dest"] / name
        state, active = _active(published)
        actions = next(a for a in active["assertions"] if a["label"] == "c2pa.actions.v2")["data"]["actions"]
        assert state == "Valid" and actions[0]["digitalSourceType"] == TRAINED, name
        tags = exiftool_tags(published)
        assert tags["XMP-iptcExt:DigitalSourceType"] == TRAINED and tags["XMP-iptcExt:AISystemUsed"], name
