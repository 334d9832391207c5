"""The demo production for `clearance demo`: users with passwords, example records, one decided."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from clearance.record import UseRecord
from clearance.server import decisions, reads, writer
from clearance.server.admin import add_user
from clearance.server.app import KeyRingHolder
from clearance.server.auth import actor_for
from clearance.server.config import ServerConfig
from clearance.server.decider import Decider
from clearance.server.errors import ServiceError
from clearance.server.models import User
from clearance.server.runner import preflight

DEMO_PRODUCTION = "EXAMPLE_S01"
DEMO_USERS = (("artist", "artist"), ("approver", "approver"), ("admin", "admin"))
DEMO_ACTOR = "demo-seed"


@dataclass
class Login:
    role: str
    name: str
    password: str


@dataclass
class Seeded:
    production: str
    records: int
    waiting: int
    logins: list[Login] = field(default_factory=list)
    artist_token: str = ""


def example_records() -> list[UseRecord]:
    """The bundled example production (clearance.examples ships in the same distribution)."""
    from clearance.examples import example_records as bundled

    return list(bundled())


def seed(config: ServerConfig) -> Seeded:
    db = preflight(config)
    records = example_records()
    production = records[0].production if records else DEMO_PRODUCTION
    logins: list[Login] = []
    tokens: dict[str, str] = {}
    with db.write() as session:
        for role, name in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            _user, token, _notes = add_user(session, name, role, production, password, actor=DEMO_ACTOR,
                                            token_label="demo")  # noqa: S106 - a label, not a password
            logins.append(Login(role, name, password))
            tokens[name] = token
    with db.read() as session:
        artist = actor_for(session, session.execute(select(User).where(User.name == "artist")).scalar_one())
        approver = actor_for(session, session.execute(select(User).where(User.name == "approver")).scalar_one())
    decider = Decider(config.policy)
    stored: list[dict[str, Any]] = []
    for record in records:
        if record.production != production or not artist.in_production(record.production):
            continue
        stored.append(writer.submit(db, artist, record, decider).body)
    # One decided record, so the register and the record page show an approval from the start.
    waiting = [s for s in stored if s["status"] == "waiting"]
    if len(waiting) > 1 and not any(s["status"] == "approved" for s in stored):
        first = str(waiting[0]["record"]["id"])
        with contextlib.suppress(ServiceError):  # e.g. declared by "approver": leave it waiting
            decisions.decide(db, approver, first, "approve", "Background use only; not in marketing material.",
                             None, KeyRingHolder(config.keys_dir)(), via="demo",
                             reviewed_version=int(waiting[0]["version"]))
    count = len(reads.queue(db, approver))
    db.dispose()
    return Seeded(production, len(stored), count, logins, tokens["artist"])
