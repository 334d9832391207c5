"""The README's tour, taken from README.md itself and run as written against a real `clearance demo`.

Only two lines are substituted, the ones a newcomer adapts too: the export line with the token (this
demo's, on a free port) and the PATH line (the Python running the tests, which is .venv's under
`./dev test`). The approver's click on the queue page is made through the HTTP API between the blocks.
A command is expected to exit 0 unless its comment says "(exit N)".
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from server_fixtures import free_port

ROOT = Path(__file__).resolve().parent.parent
PATH_LINE = 'export PATH="$PWD/.venv/bin:$PATH"'
EXPORT_PREFIX = "export CLEARANCE_SERVER="


def tour_blocks(readme: str) -> list[list[str]]:
    """The command lines of each ```sh block under "## A tour"."""
    section = readme.split("\n## A tour\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [[line for line in block.splitlines() if line.strip()] for block in blocks]


def _code(line: str) -> str:
    return line.split("  #", 1)[0].strip()


def expected_exit(line: str) -> int:
    found = re.search(r"#.*\(exit (\d+)\)", line)
    return int(found.group(1)) if found else 0


def _script(blocks: list[list[str]], export_line: str, approve: str) -> str:
    out = ["set -u"]
    for number, block in enumerate(blocks):
        if number:
            out.append(approve + ' || { echo "TOUR: the approval step failed" >&2; exit 1; }')
        for line in block:
            command = line
            if _code(line) == PATH_LINE:
                command = f"export PATH={shlex.quote(str(Path(sys.executable).parent))}:\"$PATH\""
            elif line.startswith(EXPORT_PREFIX):
                command = export_line
            want = expected_exit(line)
            out.append(f"echo {shlex.quote('$ ' + line)}")
            out.append(command)
            out.append(f'rc=$?; if [ "$rc" -ne {want} ]; then echo "TOUR: exit $rc, expected {want}: "'
                       f'{shlex.quote(line)} >&2; exit 1; fi')
    return "\n".join(out) + "\n"


APPROVE = """
import json, sys, requests, yaml
url, token, record_path = sys.argv[1:4]
record_id = yaml.safe_load(open(record_path))["id"]
headers = {"Authorization": f"Bearer {token}"}
detail = requests.get(f"{url}/api/v1/records/{record_id}", headers=headers, timeout=20)
detail.raise_for_status()
body = detail.json()
version = body.get("version") or max((v.get("version", 1) for v in body.get("versions", [])), default=1)
decision = {"decision": "approve", "conditions": "background only", "version": version}
answer = requests.post(f"{url}/api/v1/records/{record_id}/decision", json=decision, headers=headers, timeout=20)
if answer.status_code == 422 and "version" in answer.text:  # a service from before decisions carried the version
    decision.pop("version")
    answer = requests.post(f"{url}/api/v1/records/{record_id}/decision", json=decision, headers=headers, timeout=20)
print("approver:", answer.status_code, answer.text[:200])
sys.exit(0 if answer.ok else 1)
"""


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A real `clearance demo` on a free port: (its export line, its database URL, its URL)."""
    port = free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "CLEARANCE_HOME": str(tmp_path / "demo-home")}
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "clearance.cli.main", "demo", "--dir", str(tmp_path / "demo"), "--host",
             "127.0.0.1", "--port", str(port)], stdout=handle, stderr=subprocess.STDOUT, env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if requests.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            pytest.fail(f"`clearance demo` did not start:\n{log.read_text(errors='replace')[-3000:]}")
        export = [line.strip() for line in log.read_text().splitlines() if line.strip().startswith(EXPORT_PREFIX)]
        assert export, log.read_text()
        yield export[0], f"sqlite:///{tmp_path / 'demo' / 'clearance.sqlite3'}", url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_tour_is_two_blocks_with_the_lines_a_newcomer_adapts() -> None:
    blocks = tour_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 2
    assert _code(blocks[0][0]) == PATH_LINE
    assert blocks[0][1].startswith(EXPORT_PREFIX + "http://127.0.0.1:8750 CLEARANCE_TOKEN=")
    commands = [line.split("#")[0].split() for block in blocks for line in block]
    used = {words[1] for words in commands if words and words[0] == "clearance"}
    assert {"record", "evaluate", "submit", "approvals", "tag", "check", "publish", "scan"} <= used
    assert any(expected_exit(line) == 1 for block in blocks for line in block)  # it shows a refusal


def test_the_readme_tour_runs_as_written(demo: tuple[str, str, str], tmp_path: Path) -> None:
    export_line, db, url = demo
    admin = subprocess.run(
        [sys.executable, "-m", "clearance.cli.main", "admin", "user", "add", "tour.approver", "--role", "approver",
         "--production", "EXAMPLE_S01", "--db", db], capture_output=True, text=True, timeout=60, check=False,
    )
    assert admin.returncode == 0, admin.stderr
    approver_token = admin.stdout.strip().splitlines()[-1]
    home = tmp_path / "home"
    home.mkdir()
    helper = tmp_path / "approve.py"
    helper.write_text(APPROVE, encoding="utf-8")
    approve = " ".join(shlex.quote(part) for part in (
        sys.executable, str(helper), url, approver_token, str(home / "clearance-tour" / "records" / "signage.yaml")))
    script = _script(tour_blocks((ROOT / "README.md").read_text(encoding="utf-8")), export_line, approve)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARANCE_") and k != "XDG_DATA_HOME"}
    env["HOME"] = str(home)
    run = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
                         check=False)
    output = run.stdout + run.stderr
    (tmp_path / "tour.log").write_text(output, encoding="utf-8")
    assert run.returncode == 0, output[-6000:]
    assert "Traceback" not in output
    tour = home / "clearance-tour"
    for phrase in ("PROHIBITED", "APPROVAL REQUIRED", "NOTIFY", "ai_generated", "approver: 20",
                   "conditions: background only"):
        assert phrase in output, phrase
    assert (tour / "published" / "sh010_street_extension.jpg").is_file()
    assert (tour / "shots.html").is_file()
    assert not (ROOT / "examples" / "published").exists()  # the tour works on a copy
