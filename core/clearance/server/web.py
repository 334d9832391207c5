"""The pages for approvers and coordinators: login, queue, record, decide, register (CSV), audit log.

Server-rendered with Jinja2 (autoescape on: everything a user typed is shown as text), no scripts, so the
Content-Security-Policy forbids every script. Every POST form carries the session's CSRF token.
"""

from __future__ import annotations

import csv
import hmac
import io
import json
import math
import re
import secrets
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from clearance import __version__
from clearance.decision import OUTCOME_RANK
from clearance.server import audit, decisions, previews, reads, revocations
from clearance.server.auth import (
    APPROVER_ROLES,
    OVERSIGHT_ROLES,
    REVOKER_ROLES,
    Actor,
    end_session,
    read_session,
    session_key,
    start_session,
)
from clearance.server.errors import ServiceError
from clearance.server.history import changes, record_sections
from clearance.server.login import check_login, client_address, note_failure
from clearance.server.models import RECORD_STATUSES, Production, User
from clearance.server.weigh import weigh

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
templates.globals["weigh"] = weigh


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
    heading = ERROR_HEADINGS.get(status, "Something went wrong")
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    back = _safe_next(referer[len(base) - 1:]) if referer.startswith(base) else None
    return render(request, "error.html", status=status, title=heading, heading=heading, message=message,
                  back=back if back and back != request.url.path else None)


ERROR_HEADINGS = {403: "Not allowed", 404: "Not found", 409: "Cannot do that", 413: "Too large",
                  422: "Please check the form", 429: "Too many attempts"}


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
    response = render(request, "login.html", title="Log in", login_csrf=token, next=_safe_next(next), error=error)
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
    throttle = request.app.state.login_throttle
    address = client_address(request)
    keys = throttle.keys(name, address)
    wait = throttle.wait_seconds(keys)
    if wait > 0:  # refused before any password is hashed
        note_failure(db, request.app.state.auth_failures, address, "login")
        seconds = max(1, math.ceil(wait))
        wait_words = "1 second" if seconds == 1 else f"{seconds} seconds"
        response = login_page(request, next, f"Too many failed attempts: try again in {wait_words}.")
        response.status_code = 429
        response.headers["Retry-After"] = str(seconds)
        return response
    user_id = check_login(db, name, password)  # hashed outside any database lock
    if user_id is None:
        throttle.failed(keys)
        note_failure(db, request.app.state.auth_failures, address, "login")
        response = login_page(request, next, "Unknown name or wrong password.")
        response.status_code = 401
        return response
    throttle.succeeded(keys[0])
    key = _key(request)  # before the write below: the writer lock is not re-entrant
    with db.write() as session:
        user = session.get(User, user_id)
        if user is None:  # removed between the check and now
            raise ServiceError(401, "Unknown name or wrong password.")
        value, _csrf = start_session(session, user, key, config.session_hours)
        audit.append(session, user.name, "login", f"user:{user.name}")
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    redirect.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=int(config.session_hours * 3600), path="/")
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return redirect


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

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SORTS = (("oldest", "oldest request first"), ("newest", "newest request first"), ("production", "production"),
         ("outcome", "policy outcome"), ("description", "description"))
MEDIAS = ("image", "video", "audio", "voice", "text", "3d", "other")


def target_label(kind: str, ref: str) -> str:
    """A target in the approver's words: "Blender object Sign", "shot sh020", "Nuke node Write1"."""
    if kind == "datablock":
        from clearance.hosts.blender import label_of

        label = label_of(ref)
        return f"Blender {label[:1].lower()}{label[1:]}" if label != ref else f"Blender datablock {ref}"
    if kind == "clip":
        scene, sep, strip = ref.partition("/")
        return f"clip {strip} (scene {scene})" if sep and strip else f"clip {ref}"
    if kind == "node":
        return f"Nuke node {ref}"
    if kind == "file":
        return f"file {PurePosixPath(ref.replace(chr(92), '/')).name or ref}"
    return f"{kind} {ref}"


