"""The one bounded document reader: limits judged on what is read, line numbers, and a full or read-only disk."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from publish_fixtures import record_data, write_record

from clearance import documents
from clearance.documents import DocumentError, load_document, load_json, parse_json_text, parse_text, read_bytes

ROOT = Path(__file__).resolve().parent.parent


def test_a_file_that_grows_while_read_stops_at_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "growing.yaml"
    path.write_bytes(b"a: 1\n")  # stat says 5 bytes
    real_read = os.read
    reads = []

    def read_while_another_process_appends(fd: int, size: int) -> bytes:
        with path.open("ab") as handle:
            handle.write(b"# more\n" * 100_000)
        reads.append(size)
        return real_read(fd, size)

    monkeypatch.setattr(documents.os, "read", read_while_another_process_appends)
    with pytest.raises(DocumentError, match="grew while being read") as info:
        read_bytes(path, limit=1_000_000)
    assert str(path) in str(info.value)
    assert sum(reads) <= 1_000_001 + documents._CHUNK  # it never read (much) past the limit


def test_duplicate_keys_name_both_lines() -> None:
    with pytest.raises(DocumentError) as info:
        parse_text("production: A\nuse:\n  media: image\n  media: video\n", "r.yaml")
    assert str(info.value) == "r.yaml:4: has key 'media' twice in one mapping (also on line 3); keep one"
    with pytest.raises(DocumentError, match=r"r\.json: has key 'a' twice"):
        parse_json_text('{"a": 1, "b": {"a": 2}, "a": 3}', "r.json")
    # the same key in different mappings, and YAML merge keys, are fine
    assert parse_text("a: {x: 1}\nb: {x: 2}\nbase: &b {k: 1}\nc: {<<: *b, z: 2}\n", "ok.yaml").data["c"] == {
        "k": 1, "z": 2}


def test_limits_are_named_with_their_numbers() -> None:
    with pytest.raises(DocumentError, match=f"deeper than the {documents.MAX_DEPTH}-level limit"):
        parse_text("a: " + "[" * (documents.MAX_DEPTH + 1) + "]" * (documents.MAX_DEPTH + 1), "deep.yaml")
    parse_text("a: " + "[" * (documents.MAX_DEPTH - 1) + "]" * (documents.MAX_DEPTH - 1), "ok.yaml")
    with pytest.raises(DocumentError, match=f"over the {documents.MAX_INT_DIGITS}-digit limit"):
        parse_json_text('{"n": -' + "1" * (documents.MAX_INT_DIGITS + 1) + "}", "n.json")
    assert parse_json_text('{"n": ' + "1" * documents.MAX_INT_DIGITS + "}", "n.json")["n"] > 0
    aliases = "x: &x 1\nl: [" + ", ".join(["*x"] * (documents.MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(DocumentError, match=f"more than {documents.MAX_ALIASES} YAML aliases"):
        parse_text(aliases, "a.yaml")


def test_json_files_get_line_numbers_when_an_error_needs_them(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{\n  "use": {\n    "stage": "temp"\n  }\n}\n', encoding="utf-8")
    doc = load_document(path)
    assert doc.data == {"use": {"stage": "temp"}}
    assert doc.line_of(("use", "stage")) == 3
    assert load_json(path) == doc.data


def test_a_record_loads_the_same_from_yaml_and_json(tmp_path: Path) -> None:
    data = record_data("approval")
    write_record(tmp_path / "r.yaml", data)
    import json

    (tmp_path / "r.json").write_text(json.dumps(data), encoding="utf-8")
    assert load_document(tmp_path / "r.yaml").data == load_document(tmp_path / "r.json").data


def _submit(home: Path, record: Path, limits: object = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARANCE_")}
    env.update(CLEARANCE_HOME=str(home), PYTHONPATH=str(ROOT / "core"))
    return subprocess.run(
        [sys.executable, "-m", "clearance.cli.main", "submit", "--offline", str(record)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
        preexec_fn=limits,  # type: ignore[arg-type]
    )


def _assert_one_line(run: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert run.returncode == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("clearance: error: ") and "internal error" not in lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE and a read-only /sys are Linux behaviour")
def test_a_new_outbox_on_a_full_disk_is_one_line(tmp_path: Path) -> None:
    record = tmp_path / "r.yaml"
    write_record(record, record_data())

    def full_disk() -> None:  # every write past 0 bytes fails as on a full disk (EFBIG; SIGXFSZ is ignored)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    _assert_one_line(_submit(tmp_path / "home", record, full_disk), "outbox")


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE and a read-only /sys are Linux behaviour")
def test_a_new_outbox_on_a_read_only_disk_is_one_line(tmp_path: Path) -> None:
    record = tmp_path / "r.yaml"
    write_record(record, record_data())
    # /sys is mounted read-only in containers and refuses new folders everywhere, even to root
    _assert_one_line(_submit(Path("/sys/clearance-test-home"), record), "/sys/clearance-test-home", "outbox")


def test_a_policy_with_a_key_given_twice_is_refused_naming_both_lines(tmp_path: Path) -> None:
    policy = tmp_path / "studio.yaml"
    # the second `thresholds` would silently win (and weaken the first) if duplicates were accepted
    policy.write_text("thresholds:\n  consent_ref_required: true\nthresholds:\n  consent_ref_required: false\n",
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARANCE_")}
    env.update(PYTHONPATH=str(ROOT / "core"))
    run = subprocess.run([sys.executable, "-m", "clearance.cli.main", "policy", "check", str(policy)],
                         capture_output=True, text=True, env=env, timeout=60, check=False)
    assert run.returncode == 2
    assert run.stderr.strip() == (f"clearance: error: {policy}:3: has key 'thresholds' twice in one mapping "
                                  "(also on line 1); keep one")


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_a_pipe_in_a_folder_of_records_is_named_not_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    write_record(folder / "a.yaml", record_data())
    os.mkfifo(folder / "b.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARANCE_")}
    env.update(PYTHONPATH=str(ROOT / "core"))
    run = subprocess.run([sys.executable, "-m", "clearance.cli.main", "evaluate", str(folder)],
                         capture_output=True, text=True, env=env, timeout=30, check=False)
    assert run.returncode == 2
    pipe = folder / "b.yaml"
    assert run.stderr.strip() == f"clearance: error: {pipe}: is a named pipe (FIFO), expected a YAML or JSON file"


def test_the_limits_page_states_the_limits_in_force() -> None:
    page = (ROOT / "docs" / "input-limits.md").read_text(encoding="utf-8").replace(",", "")
    for value in (documents.MAX_DEPTH, documents.MAX_ALIASES, documents.MAX_ALIAS_VALUES, documents.MAX_NODES,
                  documents.MAX_INT_DIGITS, documents.MAX_JSON_NESTING, documents.MAX_DOCUMENT_BYTES):
        assert str(value) in page, value
    assert f"{documents.MAX_DOCUMENT_BYTES // 1024 // 1024} MiB" in page


def _outcome(load: Any, text: Any) -> Any:
    try:
        return ("value", load(text))
    except Exception as exc:  # the same exception, with the same words, is what must hold
        return (type(exc).__name__, str(exc))


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                 max_leaves=8).map(json.dumps),
    st.text(alphabet='{}[]":,0123456789 \ufeffabtrue-e.\\', max_size=30),
))
def test_the_kept_json_decoder_answers_as_json_loads(text: str) -> None:
    from clearance.documents import _bounded_int, _loads, _unique_pairs

    for candidate in (text, "\ufeff" + text, text.encode("utf-8"), '{"a":1,"a":2}', "1" * 70):
        fresh = _outcome(lambda t: json.loads(t, parse_int=_bounded_int, object_pairs_hook=_unique_pairs("src")),
                         candidate)
        for _twice in range(2):  # the second time through the same kept decoder
            assert _outcome(lambda t: _loads(t, "src"), candidate) == fresh
