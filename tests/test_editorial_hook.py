"""The OTIO pre_adapter_write hook, loaded by OTIO itself from the `opentimelineio.plugins` entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest
import yaml
from editorial_fixtures import cli, make_record, write_record

from clearance.editorial.hook import DeliveryBlocked


def _blocked_cut(shared_data: Path, tmp_path: Path) -> otio.schema.Timeline:
    record = write_record(tmp_path, make_record("approval"))
    out = tmp_path / "tagged.otio"
    assert cli("tag", shared_data / "edl" / "gap_test.edl", "--clip", "shot3", "--record", record,
               "-o", out).code == 0
    return otio.adapters.read_from_file(str(out))


def test_hook_is_registered_through_the_entry_point() -> None:
    manifest = otio.plugins.ActiveManifest()
    assert "clearance_delivery_gate" in [h.name for h in manifest.hook_scripts]
    assert "clearance_delivery_gate" in otio.hooks.scripts_attached_to("pre_adapter_write")


def test_disabled_hook_lets_every_write_through(shared_data: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    timeline = _blocked_cut(shared_data, tmp_path)
    monkeypatch.delenv("CLEARANCE_OTIO_HOOK", raising=False)
    otio.adapters.write_to_file(timeline, str(tmp_path / "free.otio"))
    monkeypatch.setenv("CLEARANCE_OTIO_HOOK", "0")
    otio.adapters.write_to_file(timeline, str(tmp_path / "free.edl"), adapter_name="cmx_3600")
    assert (tmp_path / "free.otio").exists() and (tmp_path / "free.edl").exists()


def test_enabled_hook_refuses_a_blocked_delivery_with_the_check_message(
        shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    timeline = _blocked_cut(shared_data, tmp_path)
    monkeypatch.setenv("CLEARANCE_OTIO_HOOK", "1")
    target = tmp_path / "delivery.otio"
    with pytest.raises(DeliveryBlocked) as caught:
        otio.adapters.write_to_file(timeline, str(target))
    assert not target.exists()
    check_line = cli("check", tmp_path / "tagged.otio").out.strip().splitlines()[-1]
    assert str(caught.value) == f"Clearance refused to write {target}: {check_line}"
    assert "shot3" in str(caught.value) and "FINAL-DELIVERABLE" in str(caught.value)
    # `clearance tag` still writes work in progress while the gate is on
    record = write_record(tmp_path, make_record("approval"))
    assert cli("tag", tmp_path / "tagged.otio", "--clip", "shot1", "--record", record,
               "-o", tmp_path / "wip.otio").code == 0
    # a clean cut passes the gate
    otio.adapters.write_to_file(otio.adapters.read_from_file(str(shared_data / "otio" / "simple_cut.otio")),
                                str(tmp_path / "clean.otio"))


def test_policy_switch_and_misconfiguration(shared_data: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    timeline = _blocked_cut(shared_data, tmp_path)
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({"editorial": {"block_delivery_write": True}}))
    monkeypatch.delenv("CLEARANCE_OTIO_HOOK", raising=False)
    monkeypatch.setenv("CLEARANCE_POLICY", str(policy))
    with pytest.raises(DeliveryBlocked):
        otio.adapters.write_to_file(timeline, str(tmp_path / "a.otio"))
    monkeypatch.setenv("CLEARANCE_OTIO_HOOK", "0")  # the env switch wins
    otio.adapters.write_to_file(timeline, str(tmp_path / "b.otio"))

    monkeypatch.setenv("CLEARANCE_OTIO_HOOK", "maybe")
    with pytest.raises(Exception, match="CLEARANCE_OTIO_HOOK='maybe' is not a switch value"):
        otio.adapters.write_to_file(timeline, str(tmp_path / "c.otio"))
    monkeypatch.delenv("CLEARANCE_OTIO_HOOK")
    policy.write_text("editorial: {block_delivery_write: [")
    with pytest.raises(Exception, match="cannot read the policy in CLEARANCE_POLICY"):
        otio.adapters.write_to_file(timeline, str(tmp_path / "d.otio"))
    assert not any((tmp_path / n).exists() for n in ("a.otio", "c.otio", "d.otio"))


def test_otioconvert_is_gated_in_a_real_process(shared_data: Path, tmp_path: Path) -> None:
    _blocked_cut(shared_data, tmp_path)
    import os

    env = {**os.environ, "CLEARANCE_OTIO_HOOK": "1"}
    script = ("import sys, opentimelineio as otio; t = otio.adapters.read_from_file(sys.argv[1]); "
              "otio.adapters.write_to_file(t, sys.argv[2])")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "tagged.otio"), str(tmp_path / "out.xml")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0
    assert "Clearance refused to write" in done.stderr and not (tmp_path / "out.xml").exists()
    env["CLEARANCE_OTIO_HOOK"] = "0"
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "tagged.otio"), str(tmp_path / "out.xml")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("suffix", [".edl", ".xml", ".otio"])
def test_tag_is_not_a_delivery_whatever_the_writer(shared_data: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    # The EDL and FCP 7 XML adapters only write strings: OTIO runs the hook a second time through
    # write_to_string with a fresh argument map, which used to refuse `clearance tag -o tagged.edl`.
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({"editorial": {"block_delivery_write": True}}))
    monkeypatch.delenv("CLEARANCE_OTIO_HOOK", raising=False)
    monkeypatch.setenv("CLEARANCE_POLICY", str(policy))
    record = write_record(tmp_path, make_record("approval"))
    out = tmp_path / f"tagged{suffix}"
    done = cli("tag", shared_data / "edl" / "avid_example.edl", "--clip", "take_1", "--record", record, "-o", out)
    assert done.code == 0, done.err
    assert out.exists()
    # ...while a delivery write of the same blocked cut is still refused
    timeline = otio.adapters.read_from_file(str(tmp_path / "tagged.otio")) if suffix == ".otio" else None
    if timeline is not None:
        with pytest.raises(DeliveryBlocked):
            otio.adapters.write_to_file(timeline, str(tmp_path / "delivery.edl"), adapter_name="cmx_3600")
