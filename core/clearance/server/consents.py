"""The consent registry on the service: entries created and withdrawn by a production's ``legal`` role.

Every change is an audit entry and each entry's current state is kept signed with the approval key ring,
like an approval. Clients pull the registry as one list signed with the same key (GET /api/v1/consents) and
check records' consent references offline against it (``clearance.consent``). The signed consent document
itself never reaches the service: only its SHA-256.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from clearance.consent import ConsentBook, ConsentEntry, ConsentParty, ConsentScope
from clearance.server import API_PREFIX, audit, checkpoints
from clearance.server.auth import Actor, iso, utcnow
from clearance.server.db import Database
from clearance.server.errors import ServiceError, refuse
from clearance.server.models import Consent, Production, User
from clearance.server.responses import DocumentSignature

LEGAL_ROLES = ("legal",)
READER_NOTE = "every role of the production may read the registry: artists' machines check consent offline"


class ConsentRequest(BaseModel):
    """A new consent entry, as legal registers it."""

    model_config = ConfigDict(extra="forbid", str_min_length=0)  # whole texts only: see record.Section

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                    description="The reference records cite in talent.consent_refs, e.g. CONSENT-LEAD-DEAGEING.")
    production: str = Field(min_length=1, max_length=100)
    talent: str = Field(min_length=1, max_length=300)
    given_by: ConsentParty
    scope: ConsentScope
    guild_terms: str = Field(default="", max_length=2000)
    document_sha256: str = Field(pattern=r"^[0-9a-f]{64}$",
                                 description="SHA-256 of the signed document (`sha256sum FILE`); never the document.")


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_min_length=0)  # whole texts only: see record.Section

    reason: str = Field(min_length=1, max_length=2000, description="Why the consent is withdrawn.")


def _entry(row: Consent, production: str, names: dict[int, str]) -> ConsentEntry:
    return ConsentEntry(
        id=row.id, production=production, talent=row.talent, given_by=row.given_by,  # type: ignore[arg-type]
        scope=ConsentScope.model_validate(json.loads(row.scope)), guild_terms=row.guild_terms,
        document_sha256=row.document_sha256, status=row.status,  # type: ignore[arg-type]
        created_by=names.get(row.created_by, ""), created_at=row.created_at,
        withdrawn_by=names.get(row.withdrawn_by) if row.withdrawn_by else None,
        withdrawn_at=row.withdrawn_at, withdrawn_reason=row.withdrawn_reason,
    )


def _names(session: Any) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.name)).all())


def create(db: Database, actor: Actor, body: ConsentRequest, keyring: Any) -> dict[str, Any]:
    action, obj = "consent.create", f"consent:{body.id}"
    if not actor.in_production(body.production):
        raise refuse(404, f"production {body.production} not found", action, obj, body.production)
    if not actor.has_role(body.production, *LEGAL_ROLES):
        raise refuse(403, f"only legal of {body.production} can register consent", action, obj, body.production)
    if body.production not in body.scope.productions:
        raise ServiceError(422, f"scope.productions must include {body.production}, the production registering it",
                           field="scope.productions")
    with db.write() as session:
        production = session.execute(select(Production).where(Production.code == body.production)).scalar_one()
        if session.get(Consent, body.id) is not None:
            raise ServiceError(409, f"consent {body.id} already exists; choose another id", field="id")
        now = utcnow()
        row = Consent(
            id=body.id, production_id=production.id, talent=body.talent, given_by=body.given_by,
            scope=body.scope.model_dump_json(), guild_terms=body.guild_terms, document_sha256=body.document_sha256,
            status="active", created_by=actor.user_id, created_at=now, signed_json="",
        )
        session.add(row)
        session.flush()
        entry = _entry(row, body.production, _names(session))
        row.signed_json = json.dumps(keyring.sign_document(entry.model_dump(mode="json")), sort_keys=True)
        audit.append(session, actor.name, action, obj, body.production,
                     {"talent": body.talent, "given_by": body.given_by, "document_sha256": body.document_sha256,
                      "scope": body.scope.model_dump(mode="json")})
        checkpoints.write(session, keyring)  # anchored by a signed audit checkpoint, like a decision
        return _signed(row)


def _signed(row: Consent) -> dict[str, Any]:
    signed: dict[str, Any] = json.loads(row.signed_json)
    return signed


def withdraw(db: Database, actor: Actor, consent_id: str, reason: str, keyring: Any) -> dict[str, Any]:
    action, obj = "consent.withdraw", f"consent:{consent_id}"
    with db.write() as session:
        row = session.get(Consent, consent_id)
        code = row.production.code if row is not None else None
        if row is None or code is None or not actor.in_production(code):
            raise ServiceError(404, f"consent {consent_id} not found")
        if not actor.has_role(code, *LEGAL_ROLES):
            raise refuse(403, f"only legal of {code} can withdraw consent", action, obj, code)
        if row.status == "withdrawn":
            return _signed(row) | {"already_withdrawn": True}
        row.status, row.withdrawn_by, row.withdrawn_at = "withdrawn", actor.user_id, utcnow()
        row.withdrawn_reason = reason
        session.flush()
        entry = _entry(row, code, _names(session))
        row.signed_json = json.dumps(keyring.sign_document(entry.model_dump(mode="json")), sort_keys=True)
        audit.append(session, actor.name, action, obj, code, {"reason": reason})
        checkpoints.write(session, keyring)
        return _signed(row)


def entries(db: Database, codes: list[str]) -> list[ConsentEntry]:
    with db.read() as session:
        rows = session.execute(
            select(Consent, Production.code).join(Production, Production.id == Consent.production_id)
            .where(Production.code.in_(codes)).order_by(Consent.created_at, Consent.id)
        ).all()
        names = _names(session)
        return [_entry(row, code, names) for row, code in rows]


def registry(db: Database, actor: Actor, production: str | None) -> dict[str, Any]:
    """The consent list of the caller's productions (or one of them), unsigned: the API layer signs it."""
    codes = actor.productions()
    if production is not None:
        if production not in codes:
            raise ServiceError(404, f"production {production} not found")
        codes = [production]
    return {"productions": codes, "generated_at": iso(utcnow()),
            "consents": [e.model_dump(mode="json") for e in entries(db, codes)]}


