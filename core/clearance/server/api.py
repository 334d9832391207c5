"""The HTTP API under /api/v1 (documented in docs/http-api.md; OpenAPI at /openapi.json)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from clearance import __version__
from clearance.approvals import SignedApproval
from clearance.record import UseRecord
from clearance.server import API_PREFIX, checkpoints, decisions, keyset, previews, reads, writer
from clearance.server import revocations as revoking
from clearance.server.auth import Actor, actor_from_token
from clearance.server.errors import ServiceError
from clearance.server.login import client_address, note_failure
from clearance.server.models import RECORD_STATUSES
from clearance.server.responses import (
    ApprovalList,
    AuditCheckpoint,
    Denied,
    ErrorBody,
    Health,
    KeySet,
    LookupAnswer,
    PreviewList,
    PreviewStored,
    RecordDetail,
    RecordList,
    RequestOpened,
    RevocationList,
    Revoked,
    Submitted,
)

# Declares the scheme in the OpenAPI document; the check itself runs inside each endpoint's worker thread
# (one thread hop per request instead of two: a sync dependency would take its own).
bearer = HTTPBearer(auto_error=False, description="An API token from `clearance admin user add`.")
# operationId = the function's name (`submit_record`), so generated clients get readable names.
router = APIRouter(prefix=API_PREFIX, generate_unique_id_function=lambda route: route.name)
MAX_OFFSET = 2**31 - 1  # beyond any table; larger numbers are refused with 422 before reaching the database
authed = [Security(bearer)]

# Every response carries the security headers (guard.Guard adds them); the OpenAPI document says so.
SECURITY_HEADERS_DOC: dict[str, Any] = {
    name: {"description": description, "required": True, "schema": {"type": "string"}}
    for name, description in (
        ("Content-Security-Policy", "No scripts, no framing, resources from this service only."),
        ("X-Content-Type-Options", "`nosniff`."),
        ("X-Frame-Options", "`DENY`."),
        ("Referrer-Policy", "`same-origin`."),
        ("Cross-Origin-Opener-Policy", "`same-origin`."),
    )
}
RETRY_AFTER_DOC: dict[str, Any] = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "required": True,
                    "schema": {"type": "string"}},
}
ERRORS: dict[int, dict[str, Any]] = {
    401: {"description": "No token, or an unknown or revoked one",
          "headers": {"WWW-Authenticate": {"description": "`Bearer`", "required": True,
                                           "schema": {"type": "string"}}}},
    403: {"description": "Your role cannot do this"},
    404: {"description": "Not found, or in a production (or of a vendor) you cannot see: the same answer"},
    409: {"description": "A conflict with the record's state: prohibited, or changed since"},
    413: {"description": "The body is larger than the limit (1 MiB by default), however it is sent"},
    415: {"description": "A body of a type this route does not take"},
    422: {"description": "An invalid body or query: the message names the field", "content": {"application/json": {
        "example": {"error": "field use.stage: Input should be 'ideation', 'previs', 'temp' or 'final'",
                    "field": "use.stage", "errors": [{"field": "use.stage", "message": "..."}]}}}},
    429: {"description": "Too many attempts: wait for Retry-After seconds", "headers": RETRY_AFTER_DOC},
    500: {"description": "A fault in the service (reported in its log)"},
    503: {"description": "The database is busy or unreachable: retry after Retry-After seconds",
          "headers": RETRY_AFTER_DOC},
}


def answers(
    success: dict[int, str], *errors: int, model: Any = None, details: dict[int, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The route's documented statuses: its successes (each with ``model``, when the route has two), the
    errors it can answer, and 500/503, which any route can answer."""
    out: dict[int | str, dict[str, Any]] = {
        status: {"description": text, "headers": SECURITY_HEADERS_DOC} | ({"model": model} if model else {})
        for status, text in success.items()
    }
    for status in sorted({*errors, 500, 503}):
        spec = dict(ERRORS[status]) | (details or {}).get(status, {})
        spec["model"] = ErrorBody
        spec["headers"] = {**SECURITY_HEADERS_DOC, **spec.get("headers", {})}
        out[status] = spec
    return out


def _text_time(value: object) -> object:
    """Times are ISO 8601 text, as the schema says: refuse the numbers pydantic's lax mode would read as epochs."""
    if value is not None and not isinstance(value, (str, datetime)):
        raise ValueError("give an ISO 8601 date or time as text, e.g. 2027-03-31T18:00:00Z")
    return value


