"""The service's one error type, and the one describer that turns validation errors into its message.

Every refusal (bad input, missing role, unknown id) is a ``ServiceError`` carrying its HTTP status;
refusals flagged ``audit`` are written to the audit log in their own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from clearance.errors import HALF_CHARACTER, dotted
from clearance.server import audit
from clearance.server.db import Database


class ServiceError(Exception):
    """A refusal or bad input, with the HTTP status it maps to. ``audit`` refusals are logged."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        audit: bool = False,
        action: str = "",
        obj: str = "",
        production: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.audit = audit
        self.action = action
        self.obj = obj
        self.production = production
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.field:
            out["field"] = self.field
        return out


def refuse(status: int, message: str, action: str, obj: str, production: str | None) -> ServiceError:
    return ServiceError(status, message, audit=True, action=action, obj=obj, production=production)


def log_refusal(db: Database, actor_name: str, error: ServiceError) -> None:
    """Refusals are logged in their own transaction: the refused one was rolled back."""
    with db.write() as session:
        audit.append(
            session, actor_name, "refused", error.obj or "-", error.production,
            {"attempted": error.action, "status": error.status, "reason": error.message},
        )


REQUIRED_HINTS = {
    "id": "the client chooses a record's id (a UUID) once, before the first send, so that a retry of the "
    "same body is recognised instead of stored twice (`clearance record new` writes one)",
    "production": "the production code, e.g. EXAMPLE_S01",
    "reason": "a denial needs a reason: say what must change before it can be approved",
}
UNION_TAGS = {"approve", "deny"}  # the tags of the decision body's two shapes


def describe(errors: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Pydantic's or FastAPI's error list as one clear message naming the first field, plus every field."""
    problems = []
    for error in errors:
        loc = [p for p in error.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))]
        where = loc[0] if loc else "body"
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        if loc and loc[0] in UNION_TAGS:  # pydantic names the shape of a tagged body; the field is what matters
            loc = loc[1:]
        field = dotted(tuple(loc)) if loc else "(body)"
        kind = error.get("type", "")
        if kind == "json_invalid":
            message = f"the body is not valid JSON: {error.get('ctx', {}).get('error', 'syntax error')}"
            field = "(body)"
        elif kind == "extra_forbidden":
            message = f"field {field} is not a known field (check the spelling; `clearance schema` lists every field)"
        elif kind == "missing":
            message = f"field {field} is required" + (" in the query" if where == "query" else "")
            if where == "body" and field in REQUIRED_HINTS:
                message += f": {REQUIRED_HINTS[field]}"
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            ctx = error.get("ctx") or {}
            field = str(ctx.get("discriminator", "'decision'")).strip("'")
            message = f"field {field} must be one of {ctx.get('expected_tags', 'the documented values')}"
        elif kind == "string_unicode":
            message = f"field {field} {HALF_CHARACTER}"
        elif kind in ("string_pattern_mismatch", "string_too_short") and field in REQUIRED_HINTS:
            message = f"field {field} is empty: {REQUIRED_HINTS[field]}"
        else:
            message = f"field {field}: {error.get('msg', 'invalid value')}"
        problems.append({"field": field, "message": message})
    first = problems[0] if problems else {"field": "(body)", "message": "invalid request"}
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return {"error": first["message"] + more, "field": first["field"], "errors": problems}
