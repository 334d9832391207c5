"""The Blender host's targets are the targets validation makes (``hosts.blender.target_for``)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clearance.hosts.blender import target_for
from clearance.record import Target

HANDLES = ["objects:Crowd00042", "images:plate.0001.exr", "materials:Ålesund ✓", "objects:a", "scenes:x:y",
           "strips:Scene/Shot 010", "objects:"]


@pytest.mark.parametrize("handle", HANDLES)
def test_a_target_is_what_validation_makes(handle: str) -> None:
    made = target_for(handle)
    collection, _, name = handle.partition(":")
    kind, ref = ("clip", name) if collection == "strips" else ("datablock", handle)
    validated = Target(kind=kind, ref=ref)
    assert made == validated
    assert list(made.__dict__.items()) == list(validated.__dict__.items())
    assert made.model_fields_set == validated.model_fields_set
    assert Target.model_validate(made.model_dump()) == made
    assert made.key() == validated.key()


def test_every_field_of_a_target_is_made() -> None:
    """A field added to Target must be added to target_for too: this fails until it is."""
    assert tuple(target_for("objects:A").__dict__) == tuple(Target.model_fields)


def test_a_handle_without_a_name_is_still_validated() -> None:
    with pytest.raises(ValidationError):
        target_for("strips:")
