"""Checking a login without holding any database lock, at the same cost whether or not the user exists.

The password is hashed (scrypt, tens of milliseconds) after a plain read, outside the write lock, so a
login flood costs CPU but never makes submissions wait for the lock. An unknown or disabled user is
checked against a stand-in hash of the same parameters: the answer takes as long and reads the same.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from fastapi import Request
from sqlalchemy import select
from starlette.types import Scope

from clearance.server import audit
from clearance.server.auth import check_password, hash_password
from clearance.server.db import Database
from clearance.server.models import User
from clearance.server.throttle import FailureLog


@lru_cache(maxsize=1)
def _stand_in_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def check_login(db: Database, name: str, password: str) -> int | None:
    """The user's id when the name and password are right and the user is enabled, else None."""
    with db.read() as session:
        row = session.execute(
            select(User.id, User.password_hash, User.disabled).where(User.name == name.strip())
        ).first()
    usable = row is not None and not row.disabled and bool(row.password_hash)
    stored = row.password_hash if usable and row is not None else _stand_in_hash()
    good = check_password(password, stored)
    return row.id if good and usable and row is not None else None


def client_address(request: Request) -> str:
    return address_of(request.scope)


def address_of(scope: Scope) -> str:
    """The client's address as the throttle counts it (a proxy's forwarded address when uvicorn trusts it)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def note_failure(db: Database, failures: FailureLog, source: str, kind: str) -> None:
    """Count an unauthenticated failure; write one audit entry when it opens the source's window."""
    previous = failures.count(source)
    if previous is not None:
        log_failure_window(db, failures, source, kind, previous)


def log_failure_window(db: Database, failures: FailureLog, source: str, kind: str, previous: int) -> None:
    """The one audit entry of a source's new window, carrying the previous window's count."""
    with db.write() as session:
        audit.append(session, "anonymous", "auth.failures", f"address:{source}", None,
                     {"kind": kind, "window_seconds": failures.window_seconds,
                      "previous_window_failures": previous})