TextTime = Annotated[datetime | None, BeforeValidator(_text_time)]


SAYS_SOMETHING = r"\S"  # the schema's test for "not empty": what the service checks, in the same words


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_min_length=0)  # whole texts only: see record.Section

    version: int = Field(ge=1, description="The record version you reviewed (`latest_version` of GET "
                         "/records/{id}). When the record has a newer version, nothing is decided: 409.")
    content_digest: str | None = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$", description="The "
                                       "`content_digest` of the version you reviewed; when given, it must match "
                                       "too (409 if not).")


class ApproveDecision(_Decision):
    decision: Literal["approve"]
    conditions: str = Field(default="", max_length=10_000, description="Conditions of the approval.")
    expires_at: TextTime = Field(default=None, description="When the approval ends (ISO 8601, UTC if no zone).")
    reason: str = Field(default="", max_length=10_000, description="Not used by an approval (accepted, ignored).")


class DenyDecision(_Decision):
    decision: Literal["deny"]
    reason: str = Field(min_length=1, max_length=10_000, pattern=SAYS_SOMETHING,
                        description="Why denied: what must change before it can be approved. Required.")
    conditions: str = Field(default="", max_length=10_000, description="Not used by a denial (accepted, ignored).")
    expires_at: TextTime = Field(default=None, description="Not used by a denial (accepted, ignored).")


# One body, two shapes told apart by `decision`: the schema itself says a denial needs a reason.
DecisionRequest = Annotated[ApproveDecision | DenyDecision, Field(discriminator="decision")]


class WhoAmI(BaseModel):
    model_config = ConfigDict(extra="forbid", str_min_length=0)  # whole texts only: see record.Section

    name: str = Field(description="The user's login name.")
    roles: dict[str, list[str]] = Field(description="Roles per production code.")


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_min_length=0)  # whole texts only: see record.Section

    reason: str = Field(min_length=1, max_length=10_000, description="Why the approval is withdrawn.")


_TOKEN_CACHE_SECONDS = 5.0
_token_cache: dict[str, tuple[float, Actor]] = {}


