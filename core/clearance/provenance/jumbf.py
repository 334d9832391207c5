"""JUMBF (ISO/IEC 19566-5) boxes and the C2PA manifest store inside them.

Reads every manifest of the store (the active one is the last), its claim (claim_generator,
claim_generator_info) and its actions assertions (``c2pa.actions``, ``c2pa.actions.v2``, numbered
instances ``__1``...), decoding CBOR with the built-in decoder. No signature or hash is checked here:
that is what ``--verify`` (c2pa-python) adds.
"""

from __future__ import annotations

import json
from typing import Any

from clearance.provenance import cbor
from clearance.provenance.signals import CONFIDENCE_C2PA, agent_name, short, source_type_verdict, tool_name
from clearance.provenance.source import MAX_ENTRIES, ScanProblem
from clearance.provenance.verdicts import Hit

C2PA_STORE_UUID = bytes.fromhex("6332706100110010800000aa00389b71")  # 'c2pa'


class Superbox:
    """A ``jumb`` box opened one level: its label, type UUID and raw children ``(type, payload)``.

    Children superboxes are opened only when asked for (``children_labelled``): a manifest store's
    thumbnails, ingredients' data boxes and signatures are never parsed, and no hostile nesting is ever
    descended into beyond the four levels a store has (store, manifest, assertion store, assertion)."""

    __slots__ = ("_labels", "budget", "children", "label", "uuid")

    def __init__(self, label: str, uuid: bytes, children: list[tuple[str, memoryview]], budget: _Budget) -> None:
        self.label = label
        self.uuid = uuid
        self.children = children
        self.budget = budget
        self._labels: list[tuple[str, memoryview]] | None = None

    def children_labelled(self, prefix: str) -> list[Superbox]:
        if self._labels is None:
            self._labels = [(_label(body), body) for kind, body in self.children if kind == "jumb"]
        return [superbox(body, self.budget) for label, body in self._labels if label.startswith(prefix)]

    def content(self) -> tuple[str, memoryview] | None:
        for kind, body in self.children:
            if kind != "jumb":
                return kind, body
        return None


class _Budget:
    __slots__ = ("boxes",)

    def __init__(self) -> None:
        self.boxes = 0


def boxes(buf: memoryview, budget: _Budget) -> list[tuple[str, memoryview]]:
    """Split a run of boxes. Every length is checked against what is left."""
    out = []
    pos, end = 0, len(buf)
    while pos < end:
        budget.boxes += 1
        if budget.boxes > MAX_ENTRIES:
            raise ScanProblem(f"JUMBF: more than {MAX_ENTRIES} boxes")
        if end - pos < 8:
            raise ScanProblem("JUMBF: truncated box header")
        lbox = int.from_bytes(buf[pos : pos + 4], "big")
        tbox = bytes(buf[pos + 4 : pos + 8]).decode("latin-1")
        header = 8
        if lbox == 1:
            if end - pos < 16:
                raise ScanProblem("JUMBF: truncated extended box length")
            lbox = int.from_bytes(buf[pos + 8 : pos + 16], "big")
            header = 16
        elif lbox == 0:
            lbox = end - pos
        if lbox < header or lbox > end - pos:
            raise ScanProblem(f"JUMBF: box '{tbox}' claims {lbox} bytes but {end - pos} are left (lying length)")
        out.append((tbox, buf[pos + header : pos + lbox]))
        pos += lbox
    return out


def _description(payload: memoryview) -> tuple[str, bytes, int]:
    """The leading ``jumd`` box of a superbox: (label, type UUID, where the children start)."""
    if len(payload) < 8 or bytes(payload[4:8]) != b"jumd":
        raise ScanProblem("JUMBF: a superbox does not start with its description box")
    size = int.from_bytes(payload[:4], "big")
    if size < 25 or size > len(payload):
        raise ScanProblem(f"JUMBF: description box claims {size} bytes but {len(payload)} are left (lying length)")
    desc = payload[8:size]
    label = ""
    if desc[16] & 0x02:
        raw = bytes(desc[17:])
        end = raw.find(b"\0")
        if end < 0:
            raise ScanProblem("JUMBF: description label is not terminated")
        label = raw[:end].decode("utf-8", errors="replace")
    return label, bytes(desc[:16]), size


def _label(payload: memoryview) -> str:
    return _description(payload)[0]


def superbox(payload: memoryview, budget: _Budget) -> Superbox:
    label, uuid, start = _description(payload)
    return Superbox(label, uuid, boxes(payload[start:], budget), budget)


# Only these fields are built from the CBOR; hashes, ingredient lists, thumbnails' references are stepped over.
CLAIM_SPEC: cbor.Spec = {"claim_generator": None, "claim_generator_info": {"name": None, "version": None}}
ACTIONS_SPEC: cbor.Spec = {"actions": {"action": None, "digitalSourceType": None, "softwareAgent": None,
                                       "parameters": {"digitalSourceType": None}}}