def _short(text: str, limit: int = 80) -> str:
    """A page title's worth of a description: its first line, at most ``limit`` characters."""
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def _targets(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": f"{t['kind']}:{t['ref']}", "kind": t["kind"], "ref": t["ref"],
         "label": target_label(t["kind"], t["ref"]), "path": t.get("path"), "sha256": t.get("sha256")}
        for t in body.get("targets") or []
    ]


def _production_names(request: Request) -> dict[str, str]:
    with request.app.state.db.read() as session:
        rows = session.execute(select(Production.code, Production.name)).tuples().all()
    return {code: (name if name and name != code else code) for code, name in rows}


def _name_of(names: dict[str, str], code: str) -> str:
    name = names.get(code, code)
    return code if name == code else f"{name} ({code})"


def _preview_keys(request: Request, record_ids: list[str]) -> dict[str, set[str]]:
    if not record_ids:
        return {}
    return previews.keys_for(request.app.state.db, record_ids)


def _own(actor: Actor, item: dict[str, Any]) -> bool:
    return actor.name in (item.get("declared_by"), item.get("requested_by"))


def _waiting(request: Request, actor: Actor) -> list[dict[str, Any]]:
    names = _production_names(request)
    items = reads.queue(request.app.state.db, actor)
    shown = _preview_keys(request, [i["id"] for i in items])
    for item in items:
        item["production_name"] = _name_of(names, item["production"])
        item["targets"] = [{"key": t, "label": target_label(*t.split(":", 1)) if ":" in t else t}
                           for t in item.get("targets", [])]
        item["previews"] = shown.get(item["id"], set())
        item["own"] = _own(actor, item)
        rules = [f["rule"] for f in item["findings"] if f.get("outcome") != "notify"]
        item["weigh"] = [f"{r}: {weigh(r)}" for r in dict.fromkeys(rules)]
        item["rule_set"] = tuple(sorted(set(rules)))
    return items


def next_waiting(request: Request, actor: Actor, after: str | None = None) -> dict[str, Any] | None:
    """The oldest request this approver can decide on, other than ``after``."""
    for item in _waiting(request, actor):
        if item["id"] != after and item["can_decide"] and not item["own"]:
            return item
    return None


@router.get("/queue", name="queue_page")
def queue_page(
    request: Request, sort: str = "oldest", production: str = "", rule: str = "", media: str = "", q: str = "",
) -> HTMLResponse:
    actor = page_actor(request)
    every = _waiting(request, actor)
    items = every
    if production:
        items = [i for i in items if i["production"] == production]
    if rule:
        items = [i for i in items if rule in i["rules"]]
    if media:
        items = [i for i in items if i["media"] == media]
    if q:
        needle = q.lower()
        items = [i for i in items if needle in json.dumps(i, ensure_ascii=False, default=str).lower()]
    keys = {
        "oldest": lambda i: i["requested_at"] or "",
        "production": lambda i: (i["production_name"], i["requested_at"] or ""),
        "outcome": lambda i: (-OUTCOME_RANK.get(i["outcome"], 0), i["requested_at"] or ""),
        "description": lambda i: (i["description"] or "").lower(),
    }
    if sort == "newest":
        items = sorted(items, key=lambda i: i["requested_at"] or "", reverse=True)
    else:
        items = sorted(items, key=keys.get(sort, keys["oldest"]))
    like: dict[tuple[str, tuple[str, ...]], int] = {}
    for item in every:
        like[(item["production"], item["rule_set"])] = like.get((item["production"], item["rule_set"]), 0) + 1
    for item in items:
        item["like_count"] = like[(item["production"], item["rule_set"])] - 1 if item["rule_set"] else 0
        item["like_rule"] = item["rule_set"][0] if item["rule_set"] else ""
    codes = sorted({i["production"] for i in every})
    names = {i["production"]: i["production_name"] for i in every}
    return render(
        request, "queue.html", title=f"Queue: {len(items)} waiting for a decision", items=items,
        filters={"sort": sort, "production": production, "rule": rule, "media": media, "q": q},
        filtered=bool(production or rule or media or q), sorts=SORTS, medias=MEDIAS,
        productions=[(c, names[c]) for c in codes], rules=sorted({r for i in every for r in i["rules"]}),
        any_decidable=any(i["can_decide"] and not i["own"] for i in items),
    )


