"""Which approver keys a check trusts: the keys the policy pins, else the keys pulled from the service.

One rule for publish, the hosts, `clearance check` and `clearance approvals verify` (clearance.cache.trusted_keys).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import yaml
from publish_fixtures import (  # noqa: F401
    approve,
    errors,
    pyblish_env,
    record_data,
    run_publish,
    store_revocations,
    write_approval,
    write_manifest,
    write_record,
)

from clearance.approvals import KeyRing
from clearance.cache import ApprovalCache
from clearance.errors import ClearanceError
from clearance.policy import default_policy, load_policy
from clearance.trust import trusted_keys


def _pin(ring: KeyRing) -> dict:
    return {"trusted_keys": [{"key_id": k["key_id"], "public_key": k["public_key"]}
                             for k in ring.public_keys_document()["keys"]]}


def test_pulled_keys_are_trusted_only_while_the_policy_pins_none(tmp_path: Path) -> None:
    service = KeyRing.open(tmp_path / "service")
    studio = KeyRing.open(tmp_path / "studio")
    assert len(trusted_keys(default_policy()).keys) == 0  # nothing pulled, nothing pinned: nothing trusted

    ApprovalCache().store_keys(service.public_keys_document())
    fallback = trusted_keys(default_policy())
    assert service.active_key_id() in fallback.keys
    assert fallback.warning and "pin them in the studio policy" in fallback.warning

    pinned_file = tmp_path / "studio.yaml"
    pinned_file.write_text(yaml.safe_dump({"approvals": _pin(studio)}))
    pinned = trusted_keys(load_policy([str(pinned_file)]))
    assert studio.active_key_id() in pinned.keys and service.active_key_id() not in pinned.keys
    assert pinned.warning is None

    off = tmp_path / "off.yaml"
    off.write_text(yaml.safe_dump({"approvals": {"trust_pulled_keys": False}}))
    assert len(trusted_keys(load_policy([str(off)])).keys) == 0


def test_later_layers_cannot_add_keys_drop_them_all_or_turn_the_fallback_back_on(tmp_path: Path) -> None:
    studio = KeyRing.open(tmp_path / "studio")
    first = tmp_path / "studio.yaml"
    first.write_text(yaml.safe_dump({"approvals": {**_pin(studio), "trust_pulled_keys": False}}))
    cases = {
        "empty.yaml": {"approvals": {"trusted_keys": []}},
        "added.yaml": {"approvals": {"trusted_keys": [*_pin(studio)["trusted_keys"],
                                                      *_pin(KeyRing.open(tmp_path / "rogue"))["trusted_keys"]]}},
        "file.yaml": {"approvals": {"keys_file": str(tmp_path / "keys.json")}},
        "fallback.yaml": {"approvals": {"trust_pulled_keys": True}},
    }
    for name, data in cases.items():
        later = tmp_path / name
        later.write_text(yaml.safe_dump(data))
        with pytest.raises(ClearanceError, match=rf"{name}:\d+: field approvals\.") as info:
            load_policy([str(first), str(later)])
        assert "weakens" in str(info.value) and "\n" not in str(info.value)
    same = tmp_path / "same.yaml"
    same.write_text(yaml.safe_dump({"approvals": _pin(studio)}))
    assert len(load_policy([str(first), str(same)]).approvals.trusted_keys) == 1


def test_publish_after_approvals_pull_passes_on_a_machine_with_no_pinned_keys(
        tmp_path: Path, pyblish_env: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    """The flow the issue describes: approvals, revocations and keys pulled into the cache, then publish."""
    service = KeyRing.open(tmp_path / "service")
    work = tmp_path / "work"
    work.mkdir()
    (work / "sh010_sign.exr").write_bytes(b"pixels\n")
    record = write_record(work / "records" / "sign.yaml", record_data("approval"))
    manifest = write_manifest(work, [{"name": "sh010_sign", "files": ["sh010_sign.exr"],
                                      "records": ["records/sign.yaml"]}], family="render")
    store_revocations(service)
    cache = ApprovalCache()
    cache.add_approval(approve(service, record))

    blocked = run_publish(manifest)  # keys not pulled yet: nothing to trust
    assert "ValidateClearanceApproval" in errors(blocked)

    cache.store_keys(service.public_keys_document())
    from clearance.cli.main import main

    assert main(["publish", str(manifest)]) == 0
    assert (tmp_path / "publish" / "clearance-disclosure.json").exists()
    out = capsys.readouterr().out
    assert "were pinned on first use" in out and "published 1 item(s)" in out

    # a forged approval from another key is still refused, even with the fallback on
    rogue = KeyRing.open(tmp_path / "rogue")
    other = write_record(work / "records" / "sign.yaml", record_data("approval", description="another use"))
    write_approval(tmp_path / "approvals", approve(rogue, other))
    (tmp_path / "approvals" / "keys.json").write_text(
        __import__("json").dumps(rogue.public_keys_document()))  # a keys file in a folder is never trusted
    forged = run_publish(manifest, approvals=tmp_path / "approvals")
    assert "ValidateClearanceApproval" in errors(forged)


def test_pinning_what_admin_keys_show_prints(tmp_path: Path) -> None:
    """A TD pastes the output of `clearance admin keys show` under approvals.trusted_keys, whole or its list."""
    import json

    from clearance.cli.main import main

    keys_dir = tmp_path / "service-keys"
    ring = KeyRing.open(keys_dir)
    ring.rotate()  # two keys: one inactive, one carrying the rotation announcement
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["admin", "keys", "show", "--keys-dir", str(keys_dir)]) == 0
    printed = json.loads(out.getvalue())
    assert {"created_at", "active"} <= set(printed["keys"][0]) and "announced_by" in printed["keys"][1]
    for name, pasted in (("whole.yaml", printed), ("list.yaml", printed["keys"])):
        path = tmp_path / name
        path.write_text(yaml.safe_dump({"approvals": {"trusted_keys": pasted}}))
        trust = trusted_keys(load_policy([str(path)]))
        assert trust.source == "policy" and set(trust.keys.key_ids()) == {k["key_id"] for k in printed["keys"]}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"approvals": {"trusted_keys": [{**printed["keys"][0], "colour": "red"}]}}))
    with pytest.raises(ClearanceError, match="colour"):
        load_policy([str(bad)])
