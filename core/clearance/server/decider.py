"""The server's own policy, which decides every submitted record."""

from __future__ import annotations

from clearance.decision import Decision
from clearance.record import UseRecord


class Decider:
    """The policy loaded once at start (a per-request reload would cost more than the decision)."""

    def __init__(self, policy_files: list[str]) -> None:
        from clearance.policy import load_policy

        self.policy = load_policy(policy_files or None)
        self.version = str(getattr(self.policy, "version", ""))

    def decide(self, record: UseRecord) -> Decision:
        from clearance.policy import evaluate

        return evaluate(record, self.policy)
