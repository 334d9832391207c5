"""Clearance: GenAI disclosure and clearance for film and TV pipelines.

The public Python API is the names in ``__all__`` (documented on docs/python-api.md). They are imported
on first use (PEP 562), so ``import clearance`` stays cheap: the CLI, Nuke's start-up and Blender's
add-on registration pay only for what they touch. Anything not listed here is internal and may change.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
"""The one place the version is written: pyproject.toml reads it from here."""

# name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # use records
    "UseRecord": "clearance.record",
    "Target": "clearance.record",
    "load_record": "clearance.record",
    "parse_record": "clearance.record",
    "dump_record": "clearance.record",
    "decision_digest": "clearance.record",
    # the policy and its decisions
    "Policy": "clearance.policy",
    "evaluate": "clearance.policy",
    "load_policy": "clearance.policy",
    "policy_in_force": "clearance.policy",
    "default_policy": "clearance.policy",
    "Decision": "clearance.decision",
    "Finding": "clearance.decision",
    # approvals and where a use stands
    "SignedApproval": "clearance.approvals",
    "TrustedKeys": "clearance.approvals",
    "KeyRing": "clearance.approvals",
    "Standing": "clearance.standing",
    "Judge": "clearance.standing",
    "load_trust": "clearance.trust",
    # talking to the disclosure service
    "DisclosureClient": "clearance.client",
    "Outbox": "clearance.outbox",
    # editorial and provenance
    "check_file": "clearance.editorial.check",
    "read_timeline": "clearance.editorial.timeline_io",
    "scan_file": "clearance.provenance.scanner",
    # reading documents and reporting errors
    "load_document": "clearance.documents",
    "ClearanceError": "clearance.errors",
}

__all__ = [
    "ClearanceError",
    "Decision",
    "DisclosureClient",
    "Finding",
    "Judge",
    "KeyRing",
    "Outbox",
    "Policy",
    "SignedApproval",
    "Standing",
    "Target",
    "TrustedKeys",
    "UseRecord",
    "__version__",
    "check_file",
    "decision_digest",
    "default_policy",
    "dump_record",
    "evaluate",
    "load_document",
    "load_policy",
    "load_record",
    "load_trust",
    "parse_record",
    "policy_in_force",
    "read_timeline",
    "scan_file",
]

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from clearance.approvals import KeyRing, SignedApproval, TrustedKeys
    from clearance.client import DisclosureClient
    from clearance.decision import Decision, Finding
    from clearance.documents import load_document
    from clearance.editorial.check import check_file
    from clearance.editorial.timeline_io import read_timeline
    from clearance.errors import ClearanceError
    from clearance.outbox import Outbox
    from clearance.policy import Policy, default_policy, evaluate, load_policy, policy_in_force
    from clearance.provenance.scanner import scan_file
    from clearance.record import Target, UseRecord, decision_digest, dump_record, load_record, parse_record
    from clearance.standing import Judge, Standing
    from clearance.trust import load_trust


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'clearance' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
