"""One key set for every host: public keys published in the database, served from it.

Each host keeps its private keys in its own keys folder. When a host opens its key ring, and when
`clearance admin keys rotate` makes a new key, the public halves (with their rotation announcements) are
written to the ``public_keys`` table; GET /api/v1/keys serves every key found there. So what a client
pulls does not depend on the host it reached, and an approval signed by any host verifies after a pull from
any host, even while the hosts sign with different keys during a rotation.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from clearance.server.auth import utcnow
from clearance.server.db import Database
from clearance.server.models import PublicKey


def publish(db: Database, keyring: Any) -> None:
    """Write this host's public keys (new ones, or ones whose document changed) to the database."""
    entries = {e["key_id"]: e for e in keyring.public_keys_document()["keys"]}
    with db.read() as session:
        held = dict(session.execute(select(PublicKey.key_id, PublicKey.document)).tuples().all())
    changed = {kid: e for kid, e in entries.items() if _comparable(held.get(kid)) != _comparable(e)}
    if not changed:
        return
    with db.write() as session:
        for kid, entry in changed.items():
            row = session.get(PublicKey, kid)
            text = json.dumps(entry, sort_keys=True)
            if row is None:
                session.add(PublicKey(key_id=kid, document=text, published_at=utcnow()))
            else:
                row.document = text


def _comparable(entry: Any) -> Any:
    if entry is None:
        return None
    data = json.loads(entry) if isinstance(entry, str) else dict(entry)
    data.pop("active", None)  # which key is active is decided when serving
    return data


def document(db: Database, keyring: Any) -> dict[str, Any]:
    """Every published key and this host's own, oldest first; the newest is marked active."""
    entries: dict[str, dict[str, Any]] = {}
    with db.read() as session:
        for text in session.execute(select(PublicKey.document)).scalars():
            entry = json.loads(text)
            entries[entry["key_id"]] = entry
    for entry in keyring.public_keys_document()["keys"]:
        entries[entry["key_id"]] = {**entries.get(entry["key_id"], {}), **entry}
    ordered = sorted(entries.values(), key=lambda e: (e.get("created_at") or "", e["key_id"]))
    for index, entry in enumerate(ordered):
        entry["active"] = index == len(ordered) - 1
    return {"keys": ordered}
