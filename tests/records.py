"""The one record factory of the tests and the benches.

``CLEAN_ANSWERS`` answers every yes/no question of the record "no", with the questions taken from the
record model itself (a question added to ``UseRecord`` is answered here without anyone copying it).
``record_data(kind)`` builds the three records the suites need most:

- ``notify``: mood-board frames at the ideation stage (disclosure only);
- ``approval``: generated signage in the background of a final shot (FINAL-DELIVERABLE: approval);
- ``prohibited``: fabricated footage of real events presented as authentic (ETHICS-MISLEADING).

Benches import it too (they put tests/ on ``sys.path``).
"""

from __future__ import annotations

import copy
import typing
import uuid
from typing import Any

from pydantic import BaseModel

from clearance.record import UseRecord

ANSWER_SECTIONS = ("inputs", "training", "prompt_references", "output", "talent", "realism")


def _yes_no_questions(section: type[BaseModel]) -> list[str]:
    """The fields of a record section whose answer is yes / no / unsure (the version 1 questions: these
    records are version 1; tests/test_policy_v2.py builds version 2 ones)."""
    return [name for name, field in section.model_fields.items()
            if set(typing.get_args(field.annotation)) == {"yes", "no", "unsure"}
            and not (isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("since") == 2)]


def _clean_answers() -> dict[str, dict[str, str]]:
    answers: dict[str, dict[str, str]] = {}
    for section in ANSWER_SECTIONS:
        model = UseRecord.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel), section
        answers[section] = dict.fromkeys(_yes_no_questions(model), "no")
    return answers


CLEAN_ANSWERS: dict[str, dict[str, str]] = _clean_answers()
YES_NO_QUESTIONS: list[str] = [
    f"{section}.{name}" for section in ("use", *ANSWER_SECTIONS)
    for name in _yes_no_questions(UseRecord.model_fields[section].annotation)  # type: ignore[arg-type]
]
"""Every yes/no/unsure question of a record as a dotted path (``inputs.personal_data``), in model order."""
ENTERPRISE_TOOL: dict[str, str] = {"name": "Firefly", "provider": "Adobe", "environment": "enterprise",
                                   "trains_on_inputs": "no", "retains_inputs": "no"}
USES: dict[str, dict[str, str]] = {
    "notify": {"media": "image", "stage": "ideation", "in_final_deliverable": "no", "creative_element": "none",
               "prominence": "none", "content_type": "fiction"},
    "approval": {"media": "image", "stage": "final", "in_final_deliverable": "yes", "creative_element": "background",
                 "prominence": "incidental", "content_type": "fiction"},
    "prohibited": {"media": "video", "stage": "final", "in_final_deliverable": "yes", "creative_element": "background",
                   "prominence": "incidental", "content_type": "documentary"},
}
DESCRIPTIONS = {
    "notify": "Mood board frames for the harbour at night.",
    "approval": "Generated shop signage in the background of the market shots.",
    "prohibited": "Fabricated archive footage of a real protest.",
}


def clean_answers() -> dict[str, dict[str, str]]:
    """A fresh copy of CLEAN_ANSWERS, safe to change."""
    return copy.deepcopy(CLEAN_ANSWERS)


def record_data(kind: str = "notify", production: str = "EXAMPLE_S01", **changes: Any) -> dict[str, Any]:
    """A record as a dict (a new id each call). A dict in ``changes`` updates that section; anything
    else replaces the field."""
    if kind not in USES:
        raise ValueError(f"unknown record kind {kind!r}: use one of {', '.join(USES)}")
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()), "production": production, "description": DESCRIPTIONS[kind],
        "tool": dict(ENTERPRISE_TOOL), "use": dict(USES[kind]), **clean_answers(),
    }
    if kind == "prohibited":
        data["realism"] = {"depicts_real_people_or_events": "yes", "presented_as_authentic": "yes"}
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return data


def make_record(kind: str = "notify", production: str = "EXAMPLE_S01", **changes: Any) -> UseRecord:
    return UseRecord.model_validate(record_data(kind, production, **changes))
