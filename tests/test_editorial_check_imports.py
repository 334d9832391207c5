"""`clearance check` starts fast: what it does not need on a plain cut is never imported.

The CLI's start-up is most of what a check costs beyond reading the cut (bench/timeline.py, CLI columns), so
the modules kept out of it are held out here, in a fresh process, as a user runs the command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
from editorial_fixtures import make_record

from clearance.editorial.tagging import apply_tag
from clearance.tags import Tag

ROOT = Path(__file__).resolve().parents[1]

# Modules a check of a cut without approvals to judge has no use for: the service and its client, report
# writers, signatures, the publish tools and test and browser libraries; difflib only words error hints;
# PyYAML only reads YAML documents (the embedded default policy is made without parsing its file).
KEPT_OUT = (
    "difflib", "clearance.client", "clearance.server", "clearance.editorial.report", "clearance.approvals",
    "httpx", "fastapi", "starlette", "uvicorn", "sqlalchemy", "psycopg", "jinja2", "cryptography", "nacl",
    "pyblish", "hypothesis", "playwright", "rich", "numpy", "yaml", "clearance.bounded_yaml",
)

# Models a check makes without validating (the engine constructs its findings and decisions) or never meets
# (consents are read only for records that need them): their validators are built on first use, not at import.
NOT_BUILT = ("clearance.decision:Finding", "clearance.decision:Decision", "clearance.consent:ConsentScope",
             "clearance.consent:ConsentEntry")

_PROBE = """
import contextlib, io, json, sys
from clearance.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["check", sys.argv[1], "--json"])
kept_out = json.loads(sys.argv[2])
built = []
for name in json.loads(sys.argv[3]):
    module, _, model = name.partition(":")
    if module in sys.modules and getattr(sys.modules[module], model).__pydantic_complete__:
        built.append(name)
from clearance.cli import main as cli  # called as a function, nothing is kept for a quick exit
print(json.dumps({"code": code, "verdict": json.loads(out.getvalue())["verdict"],
                  "imported": sorted(m for m in kept_out if m in sys.modules), "built": built,
                  "kept": len(cli._kept_until_exit)}))
"""


def _check_in_a_fresh_process(path: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "core"), os.environ.get("PYTHONPATH", "")])}
    env.pop("CLEARANCE_SERVER", None)
    done = subprocess.run([sys.executable, "-c", _PROBE, str(path), json.dumps(KEPT_OUT), json.dumps(NOT_BUILT)],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_an_untagged_cut_imports_none_of_the_heavy_modules(shared_data: Path) -> None:
    found = _check_in_a_fresh_process(shared_data / "otio" / "simple_cut.otio")
    assert found == {"code": 0, "verdict": "deliverable", "imported": [], "built": [], "kept": 0}


def test_a_cut_tagged_for_notice_only_imports_none_of_them_either(shared_data: Path, tmp_path: Path) -> None:
    timeline = otio.adapters.read_from_file(str(shared_data / "otio" / "simple_cut.otio"))
    clip = next(iter(timeline.find_clips()))
    apply_tag(clip, Tag.for_record(make_record("notify"), status="notify"))
    path = tmp_path / "tagged.otio"
    otio.adapters.write_to_file(timeline, str(path))
    found = _check_in_a_fresh_process(path)
    assert found == {"code": 0, "verdict": "deliverable", "imported": [], "built": [], "kept": 0}


# `clearance check` run as the console script leaves without the interpreter's teardown once its output is
# flushed (clearance.cli.main._leave_without_teardown). What a normal exit would still do must happen anyway.
_ENTRY = """
import atexit, json, sys, threading, time
import clearance.cli.main as cli
flag, mode = sys.argv[1], sys.argv[2]
sys.argv = ["clearance", "check", *sys.argv[3:]]
command = cli.main


def main():
    if mode == "handler":  # an exit handler registered while the command runs still runs
        atexit.register(lambda: open(flag, "w").write("handler"))
    if mode == "thread":  # a thread still running is waited for, as a normal exit waits
        threading.Thread(target=lambda: (time.sleep(0.3), open(flag, "w").write("thread"))).start()
    return command()


class Finalized:  # written when the interpreter tears its modules down
    def __del__(self, open=open):  # builtins may be gone by then
        open(flag, "w").write("teardown")


keep = Finalized()
cli.main = main
cli.entry()
"""


def _entry(tmp_path: Path, mode: str, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    flag = tmp_path / f"{mode}.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "core"), os.environ.get("PYTHONPATH", "")])}
    env.pop("CLEARANCE_SERVER", None)
    done = subprocess.run([sys.executable, "-c", _ENTRY, str(flag), mode, *args], capture_output=True, text=True,
                          timeout=120, env=env, check=False)
    return done, flag.read_text() if flag.exists() else ""


def test_the_console_script_prints_the_whole_answer_and_keeps_the_exit_code(shared_data: Path,
                                                                            tmp_path: Path) -> None:
    timeline = otio.adapters.read_from_file(str(shared_data / "otio" / "simple_cut.otio"))
    clip = next(iter(timeline.find_clips()))
    apply_tag(clip, Tag.for_record(make_record("prohibited"), status="prohibited"))
    path = tmp_path / "blocked.otio"
    otio.adapters.write_to_file(timeline, str(path))
    done, flag = _entry(tmp_path, "plain", str(path), "--json")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["verdict"] == "blocked"
    assert flag == ""  # the teardown was skipped: the module's finalizer never ran
    done, flag = _entry(tmp_path, "plain", str(tmp_path / "missing.otio"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "missing.otio" in done.stderr


def test_exit_handlers_and_running_threads_are_still_waited_for(shared_data: Path, tmp_path: Path) -> None:
    cut = str(shared_data / "otio" / "simple_cut.otio")
    done, flag = _entry(tmp_path, "handler", cut)
    assert (done.returncode, flag) == (0, "handler"), done.stderr
    done, flag = _entry(tmp_path, "thread", cut)
    # The interpreter waits for the thread before the exit handlers, as it always does: its write is the last.
    assert (done.returncode, flag) == (0, "thread"), done.stderr
