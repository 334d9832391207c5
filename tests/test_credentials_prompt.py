"""Record v2's prompt in signed deliverables: IPTC AI Prompt Information and the Clearance assertion carry a
prompt only when its record says it may be shared; a private prompt appears nowhere in what is written.

Read back with exiftool and c2pa-python's Reader, and by searching the output's bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import credentials_media as media
import pytest
from publish_fixtures import record_data, write_record
from test_credentials import disclosure, exiftool_tags, read, run

from clearance.credentials.signing import ai_fields
from clearance.credentials.uses import TRAINED, UseFacts
from clearance.decision import Decision
from clearance.record import PROMPT_MAX_CHARS, UseRecord

SHARED = "a lighthouse at dusk, 35mm, storm clouds & spray <wide>"
PRIVATE = "EPISODE 4 SPOILER: the keeper's double, Mara Quill, walks into the sea"


def _v2(**prompt: str) -> dict[str, Any]:
    """The notify record as version 2 (its one new question that matters answered), with this prompt section."""
    data = record_data("notify", schema_version=2, prompt=prompt)
    data["tool"].update(version="Image 3", trains_on_outputs="no")
    return data


def _record(tmp_path: Path, name: str, text: str, shareable: str) -> Path:
    data = _v2(text=text, shareable=shareable)
    write_record(tmp_path / f"{name}.yaml", data)
    return tmp_path / f"{name}.yaml"


@pytest.fixture
def identity(clearance_home: Path) -> Path:
    assert run("credentials", "init") == 0
    return clearance_home / "credentials"


def _sign(tmp_path: Path, record: Path, name: str, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    source = media.still(tmp_path / f"{name}.jpg")
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", record) == 0
    return tmp_path / f"{name}.signed.jpg", capsys.readouterr().out


def test_a_shareable_prompt_is_in_the_xmp_and_the_assertion(
        identity: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signed, out = _sign(tmp_path, _record(tmp_path, "public", SHARED, "yes"), "public", capsys)
    assert "AIPromptInformation" in out
    tags = exiftool_tags(signed)
    assert tags["XMP-iptcExt:AIPromptInformation"] == SHARED
    assert tags["XMP-iptcExt:AISystemUsed"] == "Firefly"
    state, manifest, _ = read(signed)
    assert state == "Valid"
    uses = disclosure(manifest)["uses"]
    assert [u.get("prompt") for u in uses] == [SHARED]


@pytest.mark.parametrize("shareable", ["no", "unsure"])
def test_a_private_prompt_is_nowhere_in_the_signed_file(
        shareable: str, identity: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signed, out = _sign(tmp_path, _record(tmp_path, "private", PRIVATE, shareable), "private", capsys)
    assert "AIPromptInformation" not in out
    tags = exiftool_tags(signed)
    assert "XMP-iptcExt:AIPromptInformation" not in tags
    assert tags["XMP-iptcExt:AISystemUsed"] == "Firefly"  # the rest of the fields are still written
    state, manifest, store = read(signed)
    assert state == "Valid"
    assert all("prompt" not in u for u in disclosure(manifest)["uses"])
    data = signed.read_bytes()
    for piece in ("Mara Quill", "SPOILER", "keeper's double"):
        assert piece.encode("utf-8") not in data, piece
        assert piece.encode("utf-16-le") not in data and piece.encode("utf-16-be") not in data, piece
        assert piece not in out and piece not in str(store), piece


def test_only_the_shareable_prompts_of_several_uses_are_written(tmp_path: Path) -> None:
    shared = UseRecord.model_validate(_v2(text=SHARED, shareable="yes"))
    private = UseRecord.model_validate(_v2(text=PRIVATE, shareable="no"))
    unanswered = UseRecord.model_validate(_v2(text=PRIVATE))
    none = UseRecord.model_validate(record_data("notify"))
    notify = Decision(outcome="notify", findings=[])
    facts = [UseFacts(record=r, decision=notify) for r in (private, shared, unanswered, none)]
    assert [f.shared_prompt() for f in facts] == [None, SHARED, None, None]
    assert [f.record.prompt.withheld() for f in facts] == [True, False, True, False]
    assert ai_fields(facts, TRAINED).prompt == SHARED
    assert [("prompt" in f.summary()) for f in facts] == [False, True, False, False]
    assert "prompt" not in facts[1].summary(include_prompt=False)
    assert ai_fields([facts[0], facts[2]], TRAINED).prompt is None


def test_shared_prompts_too_long_for_a_jpeg_segment_refuse_naming_the_fix(
        identity: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A JPEG holds its XMP in one 64 KB segment: two records' longest prompts, escaped, do not fit. Nothing is
    signed then (the file would go out without the fields its records asked for), and the line says what to do."""
    long = "<&>" * (PROMPT_MAX_CHARS // 3)
    records = [_record(tmp_path, f"long{n}", long, "yes") for n in range(2)]
    source = media.still(tmp_path / "long.jpg")
    capsys.readouterr()
    assert run("credentials", "sign", source, "--record", records[0], "--record", records[1]) == 2
    err = capsys.readouterr().err
    assert "prompt.text" in err and "more than one JPEG segment holds" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "long.signed.jpg").exists()
    assert run("credentials", "sign", source, "--record", records[0]) == 0  # one fits
