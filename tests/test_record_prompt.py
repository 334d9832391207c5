"""Record v2's prompt section: what it holds, its limits, its version, and which digests it is part of."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from publish_fixtures import record_data
from records import make_record

from clearance.cli.main import main
from clearance.errors import ClearanceError
from clearance.record import (
    PROMPT_MAX_CHARS,
    TRI_FIELDS,
    V2_FIELDS,
    UseRecord,
    content_digest,
    decision_digest,
    dump_record,
    json_schema,
    parse_record,
    record_digests,
    record_from_data,
)

PROMPT = "matte painting of a harbour town at dawn, volumetric fog"


def _v2(**prompt: Any) -> dict[str, Any]:
    return record_data("notify", schema_version=2, prompt=prompt)


def test_the_prompt_is_read_and_written_back() -> None:
    record = record_from_data(_v2(text=PROMPT, shareable="yes"), "r.yaml")
    assert record.prompt.text == PROMPT and record.prompt.shareable == "yes"
    assert record.prompt.shared_text() == PROMPT
    again = parse_record(dump_record(record), "again.yaml")
    assert again.prompt == record.prompt and content_digest(again) == content_digest(record)
    again = parse_record(dump_record(record, "json"), "again.json")
    assert again.prompt == record.prompt


@pytest.mark.parametrize("answer", [None, "no", "unsure", "NO", False])
def test_only_yes_shares_the_prompt(answer: Any) -> None:
    prompt = {"text": PROMPT} if answer is None else {"text": PROMPT, "shareable": answer}
    record = record_from_data(_v2(**prompt), "r.yaml")
    assert record.prompt.shared_text() is None and record.prompt.text == PROMPT
    assert record_from_data(_v2(text=PROMPT, shareable=True), "r.yaml").prompt.shared_text() == PROMPT


def test_an_unanswered_prompt_section_is_not_written_so_older_records_keep_their_digests() -> None:
    without = record_from_data(record_data("notify", schema_version=2), "r.yaml")
    assert "prompt" not in without.model_dump(mode="json")
    with_empty = record_from_data({**record_data("notify", schema_version=2), "id": str(without.id),
                                   "prompt": {"text": "  ", "shareable": "unsure"}}, "r.yaml")
    assert with_empty.prompt.text is None
    assert record_digests(with_empty) == record_digests(without)
    shareable_only = record_from_data(_v2(shareable="no"), "r.yaml")
    assert shareable_only.model_dump(mode="json")["prompt"] == {"text": None, "shareable": "no"}


def test_a_prompt_saying_unsure_is_a_prompt_and_is_never_dropped() -> None:
    record = record_from_data(record_data("notify", prompt={"text": "unsure"}), "r.yaml")
    assert record.schema_version == 2  # an answer to a version 2 question makes the record version 2
    assert record.model_dump(mode="json")["prompt"]["text"] == "unsure"


def test_a_version_1_record_with_a_prompt_is_version_2_and_one_without_stays_version_1() -> None:
    v1 = record_data("notify")
    assert "schema_version" not in v1
    assert record_from_data(v1, "old.yaml").schema_version == 1
    assert record_from_data({**v1, "prompt": {"text": None, "shareable": "unsure"}}, "old.yaml").schema_version == 1
    assert record_from_data({**v1, "prompt": {"text": PROMPT}}, "old.yaml").schema_version == 2
    assert record_from_data({**v1, "prompt": {"shareable": "no"}}, "old.yaml").schema_version == 2


def test_like_the_description_the_prompt_is_in_the_content_digest_but_not_the_decision_digest() -> None:
    """An approval binds the decision digest: editing the prompt (or whether it is shared) is a new version of
    the record for the approver to see, but does not void an approval, exactly as editing the description."""
    record = make_record("approval")
    record = record_from_data({**record.model_dump(mode="json"), "schema_version": 2}, "r.yaml")
    decision, content = record_digests(record)
    record.prompt.text = PROMPT
    assert decision_digest(record) == decision and content_digest(record) != content
    with_prompt = content_digest(record)
    record.prompt.shareable = "yes"
    assert decision_digest(record) == decision and content_digest(record) != with_prompt
    described = content_digest(record)
    record.description = "another description"
    assert decision_digest(record) == decision and content_digest(record) != described
    record.use.stage = "temp" if record.use.stage != "temp" else "final"
    assert decision_digest(record) != decision  # a decision field still voids it


def test_a_prompt_over_the_limit_is_refused_in_one_line_naming_the_field_and_limit() -> None:
    long = "w" * (PROMPT_MAX_CHARS + 1)
    with pytest.raises(ClearanceError) as caught:
        record_from_data(_v2(text=long), "shot.yaml")
    message = str(caught.value)
    assert message.startswith("shot.yaml") and "prompt.text" in message and str(PROMPT_MAX_CHARS) in message
    assert "www" not in message and "\n" not in message  # the text itself is never repeated
    assert record_from_data(_v2(text="w" * PROMPT_MAX_CHARS), "shot.yaml").prompt.text


@pytest.mark.parametrize("text", ["fog\x00harbour", "fog\x1bharbour", "fog\ud800harbour", "fog\x7fharbour"])
def test_text_xml_cannot_hold_is_refused_without_repeating_the_prompt(text: str) -> None:
    with pytest.raises(ClearanceError) as caught:
        record_from_data(_v2(text=text), "shot.yaml")
    message = str(caught.value)
    assert "prompt.text" in message and "harbour" not in message


def test_tabs_and_line_breaks_are_kept() -> None:
    text = "first prompt\n\tsecond prompt\r\nthird"
    assert record_from_data(_v2(text=text), "r.yaml").prompt.text == text


def test_the_prompt_is_in_the_field_lists_and_the_json_schema() -> None:
    assert "prompt.text" in V2_FIELDS and "prompt.shareable" in V2_FIELDS
    assert "prompt.shareable" in TRI_FIELDS
    schema = json_schema()
    prompt = schema["$defs"]["Prompt"]["properties"]
    assert {"type": "string", "maxLength": PROMPT_MAX_CHARS} in prompt["text"]["anyOf"]
    assert prompt["text"]["since"] == 2 and prompt["text"]["private"] is True
    assert prompt["shareable"]["default"] == "unsure"
    assert schema["properties"]["prompt"]["$ref"].endswith("/Prompt")


def test_the_policy_does_not_read_the_prompt() -> None:
    from clearance.policy import default_policy, evaluate

    plain = UseRecord.model_validate(record_data("approval", schema_version=2))
    prompted = UseRecord.model_validate(record_data("approval", schema_version=2,
                                                    prompt={"text": PROMPT, "shareable": "yes"}))
    policy = default_policy()
    assert evaluate(plain, policy) == evaluate(prompted, policy)


def test_migrate_keeps_a_record_without_a_prompt_free_of_one(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(record_data("notify")), encoding="utf-8")
    assert main(["record", "migrate", str(old), "-o", str(tmp_path / "new.json")]) == 0
    migrated = json.loads((tmp_path / "new.json").read_text(encoding="utf-8"))
    assert migrated["schema_version"] == 2 and "prompt" not in migrated


def test_record_new_writes_the_prompt_section_private_to_fill_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CLEARANCE_SERVER", raising=False)
    out = tmp_path / "sign.yaml"
    assert main(["record", "new", "--preset", "background-signage", "-o", str(out), "--production", "P1"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "prompt:\n  text: null\n  shareable: 'no'\n" in text
    filled = text.replace("  text: null\n", f"  text: {PROMPT}\n")
    record = parse_record(filled, "sign.yaml")
    assert record.prompt.text == PROMPT and record.prompt.shared_text() is None


def test_the_form_writes_an_unanswered_prompt_out_and_reads_back_unchanged() -> None:
    from clearance.record import dump_record_form

    record = record_from_data(record_data("approval", schema_version=2), "r.yaml")
    text = dump_record_form(record)
    assert "prompt:\n  text: null\n  shareable: unsure\n" in text
    assert text.index("prompt_references:") < text.index("prompt:\n") < text.index("output:")
    again = parse_record(text, "form.yaml")
    assert record_digests(again) == record_digests(record)
    assert parse_record(dump_record_form(record, "json"), "form.json") == record
    v1 = record_from_data(record_data("approval"), "old.yaml")
    assert "\nprompt:" not in dump_record_form(v1), "a version 1 record is not offered a version 2 question"
    given = record_from_data(_v2(text=PROMPT, shareable="no"), "r.yaml")
    assert dump_record_form(given) == dump_record(given)


def test_a_prompt_making_a_version_1_record_version_2_is_never_given_a_remembered_version_1_part() -> None:
    """Records sharing a decision part are validated once (record_and_digests); a prompt lies outside that part
    but makes an unstated-version record version 2, so such a record must get full validation's answer."""
    from clearance.record import forget_shared_parts, record_and_digests

    forget_shared_parts()
    plain = record_data("notify")
    assert "schema_version" not in plain
    first = record_and_digests(plain)
    assert first is not None and first[0].schema_version == 1
    prompted = {**plain, "id": "6f1c2d7e-0000-4000-8000-000000000001", "prompt": {"text": PROMPT}}
    full = UseRecord.model_validate(prompted)
    found = record_and_digests(prompted)
    if found is not None:
        assert found[0] == full and found[1:3] == record_digests(full)
    assert full.schema_version == 2 and decision_digest(full) != first[1]
    again = record_and_digests({**plain, "id": "6f1c2d7e-0000-4000-8000-000000000002"})
    assert again is not None and again[0].schema_version == 1 and again[1] == first[1]
    forget_shared_parts()
