"""The delivery gate behind the OTIO ``pre_adapter_write`` hook.

Every OTIO write on a machine with Clearance installed passes through here, so a disabled gate must
cost nothing: it reads one environment variable and returns. It is on when ``CLEARANCE_OTIO_HOOK=1``
or when the policy named by ``CLEARANCE_POLICY`` sets ``editorial.block_delivery_write: true``
(``CLEARANCE_OTIO_HOOK=0`` turns it off whatever the policy says). Turned on, it runs the same check
as ``clearance check`` and refuses the write with the same message. A gate that is on but cannot do
its job (unreadable policy, unknown switch value) refuses too: a studio that asked for the gate must
never get a silent pass.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

from clearance.errors import ClearanceError

ENV_SWITCH = "CLEARANCE_OTIO_HOOK"
_ON = {"1", "true", "yes", "on"}
# Set while `clearance tag` writes. OTIO runs pre_adapter_write twice for adapters that only write
# strings (EDL, FCP 7 XML): Adapter.write_to_file calls write_to_string, which runs the hook again with
# a fresh argument map that no longer carries ours, so the purpose must travel beside the call.
writing_work_in_progress: ContextVar[bool] = ContextVar("clearance_writing_work_in_progress", default=False)
_OFF = {"0", "false", "no", "off"}


class DeliveryBlocked(ClearanceError):
    """A timeline with blocked clips was about to be written while the studio gates deliveries."""

    exit_code = 1


def _switch() -> bool | None:
    raw = os.environ.get(ENV_SWITCH)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ClearanceError(f"{ENV_SWITCH}={raw!r} is not a switch value; set it to 1 (gate deliveries) or 0 (off)")


def _policy_enables() -> bool:
    """The policy in force's ``editorial.block_delivery_write`` (the one loader re-reads changed files)."""
    from clearance.policy.loading import policy_in_force, policy_paths_from_env

    if not policy_paths_from_env():
        return False
    try:
        policy = policy_in_force()
    except ClearanceError as exc:
        raise ClearanceError(f"Clearance OTIO hook: cannot read the policy in CLEARANCE_POLICY: {exc}") from None
    return bool(policy.editorial.block_delivery_write)


def enabled() -> bool:
    switch = _switch()
    if switch is not None:
        return switch
    return _policy_enables()


def gate(timeline: Any, argument_map: dict[str, Any]) -> Any:
    """Return the timeline unchanged, or raise DeliveryBlocked naming the blocked clips."""
    options = argument_map.get("clearance") or {}
    if writing_work_in_progress.get() or (isinstance(options, dict) and options.get("purpose") == "tag"):
        return timeline  # `clearance tag` writes work-in-progress cuts, not deliveries
    if not enabled():
        return timeline
    from clearance.editorial.check import CheckOptions, check_timeline

    where = str(argument_map.get("_filepath") or getattr(timeline, "name", "") or "timeline")
    report = check_timeline(timeline, CheckOptions(source=where))
    if report.verdict == "blocked":
        raise DeliveryBlocked(f"Clearance refused to write {where}: {report.summary_line()}")
    return timeline
