"""Property: "unsure" is judged as the riskier of yes and no, and never below approval_required."""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records import YES_NO_QUESTIONS

from clearance.decision import OUTCOME_RANK
from clearance.policy import default_policy, evaluate
from clearance.policy.rules import questions_read
from clearance.record import UseRecord

TRI = st.sampled_from(["yes", "no", "unsure"])

TRI_FIELDS = YES_NO_QUESTIONS  # every yes/no/unsure question, taken from the record model

# Tools are not in the (empty) default registry, so "unsure" stays unsure; registry inheritance is tested elsewhere.
tool = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["GenA", "GenB", "Upscaler", "ChatTool"]),
        "environment": st.sampled_from(["enterprise", "self_hosted", "consumer", "unknown"]),
        "trains_on_inputs": TRI,
        "retains_inputs": TRI,
    }
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema_version": 1,
        "production": "EXAMPLE_S01",
        "tools": draw(st.lists(tool, min_size=0, max_size=3)),
        "use": {
            "media": draw(st.sampled_from(["image", "video", "audio", "voice", "text", "3d", "other"])),
            "stage": draw(st.sampled_from(["ideation", "previs", "temp", "final"])),
            "creative_element": draw(
                st.sampled_from(
                    ["none", "background", "secondary_character", "main_character", "key_visual", "central_setting"]
                )
            ),
            "prominence": draw(st.sampled_from(["none", "incidental", "story_relevant"])),
            "content_type": draw(st.sampled_from(["fiction", "documentary", "unscripted", "marketing"])),
        },
        "inputs": {},
        "training": {},
        "prompt_references": {},
        "output": {},
        "realism": {},
        "talent": {
            "replica_exception": draw(st.sampled_from(["none", "as_performed", "unsafe_activity", "unrecognizable"])),
            "alteration": draw(st.sampled_from(["none", "customary", "significant"])),
        },
    }
    for dotted in TRI_FIELDS:
        section, name = dotted.split(".")
        data[section][name] = draw(TRI)
    return data


def _set(data: dict[str, Any], dotted: str, value: str) -> dict[str, Any]:
    out = copy.deepcopy(data)
    match = re.fullmatch(r"tools\[(\d+)\]\.(\w+)", dotted)
    if match:
        out["tools"][int(match.group(1))][match.group(2)] = value
    else:
        section, name = dotted.split(".")
        out[section][name] = value
    return out


def _rank(data: dict[str, Any]) -> int:
    return OUTCOME_RANK[evaluate(UseRecord.model_validate(data), default_policy()).outcome]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_unsure_never_lowers_and_read_unsure_needs_approval(data: dict[str, Any]) -> None:
    fields = list(TRI_FIELDS) + [
        f"tools[{i}].{n}" for i in range(len(data["tools"])) for n in ("trains_on_inputs", "retains_inputs")
    ]
    for dotted in fields:
        yes, no, unsure = (_rank(_set(data, dotted, v)) for v in ("yes", "no", "unsure"))
        assert unsure >= max(yes, no), dotted
        read = questions_read(UseRecord.model_validate(_set(data, dotted, "unsure")))
        if dotted in read:
            assert unsure >= OUTCOME_RANK["approval_required"], dotted
        else:  # a question no rule reads changes nothing
            assert yes == no == unsure, dotted


@settings(max_examples=60, deadline=None)
@given(records())
def test_missing_answer_is_judged_as_unsure(data: dict[str, Any]) -> None:
    for dotted in TRI_FIELDS:
        section, name = dotted.split(".")
        missing = copy.deepcopy(data)
        del missing[section][name]
        assert _rank(missing) == _rank(_set(data, dotted, "unsure")), dotted