def current_actor(request: Request) -> Actor:
    """The token's user and roles. Looked up at most every 5 seconds per token and process: a client
    submitting in a loop costs no extra query, and a revoked token or role stops working within 5 s."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ServiceError(401, "send your token as `Authorization: Bearer TOKEN` "
                           "(get one with `clearance admin user add`)")
    now = time.monotonic()
    cached = _token_cache.get(token)
    if cached is not None and cached[0] > now:
        actor = cached[1]
    else:
        with request.app.state.db.single_read() as conn:
            found = actor_from_token(conn, token)
        if found is None:
            _token_cache.pop(token, None)
            # Counted, and logged once per address per window: a flood of bad tokens writes no row per request.
            note_failure(request.app.state.db, request.app.state.auth_failures, client_address(request), "token")
            raise ServiceError(401, "the token is unknown or revoked; ask your admin for a new one")
        if len(_token_cache) > 10_000:
            _token_cache.clear()
        _token_cache[token] = (now + _TOKEN_CACHE_SECONDS, found)
        actor = found
    request.state.actor_name = actor.name
    return actor


@router.get("/health", summary="Is the service up", tags=["service"], response_model=Health,
            responses=answers({200: "The service and its database answer"}))
def health(request: Request) -> dict[str, Any]:
    db = request.app.state.db
    with db.read() as session:
        session.execute(select(1))
    return {"status": "ok", "version": __version__, "database": db.backend,
            "policy": request.app.state.decider.version}


class RecordSubmission(UseRecord):
    """A use record as submitted: the client chooses its ``id`` before the first send, so a retry of the
    same body is recognised as that record and never stored twice."""

    id: uuid.UUID = Field(description="Chosen once by the client (`clearance record new` does); required, "
                          "so that retrying the same body can never make a second record.")
    production: str = Field(min_length=1, max_length=100, description="The production code, e.g. EXAMPLE_S01.")
    declared_at: TextTime = Field(default=None, description="When it was declared (ISO 8601).")


@router.post("/records", summary="Submit a use record", tags=["records"], status_code=201,
             response_model=Submitted, dependencies=authed,
             responses=answers({201: "A new version was stored",
                                200: "This exact content was already stored: the stored version"},
                               401, 403, 404, 413, 422, model=Submitted))
def submit_record(record: RecordSubmission, request: Request) -> JSONResponse:
    """Store a new version of the record (201), or return the stored one for a retry of the same content (200).

    The server decides with its own policy; the response carries that decision and the record's status.
    """
    result = writer.submit(request.app.state.db, current_actor(request), record, request.app.state.decider)
    body = result.body | {"record_url": f"{request.base_url}records/{record.id}"}
    # Returned as built (no response-model pass): the hot path; the schema test checks the shape.
    return JSONResponse(body, status_code=201 if result.created else 200)


@router.get("/records", summary="List records", tags=["records"], response_model=RecordList, dependencies=authed,
            responses=answers({200: "The records you can see, newest change first"}, 401, 404, 422))
def list_records(
    request: Request,
    production: str | None = Query(default=None, max_length=100,
                                   description="A production code; default: all of yours."),
    status: Literal[RECORD_STATUSES] | None = Query(default=None, description="Only records in this status."),  # type: ignore[valid-type]
    limit: int = Query(default=500, ge=1, le=5000),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    return reads.list_records(request.app.state.db, current_actor(request), production, status, limit, offset)


@router.get("/records/{record_id}", summary="A record with its versions and decisions", tags=["records"],
            response_model=RecordDetail, dependencies=authed,
            responses=answers({200: "The record, every version, request, approval and denial"}, 401, 404, 422))
def get_record(record_id: str, request: Request) -> dict[str, Any]:
    return reads.record_detail(request.app.state.db, current_actor(request), record_id)


@router.post("/records/{record_id}/request", summary="Request approval", tags=["approvals"],
             response_model=RequestOpened, dependencies=authed,
             responses=answers({200: "The waiting request (opened now, or already waiting)"}, 401, 404, 409, 413, 422))
def request_approval(record_id: str, request: Request) -> dict[str, Any]:
    """Open an approval request for the latest version (done automatically when approval is required)."""
    return decisions.request_approval(request.app.state.db, current_actor(request), record_id)


@router.post("/records/{record_id}/decision", summary="Approve or deny (approvers)", tags=["approvals"],
             status_code=201, response_model=SignedApproval | Denied, dependencies=authed,
             responses=answers({201: "The signed approval, or the recorded denial"}, 401, 403, 404, 409, 413, 422,
                               details={409: {"description": "The record is prohibited, or it changed since the "
                                               "version you reviewed (`the record changed since you opened it: "
                                               "review version N`)", "content": {"application/json": {"example": {
                                                   "error": "the record changed since you opened it: review "
                                                   "version 3 (you reviewed version 2)", "field": "version"}}}}}))
def decide(record_id: str, body: DecisionRequest, request: Request) -> dict[str, Any]:
    """Approve (returns the signed approval) or deny the version of the record you reviewed.

    `version` binds the decision to what you saw: it must be the record's latest version. A denial needs
    a `reason` (422 when empty).
    """
    state = request.app.state
    actor = current_actor(request)
    text = body.conditions if isinstance(body, ApproveDecision) else body.reason
    return decisions.decide(state.db, actor, record_id, body.decision, text.strip(), body.expires_at, state.keyring(),
                          reviewed_version=body.version, content_digest=body.content_digest)


@router.put("/records/{record_id}/previews", summary="Send the preview of one target", tags=["records"],
            status_code=201, response_model=PreviewStored, dependencies=authed,
            responses=answers({201: "The picture was stored", 200: "This exact picture was already stored"},
                              401, 404, 413, 415, 422, model=PreviewStored,
                              details={413: {"description": "Larger than the preview limit (512 KiB)"}}),
            openapi_extra={"requestBody": {"required": True, "content": {
                t: {"schema": {"type": "string", "format": "binary"}} for t in previews.MEDIA_TYPES}}})
async def put_preview(
    record_id: str, request: Request,
    target: str = Query(min_length=3, max_length=400, description="The target, as `kind:ref` (e.g. shot:sh010)."),
) -> JSONResponse:
    """Store a small picture of one of the record's targets (JPEG, PNG or WebP, at most 512 KiB), shown to
    approvers on the queue and record pages. Sending it again replaces it."""
    data = await request.body()
    result = await run_in_threadpool(previews.store, request.app.state.db, await run_in_threadpool(
        current_actor, request), record_id, target, data, request.headers.get("content-type", ""))
    return JSONResponse(result, status_code=201 if result["created"] else 200)


@router.get("/records/{record_id}/previews", summary="The previews a record has", tags=["records"],
            response_model=PreviewList, dependencies=authed,
            responses=answers({200: "Every target's preview: target, type, digest, when"}, 401, 404, 422))
def list_previews(record_id: str, request: Request) -> dict[str, Any]:
    return previews.listing(request.app.state.db, current_actor(request), record_id)


@router.get("/records/{record_id}/approvals", summary="Signed approvals of a record", tags=["approvals"],
            response_model=ApprovalList, dependencies=authed,
            responses=answers({200: "Every approval of the record as signed, revoked ones included"}, 401, 404, 422))
def record_approvals(record_id: str, request: Request) -> dict[str, Any]:
    return decisions.approvals_for(request.app.state.db, current_actor(request), record_id)


@router.post("/approvals/{approval_id}/revoke", summary="Revoke an approval (approvers, admins)",
             tags=["approvals"], response_model=Revoked, dependencies=authed,
             responses=answers({200: "The revocation (the first one, when revoked before)"},
                               401, 403, 404, 413, 422))
def revoke(approval_id: str, body: RevokeRequest, request: Request) -> dict[str, Any]:
    return revoking.revoke(request.app.state.db, current_actor(request), approval_id, body.reason,
                           keyring=request.app.state.keyring())


class LookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_min_length=0)  # whole texts only: see record.Section

    record_ids: list[str] = Field(max_length=reads.LOOKUP_LIMIT, description="Record ids (UUIDs), at most 2,000.")


@router.post("/records/lookup", summary="Many records' status, approvals and decisions at once", tags=["approvals"],
             response_model=LookupAnswer, dependencies=authed,
             responses=answers({200: "Every visible record asked for; the others listed in `unknown`"},
                               401, 413, 422))
def lookup_records(body: LookupRequest, request: Request) -> dict[str, Any]:
    """For clients judging where uses stand before a publish or a check: per record its status, its versions'
    digests, requests, denials and approvals (signed, with revocations), and the body of its latest and of
    each approved version. Unknown ids and ids in productions you have no role in are listed in `unknown`."""
    return reads.lookup(request.app.state.db, current_actor(request), body.record_ids)


@router.get("/revocations", summary="Revoked approvals (signed list)", tags=["approvals"],
            response_model=RevocationList, dependencies=authed,
            responses=answers({200: "The signed list of revoked approvals in your productions"}, 401))
def revocations(request: Request) -> dict[str, Any]:
    """Revocations in your productions, signed with the server's key (`signature: {key_id, value}`)."""
    document = revoking.revocations(request.app.state.db, current_actor(request))
    signed: dict[str, Any] = request.app.state.keyring().sign_document(document)
    return signed


