"""Who is asking: API tokens (stored as sha256), web passwords (scrypt, salted), web sessions, roles."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from clearance.server.models import ApiToken, Production, Role, ServerSecret, User, WebSession

TOKEN_PREFIX = "clr_"  # noqa: S105 - the visible prefix of every API token, not a secret
APPROVER_ROLES = ("approver",)
REVOKER_ROLES = ("approver", "admin")
OVERSIGHT_ROLES = ("approver", "admin")  # may read the queue and the audit log
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass
class Actor:
    """A signed-in user and their roles, per production code."""

    user_id: int
    name: str
    roles: dict[str, set[str]] = field(default_factory=dict)
    # production code -> the vendor whose records alone this user may see there (vendor isolation applies:
    # an artist, not an approver or admin, in a production with the setting on). Absent: sees all.
    confined: dict[str, str | None] = field(default_factory=dict)

    def sees_vendor(self, production: str, vendor: str | None) -> bool:
        return production not in self.confined or self.confined[production] == vendor

    def _confine(self, isolation: dict[str, bool], vendors: dict[str, str | None]) -> Actor:
        # An artist with no vendor works for the production itself (in house): not confined.
        self.confined = {
            code: vendors[code] for code, roles in self.roles.items()
            if isolation.get(code, True) and code in vendors and not roles & set(OVERSIGHT_ROLES)
        }
        return self

    def productions(self) -> list[str]:
        return sorted(self.roles)

    def has_role(self, production: str, *roles: str) -> bool:
        return bool(self.roles.get(production, set()) & set(roles))

    def in_production(self, production: str) -> bool:
        return production in self.roles

    def productions_with(self, *roles: str) -> list[str]:
        return sorted(code for code, have in self.roles.items() if have & set(roles))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def iso(value: datetime | None) -> str | None:
    """A stored time as the API shows it: ISO 8601 in UTC with a ``Z``."""
    if value is None:
        return None
    return aware(value).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}${salt}${hash}".format(
        **_SCRYPT, salt=base64.b64encode(salt).decode(), hash=base64.b64encode(digest).decode()
    )


def check_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), dklen=32, n=int(n), r=int(r), p=int(p)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


def actor_for(session: Session, user: User) -> Actor:
    roles: dict[str, set[str]] = {}
    isolation: dict[str, bool] = {}
    vendors: dict[str, str | None] = {}
    for role in session.execute(select(Role).where(Role.user_id == user.id)).scalars():
        code = role.production.code
        roles.setdefault(code, set()).add(role.role)
        isolation[code] = role.production.vendor_isolation
        if role.vendor:
            vendors[code] = role.vendor
    return Actor(user.id, user.name, roles)._confine(isolation, vendors)


_TOKEN_QUERY = (
    select(User.id, User.name, Role.role, Production.code, Production.vendor_isolation, Role.vendor)
    .select_from(ApiToken)
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(Role, Role.user_id == User.id)
    .outerjoin(Production, Production.id == Role.production_id)
)


def actor_from_token(conn: Connection | Session, token: str) -> Actor | None:
    """The token's user and every role they hold, in one query (it runs on every API request)."""
    rows = conn.execute(
        _TOKEN_QUERY.where(
            ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None), User.disabled.is_(False)
        )
    ).all()
    if not rows:
        return None
    actor = Actor(rows[0][0], rows[0][1])
    isolation: dict[str, bool] = {}
    vendors: dict[str, str | None] = {}
    for _uid, _name, role, code, isolated, vendor in rows:
        if role is not None and code is not None:
            actor.roles.setdefault(code, set()).add(role)
            isolation[code] = bool(isolated)
            if vendor:
                vendors[code] = vendor
    return actor._confine(isolation, vendors)


def issue_token(session: Session, user: User, label: str = "") -> str:
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), label=label, created_at=utcnow()))
    session.flush()
    return token


# ------------------------------------------------------------------------------------------ sessions


def session_key(session: Session) -> bytes:
    """The key that signs session cookies, kept in the database so every server process shares it."""
    row = session.get(ServerSecret, "session_key")
    if row is None:
        row = ServerSecret(name="session_key", value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return bytes.fromhex(row.value)


def _sign(key: bytes, session_id: str) -> str:
    return hmac.new(key, session_id.encode(), hashlib.sha256).hexdigest()


def start_session(session: Session, user: User, key: bytes, hours: float) -> tuple[str, str]:
    """A new login: returns (cookie value, CSRF token)."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # logins are rare: tidy up here
    session.add(
        WebSession(
            id_hash=token_hash(session_id), user_id=user.id, csrf_token=csrf,
            created_at=now, expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return f"{session_id}.{_sign(key, session_id)}", csrf


def read_session(session: Session, cookie: str, key: bytes) -> tuple[Actor, WebSession] | None:
    session_id, _, signature = cookie.partition(".")
    if not session_id or not hmac.compare_digest(signature, _sign(key, session_id)):
        return None
    row = session.get(WebSession, token_hash(session_id))
    if row is None or aware(row.expires_at) <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return actor_for(session, user), row


def end_session(session: Session, cookie: str) -> None:
    session_id = cookie.partition(".")[0]
    row = session.get(WebSession, token_hash(session_id))
    if row is not None:
        session.delete(row)
