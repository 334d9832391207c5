"""Prompts in the delivery packet: a packet leaves the studio, so it carries a prompt only where the record
allows sharing it. A private prompt is named as withheld and its text is in no file of the packet, while the
approvals still bind the records the packet holds (the prompt is not part of the decision digest)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from publish_fixtures import NOW, approve, record_data, write_policy, write_record
from test_packet import _files, identity, run

from clearance.approvals import KeyRing, TrustedKeys
from clearance.cache import ApprovalCache
from clearance.record import without_private_prompt

__all__ = ["identity"]  # the fixture, imported from test_packet for this module's tests

SHARED = "hand-painted sign reading 'Harbour Diner', weathered <neon> & rust"
PRIVATE = "LEAD ACTOR Jonah Vell's face from the 2019 press kit, aged down 30 years"


def _v2(kind: str, **prompt: str) -> dict[str, Any]:
    data = record_data(kind, schema_version=2, prompt=prompt)
    data["tool"]["trains_on_outputs"] = "no"
    return data


@pytest.fixture
def production(tmp_path: Path, identity: Path) -> dict[str, Any]:
    ring = KeyRing.open(tmp_path / "keys")
    policy = write_policy(tmp_path / "policy.yaml", ring)
    records = tmp_path / "records"
    shared = write_record(records / "sign.yaml", _v2("notify", text=SHARED, shareable="yes"))
    private = write_record(records / "face.yaml", _v2("approval", text=PRIVATE, shareable="no"))
    unsure = write_record(records / "sky.yaml", _v2("notify", text=PRIVATE + " (sky)"))
    none = write_record(records / "plain.yaml", record_data("notify"))
    cache = ApprovalCache()
    cache.store_keys(ring.public_keys_document())
    cache.add_approval(approve(ring, private))
    cache.store_revocations(ring.sign_document({"revocations": [], "generated_at": NOW.isoformat()}),
                            TrustedKeys.from_document(ring.public_keys_document()))
    return {"policy": policy, "records": records, "ids": {k: str(r.id) for k, r in
                                                          (("public", shared), ("private", private),
                                                           ("unsure", unsure), ("none", none))}}


def test_the_packet_carries_shareable_prompts_only(tmp_path: Path, production: dict[str, Any],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "packet"
    assert run("packet", "EXAMPLE_S01", "--offline", "--records", production["records"], "--policy",
               production["policy"], "-o", out) == 0
    said = capsys.readouterr()
    ids = production["ids"]
    for path in _files(out):
        data = path.read_bytes()
        for piece in ("Jonah Vell", "press kit", "aged down"):
            assert piece.encode("utf-8") not in data, (path.name, piece)
    assert "Jonah Vell" not in said.out + said.err
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext is needed (Debian poppler-utils, which also gives the packet tests pdftoppm)")
    printed = subprocess.run([pdftotext, str(out / "register.pdf"), "-"], capture_output=True, text=True,
                             check=True).stdout
    assert "Harbour" in printed and "withheld" in printed  # the PDF's text streams are compressed
    assert "Jonah" not in printed and "press kit" not in printed
    html = (out / "register.html").read_text(encoding="utf-8")
    assert "Harbour Diner" in html and "&lt;neon&gt; &amp; rust" in html  # shown, escaped
    assert html.count("Prompt: withheld") == 2
    uses = {u["record_id"]: u for u in json.loads((out / "bundle" / "packet.json").read_text("utf-8"))["uses"]}
    assert uses[ids["public"]]["prompt"] == SHARED and not uses[ids["public"]]["prompt_withheld"]
    for key in ("private", "unsure"):
        assert uses[ids[key]]["prompt"] is None and uses[ids[key]]["prompt_withheld"] is True
    assert uses[ids["none"]]["prompt"] is None and uses[ids["none"]]["prompt_withheld"] is False
    assert uses[ids["private"]]["status"] == "approved"
    records = json.loads((out / "bundle" / "records.json").read_text("utf-8"))
    assert records[ids["public"]]["prompt"]["text"] == SHARED
    assert records[ids["private"]]["prompt"] == {"text": None, "shareable": "no"}
    assert "prompt" not in records[ids["none"]]
    capsys.readouterr()
    assert run("packet", "verify", out) == 0
    lines = capsys.readouterr().out
    assert "FAILS" not in lines and "1 approval(s)" in lines  # still binds the record with its prompt withheld


@pytest.mark.parametrize("prompt", [
    {"text": PRIVATE, "shareable": "no"},
    {"text": PRIVATE},
    {"text": PRIVATE, "shareable": "perhaps"},  # does not validate: withheld all the same
    {"text": PRIVATE + "\x00", "shareable": "yes"},
])
def test_without_private_prompt_fails_closed(prompt: dict[str, Any]) -> None:
    data = {"production": "P", "prompt": prompt}
    kept = without_private_prompt(data)
    assert kept["prompt"]["text"] is None and data["prompt"]["text"].startswith(PRIVATE), "the input is not changed"
    assert without_private_prompt({"production": "P", "prompt": "free text"}) == {"production": "P"}
    shared = {"production": "P", "prompt": {"text": SHARED, "shareable": "yes"}}
    assert without_private_prompt(shared) == shared