@router.get("/me", summary="Who this token belongs to", tags=["service"], response_model=WhoAmI,
            dependencies=authed, responses=answers({200: "The token's user and roles"}, 401))
def me(request: Request) -> dict[str, Any]:
    """The token's user name and roles per production (clients record it as `declared_by`)."""
    actor = current_actor(request)
    return {"name": actor.name, "roles": {code: sorted(roles) for code, roles in sorted(actor.roles.items())}}


@router.get("/audit/checkpoint", summary="The latest signed audit checkpoint", tags=["service"],
            response_model=AuditCheckpoint, dependencies=authed,
            responses=answers({200: "The newest checkpoint stored in the audit log, as signed"}, 401, 404))
def audit_checkpoint(request: Request) -> dict[str, Any]:
    """The chain head the service last signed (on every decision, revocation and key change, and every N
    entries or M minutes). Keep it outside the database, or put it in a delivery packet: `clearance audit
    verify --checkpoint FILE` later proves that nothing up to it was rewritten. It tells the log's length
    and head hash, nothing about any entry."""
    current_actor(request)
    with request.app.state.db.read() as session:
        latest = checkpoints.latest(session)
    if latest is None:
        raise ServiceError(404, "the service has signed no audit checkpoint yet (one is signed with the first "
                           "decision, or run `clearance audit checkpoint` on the server)")
    return latest


@router.get("/keys", summary="The public keys approvals are signed with", tags=["approvals"],
            response_model=KeySet, responses=answers({200: "Every key, oldest first; the active one marked"}))
def keys(request: Request) -> dict[str, Any]:
    """Every host's keys, from the database: the same answer whichever host is asked."""
    return keyset.document(request.app.state.db, request.app.state.keyring())
