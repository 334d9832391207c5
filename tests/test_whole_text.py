"""Half of a UTF-16 surrogate pair is refused wherever a text comes in, naming the file (or body) and field.

JSON can escape one (``"\\ud800"``) and Python's parser keeps it, but no digest, file, outbox or database can
encode it: before, a record holding one passed every check and then ``clearance submit`` stopped with an
internal error, and the service answered 500. The models refuse it on reading (``str_min_length=0``, see
``record.Section``); a whole character written as an escaped pair is kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import ValidationError
from server_fixtures import LiveServer, record_body, run_cli, start_server

from clearance.errors import ClearanceError
from clearance.outbox import Outbox
from clearance.policy import load_policy
from clearance.presets import new_record
from clearance.record import UseRecord, content_digest, load_record

HALF = "\ud800"


def _record_data() -> dict[str, Any]:
    data = new_record("background-signage", production="EXAMPLE_S01").model_dump(mode="json", exclude_none=True)
    data["targets"] = [{"kind": "file", "ref": "plate.exr", "path": "/shots/plate.exr"}]
    return data


def _written(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(data), encoding="utf-8")  # ensure_ascii: the half is written as the escape \ud800
    assert "\\ud800" in path.read_text(encoding="utf-8")
    return path


def _set(data: dict[str, Any], dotted: str, value: str) -> None:
    *path, last = dotted.split(".")
    here: Any = data
    for part in path:
        here = here[int(part)] if part.isdigit() else here.setdefault(part, {})
    if isinstance(here.get(last), list) or last.endswith("refs"):
        here[last] = [value]
    else:
        here[last] = value


@pytest.mark.parametrize(("field", "named"), [
    ("vendor", "vendor"),
    ("declared_by", "declared_by"),
    ("production", "production"),
    ("description", "description"),
    ("tool.name", "tools[0].name"),
    ("tool.provider", "tools[0].provider"),
    ("targets.0.path", "targets[0].path"),
    ("targets.0.ref", "targets[0].ref"),
    ("prompt_references.permission_refs", "prompt_references.permission_refs[0]"),
    ("talent.consent_refs", "talent.consent_refs[0]"),
    ("talent.consent_ref", "talent.consent_ref"),
])
def test_a_record_file_holding_half_a_character_is_refused_naming_the_field(
        tmp_path: Path, field: str, named: str) -> None:
    data = _record_data()
    _set(data, field, f"text {HALF} here")
    path = _written(tmp_path, data)
    with pytest.raises(ClearanceError) as caught:
        load_record(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: field {named} holds half of a UTF-16 surrogate pair"), message
    assert "\n" not in message and "retype it" in message


def test_a_whole_character_written_as_an_escaped_pair_is_kept(tmp_path: Path) -> None:
    data = _record_data()
    data["vendor"] = "Studio \U0001f3ac"  # json.dumps writes it as the pair \ud83c\udfac
    path = tmp_path / "record.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert "\\ud83c\\udfac" in path.read_text(encoding="utf-8")
    record = load_record(path)
    assert record.vendor == "Studio \U0001f3ac"
    assert content_digest(record).startswith("sha256:")


def test_half_a_character_is_refused_from_python_values_and_on_assignment() -> None:
    data = _record_data()
    data["vendor"] = "a" + HALF  # a host's string property can hold one as it is, not escaped
    with pytest.raises(ValidationError) as caught:
        UseRecord.model_validate(data)
    assert caught.value.errors()[0]["type"] == "string_unicode"
    record = new_record("mood-board", production="EXAMPLE_S01")
    with pytest.raises(ValidationError):
        record.vendor = "b" + HALF
    with pytest.raises(ValidationError):
        record.use.stage = HALF  # type: ignore[assignment]
    assert record.vendor is None


def test_submit_refuses_it_in_one_line_and_queues_nothing(tmp_path: Path) -> None:
    data = _record_data()
    data["vendor"] = f"Example {HALF}VFX"
    path = _written(tmp_path, data)
    home = tmp_path / "home"
    done = run_cli("submit", str(path), home=home)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" not in lines[0], done.stderr
    assert f"{path}: field vendor holds half of a UTF-16 surrogate pair" in lines[0]
    for found in home.rglob("outbox.sqlite3"):  # made only when something was queued
        with Outbox(found) as outbox:
            assert outbox.entries() == []


def test_a_policy_file_holding_half_a_character_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"tools": {f"Fire{HALF}fly": {"aliases": []}}}), encoding="utf-8")
    with pytest.raises(ClearanceError) as caught:
        load_policy([str(path)])
    assert "surrogate pair" in str(caught.value) and str(path) in str(caught.value)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = start_server(tmp_path_factory.mktemp("whole-text"))
    try:
        server.add_user("ana.artist", "artist")
        yield server
    finally:
        server.stop()


def _post(server: LiveServer, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{server.url}/api/v1{path}", data=json.dumps(body).encode(),
                         headers={**server.headers(server.tokens["ana.artist"]), "Content-Type": "application/json"},
                         timeout=20)


@pytest.mark.parametrize(("change", "field"), [
    ({"vendor": f"Example {HALF}"}, "vendor"),
    ({"targets": [{"kind": "shot", "ref": f"sh{HALF}010"}]}, "targets[0].ref"),
    ({"description": HALF}, "description"),
])
def test_the_service_answers_422_naming_the_field_not_500(service: LiveServer, change: dict[str, Any],
                                                           field: str) -> None:
    answer = _post(service, "/records", record_body("notify") | change)
    assert answer.status_code == 422, answer.text[:300]
    assert answer.json()["field"] == field
    assert answer.json()["error"].startswith(f"field {field} holds half of a UTF-16 surrogate pair")
    whole = _post(service, "/records", record_body("notify") | {"vendor": "Studio \U0001f3ac"})
    assert whole.status_code == 201, whole.text[:300]
