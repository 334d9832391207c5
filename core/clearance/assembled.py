"""Pydantic models made of values already validated, as validation leaves them, without validating again.

Records built on a shared decision part, tags read on one, approvals read in the form Clearance writes, the
engine's findings and decisions, standings: each is made by the thousand per publish from values checked or
computed just before, and pydantic's ``model_construct`` costs more per call than the rest of their making.
The tests of each caller compare what it makes with what validation makes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from pydantic import BaseModel

_Model = TypeVar("_Model", bound=BaseModel)


def _slot_setter(name: str) -> Callable[[Any, Any], None]:
    """The setter of one of BaseModel's slots (``__dict__``, ``__pydantic_fields_set__``...), called directly:
    what ``object.__setattr__(model, name, value)`` ends in, without looking the slot up on every call."""
    setter = getattr(BaseModel.__dict__.get(name), "__set__", None)
    if setter is None:  # pragma: no cover - pydantic 2 keeps these four in BaseModel.__slots__
        return lambda obj, value: object.__setattr__(obj, name, value)
    return cast(Callable[[Any, Any], None], setter)


new_object = object.__new__
set_dict = _slot_setter("__dict__")
set_fields_set = _slot_setter("__pydantic_fields_set__")
set_extra = _slot_setter("__pydantic_extra__")
set_private = _slot_setter("__pydantic_private__")


def assembled_model(
    model: type[_Model], fields: dict[str, Any], fields_set: set[str], private: dict[str, Any] | None = None
) -> _Model:
    """A ``model`` of already validated ``fields`` (every field, in model order), ``fields_set`` the names
    validation would count as given; no extra values; ``private`` as given (None for a model without private
    attributes)."""
    made = new_object(model)
    set_dict(made, fields)
    set_fields_set(made, fields_set)
    set_extra(made, None)
    set_private(made, private)
    return made
