"""OTIO hook script ``clearance_delivery_gate`` (pre_adapter_write), loaded by OTIO from its file path.

Inert unless the studio turns it on; see clearance.editorial.hook for the rules.
"""

from __future__ import annotations

from typing import Any


def hook_function(in_timeline: Any, argument_map: dict[str, Any] | None = None) -> Any:
    from clearance.editorial.hook import gate

    return gate(in_timeline, argument_map or {})
