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


def add_production(
    session: Session, code: str, name: str, actor: str, vendor_isolation: bool | None = None
) -> tuple[Production, bool]:
    existing = session.execute(select(Production).where(Production.code == code)).scalar_one_or_none()
    if existing is not None:
        changes: dict[str, object] = {}
        if name and name != existing.name:
            existing.name = changes["name"] = name
        if vendor_isolation is not None and vendor_isolation != existing.vendor_isolation:
            existing.vendor_isolation = changes["vendor_isolation"] = vendor_isolation
        if changes:
            audit.append(session, actor, "production.update", f"production:{code}", code, changes)
        return existing, False
    prod = Production(code=code, name=name or code, created_at=utcnow(),
                      vendor_isolation=True if vendor_isolation is None else vendor_isolation)
    session.add(prod)
    session.flush()
    audit.append(session, actor, "production.create", f"production:{code}", code, {"name": prod.name})
    return prod, True


def ensure_production(
    session: Session, code: str, name: str = "", actor: str | None = None, vendor_isolation: bool | None = None
) -> tuple[Production, bool]:
    return add_production(session, check_code(code), name, actor or cli_actor(), vendor_isolation)


def find_production(session: Session, code: str) -> Production:
    """An existing production, or one line saying how to list or add one (a typo must not make a new one)."""
    prod = session.execute(select(Production).where(Production.code == code)).scalar_one_or_none()
    if prod is None:
        known = session.execute(select(Production.code).order_by(Production.code)).scalars().all()
        hint = f" (productions here: {', '.join(known[:10])})" if known else ""
        raise ClearanceError(f"there is no production {code!r}{hint}; add it with `clearance admin production add "
                             f"{code} --title TITLE`, or pass --create")
    return prod


def list_productions(session: Session) -> list[tuple[str, str, bool, int]]:
    """(code, title, vendor isolation, people with a role) per production."""
    from sqlalchemy import func

    counts = dict(session.execute(
        select(Role.production_id, func.count(func.distinct(Role.user_id))).group_by(Role.production_id)
    ).tuples().all())
    return [(p.code, p.name, p.vendor_isolation, int(counts.get(p.id, 0)))
            for p in session.execute(select(Production).order_by(Production.code)).scalars()]


def add_user(
    session: Session,
    name: str,
    role: str,
    production: str,
    password: str | None = None,
    actor: str | None = None,
    token_label: str = "",
    *,
    create: bool = True,
    vendor: str | None = None,
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
    if create:
        prod, created = ensure_production(session, production, actor=actor)
    else:
        prod, created = find_production(session, check_code(production)), False
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
        session.add(Role(user_id=user.id, production_id=prod.id, role=role, vendor=vendor or None))
        session.flush()
        audit.append(session, actor, "role.grant", f"user:{name}", production, {"role": role, "vendor": vendor})
    elif vendor is not None and has.vendor != (vendor or None):
        has.vendor = vendor or None
        audit.append(session, actor, "role.vendor", f"user:{name}", production, {"role": role, "vendor": vendor})
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


def _user(session: Session, name: str) -> User:
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise ClearanceError(f"there is no user {name!r}; `clearance admin user list` shows them")
    return user


def enable_user(session: Session, name: str, actor: str | None = None) -> bool:
    """Let a disabled user log in again. Their old tokens stay revoked. Returns False when already enabled."""
    user = _user(session, name)
    if not user.disabled:
        return False
    user.disabled = False
    audit.append(session, actor or cli_actor(), "user.enable", f"user:{name}")
    return True


def remove_role(session: Session, name: str, role: str, production: str, actor: str | None = None) -> None:
    user = _user(session, name)
    prod = find_production(session, production)
    found = session.execute(
        select(Role).where(Role.user_id == user.id, Role.production_id == prod.id, Role.role == role)
    ).scalar_one_or_none()
    if found is None:
        have = sorted(f"{r.role}@{r.production.code}" for r in session.execute(
            select(Role).where(Role.user_id == user.id)).scalars())
        raise ClearanceError(f"{name} has no {role} role in {production} (their roles: {', '.join(have) or 'none'})")
    session.delete(found)
    audit.append(session, actor or cli_actor(), "role.revoke", f"user:{name}", production, {"role": role})


def reset_password(session: Session, name: str, password: str, actor: str | None = None) -> int:
    """A new web password; every web login of the user ends. Returns the logins ended."""
    from sqlalchemy import delete

    from clearance.server.models import WebSession

    if len(password) < 8:
        raise ClearanceError("the password is too short: use at least 8 characters")
    user = _user(session, name)
    user.password_hash = hash_password(password)
    result = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    ended = int(getattr(result, "rowcount", 0) or 0)  # a DELETE's result is a CursorResult, which has rowcount
    audit.append(session, actor or cli_actor(), "user.password", f"user:{name}", None, {"sessions_ended": ended})
    return ended
