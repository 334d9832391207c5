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
    """The bundled example production (clearance.examples) when present, else a few built-in uses."""
    try:
        from clearance.examples import example_records as bundled
    except ImportError:
        return [UseRecord.model_validate(_CLEAN | data) for data in _BUILT_IN]
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


_CLEAN: dict[str, Any] = {
    "inputs": {
        "studio_proprietary": "no", "personal_data": "no", "third_party_material": "no", "talent_material": "no",
    },
    "training": {"fine_tuned": "no"},
    "prompt_references": {"copyrighted_work": "no", "public_figure": "no", "deceased_person": "no"},
    "output": {"resembles_unowned_material": "no"},
    "talent": {"digital_replica": "no", "model_from_other_production": "no", "replaces_union_work": "no"},
    "realism": {"depicts_real_people_or_events": "no", "presented_as_authentic": "no"},
}

_BUILT_IN: list[dict[str, Any]] = [
    {
        "id": "3f0c6a52-9d1e-4a57-8a1c-0d2b7c1e9a01", "production": DEMO_PRODUCTION, "vendor": "Example VFX",
        "declared_by": "jdoe", "description": "Mood board frames for the harbour at night (ideation only).",
        "tool": {"name": "Firefly", "provider": "Adobe", "environment": "enterprise",
                 "trains_on_inputs": "no", "retains_inputs": "no"},
        "use": {"media": "image", "stage": "ideation", "in_final_deliverable": "no"},
        "targets": [{"kind": "asset", "ref": "harbour_moodboard"}],
    },
    {
        "id": "3f0c6a52-9d1e-4a57-8a1c-0d2b7c1e9a02", "production": DEMO_PRODUCTION, "vendor": "Example VFX",
        "declared_by": "jdoe", "description": "Generated shop signage in the background of the market shots.",
        "tool": {"name": "Firefly", "provider": "Adobe", "environment": "enterprise",
                 "trains_on_inputs": "no", "retains_inputs": "no"},
        "use": {"media": "image", "stage": "final", "in_final_deliverable": "yes", "creative_element": "background",
                "prominence": "incidental"},
        "targets": [{"kind": "shot", "ref": "sh010"}, {"kind": "shot", "ref": "sh020"}],
    },
    {
        "id": "3f0c6a52-9d1e-4a57-8a1c-0d2b7c1e9a03", "production": DEMO_PRODUCTION, "vendor": "Example VFX",
        "declared_by": "mlee", "description": "Voice clone of the lead for two pickup lines, with consent on file.",
        "tool": {"name": "ElevenLabs", "environment": "enterprise", "trains_on_inputs": "no",
                 "retains_inputs": "no"},
        "use": {"media": "voice", "stage": "final", "in_final_deliverable": "yes", "creative_element": "main_character",
                "prominence": "story_relevant"},
        "talent": {"digital_replica": "yes", "consent_documented": "yes", "consent_ref": "contracts/lead-voice.pdf",
                   "model_from_other_production": "no", "replaces_union_work": "no"},
        "targets": [{"kind": "shot", "ref": "sh045"}],
    },
]