def book_for(db: Database) -> ConsentBook:
    """Every entry on this service, for the service's own decisions (its policy judges version 2 records)."""
    with db.read() as session:
        stamp = session.execute(
            select(func.count(), func.max(Consent.created_at), func.max(Consent.withdrawn_at))
        ).one()
    key = tuple(str(v) for v in stamp)
    cached = _books.get("book")
    if cached is not None and cached[0] is db and cached[1] == key:
        return cached[2]
    with db.read() as session:
        codes = [c for (c,) in session.execute(select(Production.code)).all()]
    book = ConsentBook(entries(db, codes), source="the service's consent registry")
    _books["book"] = (db, key, book)
    return book


_books: dict[str, tuple[Database, tuple[str, ...], ConsentBook]] = {}


# ------------------------------------------------------------------------------------------------ HTTP

router = APIRouter(prefix=API_PREFIX, tags=["consents"], generate_unique_id_function=lambda route: route.name)


def _answers(success: dict[int, str], *errors: int) -> dict[int | str, dict[str, Any]]:
    from clearance.server.api import answers

    return answers(success, *errors)


def _actor(request: Request) -> Actor:
    from clearance.server.api import current_actor

    return current_actor(request)


class ConsentView(ConsentEntry):
    """A consent entry as the service signed it when it last changed."""

    model_config = ConfigDict(extra="allow", frozen=True)

    signature: DocumentSignature | None = None
    already_withdrawn: bool | None = None


class ConsentList(BaseModel):
    model_config = ConfigDict(extra="allow")

    productions: list[str]
    generated_at: str | None
    consents: list[ConsentEntry]
    signature: DocumentSignature


@router.get("/consents", summary="The consent registry (signed list)", response_model=ConsentList,
            responses=_answers({200: "The signed consent list of your productions"}, 401, 404, 422))
def list_consents(
    request: Request,
    production: str | None = Query(default=None, max_length=100, description="One production; default: all yours."),
) -> dict[str, Any]:
    """Consent entries of your productions, signed with the service's key (`signature: {key_id, value}`); """ \
        """`clearance consents pull` caches it for offline checks."""
    document = registry(request.app.state.db, _actor(request), production)
    signed: dict[str, Any] = request.app.state.keyring().sign_document(document)
    return signed


@router.get("/consents/{consent_id}", summary="One consent entry, as signed", response_model=ConsentView,
            responses=_answers({200: "The entry as signed when it last changed"}, 401, 404, 422))
def get_consent(consent_id: str, request: Request) -> dict[str, Any]:
    actor = _actor(request)
    with request.app.state.db.read() as session:
        row = session.get(Consent, consent_id)
        if row is None or not actor.in_production(row.production.code):
            raise ServiceError(404, f"consent {consent_id} not found")
        return dict(json.loads(row.signed_json))


@router.post("/consents", summary="Register a consent (legal)", status_code=201, response_model=ConsentView,
             responses=_answers({201: "Registered, signed and audited"}, 401, 403, 404, 409, 413, 422))
def create_consent(body: ConsentRequest, request: Request) -> JSONResponse:
    result = create(request.app.state.db, _actor(request), body, request.app.state.keyring())
    return JSONResponse(result, status_code=201)


@router.post("/consents/{consent_id}/withdraw", summary="Withdraw a consent (legal)", response_model=ConsentView,
             responses=_answers({200: "Withdrawn, signed and audited"}, 401, 403, 404, 413, 422))
def withdraw_consent(consent_id: str, body: WithdrawRequest, request: Request) -> dict[str, Any]:
    return withdraw(request.app.state.db, _actor(request), consent_id, body.reason, request.app.state.keyring())


pages = APIRouter(include_in_schema=False)


@pages.get("/consents", name="consents_page")
def consents_page(request: Request, production: str | None = None) -> HTMLResponse:
    from clearance.server.web import page_actor, render

    actor = page_actor(request)
    codes = actor.productions()
    if production:
        if production not in codes:
            raise ServiceError(404, f"production {production} not found")
        codes = [production]
    items = entries(request.app.state.db, codes)
    today = utcnow().date()
    rows = []
    for entry in items:
        scope = entry.scope
        state: str = entry.status
        if state == "active" and scope.ends_on is not None and scope.ends_on < today:
            state = "expired"
        elif state == "active" and scope.starts_on > today:
            state = "not yet in force"
        rows.append({"entry": entry, "state": state})
    return render(request, "consents.html", title="Consent registry", rows=rows, production=production or "",
                  legal=actor.productions_with(*LEGAL_ROLES))
