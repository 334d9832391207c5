"""Layered policy files: the first may set anything, later ones only make it stricter (unless signed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from policy_fixtures import record

from clearance.errors import ClearanceError
from clearance.policy import default_policy, evaluate, load_layers, load_policy
from clearance.policy.loading import is_stricter_or_equal
from clearance.policy.settings import Policy


def write(path: Path, data: object) -> str:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def test_no_files_is_the_embedded_defaults() -> None:
    assert load_policy([]) == default_policy() == Policy()
    assert load_policy(None) == default_policy()


def test_the_shipped_default_policy_file_is_the_embedded_defaults(tmp_path: Path) -> None:
    # default_policy() is made from the settings' defaults without parsing the file; the file, read as any
    # policy file is, must say the same thing in every setting (a drift in either would fail here).
    from clearance.policy.loading import default_policy_text

    path = tmp_path / "default_policy.yaml"
    path.write_text(default_policy_text(), encoding="utf-8")
    from_file = load_policy([str(path)])
    assert from_file == default_policy()
    assert from_file.model_dump(mode="json") == default_policy().model_dump(mode="json")


def test_environment_variable_lists_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    studio = write(tmp_path / "studio.yaml", {"thresholds": {"incidental_background_outcome": "notify"}})
    show = write(tmp_path / "show.yaml", {"thresholds": {"consent_ref_required": True}})
    monkeypatch.setenv("CLEARANCE_POLICY", os.pathsep.join([studio, show]))
    policy = load_policy()
    assert policy.thresholds.incidental_background_outcome == "notify"
    assert policy.thresholds.consent_ref_required is True


def test_first_file_may_weaken_later_files_may_only_tighten(tmp_path: Path) -> None:
    studio = write(
        tmp_path / "studio.yaml",
        {
            "version": "studio-1",
            "thresholds": {"incidental_background_outcome": "notify", "self_hosted_is_enterprise": True},
            "rules": {"UNION-WORK": {"enabled": False}},
            "tools": {"Firefly": {"environment": "enterprise", "trains_on_inputs": "no", "retains_inputs": "no"}},
        },
    )
    show = write(
        tmp_path / "show.yaml",
        {
            "version": "show-1",
            "thresholds": {
                "incidental_background_outcome": "approval_required",
                "creative_key_stages": ["ideation", "previs", "temp", "final"],
                "non_enterprise_tools_need_approval": True,
            },
            "rules": {"P3": {"outcome": "prohibited"}, "UNION-WORK": {"enabled": True}},
            "tools": {"firefly": {"trains_on_inputs": "unsure"}, "NewTool": {"environment": "unknown"}},
        },
    )
    loaded = load_layers([studio, show])
    policy = loaded.policy
    assert policy.version == "show-1"
    assert policy.thresholds.incidental_background_outcome == "approval_required"
    assert policy.rules["P3"].outcome == "prohibited" and policy.rules["UNION-WORK"].enabled is True
    assert policy.tools["Firefly"].trains_on_inputs == "unsure"  # merged case-insensitively into the studio's entry
    assert policy.tools["Firefly"].environment == "enterprise"
    assert loaded.source_of("thresholds.incidental_background_outcome") == f"{show}:3"
    assert loaded.source_of("rules.UNION-WORK.enabled").startswith(f"{show}:")
    assert loaded.source_of("thresholds.ideation_low_risk") == "embedded defaults"
    assert loaded.sources == ["embedded defaults", studio, show]


@pytest.mark.parametrize(
    ("overlay", "field", "line"),
    [
        ({"thresholds": {"incidental_background_outcome": "notify"}}, "thresholds.incidental_background_outcome", 2),
        (
            {"thresholds": {"ideation_low_risk": False, "creative_key_stages": []}},
            "thresholds.creative_key_stages",
            3,
        ),
        (
            {"thresholds": {"incidental_creative_elements": ["none", "background", "main_character"]}},
            "thresholds.incidental_creative_elements",
            2,
        ),
        ({"rules": {"UNION-WORK": {"enabled": False}}}, "rules.UNION-WORK.enabled", 3),
        ({"rules": {"P3": {"outcome": "notify"}}}, "rules.P3.outcome", 3),
        ({"tools": {"Midjourney": {"environment": "consumer"}}}, "tools.Midjourney.environment", 3),
        ({"tools": {"Firefly": {"trains_on_inputs": "no"}}}, "tools.Firefly.trains_on_inputs", 3),
        ({"approvals": {"revocations_max_age_hours": 100}}, "approvals.revocations_max_age_hours", 2),
    ],
)
def test_weakening_later_layer_is_refused_with_file_line_field(
    tmp_path: Path, overlay: dict, field: str, line: int
) -> None:
    studio = write(
        tmp_path / "studio.yaml",
        {
            "rules": {"P3": {"outcome": "approval_required"}},
            "tools": {"Firefly": {"environment": "enterprise", "trains_on_inputs": "yes"}},
        },
    )
    vendor = write(tmp_path / "vendor.yaml", overlay)
    with pytest.raises(ClearanceError) as info:
        load_policy([studio, vendor])
    message = str(info.value)
    assert message.startswith(f"{vendor}:{line}: field {field}: ")
    assert "weakens the policy set by" in message and "only a signed studio overlay may weaken it" in message
    assert "\n" not in message


def test_weakening_names_the_earlier_file(tmp_path: Path) -> None:
    studio = write(tmp_path / "studio.yaml", {"thresholds": {"consent_ref_required": True}})
    vendor = write(tmp_path / "vendor.yaml", {"thresholds": {"consent_ref_required": False}})
    with pytest.raises(ClearanceError, match=f"set by {studio}:2 "):
        load_policy([studio, vendor])


def test_equal_values_are_not_weakening(tmp_path: Path) -> None:
    data = {"thresholds": {"incidental_background_outcome": "notify"}}
    policy = load_policy([write(tmp_path / "a.yaml", data), write(tmp_path / "b.yaml", data)])
    assert policy.thresholds.incidental_background_outcome == "notify"


def test_stricter_kinds() -> None:
    assert is_stricter_or_equal("outcome", None, "notify")
    assert not is_stricter_or_equal("outcome", "prohibited", "approval_required")
    assert is_stricter_or_equal("superset", ["a"], ["a", "b"]) and not is_stricter_or_equal(
        "superset", ["a", "b"], ["b"]
    )
    assert is_stricter_or_equal("subset", ["a", "b"], ["b"]) and not is_stricter_or_equal("subset", ["a"], ["a", "c"])
    assert is_stricter_or_equal("lower", 24, 12) and not is_stricter_or_equal("higher", 5, 4)
    assert is_stricter_or_equal("environment", "enterprise", "unknown")
    assert is_stricter_or_equal("tri", "yes", "unsure") and not is_stricter_or_equal("tri", "unsure", "no")
    assert not is_stricter_or_equal("mystery", 1, 2)  # an unknown kind is never assumed safe


def test_layered_policy_changes_decisions(tmp_path: Path) -> None:
    studio = write(tmp_path / "studio.yaml", {"thresholds": {"incidental_background_outcome": "notify"}})
    signage = record(
        **{
            "use.in_final_deliverable": "yes",
            "use.stage": "final",
            "use.creative_element": "background",
            "use.prominence": "incidental",
        }
    )
    assert evaluate(signage, load_policy([studio])).outcome == "notify"
    show = write(tmp_path / "show.yaml", {"rules": {"FINAL-DELIVERABLE": {"outcome": "approval_required"}}})
    assert evaluate(signage, load_policy([studio, show])).outcome == "approval_required"


def test_signed_overlay_may_weaken(tmp_path: Path) -> None:
    from clearance.approvals import KeyRing

    ring = KeyRing.open(tmp_path / "keys")
    keys = ring.public_keys_document()["keys"]
    studio = write(
        tmp_path / "studio.yaml",
        {
            "thresholds": {"consent_ref_required": True},
            "approvals": {"trusted_keys": [{"key_id": k["key_id"], "public_key": k["public_key"]} for k in keys]},
        },
    )
    overlay = {"thresholds": {"consent_ref_required": False}, "rules": {"UNION-WORK": {"enabled": False}}}
    signed = ring.sign_document(overlay)
    signed_path = write(tmp_path / "signed.yaml", signed)
    loaded = load_layers([studio, signed_path])
    assert loaded.policy.thresholds.consent_ref_required is False and loaded.signed == [signed_path]
    tampered = dict(signed, rules={"UNION-WORK": {"enabled": False}, "P1": {"enabled": False}})
    with pytest.raises(ClearanceError, match=r"field signature: .*edited after signing"):
        load_policy([studio, write(tmp_path / "tampered.yaml", tampered)])
    other = KeyRing.open(tmp_path / "other")
    with pytest.raises(ClearanceError, match="not trusted"):
        load_policy([studio, write(tmp_path / "stranger.yaml", other.sign_document(overlay))])
    with pytest.raises(ClearanceError, match="weakens"):
        load_policy([studio, write(tmp_path / "unsigned.yaml", overlay)])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("rules:\n  P9: {enabled: false}\n", ":2: field rules.P9: unknown rule code"),
        (
            "rules:\n  BASELINE: {enabled: false}\n",
            ":2: field rules.BASELINE.enabled: the baseline notice cannot be switched off",
        ),
        ("thresholds:\n  creative_key_stages: [later]\n", ":2: field thresholds.creative_key_stages[0]"),
        ("tools:\n  X:\n    environment: cloud\n", ":3: field tools.X.environment"),
        ("- a\n", "must be a mapping of settings"),
        ("thresholds: {\n", "not valid YAML"),
    ],
)
def test_bad_policy_files(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ClearanceError) as info:
        load_policy([str(path)])
    assert expected in str(info.value) and str(info.value).startswith(str(path))


def test_empty_policy_file_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_policy([str(path)]) == default_policy()