DONE_TEXT = {"approved": "Version {v} approved.", "denied": "Version {v} denied.", "revoked": "Approval revoked.",
             "requested": "Approval requested."}


def _record_context(
    request: Request, actor: Actor, record_id: str, *, done: str | None = None, form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, reviewed: int | None = None,
) -> dict[str, Any]:
    detail = reads.record_detail(request.app.state.db, actor, record_id)
    versions = detail["versions"]
    history = []
    for index, version in enumerate(versions):
        before = versions[index - 1]["record"] if index else None
        history.append({**version, "changes": changes(before, version["record"]) if before is not None else []})
    code = detail["production"]
    latest = versions[-1]
    n = detail["latest_version"]
    # An approval of an earlier version still holds when later versions changed nothing it binds.
    live = [a for a in detail["approvals"] if not a["revoked_at"]]
    denial = next((d for d in reversed(detail["denials"]) if d["version"] == n), None)
    decided = detail["status"] in ("approved", "denied")
    stale = None
    if reviewed is not None and reviewed != n:
        seen = next((v for v in versions if v["version"] == reviewed), None)
        stale = {"reviewed": reviewed, "changes": changes(seen["record"], latest["record"]) if seen else []}
    following = next_waiting(request, actor, after=record_id)
    done_text = DONE_TEXT.get(done or "", "").format(v=n) if done else None
    names = _production_names(request)
    return {
        "title": f"{_short(detail['record'].get('description') or record_id)} · {detail['status']}",
        "detail": detail, "latest": latest, "sections": record_sections(detail["record"]),
        "history": list(reversed(history)), "findings": latest["decision"],
        "can_decide": actor.has_role(code, *APPROVER_ROLES),
        "can_revoke": actor.has_role(code, *REVOKER_ROLES),
        "own": latest["submitted_by"] == actor.name or detail["record"].get("declared_by") == actor.name
        or any(v["submitted_by"] == actor.name for v in versions),
        "latest_approval": live[-1] if live and detail["status"] == "approved" else None,
        "latest_denial": denial if detail["status"] == "denied" else None,
        "done": done_text, "done_decided": done in ("approved", "denied") and decided,
        "next_id": following["id"] if following else None,
        "next_title": (following["description"] or following["id"]) if following else "",
        "targets": _targets(detail["record"]), "previews": _preview_keys(request, [record_id]).get(record_id, set()),
        "production_name": _name_of(names, code), "form": {"conditions": "", "expires_at": "", "reason": ""}
        | (form or {}), "errors": errors or {}, "stale": stale,
    }


@router.get("/records/{record_id}", name="record_page")
def record_page(request: Request, record_id: str, done: str | None = None) -> HTMLResponse:
    actor = page_actor(request)
    return render(request, "record.html", **_record_context(request, actor, record_id, done=done))


def _form_errors(decision: str, reason: str, expires_at: str) -> dict[str, str]:
    """Field errors the approver can fix on the form; shown next to the field, with what was typed kept."""
    errors: dict[str, str] = {}
    if decision == "deny" and not reason:
        errors["reason"] = "A denial needs a reason: say what must change before this can be approved."
    if decision == "approve" and expires_at:
        if not DATE_ONLY.match(expires_at):
            errors["expires_at"] = f"“{expires_at}” is not a date: write it as YYYY-MM-DD, e.g. 2027-03-31."
        else:
            try:
                decisions.parse_expiry(expires_at)
            except ServiceError as exc:
                past = "in the past" in exc.message
                errors["expires_at"] = (f"{expires_at} is in the past: give a future date, or leave it empty for no "
                                        "expiry." if past else f"“{expires_at}” is not a real date: write it as "
                                        "YYYY-MM-DD, e.g. 2027-03-31.")
    return errors


