"""What a scan reports: a verdict per item, the evidence behind it, a confidence and any per-file error."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from clearance.provenance.verdicts import GENAI_VERDICTS, VERDICT_RANK, Hit, Verdict, is_genai

__all__ = ["GENAI_VERDICTS", "VERDICT_RANK", "C2paValidation", "Evidence", "Hit", "ScanResult", "Verdict", "is_genai"]


class Evidence(BaseModel):
    """One piece of metadata that says something about how the media was made."""

    model_config = ConfigDict(extra="forbid")

    verdict: Verdict = Field(description="What this piece of evidence alone says")
    format: str = Field(description="jpeg, png, bmff, riff, tiff, exr, dpx, xmp")
    location: str = Field(description="Where in the file: segment, box, chunk, tag or attribute (e.g. 'APP11 JUMBF')")
    field: str = Field(description="The field read, e.g. 'c2pa.actions/digitalSourceType' or 'tEXt parameters'")
    value: str = Field(default="", description="The value found (shortened)")
    generator: str | None = Field(default=None, description="Software agent / claim generator / tool named")
    prompt_embedded: bool = Field(default=False, description="A generation prompt or node graph is stored in the file")
    confidence: float = Field(ge=0.0, le=1.0)
    manifest: str | None = Field(default=None, description="C2PA manifest label, for C2PA evidence")
    active_manifest: bool | None = Field(
        default=None, description="C2PA: True for the active manifest, False for an ingredient's"
    )
    frames: str | None = Field(default=None, description="For a sequence: the frames carrying this evidence")


class C2paValidation(BaseModel):
    """What `--verify` found through c2pa-python (offline: no remote manifests, no OCSP)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["signed", "untrusted", "tampered", "invalid", "remote", "no_manifest", "unsupported", "error"]
    verdict: Verdict = Field(description="The verdict derived from c2pa-python's reading of every manifest")
    detail: str = ""
    failures: list[str] = Field(default_factory=list, description="Validation failure codes reported by c2pa-python")


class ScanResult(BaseModel):
    """One scanned item: a file, or a whole image sequence."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="The file, or the sequence pattern (sh010.####.exr)")
    verdict: Verdict = "none"
    confidence: float = Field(default=0.0, ge=0.0, le=1.0, description="How sure the verdict is, 0..1")
    evidence: list[Evidence] = Field(default_factory=list)
    error: str | None = Field(default=None, description="Why the file (or some frames) could not be fully read")
    format: str | None = Field(default=None, description="The format detected from the file's magic bytes")
    prompt_embedded: bool = False
    generators: list[str] = Field(default_factory=list, description="Software agents, claim generators, tools named")
    record_ids: list[str] = Field(default_factory=list, description="Clearance record ids the file carries (EXR)")
    frames: str | None = Field(default=None, description="Sequence frame range, e.g. '1001-1010'")
    frame_count: int | None = None
    missing_frames: list[int] = Field(default_factory=list, description="Gaps inside the sequence's frame range")
    files: int = 1
    bytes_read: int = Field(default=0, description="Bytes Clearance read to reach the verdict")
    c2pa: C2paValidation | None = None

    @property
    def genai(self) -> bool:
        return is_genai(self.verdict)
