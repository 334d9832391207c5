"""Models whose validators are built on first use (pydantic's ``defer_build``) validate exactly as if built at import.

Findings, decisions and consent entries are not validated on a check's path, so their validators wait for the
first use (tests/test_editorial_check_imports.py holds that a check does not build them). Here, in a fresh
process where that first use really is the first, each validates good and bad input, and its errors and
its JSON schema, the same as a twin of the same fields built eagerly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys
from pydantic import ConfigDict, ValidationError
from clearance import consent, decision

CASES = {
    "Finding": [
        {"rule": "P1", "outcome": "notify", "message": "m", "remedy": "r"},
        {"rule": "P1", "outcome": "notify", "message": "m", "remedy": "r", "cites": ["P1"], "fields": ["use.stage"]},
        {"rule": "P1", "outcome": "maybe", "message": "m"},
        {"rule": 3, "outcome": "notify", "message": "m", "remedy": "r", "extra": 1},
        "not an object",
    ],
    "Decision": [
        {"outcome": "approval_required", "findings": [
            {"rule": "P1", "outcome": "approval_required", "message": "m", "remedy": "r"}]},
        {"outcome": "notify", "findings": []},
        {"outcome": "notify", "findings": [{"rule": "P1"}]},
        {"outcome": "prohibited"},
        {"outcome": "notify", "findings": [], "note": "x"},
    ],
    "ConsentScope": [
        {"productions": ["EX"], "media": ["image"], "uses": ["likeness"], "starts_on": "2026-01-01"},
        {"productions": [], "media": ["image"], "uses": ["likeness"], "starts_on": "2026-01-01"},
        {"productions": ["EX"], "media": ["smell"], "uses": ["fame"], "starts_on": "yesterday", "ends_on": 3},
    ],
    "ConsentEntry": [
        {"id": "C-1", "production": "EX", "talent": "A. Performer", "given_by": "performer",
         "scope": {"productions": ["EX"], "media": ["voice"], "uses": ["voice"], "starts_on": "2026-01-01"},
         "document_sha256": "0" * 64},
        {"id": "-bad", "production": "", "talent": "x", "given_by": "friend", "scope": {},
         "document_sha256": "xyz", "status": "gone"},
    ],
}
MODULES = {"Finding": decision, "Decision": decision, "ConsentScope": consent, "ConsentEntry": consent}

def outcome(model, data):
    try:
        return {"ok": model.model_validate(data).model_dump(mode="json")}
    except ValidationError as exc:
        return {"errors": [{k: v for k, v in e.items() if k != "url"} for e in exc.errors(include_context=False)]}

out = {}
for name, cases in CASES.items():
    deferred = getattr(MODULES[name], name)
    assert not deferred.__pydantic_complete__, name  # nothing built it before its first use here
    first = [outcome(deferred, data) for data in cases]
    assert deferred.__pydantic_complete__, name
    twin = type(name, (deferred,), {"__module__": deferred.__module__, "__doc__": deferred.__doc__,
                                    "model_config": ConfigDict(**{**deferred.model_config, "defer_build": False})})
    assert twin.__pydantic_complete__, name  # built when the class was made
    out[name] = {"deferred": first, "eager": [outcome(twin, data) for data in cases],
                 "schema": [deferred.model_json_schema(), twin.model_json_schema()]}
print(json.dumps(out, default=str))
"""


def test_deferred_models_validate_on_first_use_as_if_built_at_import() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "core"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(found) == {"Finding", "Decision", "ConsentScope", "ConsentEntry"}
    for name, seen in found.items():
        assert seen["deferred"] == seen["eager"], name
        assert seen["schema"][0] == seen["schema"][1], name
        # Each model's cases hold at least one accepted and one refused input, so both paths are compared.
        assert any("ok" in case for case in seen["deferred"]), name
        assert any("errors" in case and case["errors"] for case in seen["deferred"]), name
