"""User-facing errors: one line naming the file, the field and the fix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # an annotation only: commands that never validate a document do not import pydantic
    from pydantic import ValidationError


class ClearanceError(Exception):
    """Bad input or a refused operation. The message is one line meant for an artist or a TD.

    The CLI prints it as ``clearance: error: <message>`` and exits 2.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)


def dotted(loc: Sequence[Any]) -> str:
    """``("use", "stage")`` -> ``use.stage``; list indexes as ``targets[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def _expected(error: Mapping[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    if "expected" in ctx:
        return f"expected {ctx['expected']}"
    return str(error.get("msg", "invalid value"))


def known_fields(model: Any, loc: Sequence[Any]) -> list[str]:
    """The field names allowed where ``loc`` points in ``model`` (a pydantic model class), for "did you mean"."""
    import typing

    from pydantic import BaseModel

    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            if getattr(current, "__origin__", None) is dict or isinstance(current, dict):
                continue
            return []
        annotation = fields[part].annotation
        current = None
        for candidate in (annotation, *typing.get_args(annotation)):
            for inner in (candidate, *typing.get_args(candidate)):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    current = inner
        if current is None and typing.get_origin(annotation) in (dict,):
            value = typing.get_args(annotation)[-1]
            current = value if isinstance(value, type) and issubclass(value, BaseModel) else None
    return list(getattr(current, "model_fields", {}))


HALF_CHARACTER = ("holds half of a UTF-16 surrogate pair (an escape such as \\ud800 without its partner), which is not "
                  "text: retype it")
"""What is wrong with a text pydantic refuses as ``string_unicode`` (see record.Section), in words."""

SHOWN_CHARS = 80
"""How much of a refused value an error shows: enough to find it, never a page of text on one line."""


def _private(model: Any, loc: Sequence[Any]) -> bool:
    """Whether the field at ``loc`` is marked ``private`` (its value is never repeated in an error)."""
    names = [part for part in loc if isinstance(part, str)]
    current: Any = model
    for index, name in enumerate(names):
        fields = getattr(current, "model_fields", {})
        if name not in fields:
            return False
        info = fields[name]
        extra = info.json_schema_extra
        if index == len(names) - 1:
            return isinstance(extra, dict) and extra.get("private") is True
        current = info.annotation
        for inner in (current, *getattr(current, "__args__", ())):
            if hasattr(inner, "model_fields"):
                current = inner
                break
    return False


def describe_validation_error(
    err: ValidationError,
    source: str,
    line_of: Any = None,
    *,
    model: Any = None,
    reference: str = "`clearance schema` lists every field",
) -> str:
    """One line for the first problem in a pydantic error, naming file, line, field and fix.

    ``line_of`` maps a location tuple to a 1-based line number (see documents.Document.line_of).
    """
    errors = err.errors()
    first = errors[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    # pydantic puts union/tag branch names into loc; keep only document keys
    loc = tuple(p for p in loc if not (isinstance(p, str) and (p.startswith("tagged-union") or "[" in p)))
    where = source
    if line_of is not None:
        line = line_of(loc)
        if line:
            where = f"{source}:{line}"
    field = dotted(loc)
    kind = first.get("type", "")
    value = first.get("input")
    if kind == "extra_forbidden":
        import difflib

        close = difflib.get_close_matches(str(loc[-1]) if loc else "", known_fields(model, loc), n=1) if model else []
        hint = f"did you mean {close[0]}? " if close else "check the spelling; "
        detail = f"is not a known field ({hint}{reference})"
    elif kind == "missing":
        detail = "is required"
    elif kind == "string_unicode":
        detail = HALF_CHARACTER
    elif kind == "string_too_long" and isinstance(value, str):
        # never the text itself: it can be pages long, or private (a prompt)
        limit = (first.get("ctx") or {}).get("max_length")
        detail = f"is {len(value)} characters long; the limit is {limit} characters: shorten it"
    else:
        if model is not None and _private(model, loc):
            shown = "(value not repeated)"
        elif isinstance(value, dict | list):
            shown = type(value).__name__
        else:
            shown = repr(value)
            if len(shown) > SHOWN_CHARS:
                shown = f"{shown[:SHOWN_CHARS]}... ({len(str(value))} characters)"
        detail = f"{shown} is not valid: {_expected(first)}"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: field {field} {detail}{more}"
