"""Verdicts and the raw findings of the format readers, free of pydantic.

The readers, the scanner and ``clearance scan`` work on these plain values only; the pydantic models of
``model.py`` (ScanResult, Evidence) are built at the Python API's boundary. A command-line scan therefore
never imports pydantic, whose import and model building cost more than scanning a thousand files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypedDict

Verdict = Literal["ai_generated", "ai_composite", "synthetic", "camera", "none"]

# Strongest first. Across manifests, chunks and frames the strongest evidence decides the item's verdict:
# a file whose history holds a wholly AI-made ingredient is ai_generated even when the last edit was a
# composite (see docs/scanner.md, "Verdicts").
VERDICT_RANK: dict[str, int] = {"ai_generated": 4, "ai_composite": 3, "synthetic": 2, "camera": 1, "none": 0}
GENAI_VERDICTS = frozenset({"ai_generated", "ai_composite"})


def is_genai(verdict: str) -> bool:
    """True for the verdicts that mean a generative (trained) model made some or all of the media."""
    return verdict in GENAI_VERDICTS


class Hit:
    """One raw finding of a reader. Plain slots class: readers stay free of pydantic in the hot path."""

    __slots__ = (
        "active",
        "confidence",
        "field",
        "format",
        "generator",
        "location",
        "manifest",
        "prompt",
        "value",
        "verdict",
    )

    def __init__(
        self,
        verdict: str,
        format: str,
        location: str,
        field: str,
        value: str = "",
        generator: str | None = None,
        prompt: bool = False,
        confidence: float = 0.5,
        manifest: str | None = None,
        active: bool | None = None,
    ) -> None:
        self.verdict = verdict
        self.format = format
        self.location = location
        self.field = field
        self.value = value
        self.generator = generator
        self.prompt = prompt
        self.confidence = confidence
        self.manifest = manifest
        self.active = active

    def key(self) -> tuple[str, str, str, str, str | None]:
        return (self.format, self.location, self.field, self.value, self.manifest)


if TYPE_CHECKING:  # typing only: building TypedDict classes at import costs a few ms of every scan's start-up
    # The plain forms of model.Evidence, model.C2paValidation and model.ScanResult: the same keys in the same
    # order, values already as ``model_dump(mode="json")`` gives them, so ``json.dumps`` of a record writes the
    # bytes the model would (tests/test_provenance_records.py holds the two to it).
    class EvidenceRecord(TypedDict):
        verdict: str
        format: str
        location: str
        field: str
        value: str
        generator: str | None
        prompt_embedded: bool
        confidence: float
        manifest: str | None
        active_manifest: bool | None
        frames: str | None

    class C2paRecord(TypedDict):
        status: str
        verdict: str
        detail: str
        failures: list[str]

    class ScanRecord(TypedDict):
        path: str
        verdict: str
        confidence: float
        evidence: list[EvidenceRecord]
        error: str | None
        format: str | None
        prompt_embedded: bool
        generators: list[str]
        record_ids: list[str]
        frames: str | None
        frame_count: int | None
        missing_frames: list[int]
        files: int
        bytes_read: int
        c2pa: C2paRecord | None
