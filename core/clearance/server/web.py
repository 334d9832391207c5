"""The pages for approvers and coordinators: login, queue, record, decide, register (CSV), audit log.

Server-rendered with Jinja2 (autoescape on: everything a user typed is shown as text), no scripts, so the
Content-Security-Policy forbids every script. Every POST form carries the session's CSRF token.
"""

from __future__ import annotations

import csv
import hmac
import io
import json
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from clearance import __version__
from clearance.server import audit, decisions, reads, revocations
from clearance.server.auth import (
    APPROVER_ROLES,
    OVERSIGHT_ROLES,
    REVOKER_ROLES,
    Actor,
    check_password,
    end_session,
    read_session,
    session_key,
    start_session,
)
from clearance.server.errors import ServiceError
from clearance.server.history import changes, record_sections
from clearance.server.models import RECORD_STATUSES, User

router = APIRouter(include_in_schema=False)
SESSION_COOKIE = "clearance_session"
LOGIN_CSRF_COOKIE = "clearance_login_csrf"

templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _short_time(value: str | None) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


templates.filters["when"] = _short_time
templates.globals["version"] = __version__


class LoginRequired(Exception):
    pass


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("actor", getattr(request.state, "page_actor", None))
    context.setdefault("csrf", getattr(request.state, "csrf", ""))
    html = templates.get_template(name).render(request=request, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def error_page(request: Request, status: int, message: str) -> Response:
    if status == 401:
        return _to_login(request)
    return render(request, "error.html", status=status, status_code=status, message=message)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def page_actor(request: Request) -> Actor:
    """The signed-in user, or 401 (which the error handler turns into a redirect to the login page)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise ServiceError(401, "please log in")
    db = request.app.state.db
    key = _key(request)
    with db.read() as session:
        found = read_session(session, cookie, key)
    if found is None:
        raise ServiceError(401, "your login has expired; please log in again")
    actor, web_session = found
    request.state.page_actor = actor
    request.state.actor_name = actor.name
    request.state.csrf = web_session.csrf_token
    return actor


def _key(request: Request) -> bytes:
    key = getattr(request.app.state, "session_key", None)
    if key is None:
        with request.app.state.db.write() as session:
            key = session_key(session)
        request.app.state.session_key = key
    return key


def check_csrf(request: Request, token: str) -> None:
    expected = getattr(request.state, "csrf", "")
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ServiceError(403, "the form has expired or did not come from this site; reload the page and try again",
                           audit=True, action="csrf", obj=request.url.path)


def _safe_next(target: str | None) -> str:
    # Only paths on this site: a crafted link must not send a fresh login elsewhere.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"


# ------------------------------------------------------------------------------------------- login


@router.get("/", name="home")
def home() -> RedirectResponse:
    return RedirectResponse("/queue", status_code=303)


@router.get("/login", name="login_page")
def login_page(request: Request, next: str | None = None, error: str | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", login_csrf=token, next=_safe_next(next), error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=3600, path="/login")
    return response


@router.post("/login")
def login(
    request: Request,
    name: str = Form(default=""),
    password: str = Form(default=""),
    csrf_token: str = Form(default=""),
    next: str = Form(default="/queue"),
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        return login_page(request, next, "The login form expired. Please try again.")
    db = request.app.state.db
    config = request.app.state.config
    key = _key(request)  # before the write below: the writer lock is not re-entrant
    with db.write() as session:
        user = session.execute(select(User).where(User.name == name.strip())).scalar_one_or_none()
        if user is None or user.disabled or not check_password(password, user.password_hash):
            audit.append(session, name.strip()[:100] or "anonymous", "login.failed", f"user:{name.strip()[:100]}")
            failed = True
        else:
            value, _csrf = start_session(session, user, key, config.session_hours)
            audit.append(session, user.name, "login", f"user:{user.name}")
            failed = False
    if failed:
        response = login_page(request, next, "Unknown name or wrong password.")
        response.status_code = 401
        return response
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=int(config.session_hours * 3600), path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form(default="")) -> Response:
    page_actor(request)
    check_csrf(request, csrf_token)
    with request.app.state.db.write() as session:
        end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ------------------------------------------------------------------------------------------- pages


@router.get("/queue", name="queue_page")
def queue_page(request: Request) -> HTMLResponse:
    actor = page_actor(request)
    items = reads.queue(request.app.state.db, actor)
    return render(request, "queue.html", items=items, title="Waiting for a decision")


@router.get("/records/{record_id}", name="record_page")
def record_page(request: Request, record_id: str, done: str | None = None) -> HTMLResponse:
    actor = page_actor(request)
    detail = reads.record_detail(request.app.state.db, actor, record_id)
    versions = detail["versions"]
    history = []
    for index, version in enumerate(versions):
        before = versions[index - 1]["record"] if index else None
        history.append({**version, "changes": changes(before, version["record"]) if before is not None else []})
    code = detail["production"]
    latest = versions[-1]
    return render(
        request, "record.html", title=detail["record"].get("description") or record_id, detail=detail,
        sections=record_sections(detail["record"]), history=list(reversed(history)), findings=latest["decision"],
        can_decide=actor.has_role(code, *APPROVER_ROLES),
        can_revoke=actor.has_role(code, *REVOKER_ROLES),
        own=latest["submitted_by"] == actor.name or detail["record"].get("declared_by") == actor.name
        or any(v["submitted_by"] == actor.name for v in versions),
        done=done,
    )


@router.post("/records/{record_id}/decision", name="decide_form")
def decide_form(
    request: Request,
    record_id: str,
    decision: str = Form(default=""),
    conditions: str = Form(default="", max_length=10_000),
    expires_at: str = Form(default=""),
    csrf_token: str = Form(default=""),
) -> Response:
    actor = page_actor(request)
    check_csrf(request, csrf_token)
    state = request.app.state
    decisions.decide(state.db, actor, record_id, decision, conditions.strip(), expires_at.strip() or None,
                   state.keyring(), via="web")
    done = "approved" if decision == "approve" else "denied"
    return RedirectResponse(f"/records/{quote(record_id)}?done={done}", status_code=303)


@router.post("/records/{record_id}/request", name="request_form")
def request_form(request: Request, record_id: str, csrf_token: str = Form(default="")) -> Response:
    actor = page_actor(request)
    check_csrf(request, csrf_token)
    decisions.request_approval(request.app.state.db, actor, record_id)
    return RedirectResponse(f"/records/{quote(record_id)}?done=requested", status_code=303)


@router.post("/approvals/{approval_id}/revoke", name="revoke_form")
def revoke_form(
    request: Request, approval_id: str, reason: str = Form(default="", max_length=10_000),
    record_id: str = Form(default=""), csrf_token: str = Form(default=""),
) -> Response:
    actor = page_actor(request)
    check_csrf(request, csrf_token)
    if not reason.strip():
        raise ServiceError(422, "give a reason for revoking the approval", field="reason")
    result = revocations.revoke(request.app.state.db, actor, approval_id, reason.strip(), via="web")
    return RedirectResponse(f"/records/{quote(result.get('record_id') or record_id)}?done=revoked", status_code=303)


@router.get("/records/{record_id}/approvals/{approval_id}.json", name="approval_download")
def approval_download(request: Request, record_id: str, approval_id: str) -> Response:
    actor = page_actor(request)
    for approval in decisions.approvals_for(request.app.state.db, actor, record_id)["approvals"]:
        if approval["statement"]["approval_id"] == approval_id:
            return Response(
                json.dumps(approval, indent=2) + "\n", media_type="application/json",
                headers={"Content-Disposition": f'attachment; filename="approval-{approval_id}.json"'},
            )
    raise ServiceError(404, f"approval {approval_id} not found")


@router.get("/register", name="register_index")
def register_index(request: Request) -> Response:
    actor = page_actor(request)
    codes = actor.productions()
    if len(codes) == 1:
        return RedirectResponse(f"/register/{quote(codes[0])}", status_code=303)
    return render(request, "register_index.html", codes=codes, title="Production registers")


FILTERS = ("status", "stage", "media", "q")


@router.get("/register/{production}", name="register_page")
def register_page(
    request: Request, production: str, status: str | None = None, stage: str | None = None,
    media: str | None = None, q: str | None = None,
) -> Response:
    actor = page_actor(request)
    if production.endswith(".csv"):
        return _register_csv(request, actor, production[:-4], status, stage, media, q)
    items = reads.register(request.app.state.db, actor, production, status or None, stage or None,
                             media or None, q or None)
    query = "&".join(f"{k}={quote(v)}" for k, v in
                     (("status", status), ("stage", stage), ("media", media), ("q", q)) if v)
    return render(
        request, "register.html", title=f"Register: {production}", production=production, items=items,
        filters={"status": status or "", "stage": stage or "", "media": media or "", "q": q or ""},
        statuses=RECORD_STATUSES, stages=("ideation", "previs", "temp", "final"),
        medias=("image", "video", "audio", "voice", "text", "3d", "other"),
        csv_url=f"/register/{quote(production)}.csv" + (f"?{query}" if query else ""),
    )


CSV_COLUMNS = ("id", "production", "status", "outcome", "version", "description", "declared_by", "vendor", "tools",
               "media", "stage", "targets", "rules", "updated_at")


def _csv_cell(value: Any) -> str:
    text = "; ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _register_csv(
    request: Request, actor: Actor, production: str, status: str | None, stage: str | None,
    media: str | None, q: str | None,
) -> Response:
    items = reads.register(request.app.state.db, actor, production, status or None, stage or None,
                             media or None, q or None)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow([_csv_cell(item.get(c)) for c in CSV_COLUMNS])
    return Response(
        out.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{production}-register.csv"'},
    )


@router.get("/audit", name="audit_page")
def audit_page(request: Request, production: str | None = None, before: int | None = None) -> HTMLResponse:
    actor = page_actor(request)
    entries = reads.audit_entries(request.app.state.db, actor, production or None, 200, before)
    older = entries[-1]["seq"] if len(entries) == 200 else None
    return render(request, "audit.html", title="Audit log", entries=entries, production=production or "",
                  codes=actor.productions_with(*OVERSIGHT_ROLES), older=older)
