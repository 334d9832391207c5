"""Layered policy files: embedded defaults -> studio -> production -> vendor.

The first file may set anything. Every later file may only make the policy stricter: each setting
carries ``stricter`` metadata (see settings.py) and every value a later file sets is compared with the
value in force before it. A file with a top-level ``signature`` block, signed by a key the earlier layers
trust (``approvals.trusted_keys``), is a signed studio overlay and may weaken.

Dictionaries of settings (``tools``, ``rules``, ``publish.validators``) merge entry by entry and field by
field. An entry a later file adds is compared with that entry's defaults, so a later file may add a rule
override or a tool only in the stricter direction: a tool registry entry added by a vendor file cannot
declare the tool enterprise or "does not train" (that would let records inherit weaker facts); register
tools in the studio file or a signed overlay. Lists replace the earlier list and are compared as sets.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from pydantic import BaseModel, ValidationError

from clearance.decision import OUTCOME_RANK
from clearance.documents import Document, load_document
from clearance.errors import ClearanceError, describe_validation_error
from clearance.policy.rulebook import all_rules
from clearance.policy.settings import Policy

DEFAULTS_SOURCE = "embedded defaults"
REFERENCE = "docs/policy-settings.md lists every setting; `clearance policy default` prints them"
ENV_VAR = "CLEARANCE_POLICY"

_ENV_RANK = {"enterprise": 0, "self_hosted": 1, "consumer": 2, "unknown": 3}
_TRI_RANK = {"no": 0, "yes": 1, "unsure": 1}  # a registry "yes" or "unsure" both leave the record escalated


@dataclass
class LoadedPolicy:
    """The effective policy and where each value came from (dotted path -> ``file:line``)."""

    policy: Policy
    sources: list[str]
    provenance: dict[str, str] = field(default_factory=dict)
    signed: list[str] = field(default_factory=list)

    def source_of(self, path: str) -> str:
        while path:
            if path in self.provenance:
                return self.provenance[path]
            path = path.rpartition(".")[0]
        return DEFAULTS_SOURCE


def default_policy_text() -> str:
    """The embedded defaults written out as a commented policy file (``default_policy.yaml``)."""
    return resources.files("clearance.policy").joinpath("default_policy.yaml").read_text(encoding="utf-8")


_default: Policy | None = None


def default_policy() -> Policy:
    """The embedded defaults (cached; treat as read-only, or ``model_copy(deep=True)`` to change it).

    They are the settings' own defaults (settings.py), made without parsing ``default_policy.yaml``: that file
    is the same policy written out with its comments (tests hold the two equal), and reading it would cost
    every command that judges anything PyYAML's import and a parse (about 20 ms of a start).
    """
    global _default
    if _default is None:
        _default = Policy()
    return _default


def policy_paths_from_env() -> list[str]:
    value = os.environ.get(ENV_VAR, "")
    return [p for p in value.split(os.pathsep) if p.strip()]


# ------------------------------------------------------------------------------- the policy in force


class _InForce:
    """The one cache of "the policy in force": the files CLEARANCE_POLICY names, re-read when one changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[tuple[str, int, int, int], ...] | None = None
        self.loaded: LoadedPolicy | None = None


_in_force = _InForce()


def _stamp(paths: list[str]) -> tuple[tuple[str, int, int, int], ...]:
    out = []
    for path in paths:
        try:
            info = os.stat(path)
            out.append((path, info.st_mtime_ns, info.st_size, info.st_ino))
        except OSError:
            out.append((path, -1, -1, -1))  # loading names the missing file
    return tuple(out)


def layers_in_force() -> LoadedPolicy:
    """The policy in force with where each value came from: the files ``CLEARANCE_POLICY`` names (layered in
    order), else the embedded defaults. Read once and again only when a file changes (its time, size or
    inode), so host callbacks and Pyblish discovery can ask on every event. Used by the engine, the publish
    gate, the hosts and the OTIO hook alike; an unreadable policy raises ClearanceError (never a fallback).
    """
    paths = policy_paths_from_env()
    key = _stamp(paths)
    state = _in_force
    loaded = state.loaded
    if loaded is not None and state.key == key:
        return loaded
    with state.lock:
        if state.loaded is not None and state.key == key:
            return state.loaded
        loaded = load_layers(paths)
        state.key, state.loaded = key, loaded
    return loaded


def policy_in_force() -> Policy:
    """The effective policy of :func:`layers_in_force`."""
    return layers_in_force().policy


def describe_in_force() -> str:
    """``the embedded defaults`` or ``studio.yaml -> show.yaml (CLEARANCE_POLICY)``, for messages."""
    paths = policy_paths_from_env()
    if not paths:
        return "the embedded default policy (CLEARANCE_POLICY is not set)"
    return f"{' -> '.join(paths)} (CLEARANCE_POLICY)"


def load_policy(paths: list[str] | None = None) -> Policy:
    """The effective policy from the given files (None: CLEARANCE_POLICY, else the embedded defaults)."""
    return load_layers(paths).policy


