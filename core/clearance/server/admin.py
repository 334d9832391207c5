"""Administration shared by `clearance admin` and `clearance demo`: productions, users, roles, tokens."""

from __future__ import annotations

import getpass
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearance.errors import ClearanceError
from clearance.server import audit
from clearance.server.auth import hash_password, issue_token, utcnow
from clearance.server.models import ROLES, Production, Role, User

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def check_code(code: str) -> str:
    if not CODE.match(code):
        raise ClearanceError(f"production code {code!r} is not valid: use letters, digits, . _ - (e.g. EXAMPLE_S01)")
    return code


def add_production(session: Session, code: str, name: str, actor: str) -> tuple[Production, bool]:
    existing = session.execute(select(Production).where(Production.code == code)).scalar_one_or_none()
    if existing is not None:
        return existing, False
    prod = Production(code=code, name=name or code, created_at=utcnow())
    session.add(prod)
    session.flush()
    audit.append(session, actor, "production.create", f"production:{code}", code, {"name": prod.name})
    return prod, True


def ensure_production(session: Session, code: str, name: str = "", actor: str | None = None) -> tuple[Production, bool]:
    return add_production(session, check_code(code), name, actor or cli_actor())


def add_user(
    session: Session,
    name: str,
    role: str,
    production: str,
    password: str | None = None,
    actor: str | None = None,
    token_label: str = "",
) -> tuple[User, str, list[str]]:
    """Create the user (or reuse them), grant the role, set the password if given; returns a new token.

    Returns (user, token, notes) where notes say what else happened (production created, user existed).
    """
    actor = actor or cli_actor()
    if not NAME.match(name):
        raise ClearanceError(f"user name {name!r} is not valid: use letters, digits, . _ @ - (max 100)")
    if role not in ROLES:
        raise ClearanceError(f"role {role!r} is not one of {', '.join(ROLES)}")
    notes: list[str] = []
    prod, created = ensure_production(session, production, actor=actor)
    if created:
        notes.append(f"production {production} created")
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        user = User(name=name, created_at=utcnow(), disabled=False)
        session.add(user)
        session.flush()
        audit.append(session, actor, "user.create", f"user:{name}")
    else:
        notes.append(f"user {name} already existed")
    has = session.execute(
        select(Role).where(Role.user_id == user.id, Role.production_id == prod.id, Role.role == role)
    ).scalar_one_or_none()
    if has is None:
        session.add(Role(user_id=user.id, production_id=prod.id, role=role))
        session.flush()
        audit.append(session, actor, "role.grant", f"user:{name}", production, {"role": role})
    if password is not None:
        if len(password) < 8:
            raise ClearanceError("the password is too short: use at least 8 characters")
        user.password_hash = hash_password(password)
        audit.append(session, actor, "user.password", f"user:{name}")
    token = issue_token(session, user, token_label or f"{role}@{production}")
    audit.append(session, actor, "token.issue", f"user:{name}", production, {"label": token_label or role})
    return user, token, notes


def list_users(session: Session) -> list[tuple[str, bool, bool, list[str]]]:
    users = session.execute(select(User).order_by(User.name)).scalars().all()
    out = []
    for user in users:
        roles = [f"{r.role}@{r.production.code}" for r in session.execute(
            select(Role).where(Role.user_id == user.id)).scalars()]
        out.append((user.name, user.password_hash is not None, user.disabled, sorted(roles)))
    return out


def disable_user(session: Session, name: str, actor: str | None = None) -> int:
    """Lock a user out: web login off, every API token revoked, web sessions ended. Returns tokens revoked."""
    from sqlalchemy import delete, update

    from clearance.server.models import ApiToken, WebSession

    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise ClearanceError(f"there is no user {name!r}; `clearance admin user list` shows them")
    user.disabled = True
    result = session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    revoked = int(getattr(result, "rowcount", 0))  # an UPDATE's result is a CursorResult, which has rowcount
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.append(session, actor or cli_actor(), "user.disable", f"user:{name}", None, {"tokens_revoked": revoked})
    return int(revoked or 0)
