"""The HTTP API under /api/v1 (documented in docs/http-api.md; OpenAPI at /openapi.json)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from clearance import __version__
from clearance.record import UseRecord
from clearance.server import API_PREFIX, decisions, previews, reads, writer
from clearance.server import revocations as revoking
from clearance.server.auth import Actor, actor_from_token
from clearance.server.errors import ServiceError
from clearance.server.models import RECORD_STATUSES

# Declares the scheme in the OpenAPI document; the check itself runs inside each endpoint's worker thread
# (one thread hop per request instead of two: a sync dependency would take its own).
bearer = HTTPBearer(auto_error=False, description="An API token from `clearance admin user add`.")
router = APIRouter(prefix=API_PREFIX)
authed = [Security(bearer)]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or unknown token", "content": {"application/json": {"example": {"error": "..."}}}},
    403: {"description": "Your role cannot do this", "content": {"application/json": {"example": {"error": "..."}}}},
    404: {"description": "Not found, or in a production you have no role in"},
    413: {"description": "Body larger than the limit (1 MiB by default)"},
    422: {"description": "Invalid body", "content": {"application/json": {
        "example": {"error": "field use.stage: Input should be 'ideation', 'previs', 'temp' or 'final'",
                    "field": "use.stage"}}}},
}


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "deny"]
    version: int = Field(ge=1, description="The record version you reviewed (`latest_version` of GET "
                         "/records/{id}). When the record has a newer version, nothing is decided: 409.")
    content_digest: str | None = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$", description="The "
                                       "`content_digest` of the version you reviewed; when given, it must match "
                                       "too (409 if not).")
    conditions: str = Field(default="", max_length=10_000, description="Conditions of an approval.")
    reason: str = Field(default="", max_length=10_000, description="Why denied: required for a denial (422 "
                        "when empty). For older clients, `conditions` is read as the reason when `reason` is empty.")
    expires_at: datetime | None = Field(default=None, description="When an approval ends (ISO 8601, UTC if no zone).")


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
            raise ServiceError(401, "the token is unknown or revoked; ask your admin for a new one", audit=True,
                               action="auth.token", obj="token")
        if len(_token_cache) > 10_000:
            _token_cache.clear()
        _token_cache[token] = (now + _TOKEN_CACHE_SECONDS, found)
        actor = found
    request.state.actor_name = actor.name
    return actor


@router.get("/health", summary="Is the service up", tags=["service"])
def health(request: Request) -> dict[str, Any]:
    db = request.app.state.db
    with db.read() as session:
        session.execute(select(1))
    return {"status": "ok", "version": __version__, "database": db.backend,
            "policy": request.app.state.decider.version}


@router.post("/records", summary="Submit a use record", tags=["records"], status_code=201,
             responses={200: {"description": "This exact content was already stored: the stored version"},
                        **ERROR_RESPONSES}, dependencies=authed)
def submit_record(record: UseRecord, request: Request) -> JSONResponse:
    """Store a new version of the record (201), or return the stored one for a retry of the same content (200).

    The server decides with its own policy; the response carries that decision and the record's status.
    """
    result = writer.submit(request.app.state.db, current_actor(request), record, request.app.state.decider)
    body = result.body | {"record_url": f"{request.base_url}records/{record.id}"}
    return JSONResponse(body, status_code=201 if result.created else 200)


@router.get("/records", summary="List records", tags=["records"], responses=ERROR_RESPONSES, dependencies=authed)
def list_records(
    request: Request,
    production: str | None = Query(default=None, description="A production code; default: all of yours."),
    status: Literal[RECORD_STATUSES] | None = Query(default=None, description="Only records in this status."),  # type: ignore[valid-type]
    limit: int = Query(default=500, ge=1, le=5000),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    return reads.list_records(request.app.state.db, current_actor(request), production, status, limit, offset)


@router.get("/records/{record_id}", summary="A record with its versions and decisions", tags=["records"],
            responses=ERROR_RESPONSES, dependencies=authed)
def get_record(record_id: str, request: Request) -> dict[str, Any]:
    return reads.record_detail(request.app.state.db, current_actor(request), record_id)


@router.post("/records/{record_id}/request", summary="Request approval", tags=["approvals"],
             responses=ERROR_RESPONSES, dependencies=authed)
def request_approval(record_id: str, request: Request) -> dict[str, Any]:
    """Open an approval request for the latest version (done automatically when approval is required)."""
    return decisions.request_approval(request.app.state.db, current_actor(request), record_id)


@router.post("/records/{record_id}/decision", summary="Approve or deny (approvers)", tags=["approvals"],
             status_code=201, responses={409: {"description": "The record is prohibited, or it changed since the "
                                               "version you reviewed (`the record changed since you opened it: "
                                               "review version N`)", "content": {"application/json": {"example": {
                                                   "error": "the record changed since you opened it: review "
                                                   "version 3 (you reviewed version 2)", "field": "version"}}}},
                                         **ERROR_RESPONSES},
             dependencies=authed)
def decide(record_id: str, body: DecisionRequest, request: Request) -> dict[str, Any]:
    """Approve (returns the signed approval) or deny the version of the record you reviewed.

    `version` binds the decision to what you saw: it must be the record's latest version. A denial needs
    a `reason` (422 when empty).
    """
    state = request.app.state
    actor = current_actor(request)
    text = body.conditions if body.decision == "approve" else (body.reason or body.conditions)
    return decisions.decide(state.db, actor, record_id, body.decision, text.strip(), body.expires_at, state.keyring(),
                          reviewed_version=body.version, content_digest=body.content_digest)


@router.put("/records/{record_id}/previews", summary="Send the preview of one target", tags=["records"],
            status_code=201, dependencies=authed,
            responses={200: {"description": "This exact picture was already stored"},
                       413: {"description": "Larger than the preview limit (512 KiB)"},
                       415: {"description": "Not a JPEG, PNG or WebP image"}, **ERROR_RESPONSES},
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
            responses=ERROR_RESPONSES, dependencies=authed)
def list_previews(record_id: str, request: Request) -> dict[str, Any]:
    return previews.listing(request.app.state.db, current_actor(request), record_id)


@router.get("/records/{record_id}/approvals", summary="Signed approvals of a record", tags=["approvals"],
            responses=ERROR_RESPONSES, dependencies=authed)
def record_approvals(record_id: str, request: Request) -> dict[str, Any]:
    return decisions.approvals_for(request.app.state.db, current_actor(request), record_id)


@router.post("/approvals/{approval_id}/revoke", summary="Revoke an approval (approvers, admins)",
             tags=["approvals"], responses=ERROR_RESPONSES, dependencies=authed)
def revoke(approval_id: str, body: RevokeRequest, request: Request) -> dict[str, Any]:
    return revoking.revoke(request.app.state.db, current_actor(request), approval_id, body.reason)


class LookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_ids: list[str] = Field(max_length=reads.LOOKUP_LIMIT, description="Record ids (UUIDs), at most 2,000.")


@router.post("/records/lookup", summary="Many records' status, approvals and decisions at once", tags=["approvals"],
             responses=ERROR_RESPONSES, dependencies=authed)
def lookup_records(body: LookupRequest, request: Request) -> dict[str, Any]:
    """For clients judging where uses stand before a publish or a check: per record its status, its versions'
    digests, requests, denials and approvals (signed, with revocations), and the body of its latest and of
    each approved version. Unknown ids and ids in productions you have no role in are listed in `unknown`."""
    return reads.lookup(request.app.state.db, current_actor(request), body.record_ids)


@router.get("/revocations", summary="Revoked approvals (signed list)", tags=["approvals"],
            responses=ERROR_RESPONSES, dependencies=authed)
def revocations(request: Request) -> dict[str, Any]:
    """Revocations in your productions, signed with the server's key (`signature: {key_id, value}`)."""
    document = revoking.revocations(request.app.state.db, current_actor(request))
    signed: dict[str, Any] = request.app.state.keyring().sign_document(document)
    return signed


@router.get("/keys", summary="The public keys approvals are signed with", tags=["approvals"])
def keys(request: Request) -> dict[str, Any]:
    document: dict[str, Any] = request.app.state.keyring().public_keys_document()
    return document