def _expiry_text(expires_at: str) -> str:
    return f"at the end of {expires_at} (23:59 UTC)" if expires_at else "never"


def _version_field(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ServiceError(422, "this form does not say which version you reviewed; reload the record page "
                           "and decide again", field="version") from None


@router.post("/records/{record_id}/decision", name="decide_form")
def decide_form(
    request: Request,
    record_id: str,
    decision: str = Form(default=""),
    version: str = Form(default=""),
    content_digest: str = Form(default=""),
    conditions: str = Form(default="", max_length=10_000),
    reason: str = Form(default="", max_length=10_000),
    expires_at: str = Form(default=""),
    confirmed: str = Form(default=""),
    back: str = Form(default=""),
    csrf_token: str = Form(default=""),
) -> Response:
    """Approve or deny, in two steps: the record page's form leads to a confirmation page, which decides.

    The version (and content digest) the approver reviewed travel with both steps; a newer version on the
    server answers 409 with the record page showing what changed.
    """
    actor = page_actor(request)
    check_csrf(request, csrf_token)
    if decision not in ("approve", "deny"):
        raise ServiceError(422, "choose Approve or Deny on the record page", field="decision")
    reviewed = _version_field(version)
    form = {"conditions": conditions.strip(), "reason": reason.strip(), "expires_at": expires_at.strip()}
    detail = reads.record_detail(request.app.state.db, actor, record_id)
    if detail["latest_version"] != reviewed or (
        content_digest and detail["versions"][-1]["content_digest"] != content_digest
    ):
        context = _record_context(request, actor, record_id, form=form, reviewed=reviewed)
        return render(request, "record.html", status=409, **context)
    if back:
        return render(request, "record.html", **_record_context(request, actor, record_id, form=form))
    errors = _form_errors(decision, form["reason"], form["expires_at"])
    if errors:
        context = _record_context(request, actor, record_id, form=form, errors=errors)
        context["title"] = f"Please check the form · {context['title']}"
        return render(request, "record.html", status=422, **context)
    if confirmed != "yes":
        latest = detail["versions"][-1]
        item = {"id": record_id, "version": reviewed, "content_digest": latest["content_digest"],
                "description": detail["record"].get("description"), "outcome": latest["decision"]["outcome"],
                "production_name": _name_of(_production_names(request), detail["production"]),
                "targets": _targets(detail["record"])}
        verb = "Approve" if decision == "approve" else "Deny"
        return render(request, "confirm.html", title=f"Confirm: {verb} version {reviewed}", items=[item],
                      decision=decision, form=form, expiry_text=_expiry_text(form["expires_at"]), editable=False,
                      action=f"/records/{quote(record_id)}/decision", errors={}, bulk=False)
    text = form["conditions"] if decision == "approve" else form["reason"]
    try:
        decisions.decide(request.app.state.db, actor, record_id, decision, text, form["expires_at"] or None,
                       request.app.state.keyring(), via="web", reviewed_version=reviewed,
                       content_digest=content_digest or None)
    except decisions.StaleVersion:
        context = _record_context(request, actor, record_id, form=form, reviewed=reviewed)
        return render(request, "record.html", status=409, **context)
    done = "approved" if decision == "approve" else "denied"
    return RedirectResponse(f"/records/{quote(record_id)}?done={done}", status_code=303)


def _picks(values: list[str]) -> list[tuple[str, int]]:
    out = []
    for value in values:
        record_id, _, number = value.rpartition(":")
        try:
            out.append((record_id, int(number)))
        except ValueError:
            raise ServiceError(422, f"a selected request is not readable ({value!r}); reload the queue",
                               field="pick") from None
    return out


@router.post("/queue/decide", name="bulk_decide")
async def bulk_decide(request: Request) -> Response:
    """One decision for several like requests (same production), confirmed on a page listing each."""
    form_data = await request.form()
    return await run_in_threadpool(_bulk_decide, request, form_data.getlist("pick"),
                                   {k: str(form_data.get(k) or "") for k in
                                    ("decision", "conditions", "reason", "expires_at", "confirmed", "csrf_token")})


def _bulk_decide(request: Request, picked: list[Any], fields: dict[str, str]) -> Response:
    actor = page_actor(request)
    check_csrf(request, fields["csrf_token"])
    decision = fields["decision"]
    if decision not in ("approve", "deny"):
        raise ServiceError(422, "choose Approve selected or Deny selected", field="decision")
    picks = _picks([str(p) for p in picked])
    if not picks:
        raise ServiceError(422, "select at least one request (the Select box on each card), then choose again",
                           field="pick")
    waiting = {i["id"]: i for i in _waiting(request, actor)}
    items = []
    for record_id, number in picks:
        item = waiting.get(record_id)
        if item is None or item["version"] != number:
            raise ServiceError(409, f"request {record_id} changed or was decided since you opened the queue: "
                               "review it again", field="pick")
        items.append(item)
    if len({i["production"] for i in items}) > 1:
        raise ServiceError(422, "select requests of one production for one decision", field="pick")
    form = {"conditions": fields["conditions"].strip(), "reason": fields["reason"].strip(),
            "expires_at": fields["expires_at"].strip()}
    errors = _form_errors(decision, form["reason"], form["expires_at"]) if fields["confirmed"] == "yes" else {}
    verb = "Approve" if decision == "approve" else "Deny"
    if fields["confirmed"] != "yes" or errors:
        return render(request, "confirm.html", status=422 if errors else 200,
                      title=f"Confirm: {verb} {len(items)} requests", items=items, decision=decision, form=form,
                      expiry_text=_expiry_text(form["expires_at"]), editable=True, action="/queue/decide",
                      errors=errors, bulk=True)
    results = []
    text = form["conditions"] if decision == "approve" else form["reason"]
    past = "approved" if decision == "approve" else "denied"
    for item in items:
        try:
            decisions.decide(request.app.state.db, actor, item["id"], decision, text, form["expires_at"] or None,
                           request.app.state.keyring(), via="web", reviewed_version=item["version"])
            results.append({**item, "done": f"version {item['version']} {past}"})
        except ServiceError as exc:
            results.append({**item, "error": exc.message})
    decided = sum(1 for r in results if not r.get("error"))
    heading = f"{past.capitalize()} {decided} of {len(results)} requests"
    return render(request, "bulk_result.html", title=heading, heading=heading, results=results)


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
    result = revocations.revoke(request.app.state.db, actor, approval_id, reason.strip(), via="web",
                                keyring=request.app.state.keyring())
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


@router.get("/records/{record_id}/preview", name="preview_image")
def preview_image(request: Request, record_id: str, target: str = "") -> Response:
    actor = page_actor(request)
    data, media_type = previews.image(request.app.state.db, actor, record_id, target)
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=300",
                                                          "Content-Disposition": "inline"})


@router.get("/register", name="register_index")
def register_index(request: Request) -> Response:
    actor = page_actor(request)
    codes = actor.productions()
    if len(codes) == 1:
        return RedirectResponse(f"/register/{quote(codes[0])}", status_code=303)
    return render(request, "register_index.html", codes=codes, names=_production_names(request),
                  title="Production registers")


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
    for item in items:
        item["target_labels"] = [target_label(*t.split(":", 1)) if ":" in t else t for t in item["targets"]]
    production_name = _name_of(_production_names(request), production)
    return render(
        request, "register.html", title=f"Register: {production_name}", production=production,
        production_name=production_name, items=items,
        filters={"status": status or "", "stage": stage or "", "media": media or "", "q": q or ""},
        statuses=RECORD_STATUSES, stages=("ideation", "previs", "temp", "final"),
        medias=MEDIAS,
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
