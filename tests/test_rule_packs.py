"""Rule packs: a studio's own rules, installed as a package and found through the `clearance.rules` entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from policy_fixtures import record_data

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "clearance.cli.main"]


def _cli(*args: str, path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    pythonpath = os.pathsep.join([str(path), str(ROOT / "core"), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": pythonpath, **env}
    )


@pytest.fixture(scope="module")
def installed_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example pack installed with pip into a folder of its own (built from a copy: the tree stays clean)."""
    base = tmp_path_factory.mktemp("pack")
    source = base / "src"
    shutil.copytree(ROOT / "examples" / "rule_pack", source)
    target = base / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert (target / "acme_clearance_rules").is_dir()
    return target


def _voice(tmp_path: Path, final: str = "yes") -> Path:
    data = record_data(**{"use.media": "voice", "use.in_final_deliverable": final, "use.stage": "temp"})
    path = tmp_path / f"voice-{final}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_an_installed_pack_is_listed_and_applied(installed_pack: Path, tmp_path: Path) -> None:
    listed = _cli("policy", "rules", path=installed_pack)
    assert listed.returncode == 0, listed.stderr
    assert "ACME-SYNTHETIC-VOICE" in listed.stdout and "(rule pack acme)" in listed.stdout
    record = _voice(tmp_path)
    decided = _cli("evaluate", "--json", str(record), path=installed_pack)
    found = {f["rule"]: f["outcome"] for f in json.loads(decided.stdout)["findings"]}
    assert found["ACME-SYNTHETIC-VOICE"] == "approval_required"
    without = _cli("evaluate", "--json", str(record), path=tmp_path)  # the same record, no pack on the path
    assert "ACME-SYNTHETIC-VOICE" not in {f["rule"] for f in json.loads(without.stdout)["findings"]}
    not_final = _cli("evaluate", "--json", str(_voice(tmp_path, "no")), path=installed_pack)
    assert "ACME-SYNTHETIC-VOICE" not in {f["rule"] for f in json.loads(not_final.stdout)["findings"]}


def test_a_policy_configures_a_pack_rule_by_code(installed_pack: Path, tmp_path: Path) -> None:
    policy = tmp_path / "studio.yaml"
    policy.write_text("rules:\n  ACME-SYNTHETIC-VOICE:\n    outcome: prohibited\n", encoding="utf-8")
    decided = _cli("evaluate", "--json", "--policy", str(policy), str(_voice(tmp_path)), path=installed_pack)
    assert json.loads(decided.stdout)["outcome"] == "prohibited", decided.stderr
    # Without the pack the code is unknown: a policy naming it is refused with a hint, never ignored.
    refused = _cli("policy", "check", str(policy), path=tmp_path)
    assert refused.returncode != 0
    assert "ACME-SYNTHETIC-VOICE" in refused.stdout + refused.stderr


def _fake_dist(site: Path, name: str, entry: str) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[clearance.rules]\n{entry}\n", encoding="utf-8")


def test_a_broken_pack_stops_evaluation_with_one_line(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_dist(site, "broken_pack", "broken = broken_rules_module_that_is_missing:pack")
    done = _cli("evaluate", str(_voice(tmp_path)), path=site)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "rule pack 'broken'" in lines[0] and "Traceback" not in done.stderr


def test_a_pack_whose_entry_point_is_not_a_rule_set_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_dist(site, "odd_pack", "odd = odd_rules:pack")
    (site / "odd_rules.py").write_text("pack = ['not', 'a', 'rule set']\n", encoding="utf-8")
    done = _cli("evaluate", str(_voice(tmp_path)), path=site)
    assert done.returncode == 2 and "not a clearance.policy.rulebook.RuleSet" in done.stderr


def test_a_pack_may_not_take_a_core_code(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_dist(site, "clash_pack", "clash = clash_rules:pack")
    (site / "clash_rules.py").write_text(
        "from clearance.policy import RuleSet\n"
        "pack = RuleSet('clash')\n"
        "@pack.rule('P1', title='t', kind='escalate', triggers='t', why='w', resolve='r', reads=())\n"
        "def p1(ctx):\n    return []\n",
        encoding="utf-8",
    )
    done = _cli("evaluate", str(_voice(tmp_path)), path=site)
    assert done.returncode == 2 and "already declared by core" in done.stderr


def test_the_group_check_finds_what_the_standard_search_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # installed_groups.declared may only say "none" when importlib.metadata finds none: a pack installed into
    # the running process is found after forget() (reload_rule_packs calls it), however its header is written.
    from importlib.metadata import entry_points

    from clearance.installed_groups import declared, forget

    forget()
    assert not declared("clearance.rules.test-group")
    site = tmp_path / "site"
    info = site / "odd_header-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: odd_header\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("  []clearance.rules.test-group[]  \nx = y:z\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    assert [p.name for p in entry_points(group="clearance.rules.test-group")] == ["x"]  # what the library reads
    assert not declared("clearance.rules.test-group")  # remembered from before the install...
    forget()
    assert declared("clearance.rules.test-group")  # ...and found once read again
    forget()


_PLUGIN_PROBE = """
import contextlib, io, json, os, sys
from clearance.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["evaluate", sys.argv[1]])
from pydantic.plugin._loader import get_plugins
print(json.dumps({"switch": os.environ.get("PYDANTIC_DISABLE_PLUGINS"),
                  "plugins": [type(p).__name__ for p in get_plugins()]}))
"""


def _plugins_seen(tmp_path: Path, site: Path, **env: str) -> dict[str, object]:
    pythonpath = os.pathsep.join([str(site), str(ROOT / "core"), os.environ.get("PYTHONPATH", "")])
    base = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    done = subprocess.run([sys.executable, "-c", _PLUGIN_PROBE, str(_voice(tmp_path))], capture_output=True,
                          text=True, timeout=60, env={**base, "PYTHONPATH": pythonpath, **env})
    assert done.returncode == 0, done.stderr
    seen: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def test_pydantic_plugins_are_searched_for_only_when_one_is_installed(tmp_path: Path) -> None:
    # No package declares a pydantic plugin: the CLI sets pydantic's own switch (the same answer, no search).
    assert _plugins_seen(tmp_path, tmp_path / "empty") == {"switch": "__all__", "plugins": []}
    # A user's own setting is theirs.
    assert _plugins_seen(tmp_path, tmp_path / "empty", PYDANTIC_DISABLE_PLUGINS="other") == {
        "switch": "other", "plugins": []}
    # An installed plugin is searched for and loaded by pydantic as always.
    site = tmp_path / "site"
    info = site / "observer-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: observer\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[pydantic]\nobserver = observer_plugin:plugin\n", encoding="utf-8")
    (site / "observer_plugin.py").write_text(
        "class Observer:\n"
        "    def new_schema_validator(self, *args, **kwargs):\n"
        "        return None, None, None\n"
        "plugin = Observer()\n",
        encoding="utf-8",
    )
    assert _plugins_seen(tmp_path, site) == {"switch": None, "plugins": ["Observer"]}
