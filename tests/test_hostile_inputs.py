"""Every command that reads a file refuses hostile input: exit 2, one line naming the file and the limit or
kind, no traceback, within 10 s and 500 MB.

The whole matrix (every command x every hostile input) runs in one child process under an address-space
limit (hostile_driver.py, an alarm per command); then the most dangerous inputs run again, each through
a command in a real process of its own, so start-up and exit are exercised for real too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hostile_inputs import DOCUMENT_CORPUS, JSON_ONLY, TIMELINE_CORPUS, build
from publish_fixtures import approve, record_data, write_manifest, write_record

from clearance.approvals import KeyRing

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, sockets, /dev/zero and rlimits are POSIX")

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
MEMORY_LIMIT = 500 * 1024 * 1024
TIME_LIMIT_S = 10
TIMELINE = TESTS / "data" / "otio" / "simple_cut.otio"
IMAGE = TESTS / "data" / "provenance" / "no_manifest.jpg"

# Command templates: "{}" is where the hostile file goes. The other files are valid, so the only thing
# wrong is the hostile one.
DOCUMENT_COMMANDS: dict[str, list[str]] = {
    "record show": ["record", "show", "{}"],
    "evaluate": ["evaluate", "{}"],
    "evaluate --policy": ["evaluate", "--policy", "{}", "{record}"],
    "policy check": ["policy", "check", "{}"],
    "policy show --policy": ["policy", "show", "--policy", "{}"],
    "submit --offline": ["submit", "--offline", "{}"],
    "publish (manifest)": ["publish", "--check", "{}"],
    "publish --policy": ["publish", "--check", "--policy", "{}", "{manifest}"],
    "approvals verify (approval)": ["approvals", "verify", "{}", "--record", "{record}", "--offline"],
    "approvals verify --record": ["approvals", "verify", "{approval}", "--record", "{}", "--offline"],
    "approvals verify --keys": ["approvals", "verify", "{approval}", "--record", "{record}", "--keys", "{}",
                                "--offline"],
    "approvals verify --revocations": ["approvals", "verify", "{approval}", "--record", "{record}",
                                       "--keys", "{keys_file}", "--revocations", "{}", "--offline"],
    "approvals sign-overlay": ["approvals", "sign-overlay", "--keys-dir", "{keys}", "-o", "{out}.yaml", "{}"],
    "tag --record": ["tag", str(TIMELINE), "--clip", "Clip-001", "--record", "{}", "-o", "{out}.otio"],
    "tag --policy": ["tag", str(TIMELINE), "--clip", "Clip-001", "--record", "{record}", "-o", "{out}.otio",
                     "--policy", "{}"],
    "check --policy": ["check", "--policy", "{}", str(TIMELINE)],
    "serve --config": ["serve", "--config", "{}"],
    "audit verify --config": ["audit", "verify", "--config", "{}"],
    "admin migrate --config": ["admin", "migrate", "--config", "{}"],
    "demo --policy": ["demo", "--seed-only", "--dir", "{out}-demo", "--policy", "{}"],
    "credentials sign --record": ["credentials", "sign", str(IMAGE), "--record", "{}", "-o", "{out}.jpg"],
    "packet --records": ["packet", "EXAMPLE_S01", "--offline", "--records", "{}", "-o", "{out}-packet", "--no-pdf"],
    "packet verify --keys": ["packet", "verify", "{work}", "--keys", "{}"],
}
JSON_ONLY_COMMANDS = ("approvals verify --revocations",)  # always JSON, whatever the file is called
JSON_COMMANDS = ("record show", "evaluate", "policy check", "publish (manifest)", "approvals verify (approval)",
                 "credentials sign --record", "packet --records", "packet verify --keys",
                 "approvals verify --keys", "approvals verify --revocations", "serve --config")
TIMELINE_COMMANDS: dict[str, list[str]] = {
    "check": ["check", "{}"],
    "timeline list": ["timeline", "list", "{}"],
    "tag (timeline)": ["tag", "{}", "--clip", "Clip-001", "--record", "{record}", "-o", "{out}.otio"],
}
# Only what is about the file itself applies to a PEM bundle (its content is not YAML).
PEM_INPUTS = ("fifo", "socket", "dev_zero", "symlink_loop", "folder", "huge_file", "latin1")


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("valid")
    data = record_data("approval")
    record = write_record(work / "record.yaml", data)
    (work / "plate.jpg").write_bytes(IMAGE.read_bytes())
    manifest = write_manifest(work, [{"name": "plate", "files": ["plate.jpg"], "records": ["record.yaml"]}])
    ring = KeyRing.open(work / "keys")
    approval = work / "approval.json"
    approval.write_text(approve(ring, record).to_json(), encoding="utf-8")
    (work / "keys.json").write_text(json.dumps(ring.public_keys_document()), encoding="utf-8")
    write_record(work / "records" / "record.yaml", data)  # a folder of records only, for --records
    return {"record": str(work / "record.yaml"), "manifest": str(manifest), "approval": str(approval),
            "keys": str(work / "keys"), "keys_file": str(work / "keys.json"), "work": str(work),
            "records": str(work / "records")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, tuple[Path, str]]]:
    base = tmp_path_factory.mktemp("hostile")
    made = {
        ".yaml": build(base / "yaml", DOCUMENT_CORPUS, ".yaml"),
        ".json": build(base / "json", DOCUMENT_CORPUS + JSON_ONLY, ".json"),
        ".otio": build(base / "otio", TIMELINE_CORPUS, ".otio"),
        ".edl": build(base / "edl", TIMELINE_CORPUS[:6], ".edl"),
        ".pem": build(base / "pem", tuple(h for h in DOCUMENT_CORPUS if h.name in PEM_INPUTS), ".pem"),
    }
    return made


def _cases(corpus: dict[str, dict[str, tuple[Path, str]]], valid: dict[str, str]) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []

    def add(label: str, template: list[str], suffix: str, names: tuple[str, ...] | None = None) -> None:
        for name, (path, expect) in corpus[suffix].items():
            if names is not None and name not in names:
                continue
            case_id = f"{label} <- {name}{suffix}"
            out = str(Path(valid["work"]) / "out" / f"{len(cases)}")
            fill = {**valid, "out": out}
            argv = [str(path) if part == "{}" else part.format(**fill) for part in template]
            cases.append({"id": case_id, "argv": argv, "file": path.name, "expect": expect})

    for label, template in DOCUMENT_COMMANDS.items():
        if label not in JSON_ONLY_COMMANDS:
            add(label, template, ".yaml")
        if label in JSON_COMMANDS or label in JSON_ONLY_COMMANDS:
            add(label, template, ".json")
    for label, template in TIMELINE_COMMANDS.items():
        add(label, template, ".otio")
    add("check (EDL)", TIMELINE_COMMANDS["check"], ".edl")
    add("scan --trust-anchors", ["scan", "--verify", "--trust-anchors", "{}", str(IMAGE)], ".pem")
    add("audit verify --checkpoint", ["audit", "verify", "--checkpoint", "{}"], ".json", (*PEM_INPUTS, "deep_json"))
    add("credentials verify --trust-anchors", ["credentials", "verify", "--trust-anchors", "{}", str(IMAGE)], ".pem")
    add("packet verify --trust-anchors", ["packet", "verify", "{work}", "--trust-anchors", "{}"], ".pem")
    (Path(valid["work"]) / "out").mkdir(exist_ok=True)
    return cases


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARANCE_")}
    env.update(CLEARANCE_HOME=str(home), PYTHONPATH=os.pathsep.join([str(ROOT / "core"), str(TESTS)]))
    return env


def _problems(case: dict[str, Any], code: object, out: str, err: str, seconds: float) -> list[str]:
    problems = []
    text = out + err
    if code == "timeout" or seconds >= TIME_LIMIT_S:
        problems.append(f"took {seconds:.1f} s")
    if code != 2:
        problems.append(f"exit {code}")
    if "Traceback" in text:
        problems.append("printed a traceback")
    lines = err.strip().splitlines()
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr")
    line = lines[0] if lines else ""
    if not line.startswith("clearance: error: "):
        problems.append("not a `clearance: error:` line")
    if case["file"] not in line:
        problems.append("does not name the file")
    if case["expect"] not in line.lower():
        problems.append(f"does not say {case['expect']!r}")
    return [f"{case['id']}: {', '.join(problems)}: {text.strip()[:300]!r}"] if problems else []


def test_every_command_refuses_every_hostile_input(
    corpus: dict[str, dict[str, tuple[Path, str]]], valid_files: dict[str, str], tmp_path: Path
) -> None:
    cases = _cases(corpus, valid_files)
    assert len(cases) > 300  # the matrix is all there
    cases_file = tmp_path / "cases.json"
    cases_file.write_text(json.dumps(cases), encoding="utf-8")
    code, out, err, peak_mb = _run_measured([sys.executable, str(TESTS / "hostile_driver.py"), str(cases_file)],
                                            _env(tmp_path / "home"), timeout=len(cases) * TIME_LIMIT_S)
    assert code == 0, err[-2000:]
    report = json.loads(out)
    by_id = {c["id"]: c for c in cases}
    problems = []
    for result in report["results"]:
        problems += _problems(by_id[result["id"]], result["code"], result["out"], result["err"], result["seconds"])
    assert problems == [], "\n".join(problems)
    assert peak_mb < MEMORY_LIMIT / 1024 / 1024, f"the matrix peaked at {peak_mb:.0f} MB"


# The most dangerous inputs, each through a different command in a real process of its own.
OWN_PROCESS = (
    ("evaluate", ".yaml", "fifo"),
    ("publish (manifest)", ".yaml", "dev_zero"),
    ("policy check", ".yaml", "billion_laughs"),
    ("serve --config", ".json", "huge_integer_json"),
    ("check", ".otio", "symlink_loop"),
    ("timeline list", ".otio", "deep_json"),
)


# Forks the command from a fresh, small interpreter, caps it and reports its peak memory. A process forked
# from the test's own (a pytest worker that may hold hundreds of MB after earlier tests: browsers, Blender)
# starts with the parent's pages resident, and Linux keeps that high-water mark in the child's ru_maxrss
# through exec: every command would seem to peak at the worker's size.
_LAUNCH = """
import os, resource, sys
report, limit, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
pid = os.fork()
if pid == 0:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as out:
    out.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def _run_measured(argv: list[str], env: dict[str, str], timeout: float = TIME_LIMIT_S
                  ) -> tuple[int | str, str, str, float]:
    """Run one command under the memory cap: its exit code (or "timeout"), output and own peak memory in MB."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "peak"
        out_path, err_path = Path(folder) / "out", Path(folder) / "err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen([sys.executable, "-c", _LAUNCH, str(report), str(MEMORY_LIMIT), *argv],
                                    stdout=out, stderr=err, env=env, start_new_session=True)
            try:
                code: int | str = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the command it forked
                proc.wait()
                code = "timeout"
        peak_kb = int(report.read_text()) if report.is_file() and report.read_text() else 0
        return (code, out_path.read_text(errors="replace"), err_path.read_text(errors="replace"), peak_kb / 1024)


def test_each_command_as_its_own_process(
    corpus: dict[str, dict[str, tuple[Path, str]]], valid_files: dict[str, str], tmp_path: Path
) -> None:
    by_id = {c["id"]: c for c in _cases(corpus, valid_files)}
    problems = []
    for label, suffix, name in OWN_PROCESS:
        case = by_id[f"{label} <- {name}{suffix}"]
        code, out, err, peak_mb = _run_measured(
            [sys.executable, "-m", "clearance.cli.main", *case["argv"]], _env(tmp_path / "home")
        )
        if code == "timeout":
            problems.append(f"{case['id']}: still running after {TIME_LIMIT_S} s")
            continue
        problems += _problems(case, code, out, err, 0.0)
        if peak_mb >= MEMORY_LIMIT / 1024 / 1024:
            problems.append(f"{case['id']}: peak memory {peak_mb:.0f} MB")
    assert problems == [], "\n".join(problems)
