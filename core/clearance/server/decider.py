"""The server's own policy, which decides every submitted record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clearance.decision import Decision
from clearance.record import UseRecord


class Decider:
    """The policy loaded once at start (a per-request reload would cost more than the decision)."""

    def __init__(self, policy_files: list[str]) -> None:
        from clearance.policy import load_policy

        self.policy = load_policy(policy_files or None)
        self.version = str(getattr(self.policy, "version", ""))
        self.consents: Callable[[], Any] | None = None  # the service's consent registry (set by the app)

    def decide(self, record: UseRecord) -> Decision:
        from clearance.policy import evaluate

        # Version 2 records' consent references are checked against this service's own registry.
        book = self.consents() if self.consents is not None and record.schema_version >= 2 else None
        return evaluate(record, self.policy, consents=book)
