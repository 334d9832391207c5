"""The reference pages are generated from the code and committed up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clearance.policy import RULES, SOURCE_URL
from clearance.policy.reference import record_reference_markdown, rules_markdown
from clearance.policy.settings import Thresholds
from clearance.record import UseRecord

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_rules_page_is_current() -> None:
    assert (DOCS / "rules.md").read_text(encoding="utf-8") == rules_markdown(), "run .venv/bin/python docs/gen_docs.py"
    for code in RULES:
        assert f"## {code}\n" in rules_markdown()
    assert SOURCE_URL in rules_markdown()


def test_settings_page_lists_every_threshold() -> None:
    page = (DOCS / "policy-settings.md").read_text(encoding="utf-8")
    for name in Thresholds.model_fields:
        assert f"| `thresholds.{name}` |" in page, f"{name}: run .venv/bin/python docs/gen_docs.py"


def test_record_reference_lists_every_field() -> None:
    page = (DOCS / "record-reference.md").read_text(encoding="utf-8")
    assert page == record_reference_markdown(), "run .venv/bin/python docs/gen_docs.py"
    for name in UseRecord.model_fields:
        assert f"| `{name}` |" in page


def test_generator_writes_and_checks(tmp_path: Path) -> None:
    import shutil

    shutil.copy(DOCS / "gen_docs.py", tmp_path / "gen_docs.py")
    shutil.copy(DOCS / "policy-settings.md", tmp_path / "policy-settings.md")
    (tmp_path / "rules.md").write_text("# stale\n", encoding="utf-8")
    script = [sys.executable, str(tmp_path / "gen_docs.py")]
    stale = subprocess.run([*script, "--check"], capture_output=True, text=True, timeout=60)
    assert stale.returncode == 1 and "rules.md" in stale.stderr
    assert subprocess.run(script, capture_output=True, text=True, timeout=60).returncode == 0
    assert (tmp_path / "rules.md").read_text(encoding="utf-8") == rules_markdown()
    intro = (DOCS / "policy-settings.md").read_text(encoding="utf-8").split("\n## Every setting\n")[0]
    assert (tmp_path / "policy-settings.md").read_text(encoding="utf-8").startswith(intro)
    fresh = subprocess.run([*script, "--check"], capture_output=True, text=True, timeout=60)
    assert fresh.returncode == 0, fresh.stderr
