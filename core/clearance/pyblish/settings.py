"""TD settings for the publish validators, read from the policy (``publish.validators[<id>]``), AYON-style.

Settings reach a plugin class when Pyblish discovers it (``enabled`` / ``optional`` / ``active`` become
class attributes, so a publish UI shows the right tick boxes) and again at publish time (``families``).
The locked validators (approvals, no-go rules, broken tags, the set-up check) ignore every setting: a
policy that tries to switch them off or narrow them is refused, because a waiver is an approval.
"""

from __future__ import annotations

from typing import Any

from clearance.errors import ClearanceError
from clearance.policy.settings import Policy, ValidatorSetting
from clearance.pyblish.catalog import LOCKED, VALIDATORS

_state: dict[str, Any] = {"policy": None, "problems": [], "env_policy": None}


def use_policy(policy: Policy | None) -> None:
    """The policy the next discovery and publish use (the CLI sets it from --policy; None = CLEARANCE_POLICY)."""
    _state["policy"] = policy
    _state["problems"] = []


def active_policy() -> Policy:
    """The policy set by ``use_policy``, else the one CLEARANCE_POLICY names, else the embedded defaults."""
    chosen = _state["policy"]
    if isinstance(chosen, Policy):
        return chosen
    from clearance.policy.loading import policy_in_force

    # Pyblish creates every plugin class at each discovery: the one loader re-reads files only when they change.
    policy = policy_in_force()
    if _state["env_policy"] is not policy:
        _state["env_policy"] = policy
        _state["problems"] = []  # a policy that failed to load at an earlier discovery loads now
    return policy


def context_policy(context: Any) -> Policy:
    """The policy of a publish: set once on the context, so every plugin judges with the same one."""
    held = context.data.get("clearance_policy")
    if isinstance(held, Policy):
        return held
    policy = active_policy()
    context.data["clearance_policy"] = policy
    return policy


def policy_problems(policy: Policy) -> list[str]:
    """Validator settings this policy may not have: unknown ids, and any bypass of a locked validator."""
    return [f"policy publish.validators.{vid}: {problem}" for vid, problem in validator_problems(policy)]


def validator_problems(policy: Policy) -> list[tuple[str, str]]:
    """(validator id, problem) for every validator setting publish refuses; `clearance policy check` says
    the same, with the file and line."""
    problems: list[tuple[str, str]] = []
    for vid, setting in policy.publish.validators.items():
        if vid not in VALIDATORS:
            import difflib  # only to suggest a name for a mistyped one

            close = difflib.get_close_matches(vid, list(VALIDATORS), n=1)
            hint = f"did you mean {close[0]}?" if close else f"known ids: {', '.join(sorted(VALIDATORS))}"
            problems.append((vid, f"unknown validator ({hint})"))
            continue
        if vid not in LOCKED:
            continue
        bypass = []
        if not setting.enabled:
            bypass.append("enabled: false")
        if setting.optional:
            bypass.append("optional: true")
        if not setting.active:
            bypass.append("active: false")
        if "*" not in setting.families:
            bypass.append(f"families: {setting.families}")
        if bypass:
            problems.append((
                vid,
                f"{', '.join(bypass)} is not allowed: this check cannot be switched off, made optional "
                "or narrowed (a waiver is an approval); remove the setting",
            ))
    return problems


def check_policy(policy: Policy) -> None:
    """Refuse a policy that tries to bypass a locked validator (one line naming the setting)."""
    problems = policy_problems(policy)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ClearanceError(problems[0] + more)


def setting_for(policy: Policy, validator_id: str) -> ValidatorSetting:
    if validator_id in LOCKED:
        return ValidatorSetting()
    return policy.publish.validators.get(validator_id) or ValidatorSetting()


def families_match(setting: ValidatorSetting, families: list[str]) -> bool:
    return "*" in setting.families or any(f in setting.families for f in families)


def apply_to_class(cls: Any) -> None:
    """Set a validator class's switches from the active policy when Pyblish discovers it.

    Never raises: Pyblish silently skips a plugin file whose import raises, which would hide the check.
    A policy that cannot be read is remembered and reported by the set-up validator.
    """
    vid = getattr(cls, "validator_id", "")
    if not vid:
        return
    if vid in LOCKED:
        cls.enabled, cls.optional, cls.active = True, False, True
        return
    try:
        setting = setting_for(active_policy(), vid)
    except ClearanceError as exc:
        remember_problem(f"policy: {exc}")
        cls.enabled, cls.optional, cls.active = True, False, True
        return
    cls.enabled = setting.enabled
    cls.optional = setting.optional
    # A check that is not optional is always ticked; "active" only says whether an optional one starts ticked.
    cls.active = setting.enabled and (setting.active or not setting.optional)


def remember_problem(problem: str) -> None:
    if problem not in _state["problems"]:
        _state["problems"].append(problem)


def discovery_time_problems() -> list[str]:
    return list(_state["problems"])