def load_layers(paths: list[str] | None = None) -> LoadedPolicy:
    if paths is None:
        paths = policy_paths_from_env()
    loaded = LoadedPolicy(policy=default_policy(), sources=[DEFAULTS_SOURCE])
    # The embedded defaults are parsed and validated once (default_policy); the files are layered on them.
    effective = loaded.policy.model_dump(mode="json") if paths else {}
    for position, path in enumerate(paths):
        doc = load_document(path)
        data = doc.data if doc.data is not None else {}
        if not isinstance(data, dict):
            raise ClearanceError(
                f"{doc.source}: a policy file must be a mapping of settings, got {type(data).__name__}"
            )
        body = {k: v for k, v in data.items() if k != "signature"}
        layer = _validate(body, doc)
        overlay = layer.model_dump(mode="json", exclude_unset=True)
        if position > 0:
            weakening_allowed = False
            if "signature" in data:
                _check_signature(doc, data, loaded.policy)
                weakening_allowed = True
                loaded.signed.append(doc.source)
            if not weakening_allowed:
                _check_stricter(Policy, effective, overlay, (), doc, loaded)
        effective = _merge(effective, overlay)
        try:
            policy = Policy.model_validate(effective)
        except ValidationError as exc:  # a combination that only fails merged, e.g. a list meeting another
            raise ClearanceError(_describe(exc, doc)) from None
        _record_provenance(overlay, (), doc, loaded.provenance)
        loaded.policy = policy
        loaded.sources.append(doc.source)
    return loaded


def check_files(paths: list[str]) -> list[str]:
    """Every problem of each file on its own, then of the files layered in order; one line each."""
    problems: list[str] = []
    for path in paths:
        file_problems: list[str] = []
        try:
            doc = load_document(path)
            data = doc.data if doc.data is not None else {}
            if not isinstance(data, dict):
                raise ClearanceError(
                    f"{doc.source}: a policy file must be a mapping of settings, got {type(data).__name__}"
                )
            layer = _validate({k: v for k, v in data.items() if k != "signature"}, doc, all_errors=file_problems)
            file_problems.extend(_publish_problems(layer, doc))
        except ClearanceError as exc:
            file_problems.insert(0, str(exc))  # the first problem of the file comes first
        problems.extend(file_problems)
    if not problems and len(paths) > 1:
        try:
            load_layers(paths)
        except ClearanceError as exc:
            problems.append(str(exc))
    return problems


# ------------------------------------------------------------------------------------------- validation


def _describe(exc: Any, doc: Document) -> str:
    return describe_validation_error(exc, doc.source, doc.line_of, model=Policy, reference=REFERENCE)


def _validate(data: dict[str, Any], doc: Document, all_errors: list[str] | None = None) -> Policy:
    """The file's settings as a Policy. ``all_errors``: collect every problem there (the first is raised)."""
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        if all_errors is not None:
            for error in exc.errors()[1:]:
                all_errors.append(_describe(_OneError(error), doc))
            raise ClearanceError(_describe(_OneError(exc.errors()[0]), doc)) from None
        raise ClearanceError(_describe(exc, doc)) from None
    codes = [rule.code for rule in all_rules()]
    problems: list[str] = []
    for code, setting in policy.rules.items():
        where = _where(doc, ("rules", code))
        if code not in codes:
            import difflib  # only for the error: loading a good policy never needs it

            close = difflib.get_close_matches(code, codes, n=1)
            hint = f"did you mean {close[0]}?" if close else f"expected one of {', '.join(codes)}"
            problems.append(
                f"{where}: field rules.{code}: unknown rule code ({hint}); `clearance policy rules` lists them"
            )
        elif code == "BASELINE" and not setting.enabled:
            problems.append(
                f"{where}: field rules.BASELINE.enabled: the baseline notice cannot be switched off "
                "(every use is disclosed); remove the line"
            )
    if problems:
        if all_errors is not None:
            all_errors.extend(problems[1:])
        raise ClearanceError(problems[0])
    return policy


def _publish_problems(layer: Policy, doc: Document) -> list[str]:
    """What publish, the hosts and the server would refuse in this file: validator ids and locked checks."""
    from clearance.pyblish.settings import validator_problems

    return [
        f"{_where(doc, ('publish', 'validators', vid))}: field publish.validators.{vid}: {problem}"
        for vid, problem in validator_problems(layer)
    ]


class _OneError:
    """One error of a ValidationError, so `policy check` can report each on its own line."""

    def __init__(self, error: Any) -> None:
        self._error = error

    def errors(self) -> list[Any]:
        return [self._error]


def _where(doc: Document, loc: tuple[Any, ...]) -> str:
    line = doc.line_of(loc)
    return f"{doc.source}:{line}" if line else doc.source


def _check_signature(doc: Document, data: dict[str, Any], policy: Policy) -> None:
    from clearance.approvals import TrustedKeys, verify_overlay

    keys = TrustedKeys.from_policy(policy)
    result = verify_overlay(data, keys)
    if not result.valid:
        raise ClearanceError(f"{_where(doc, ('signature',))}: field signature: {result.reason}")


# ------------------------------------------------------------------------------------------- strictness


