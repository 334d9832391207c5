"""The use record contract: field names, tri-state defaults, tool/tools, digests, one-line errors."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from clearance.errors import ClearanceError
from clearance.record import (
    UseRecord,
    content_digest,
    decision_digest,
    dump_record,
    json_schema,
    load_record,
    parse_record,
)

SPEC_EXAMPLE = """
schema_version: 1
id: 7d3c1a52-5a0c-4f7e-9a43-0d2f6c1b9e11
production: EXAMPLE_S01
vendor: Example VFX
declared_by: jdoe
declared_at: 2026-11-21T10:00:00Z
description: free text, what was generated and why
tool:
  name: Firefly
  provider: Adobe
  version: "3"
  environment: enterprise
  trains_on_inputs: "no"
  retains_inputs: "no"
use:
  media: image
  stage: ideation
  in_final_deliverable: "no"
  creative_element: none
  prominence: none
  content_type: fiction
inputs:
  studio_proprietary: "no"
  personal_data: "no"
  third_party_material: "no"
  talent_material: "no"
training:
  fine_tuned: "no"
  training_material_cleared: "unsure"
prompt_references:
  copyrighted_work: "no"
  public_figure: "no"
  deceased_person: "no"
output:
  resembles_unowned_material: "no"
talent:
  digital_replica: "no"
  replica_exception: none
  alteration: none
  consent_documented: "no"
  consent_ref: null
  model_from_other_production: "no"
  replaces_union_work: "no"
realism:
  depicts_real_people_or_events: "no"
  presented_as_authentic: "no"
targets:
  - kind: shot
    ref: sh010
    path: null
    sha256: null
"""


def test_spec_example_reads_and_round_trips() -> None:
    record = parse_record(SPEC_EXAMPLE, "spec.yaml")
    assert record.id == uuid.UUID("7d3c1a52-5a0c-4f7e-9a43-0d2f6c1b9e11")
    assert record.tool is not None and record.tool.environment == "enterprise"
    assert record.training.training_material_cleared == "unsure"
    assert record.targets[0].key() == "shot:sh010"
    again = parse_record(dump_record(record), "again.yaml")
    assert again == record
    again_json = parse_record(dump_record(record, "json"), "again.json")
    assert again_json == record
    # one tool is written back as `tool`, a chain as `tools`: the field names are the contract
    assert "tool" in record.model_dump() and "tools" not in record.model_dump()


def test_missing_tri_state_is_unsure_and_yaml_booleans_are_answers() -> None:
    record = parse_record("tool: {name: X, trains_on_inputs: no, retains_inputs: yes}\n", "r.yaml")
    assert record.tool is not None
    assert record.tool.trains_on_inputs == "no"  # bare YAML `no` is False, read as "no"
    assert record.tool.retains_inputs == "yes"
    assert record.inputs.personal_data == "unsure"
    assert record.talent.consent_documented == "unsure"
    assert parse_record("inputs: {personal_data: null}\n", "r.yaml").inputs.personal_data == "unsure"


def test_chain_of_tools() -> None:
    record = parse_record("tools:\n  - {name: A}\n  - {name: B, environment: consumer}\n", "r.yaml")
    assert [t.name for t in record.tools] == ["A", "B"]
    assert "tools" in record.model_dump()
    with pytest.raises(ClearanceError, match="either `tool`"):
        parse_record("tool: {name: A}\ntools: [{name: B}]\n", "r.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "use: {stage: finall}\n",
            r"^r\.yaml:1: field use\.stage 'finall' is not valid: expected 'ideation', 'previs'",
        ),
        ("use:\n  stage: temp\n  medai: image\n", r"^r\.yaml:3: field use\.medai is not a known field"),
        (
            "inputs:\n  personal_data: maybe\n",
            r"^r\.yaml:2: field inputs\.personal_data 'maybe' is not valid: expected 'yes'",
        ),
        ("targets:\n  - kind: shot\n", r"^r\.yaml:2: field targets\[0\]\.ref is required"),
        ("use: [1, 2\n", r"^r\.yaml:\d: not valid YAML or JSON"),
        ("- a\n- b\n", r"^r\.yaml: a use record must be a mapping"),
    ],
)
def test_bad_records_give_one_line_naming_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(ClearanceError) as info:
        parse_record(text, "r.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert re.search(expected, message), message


def test_load_record_file_errors(tmp_path) -> None:
    with pytest.raises(ClearanceError, match="file not found"):
        load_record(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.json"
    bad.write_text('{"use": {"stage": "temp",}}')
    with pytest.raises(ClearanceError, match=r"bad\.json:1: not valid JSON"):
        load_record(bad)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("description: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ClearanceError, match="not UTF-8"):
        load_record(latin)
    with pytest.raises(ClearanceError, match="is a folder"):
        load_record(tmp_path)


def test_decision_digest_binds_decision_fields_only() -> None:
    record = parse_record(SPEC_EXAMPLE, "spec.yaml")
    base = decision_digest(record)
    assert base.startswith("sha256:") and len(base) == 7 + 64
    assert decision_digest(record.model_copy(update={"description": "reworded"})) == base
    assert content_digest(record.model_copy(update={"description": "reworded"})) != content_digest(record)
    edited = record.model_copy(deep=True)
    edited.use.stage = "final"
    assert decision_digest(edited) != base
    other_production = record.model_copy(update={"production": "OTHER"})
    assert decision_digest(other_production) != base
    # the digest does not depend on how the file spelled the tool (one `tool` or a one-step `tools`)
    dumped = record.model_dump(mode="json")
    dumped["tools"] = [dumped.pop("tool")]
    as_chain = UseRecord.model_validate(dumped)
    assert decision_digest(as_chain) == base


def test_json_schema_names_every_contract_field() -> None:
    schema = json_schema()
    text = json.dumps(schema)
    for name in (
        "schema_version",
        "production",
        "vendor",
        "declared_by",
        "declared_at",
        "description",
        "tool",
        "tools",
        "media",
        "stage",
        "in_final_deliverable",
        "creative_element",
        "prominence",
        "content_type",
        "studio_proprietary",
        "personal_data",
        "third_party_material",
        "talent_material",
        "fine_tuned",
        "training_material_cleared",
        "copyrighted_work",
        "public_figure",
        "deceased_person",
        "resembles_unowned_material",
        "digital_replica",
        "replica_exception",
        "alteration",
        "consent_documented",
        "consent_ref",
        "model_from_other_production",
        "replaces_union_work",
        "depicts_real_people_or_events",
        "presented_as_authentic",
        "targets",
        "sha256",
    ):
        assert f'"{name}"' in text, name
    assert UseRecord.model_validate({}).use.stage == "final"  # a missing stage is judged as the riskiest


def test_cli_command_table_matches_what_each_module_registers() -> None:
    """`clearance CMD` imports only CMD's module: the table must name every command each module adds."""
    import argparse
    import importlib

    from clearance.cli.main import COMMANDS

    for module in set(COMMANDS.values()):
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(f"clearance.cli.{module}_cmd").register(sub)
        registered = set(sub.choices)
        assert registered == {c for c, m in COMMANDS.items() if m == module}, module


def test_cli_help_lists_every_command_and_bad_arguments_exit_2(capsys) -> None:
    from clearance.cli.main import COMMANDS, main

    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "--no-such-flag", "x.yaml"])
    assert info.value.code == 2
    assert "unrecognized arguments: --no-such-flag (see `clearance evaluate --help`)" in capsys.readouterr().err
    assert main([]) == 2
