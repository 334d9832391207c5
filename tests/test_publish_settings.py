"""TD settings from the policy (enabled / optional / active / families) and no local bypass of locked checks."""

from __future__ import annotations

from pathlib import Path

import pyblish.api
import pytest
from publish_fixtures import (
    errors,
    pyblish_env,  # noqa: F401 - fixture
    ran,
    record_data,
    run_publish,
    write_manifest,
    write_policy,
    write_record,
)

from clearance.cli.main import main
from clearance.errors import ClearanceError
from clearance.policy import load_policy
from clearance.pyblish import settings
from clearance.pyblish.catalog import LOCKED


def _temp_in_comp(tmp_path: Path, kind: str = "notify", **changes: object) -> Path:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / "sign.exr").write_bytes(b"sign")
    write_record(work / "records" / "r.yaml", record_data(kind, **changes))
    return write_manifest(work, [{"name": "sign", "files": ["sign.exr"], "records": ["records/r.yaml"]}],
                          family="comp")


def _policy(tmp_path: Path, validators: dict, name: str = "policy.yaml"):
    return load_policy([str(write_policy(tmp_path / name, publish={"validators": validators}))])


def _classes(policy) -> dict[str, type]:
    settings.use_policy(policy)
    return {p.__name__: p for p in pyblish.api.discover()}


@pytest.mark.parametrize("validator", sorted(LOCKED - {"clearance.publish_setup"}))
@pytest.mark.parametrize("bypass", [{"optional": True}, {"enabled": False}, {"active": False}, {"families": ["plate"]}])
def test_locked_validators_cannot_be_bypassed(tmp_path: Path, validator: str, bypass: dict) -> None:
    policy = _policy(tmp_path, {validator: bypass})
    expected = rf"publish\.validators\.{validator}: .*not allowed.*waiver is an approval"
    with pytest.raises(ClearanceError, match=expected):
        settings.check_policy(policy)


def test_cli_refuses_a_bypassing_policy_with_exit_2(
    pyblish_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    manifest = _temp_in_comp(tmp_path, "approval")
    policy_file = write_policy(tmp_path / "vendor.yaml",
                               publish={"validators": {"clearance.approval_valid": {"optional": True}}})
    assert main(["publish", str(manifest), "--policy", str(policy_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "clearance.approval_valid" in err and "optional: true is not allowed" in err
    assert not (tmp_path / "publish").exists()


def test_in_host_publish_with_a_bypassing_policy_is_blocked(pyblish_env: Path, tmp_path: Path) -> None:  # noqa: F811
    manifest = _temp_in_comp(tmp_path, "prohibited")
    policy = _policy(tmp_path, {"clearance.not_prohibited": {"enabled": False}})
    context = run_publish(manifest, policy)
    failed = errors(context)
    assert "not allowed" in str(failed["ValidateClearanceSetup"])
    assert "ValidateClearanceNotProhibited" in failed  # still ran: the setting was ignored
    assert not (tmp_path / "publish").exists()


def test_unknown_validator_id_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    policy = _policy(tmp_path, {"clearance.temp_not_finale": {"enabled": False}})
    with pytest.raises(ClearanceError, match=r"unknown validator .did you mean clearance\.temp_not_final"):
        settings.check_policy(policy)


def test_optional_and_active_reach_the_plugin_classes(pyblish_env: Path, tmp_path: Path) -> None:  # noqa: F811
    policy = _policy(tmp_path, {"clearance.tool_registered": {"optional": True, "active": False},
                                "clearance.temp_not_final": {"optional": True}})
    classes = _classes(policy)
    tool, temp = classes["ValidateClearanceToolRegistered"], classes["ValidateClearanceTempNotFinal"]
    assert (tool.optional, tool.active) == (True, False)
    assert (temp.optional, temp.active) == (True, True)
    approval = classes["ValidateClearanceApproval"]
    assert (approval.optional, approval.active) == (False, True)
    assert "How to fix" in (tool.__doc__ or "")
    # an unticked optional check does not run
    manifest = _temp_in_comp(tmp_path, tool={"name": "DreamBrush"}, use={"stage": "final",
                                                                         "in_final_deliverable": "yes"})
    context = run_publish(manifest, policy)
    assert "ValidateClearanceToolRegistered" not in ran(context)


def test_disabled_validator_does_not_block(pyblish_env: Path, tmp_path: Path) -> None:  # noqa: F811
    manifest = _temp_in_comp(tmp_path)
    context = run_publish(manifest, _policy(tmp_path, {}))
    assert "ValidateClearanceTempNotFinal" in errors(context)
    context = run_publish(manifest, _policy(tmp_path, {"clearance.temp_not_final": {"enabled": False}}, "off.yaml"))
    assert errors(context) == {}
    assert (tmp_path / "publish" / "clearance-disclosure.json").is_file()


def test_family_filter_limits_a_validator(pyblish_env: Path, tmp_path: Path) -> None:  # noqa: F811
    manifest = _temp_in_comp(tmp_path)
    context = run_publish(manifest, _policy(tmp_path, {"clearance.temp_not_final": {"families": ["plate"]}}))
    assert errors(context) == {}
    context_comp = run_publish(manifest, _policy(tmp_path, {"clearance.temp_not_final": {"families": ["comp"]}},
                                                 "comp.yaml"))
    assert "ValidateClearanceTempNotFinal" in errors(context_comp)


def test_final_deliverable_families_come_from_the_policy(pyblish_env: Path, tmp_path: Path) -> None:  # noqa: F811
    manifest = _temp_in_comp(tmp_path)
    policy = load_policy([str(write_policy(tmp_path / "p.yaml", publish={"final_deliverable_families": ["plate"]}))])
    context = run_publish(manifest, policy)
    assert errors(context) == {}


def test_an_unreadable_policy_blocks_a_host_publish(
    pyblish_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    manifest = _temp_in_comp(tmp_path)
    broken = tmp_path / "studio.yaml"
    broken.write_text("publish: {validators: [not, a, mapping]}\n")
    monkeypatch.setenv("CLEARANCE_POLICY", str(broken))
    context = run_publish(manifest)
    message = str(errors(context)["ValidateClearanceSetup"])
    assert "studio.yaml" in message
    assert not (tmp_path / "publish").exists()
    # fixed in place: the next publish in the same session reads it again
    broken.write_text("version: fixed\npublish: {final_deliverable_families: [plate]}\n")
    context = run_publish(manifest)
    assert errors(context) == {}
    assert context.data["clearance_policy"].version == "fixed"


def test_records_are_queued_even_with_the_disclosed_check_switched_off(
    pyblish_env: Path, tmp_path: Path,  # noqa: F811
) -> None:
    from clearance.outbox import Outbox
    from clearance.record import content_digest, load_record

    work = tmp_path / "work"
    work.mkdir()
    (work / "a.exr").write_bytes(b"a")
    write_record(work / "records" / "r.yaml", record_data("notify"))
    manifest = write_manifest(work, [{"name": "a", "files": ["a.exr"], "records": ["records/r.yaml"]}])
    context = run_publish(manifest, _policy(tmp_path, {"clearance.record_disclosed": {"enabled": False}}))
    assert errors(context) == {} and "ValidateClearanceRecordDisclosed" not in ran(context)
    record = load_record(work / "records" / "r.yaml")
    with Outbox() as outbox:
        assert outbox.is_disclosed(record.id, content_digest(record))
    assert context.data["clearance_queued"] == 1
