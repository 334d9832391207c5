"""The publish manifest: what a standalone (farm, command-line) publish sends out, and the records attached.

```yaml
production: EXAMPLE_S01
family: render                 # the publish family (TD settings and final-deliverable families use it)
destination: ../publish/sh010  # relative paths are relative to this file
items:
  - name: sh010_sign
    files: [renders/sh010_sign.0001.exr]
    records: [records/sign.yaml]
```
Every path is checked when the manifest is read: a missing file or record is bad input (exit 2), never
a silent skip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clearance.documents import Document, load_document
from clearance.errors import ClearanceError, describe_validation_error
from clearance.record import UseRecord, record_from_data

MANIFEST_NAME = "clearance-disclosure.json"


class ManifestItem(BaseModel):
    model_config = ConfigDict(extra="forbid", str_min_length=0)  # whole texts only: see record.Section

    name: str = Field(min_length=1, description="What is published, e.g. sh010_sign; also the default target ref.")
    files: list[str] = Field(default_factory=list, description="Files to publish (relative to the manifest).")
    records: list[str] = Field(default_factory=list, description="Use record files attached to this item.")
    family: str | None = Field(default=None, description="Overrides the manifest's family for this item.")
    deliverable: bool = Field(default=False, description="Part of a final deliverable whatever the family.")
    inputs: list[str] = Field(
        default_factory=list,
        description="Files placed into this item's files (plates, generated elements): when the files are signed "
        "with Content Credentials, each input's own credentials are kept as an ingredient.",
    )


class PublishManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_min_length=0)  # whole texts only: see record.Section

    production: str = Field(min_length=1)
    family: str = Field(min_length=1)
    destination: str = Field(min_length=1, description="Folder the files and the disclosure manifest go to.")
    items: list[ManifestItem] = Field(min_length=1)


@dataclass
class LoadedItem:
    name: str
    family: str
    deliverable: bool
    files: list[Path] = field(default_factory=list)
    records: list[tuple[Path, UseRecord]] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)


@dataclass
class LoadedManifest:
    source: Path
    production: str
    family: str
    destination: Path
    items: list[LoadedItem]

    @property
    def files(self) -> list[Path]:
        return [f for item in self.items for f in item.files]


def _where(doc: Document, loc: tuple[object, ...]) -> str:
    line = doc.line_of(loc)
    return f"{doc.source}:{line}" if line else doc.source


def load_manifest(path: str | Path) -> LoadedManifest:
    """Read and check a publish manifest. Raises ClearanceError naming file, line and field."""
    doc = load_document(path)
    if not isinstance(doc.data, dict):
        raise ClearanceError(f"{doc.source}: a publish manifest must be a mapping with production, family, "
                             "destination and items")
    try:
        model = PublishManifest.model_validate(doc.data)
    except ValidationError as exc:
        raise ClearanceError(describe_validation_error(exc, doc.source, doc.line_of)) from None
    base = Path(path).resolve().parent
    destination = (base / model.destination).resolve()
    if destination.exists() and not destination.is_dir():
        raise ClearanceError(f"{_where(doc, ('destination',))}: destination {destination} is a file; give a folder")
    names: set[str] = set()
    published: dict[str, str] = {}
    items: list[LoadedItem] = []
    for i, entry in enumerate(model.items):
        if entry.name in names:
            raise ClearanceError(f"{_where(doc, ('items', i, 'name'))}: item name {entry.name!r} is used twice; "
                                 "give every item its own name")
        names.add(entry.name)
        item = LoadedItem(name=entry.name, family=entry.family or model.family, deliverable=entry.deliverable)
        for j, rel in enumerate(entry.files):
            where = _where(doc, ("items", i, "files", j))
            file = (base / rel).resolve()
            if not file.is_file():
                what = "is a folder; list the files in it" if file.is_dir() else "file not found"
                raise ClearanceError(f"{where}: items[{i}].files[{j}] {rel}: {what}; fix the path")
            if file.name in published:
                raise ClearanceError(f"{where}: items[{i}].files[{j}] {rel}: another file named {file.name} "
                                     f"({published[file.name]}) goes to the same destination; rename one")
            if file.parent == destination:
                raise ClearanceError(f"{where}: items[{i}].files[{j}] {rel} is already in the destination folder; "
                                     "publish from a work folder")
            published[file.name] = rel
            item.files.append(file)
        for j, rel in enumerate(entry.inputs):
            placed = (base / rel).resolve()
            if not placed.is_file():
                raise ClearanceError(f"{_where(doc, ('items', i, 'inputs', j))}: items[{i}].inputs[{j}] {rel}: file "
                                     "not found; fix the path")
            item.inputs.append(placed)
        for j, rel in enumerate(entry.records):
            where = _where(doc, ("items", i, "records", j))
            record_path = (base / rel).resolve()
            if not record_path.is_file():
                raise ClearanceError(f"{where}: items[{i}].records[{j}] {rel}: record file not found; fix the path")
            record_doc = load_document(record_path)
            if isinstance(record_doc.data, dict) and not record_doc.data.get("id"):
                raise ClearanceError(f"{record_path}: field id is required for a published record (approvals and "
                                     "disclosures are bound to it); create records with `clearance record new`")
            item.records.append((record_path, record_from_data(record_doc.data, record_doc.source, record_doc)))
        items.append(item)
    return LoadedManifest(
        source=Path(path).resolve(), production=model.production, family=model.family,
        destination=destination, items=items,
    )