def _stricter_kind(model: type[BaseModel], name: str) -> str:
    extra = model.model_fields[name].json_schema_extra
    if isinstance(extra, dict):
        return str(extra.get("stricter", "any"))
    return "any"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _dict_value_model(annotation: Any) -> type[BaseModel] | None:
    args = getattr(annotation, "__args__", None)
    if getattr(annotation, "__origin__", None) is dict and args and len(args) == 2:
        return _model_of(args[1])
    return None


def is_stricter_or_equal(kind: str, old: Any, new: Any) -> bool:
    """Is ``new`` at least as strict as ``old`` for a setting of this kind?"""
    if new == old or kind == "any":
        return True
    if kind == "outcome":
        return OUTCOME_RANK.get(new, -1) >= OUTCOME_RANK.get(old, -1)
    if kind == "true":
        return new is True
    if kind == "false":
        return new is False
    if kind in ("higher", "lower"):
        if old is None or new is None:
            return False
        return bool(new >= old if kind == "higher" else new <= old)
    if kind == "fixed":
        return False  # only the first layer (or a signed overlay) sets it
    if kind in ("superset", "subset", "subset_nonempty"):
        old_set = {_hashable(v) for v in old or []}
        new_set = {_hashable(v) for v in new or []}
        if kind == "subset_nonempty" and old_set and not new_set:
            return False  # emptying a pinned list would switch on a fallback, e.g. trusting pulled keys
        return new_set >= old_set if kind == "superset" else new_set <= old_set
    if kind == "environment":
        return _ENV_RANK.get(new, 3) >= _ENV_RANK.get(old, 3)
    if kind == "tri":
        return _TRI_RANK.get(new, 1) >= _TRI_RANK.get(old, 1)
    return False  # an unknown kind is never assumed safe


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


_HINTS = {
    "outcome": "a lower outcome",
    "true": "switching it off",
    "false": "switching it on",
    "higher": "a lower number",
    "lower": "a higher number",
    "superset": "removing items",
    "subset": "adding items",
    "subset_nonempty": "adding items or removing all of them",
    "fixed": "changing it after the first layer",
    "environment": "a more trusted environment",
    "tri": "a more favourable fact",
}


def _check_stricter(
    model: type[BaseModel],
    old: dict[str, Any],
    new: dict[str, Any],
    path: tuple[Any, ...],
    doc: Document,
    loaded: LoadedPolicy,
) -> None:
    for name, value in new.items():
        if name not in model.model_fields:
            continue
        info = model.model_fields[name]
        sub = _model_of(info.annotation)
        entry_model = _dict_value_model(info.annotation)
        old_value = old.get(name)
        if sub is not None and isinstance(value, dict):
            _check_stricter(sub, old_value or sub().model_dump(mode="json"), value, (*path, name), doc, loaded)
        elif entry_model is not None and isinstance(value, dict):
            old_entries = old_value or {}
            for key, entry in value.items():
                previous = _entry(old_entries, key, name) or entry_model().model_dump(mode="json")
                _check_stricter(entry_model, previous, entry, (*path, name, key), doc, loaded)
        else:
            kind = _stricter_kind(model, name)
            if not is_stricter_or_equal(kind, old_value, value):
                loc = (*path, name)
                dotted = ".".join(str(p) for p in loc)
                raise ClearanceError(
                    f"{_where(doc, loc)}: field {dotted}: {_show(value)} weakens the policy set by "
                    f"{loaded.source_of(dotted)} (was {_show(old_value)}; {_HINTS.get(kind, 'a change')} is weaker); "
                    "only a signed studio overlay may weaken it"
                )


def _entry(entries: dict[str, Any], key: str, section: str) -> Any:
    if key in entries:
        return entries[key]
    if section == "tools":  # tool names are matched case-insensitively, as records name them
        for existing, value in entries.items():
            if existing.lower() == key.lower():
                return value
    return None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "unset"
    return str(value).replace("True", "true").replace("False", "false")


# ------------------------------------------------------------------------------------------ merge, show


def _merge(base: dict[str, Any], overlay: dict[str, Any], section: str = "") -> dict[str, Any]:
    out = dict(base)
    for key, value in overlay.items():
        target = key
        if section == "tools" and key not in out:
            target = next((k for k in out if k.lower() == key.lower()), key)
        if isinstance(value, dict) and isinstance(out.get(target), dict):
            out[target] = _merge(out[target], value, key if not section else "")
        else:
            out[target] = value
    return out


def _record_provenance(
    overlay: dict[str, Any], path: tuple[Any, ...], doc: Document, provenance: dict[str, str]
) -> None:
    for key, value in overlay.items():
        loc = (*path, key)
        if isinstance(value, dict) and value:
            _record_provenance(value, loc, doc, provenance)
        else:
            provenance[".".join(str(p) for p in loc)] = _where(doc, loc)


def flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Leaves of a policy dump as (dotted path, value); lists stay whole."""
    if isinstance(data, dict) and data:
        out: list[tuple[str, Any]] = []
        for key, value in data.items():
            out.extend(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return [(prefix, data)]
