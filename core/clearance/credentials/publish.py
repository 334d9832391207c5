"""Sign deliverables on publish: every file a publish wrote for a deliverable family gets Content Credentials.

The identity is resolved before anything is copied (``resolve_for_publish``, an extractor): a publish that
should sign but cannot is refused while nothing has gone out. After the files are in place
(``sign_published``, an integrator), each published file is signed in place - it is the publish's own
copy, never the artist's original - with the records of every item it carries, their decisions and the
approvals the approval check accepted. Its sidecar and the disclosure manifest then describe the signed
bytes. Hosts that write their own files set ``instance.data["clearance_published_files"]`` to have them signed;
an item's ``extra["inputs"]`` (the publish manifest's ``inputs``) are kept as ingredients with their credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a publish signs: Pyblish discovers this module on every validate
    from clearance.credentials.identity import SigningIdentity
    from clearance.credentials.signing import SignResult

IDENTITY_KEY = "clearance_signing_identity"
SIGNED_KEY = "clearance_credentials"


def _matches(families: Sequence[str], patterns: Sequence[str]) -> bool:
    return any(fnmatch(family, pattern) for family in families for pattern in patterns)


def deliverable_checks(context: Any) -> list[Any]:
    from clearance.pyblish.collect import checks_of
    from clearance.pyblish.settings import context_policy

    settings = context_policy(context).credentials
    if not settings.sign_on_publish:
        return []
    matched: dict[tuple[str, ...], bool] = {}  # a publish's items fall into a few families: match each set once
    chosen = []
    for check in checks_of(context):
        if check.record is None:
            continue
        families = tuple(check.families)
        found = matched.get(families)
        if found is None:
            found = matched[families] = _matches(families, settings.families)
        if found:
            chosen.append(check)
    return chosen


def resolve_for_publish(context: Any) -> SigningIdentity | None:
    """The identity this publish signs with, or None when nothing in it is a deliverable to sign."""
    from clearance.credentials.identity import resolve_identity
    from clearance.pyblish.settings import context_policy

    if not deliverable_checks(context):
        return None
    identity = resolve_identity(context_policy(context).credentials)
    context.data[IDENTITY_KEY] = identity
    return identity


def sign_published(context: Any) -> list[SignResult]:
    from clearance.credentials.identity import resolve_identity
    from clearance.credentials.signing import sign_file
    from clearance.credentials.uses import UseFacts, held
    from clearance.pyblish import disclosure
    from clearance.pyblish.publishing import WRITTEN_KEY, require_checked
    from clearance.pyblish.settings import context_policy

    require_checked(context)
    checks = deliverable_checks(context)
    if not checks:
        return []
    identity = context.data.get(IDENTITY_KEY) or resolve_identity(context_policy(context).credentials)
    composite_families = context_policy(context).credentials.composite_families
    by_file: dict[str, list[Any]] = {}
    for check in checks:
        for path in check.instance.data.get("clearance_published_files") or []:
            by_file.setdefault(str(path), []).append(check)
    manifest = context.data.get("clearance_disclosure")
    results: list[SignResult] = []
    for path, carried in sorted(by_file.items()):
        facts: dict[str, UseFacts] = {}
        for check in carried:
            if check.record_id in facts:
                continue
            found = UseFacts(record=check.record, decision=check.decision)
            if check.approval is not None:
                found.approval = held(check.approval)
                found.signed_approval = check.approval
            facts[check.record_id] = found
        composite = True if any(_matches(c.families, composite_families) for c in carried) else None
        inputs = list(dict.fromkeys(i for c in carried for i in c.item.extra.get("inputs") or []))
        result = sign_file(Path(path), list(facts.values()), identity, in_place=True, composite=composite,
                           inputs=inputs)
        results.append(result)
        sha, size = disclosure.sha256_file(path)
        if manifest is not None:
            for item in manifest.items:
                for entry in item.files:
                    if entry.published == path:
                        entry.sha256, entry.size = sha, size
        sidecar = Path(path).with_name(Path(path).name + disclosure.SIDECAR_SUFFIX)
        if sidecar.is_file():
            disclosure.write_sidecar(Path(path), sorted(facts), sha)
        if result.sidecar is not None:
            context.data.setdefault(WRITTEN_KEY, []).append(result.sidecar)
    context.data[SIGNED_KEY] = results
    return results