def _content_value(box: Superbox, keys: cbor.Spec = None) -> Any:
    content = box.content()
    if content is None:
        return None
    kind, body = content
    if kind == "cbor":
        return cbor.loads(body, keys)
    if kind == "json":
        if len(body) > 4 * 1024 * 1024:
            raise ScanProblem(f"JUMBF: JSON assertion {box.label} is too large")
        try:
            return json.loads(bytes(body))
        except ValueError as exc:
            raise ScanProblem(f"C2PA: assertion {box.label} holds invalid JSON ({exc})") from None
    return None


def parse_store(data: bytes | memoryview) -> list[dict[str, Any]]:
    """The manifests of a C2PA store, oldest first (the last is active), each as
    ``{"label", "claim": dict, "assertions": [{"label", "data"}]}`` holding only the parts we interpret.
    A JUMBF superbox that is not a C2PA store (JPEG 360, other JUMBF uses) gives an empty list."""
    budget = _Budget()
    top = boxes(memoryview(data), budget)
    if not top or top[0][0] != "jumb":
        raise ScanProblem("C2PA: the manifest store is not a JUMBF superbox")
    store = superbox(top[0][1], budget)
    if store.label != "c2pa" and store.uuid != C2PA_STORE_UUID:
        return []
    manifests = []
    for manifest in store.children_labelled(""):
        claims = manifest.children_labelled("c2pa.claim")
        claim = _content_value(claims[0], CLAIM_SPEC) if claims else None
        assertions = []
        for assertion_store in manifest.children_labelled("c2pa.assertions")[:1]:
            for assertion in assertion_store.children_labelled("c2pa.actions"):
                assertions.append({"label": assertion.label, "data": _content_value(assertion, ACTIONS_SPEC)})
        manifests.append({"label": manifest.label, "claim": claim if isinstance(claim, dict) else {},
                          "assertions": assertions})
    if not manifests:
        raise ScanProblem("C2PA: the manifest store holds no manifest")
    return manifests


def claim_generator(claim: dict[str, Any]) -> str | None:
    """claim_generator_info (v2: a map; v1: a list of maps) or the v1 claim_generator string."""
    info = claim.get("claim_generator_info")
    if isinstance(info, dict):
        name = agent_name(info)
        if name:
            return name
    if isinstance(info, list):
        names = [n for n in (agent_name(i) for i in info) if n]
        if names:
            return ", ".join(names)
    generator = claim.get("claim_generator")
    return generator if isinstance(generator, str) else None


def manifest_hits(
    manifests: list[dict[str, Any]], fmt: str, location: str, active_label: str | None = None
) -> list[Hit]:
    """Evidence from every manifest. Shared by the built-in reader and --verify (c2pa-python's JSON has the
    same shape), so both paths judge the same fields the same way."""
    hits: list[Hit] = []
    if active_label is None and manifests:
        active_label = manifests[-1]["label"]
    for manifest in manifests:
        label = manifest.get("label") or ""
        active = label == active_label
        generator = claim_generator(manifest.get("claim") or {})
        found = False
        for assertion in manifest.get("assertions") or []:
            data = assertion.get("data")
            actions = data.get("actions") if isinstance(data, dict) else None
            if not isinstance(actions, list):
                continue
            for action in actions:
                if not isinstance(action, dict):
                    continue
                source_type = action.get("digitalSourceType")
                if not isinstance(source_type, str):
                    params = action.get("parameters")
                    source_type = params.get("digitalSourceType") if isinstance(params, dict) else None
                agent = agent_name(action.get("softwareAgent"))
                name = action.get("action") if isinstance(action.get("action"), str) else "?"
                if isinstance(source_type, str) and source_type:
                    verdict, term = source_type_verdict(source_type)
                    hits.append(Hit(verdict, fmt, location, f"{assertion['label']}/{name}/digitalSourceType", term,
                                    generator=agent or generator, confidence=CONFIDENCE_C2PA, manifest=label,
                                    active=active))
                    found = True
                elif agent and tool_name(agent):
                    hits.append(Hit("ai_generated", fmt, location, f"{assertion['label']}/{name}/softwareAgent",
                                    short(agent), generator=agent, confidence=0.6, manifest=label, active=active))
                    found = True
        if not found:
            hits.append(Hit("none", fmt, location, "claim_generator", short(generator or "unknown"),
                            generator=generator, confidence=0.5, manifest=label, active=active))
    return hits


def c2pa_hits(data: bytes | memoryview, fmt: str, location: str, hits: list[Hit]) -> None:
    hits.extend(manifest_hits(parse_store(data), fmt, location))
