"""The policy's command line: evaluate, record new/presets/show, policy check/show/rules/default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from policy_fixtures import record_data

from clearance.cli.main import main
from clearance.examples import example_paths, example_records, studio_policy_path
from clearance.policy import default_policy, evaluate, load_policy
from clearance.presets import new_record, presets
from clearance.record import load_record

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "clearance.cli.main"]


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_evaluate_json_is_exactly_the_decision_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "r.yaml", record_data(**{"use.creative_element": "main_character", "use.stage": "final"}))
    assert main(["evaluate", "--json", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"outcome", "findings"}
    assert out["outcome"] == "approval_required"
    key = next(f for f in out["findings"] if f["rule"] == "CREATIVE-KEY")
    assert set(key) == {"rule", "outcome", "cites", "message", "remedy", "fields"}
    assert key["cites"] == ["P4"] and key["fields"] == ["use.creative_element", "use.stage"]
    assert {f["rule"] for f in out["findings"]} == {"CREATIVE-KEY", "P4", "BASELINE"}


def test_evaluate_readable_and_several_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a.yaml", record_data())
    b = write(
        tmp_path / "b.yaml", record_data(**{"talent.digital_replica": "yes", "talent.consent_documented": "unsure"})
    )
    assert main(["evaluate", str(a), str(b)]) == 0
    text = capsys.readouterr().out
    assert "NOTIFY" in text and "PROHIBITED" in text and "TALENT-NO-CONSENT -> prohibited [P5]" in text
    assert "fields: talent.digital_replica, talent.consent_documented" in text
    assert main(["evaluate", "--json", str(a), str(b)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["outcome"] for d in listed] == ["notify", "prohibited"] and listed[0]["record"] == str(a)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("use: {stage: someday}\n", ["bad.yaml:1", "use.stage", "'ideation', 'previs', 'temp' or 'final'"]),
        (
            "use:\n  media: image\n  in_final_deliverable: maybe\n",
            ["bad.yaml:3", "use.in_final_deliverable", "'yes', 'no' or 'unsure'"],
        ),
        ("talent: [1, 2]\n", ["bad.yaml:1", "talent"]),
        ("tool: {name: X, colour: red}\n", ["bad.yaml:1", "colour", "not a known field"]),
        ("use: {stage: [\n", ["bad.yaml", "not valid YAML"]),
        ("- just\n- a list\n", ["bad.yaml", "must be a mapping"]),
    ],
)
def test_bad_record_exit_2_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: list[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    assert main(["evaluate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("clearance: error: ")
    for part in expected:
        assert part in err, err


def test_missing_record_and_bad_policy_via_subprocess(tmp_path: Path) -> None:
    result = run_cli("evaluate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and "nope.yaml: file not found" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    good = write(tmp_path / "r.yaml", record_data())
    bad_policy = tmp_path / "policy.yaml"
    bad_policy.write_text("thresholds:\n  ideation_low_risk: perhaps\n", encoding="utf-8")
    result = run_cli("evaluate", str(good), "--policy", str(bad_policy))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "policy.yaml:2: field thresholds.ideation_low_risk" in result.stderr
    result = run_cli("evaluate", str(good), env={"CLEARANCE_POLICY": str(bad_policy)})
    assert result.returncode == 2 and "policy.yaml:2" in result.stderr
    result = run_cli("evaluate", "--json", str(good))
    assert result.returncode == 0 and json.loads(result.stdout)["outcome"] == "notify"


def test_record_new_writes_filled_record_and_refuses_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "jdoe")
    out = tmp_path / "voice.yaml"
    args = [
        "record",
        "new",
        "--preset",
        "voice-clone",
        "-o",
        str(out),
        "--production",
        "EXAMPLE_S01",
        "--target",
        "shot:sh020",
        "--target",
        "file:renders/a.exr",
    ]
    assert main(args) == 0
    record = load_record(out)
    assert record.production == "EXAMPLE_S01" and record.declared_by == "jdoe" and record.declared_at is not None
    assert [t.key() for t in record.targets] == ["shot:sh020", "file:renders/a.exr"]
    assert record.targets[1].path == "renders/a.exr"
    assert "prohibited" in capsys.readouterr().out
    before = out.read_text(encoding="utf-8")
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == before
    assert main([*args, "--force"]) == 0
    assert load_record(out).id != record.id  # a fresh id every time
    as_json = tmp_path / "r.json"
    assert main(["record", "new", "--preset", "mood-board", "-o", str(as_json)]) == 2  # no production
    assert "CLEARANCE_PRODUCTION" in capsys.readouterr().err and not as_json.exists()
    monkeypatch.setenv("CLEARANCE_PRODUCTION", "SHOW_S02")
    assert main(["record", "new", "--preset", "mood-board", "-o", str(as_json)]) == 0
    assert json.loads(as_json.read_text(encoding="utf-8"))["production"] == "SHOW_S02"
    assert "the policy in force (the embedded default policy" in capsys.readouterr().out
    policy = tmp_path / "studio.yaml"
    policy.write_text("version: studio-7\nrules:\n  BASELINE:\n    outcome: approval_required\n", encoding="utf-8")
    monkeypatch.setenv("CLEARANCE_POLICY", str(policy))
    assert main(["record", "new", "--preset", "mood-board", "-o", str(tmp_path / "p.yaml")]) == 0
    said = capsys.readouterr().out
    assert f"the policy in force ({policy} (CLEARANCE_POLICY)) says approval_required" in said
    monkeypatch.delenv("CLEARANCE_POLICY")
    assert main(["record", "show", str(out)]) == 0
    assert "voice" in capsys.readouterr().out
    assert main(["record", "new", "--preset", "nope", "-o", str(tmp_path / "x.yaml")]) == 2
    assert main(["record", "new", "--preset", "voice_clone", "-o", str(tmp_path / "vc.yaml")]) == 0
    assert main(["record", "new", "--preset", "mood-board", "-o", str(tmp_path / "y.yaml"), "--target", "shot"]) == 2


def test_presets_listed_with_their_outcomes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "presets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(presets()) >= 15
    for name in (
        "mood-board",
        "concept-art",
        "previs",
        "temp-voice",
        "background-signage",
        "key-creature-design",
        "de-ageing-with-consent",
        "voice-clone",
        "visual-adr",
        "crowd-replacement",
        "documentary-archival-image",
        "storyboard",
        "upscale-denoise",
        "script-summary",
        "style-model-training",
    ):
        assert any(line.split()[0] == name for line in lines), name


@pytest.mark.parametrize("name", list(presets()))
def test_every_preset_gets_its_documented_outcome(name: str) -> None:
    preset = presets()[name]
    assert evaluate(new_record(name), default_policy()).outcome == preset.outcome


def test_example_production() -> None:
    records = example_records()
    assert len(records) >= 12 and len(example_paths()) == len(records)
    assert {r.production for r in records} == {"EXAMPLE_S01"}
    assert len({r.id for r in records}) == len(records)
    outcomes = {evaluate(r, default_policy()).outcome for r in records}
    assert outcomes == {"notify", "approval_required", "prohibited"}
    studio = load_policy([str(studio_policy_path())])
    signage = next(r for r in records if "shop signs" in r.description)
    assert evaluate(signage, default_policy()).outcome == "approval_required"
    assert evaluate(signage, studio).outcome == "notify"


def test_policy_show_rules_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    studio = write(tmp_path / "studio.yaml", {"thresholds": {"incidental_background_outcome": "notify"}})
    show = write(tmp_path / "show.yaml", {"rules": {"P3": {"outcome": "prohibited"}}})
    assert main(["policy", "show", "--policy", str(studio), "--policy", str(show)]) == 0
    out = capsys.readouterr().out
    assert "thresholds.incidental_background_outcome" in out and f"notify    # {studio}:2" in out
    assert "rules.P3.outcome" in out and f"# {show}:3" in out
    assert "thresholds.ideation_low_risk" in out and "# embedded defaults" in out
    assert main(["policy", "show", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sources"] == ["embedded defaults"]
    assert main(["policy", "rules"]) == 0
    assert "TALENT-NO-CONSENT" in capsys.readouterr().out
    assert main(["policy", "default"]) == 0
    default = tmp_path / "default.yaml"
    default.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["policy", "check", str(default)]) == 0


def test_policy_check_reports_every_error_with_file_line_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("thresholds:\n  incidental_background_outcome: sometimes\n  nope: 1\n", encoding="utf-8")
    codes = tmp_path / "codes.yaml"
    codes.write_text("rules:\n  P9: {}\n", encoding="utf-8")
    assert main(["policy", "check", str(bad), str(codes)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].endswith("expected 'notify', 'approval_required' or 'prohibited'") and f"{bad}:2" in lines[0]
    assert f"{bad}:3: field thresholds.nope is not a known field" in lines[1]
    assert f"{codes}:2: field rules.P9: unknown rule code" in lines[2]


def test_evaluate_folder_examples_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--examples", "--summary"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(example_records()) + 1
    assert lines[-1].startswith(f"{len(example_records())} records: ") and "1 prohibited" in lines[-1]
    assert lines[0].startswith("notify ") and "010_mood_board_harbour.yaml" in lines[0]
    folder = tmp_path / "records"
    folder.mkdir()
    write(folder / "a.yaml", record_data())
    write(folder / "b.yml", record_data(**{"talent.replaces_union_work": "yes"}))
    (folder / "notes.txt").write_text("not a record", encoding="utf-8")
    assert main(["evaluate", "--json", str(folder)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [Path(d["record"]).name for d in listed] == ["a.yaml", "b.yml"]
    assert [d["outcome"] for d in listed] == ["notify", "approval_required"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["evaluate", str(empty)]) == 2
    assert "no .yaml, .yml or .json records" in capsys.readouterr().err
    assert main(["evaluate"]) == 2
