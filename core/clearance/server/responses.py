"""The API's response bodies as pydantic models: what docs/openapi.json promises and schemathesis checks.

Documents the service stores as they were sent or decided (a record's body, the policy's findings) are
typed by their envelope and left open inside: a record stored under an older schema or a finding with a
field added later must still be served as it was stored. Everything the service itself builds is closed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clearance.approvals import SignedApproval

RecordStatus = Literal["notified", "waiting", "approved", "denied", "prohibited", "revoked"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Problem(_Closed):
    field: str = Field(description="The field at fault, dotted (`use.stage`, `targets[0].ref`), or `(body)`.")
    message: str


class ErrorBody(_Closed):
    """Every 4xx and 5xx answer of the API has this shape."""

    error: str = Field(description="One line saying what is wrong and how to fix it.")
    field: str | None = Field(default=None, description="The field at fault, when one is.")
    errors: list[Problem] | None = Field(default=None, description="Every problem, for validation errors.")


class Health(_Closed):
    status: Literal["ok"]
    version: str
    database: str = Field(description="`sqlite` or `postgresql`.")
    policy: str = Field(description="The version of the policy the service decides with.")


class DecisionView(_Open):
    """The policy's decision as stored with the version: the highest outcome and every finding."""

    outcome: str
    findings: list[dict[str, Any]]


class Submitted(_Closed):
    """The answer to a submission, new (201) or replayed (200)."""

    record: dict[str, Any] = Field(description="The stored use record (see the UseRecord schema).")
    production: str
    version: int = Field(ge=1)
    content_digest: str
    decision_digest: str
    decision: DecisionView
    status: RecordStatus
    record_url: str = Field(description="The record's web page, for people.")


class RecordSummary(_Closed):
    id: str
    production: str
    status: RecordStatus
    version: int
    outcome: str
    description: str
    declared_by: str | None
    vendor: str | None
    tools: list[str | None]
    media: str | None
    stage: str | None
    targets: list[str] = Field(description='"kind:ref" of each target.')
    rules: list[str] = Field(description="The rules that found something.")
    updated_at: str | None


class RecordList(_Closed):
    records: list[RecordSummary]
    total: int
    limit: int
    offset: int


class VersionView(_Closed):
    version: int
    content_digest: str
    decision_digest: str
    submitted_at: str | None
    submitted_by: str
    decision: DecisionView
    policy_version: str
    record: dict[str, Any]


class RequestView(_Closed):
    id: int
    version: int
    status: str = Field(description="`waiting`, `approved`, `denied` or `superseded`.")
    requested_by: str | None
    requested_at: str | None
    decided_by: str | None
    decided_at: str | None


class ApprovalView(_Closed):
    approval_id: str
    version: int
    issued_at: str | None
    expires_at: str | None
    conditions: str
    key_id: str
    signed: SignedApproval
    revoked_at: str | None
    revocation_reason: str | None
    revoked_by: str | None


class DenialView(_Closed):
    version: int
    denied_by: str | None
    denied_at: str | None
    reason: str


class RecordDetail(_Closed):
    id: str
    production: str
    status: RecordStatus
    latest_version: int
    created_at: str | None
    updated_at: str | None
    record: dict[str, Any]
    decision: DecisionView
    versions: list[VersionView]
    requests: list[RequestView]
    approvals: list[ApprovalView]
    denials: list[DenialView]


class OpenedRequest(_Closed):
    id: int
    record_id: str
    version: int
    status: str
    requested_at: str | None


class RequestOpened(_Closed):
    request: OpenedRequest
    status: RecordStatus
    created: bool = Field(description="False when a request was already waiting.")


class Denied(_Closed):
    decision: Literal["deny"]
    record_id: str
    version: int
    denied_by: str
    denied_at: str | None
    reason: str
    status: Literal["denied"]


class ApprovalList(_Closed):
    approvals: list[SignedApproval]


class Revoked(_Closed):
    approval_id: str
    revoked_at: str | None
    reason: str
    record_id: str | None = None
    status: RecordStatus | None = None
    already_revoked: bool = False


class RevokedEntry(_Open):
    approval_id: str
    revoked_at: str | None
    reason: str


class DocumentSignature(_Open):
    key_id: str
    value: str = Field(description="Base64 Ed25519 over the canonical JSON of the document without `signature`.")


class RevocationList(_Open):
    revocations: list[RevokedEntry]
    generated_at: str | None
    signature: DocumentSignature


class AuditCheckpoint(_Open):
    kind: Literal["clearance.audit.checkpoint"]
    seq: int = Field(description="The audit entry the checkpoint anchors (every entry up to it).")
    hash: str = Field(description="That entry's chain hash.")
    at: str = Field(description="When the checkpoint was signed (UTC, ISO 8601).")
    signature: DocumentSignature


class PublicKey(_Open):
    key_id: str
    algorithm: str
    public_key: str = Field(description="Base64 of the 32 raw Ed25519 bytes.")
    created_at: str | None
    active: bool


class KeySet(_Open):
    keys: list[PublicKey]


class PreviewStored(_Closed):
    record_id: str
    target: str = Field(description="The target, `kind:ref`.")
    media_type: str
    bytes: int
    sha256: str
    uploaded_at: str | None
    created: bool = Field(description="False when this exact picture was already stored.")


class PreviewEntry(_Closed):
    target: str
    media_type: str
    sha256: str
    uploaded_at: str | None


class PreviewList(_Closed):
    previews: list[PreviewEntry]


class LookupVersion(_Open):
    version: int
    decision_digest: str
    content_digest: str
    submitted_at: str | None
    submitted_by: str | None
    record: dict[str, Any] | None = Field(default=None, description="The body: latest and approved versions only.")


class LookupOpenRequest(_Open):
    version: int
    status: str
    requested_by: str | None
    requested_at: str | None


class LookupApproval(_Open):
    approval_id: str
    version: int
    issued_at: str | None
    signed: SignedApproval
    revoked_at: str | None
    revocation_reason: str | None
    revoked_by: str | None


class LookupRecord(_Open):
    id: str
    production: str
    status: RecordStatus
    latest_version: int
    versions: list[LookupVersion]
    requests: list[LookupOpenRequest]
    denials: list[DenialView]
    approvals: list[LookupApproval]


class LookupAnswer(_Open):
    records: dict[str, LookupRecord] = Field(description="By record id.")
    unknown: list[str] = Field(description="Ids unknown, malformed, or in productions you cannot see: alike.")
