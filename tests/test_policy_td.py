"""The TD's tools: `policy check` applies what publish applies and reports every problem with file:line;
`policy default` writes every setting; unknown fields get a "did you mean" and the right reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from clearance.cli.main import main
from clearance.errors import ClearanceError
from clearance.policy import default_policy, load_policy
from clearance.policy.settings import Policy
from clearance.record import record_from_data


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, info in model.model_fields.items():
        sub = info.annotation if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel) else None
        out += _leaves(sub, f"{prefix}{name}.") if sub else [f"{prefix}{name}"]
    return out


def test_policy_check_applies_the_publish_checks_and_reports_every_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "studio.yaml"
    policy.write_text(
        "version: studio-1\n"                                   # 1
        "thresholds:\n"                                         # 2
        "  ideation_low_risk: true\n"                           # 3
        "  union_work_outcom: prohibited\n"                     # 4 typo
        "publish:\n"                                            # 5
        "  validators:\n"                                       # 6
        "    clearance.approval_valid: {enabled: false}\n"      # 7 locked check switched off
        "    clearance.tool_registerd: {optional: true}\n",     # 8 misspelled id
        encoding="utf-8",
    )
    assert main(["policy", "check", str(policy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(f"{policy}:4" in line and "did you mean union_work_outcome?" in line
               and "docs/policy-settings.md" in line for line in err), err
    fixed = policy.read_text(encoding="utf-8").replace("union_work_outcom", "union_work_outcome")
    policy.write_text(fixed, encoding="utf-8")
    assert main(["policy", "check", str(policy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err  # both problems at once
    assert f"{policy}:7" in err[0] and "clearance.approval_valid" in err[0] and "cannot be switched off" in err[0]
    assert f"{policy}:8" in err[1] and "did you mean clearance.tool_registered?" in err[1]
    policy.write_text("rules:\n  CREATIVE-KEYS: {outcome: prohibited}\n  BASELINE: {enabled: false}\n")
    assert main(["policy", "check", str(policy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "did you mean CREATIVE-KEY?" in err[0] and "BASELINE" in err[1]


def test_a_duplicate_key_is_refused_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "dup.yaml"
    policy.write_text("thresholds:\n  ideation_low_risk: true\n  ideation_low_risk: false\n", encoding="utf-8")
    assert main(["policy", "check", str(policy)]) == 2
    assert "twice" in capsys.readouterr().err


def test_policy_default_writes_every_setting_and_loads_as_the_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", "default"]) == 0
    text = capsys.readouterr().out
    path = tmp_path / "default.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_policy([str(path)]).model_dump() == default_policy().model_dump()
    data = yaml.safe_load(text)
    for dotted in _leaves(Policy):
        node = data
        for part in dotted.split("."):
            assert isinstance(node, dict) and part in node, dotted
            node = node[part]
    for section in ("approvals", "publish", "editorial", "hosts", "thresholds"):
        assert f"\n{section}:" in text
    assert "# Example:" in text and "admin keys show" in text  # how to pin keys
    assert text.count("#") > len(_leaves(Policy))  # every setting says what it means


def test_unknown_record_fields_get_a_did_you_mean_and_the_record_reference() -> None:
    with pytest.raises(ClearanceError, match=r"use\.stag is not a known field \(did you mean stage\?.*record-ref"):
        record_from_data({"schema_version": 1, "use": {"stag": "final"}}, "r.yaml")
    with pytest.raises(ClearanceError, match=r"did you mean trains_on_inputs\?"):
        record_from_data({"tool": {"name": "x", "trains_on_input": "no"}}, "r.yaml")
