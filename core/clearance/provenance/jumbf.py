"""JUMBF (ISO/IEC 19566-5) boxes and the C2PA manifest store inside them.

Reads every manifest of the store (the active one is the last), its claim (claim_generator,
claim_generator_info) and its actions assertions (``c2pa.actions``, ``c2pa.actions.v2``, numbered
instances ``__1``...), decoding CBOR with the built-in decoder. No signature or hash is checked here:
that is what ``--verify`` (c2pa-python) adds.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from typing import Any

from clearance.provenance import cbor
from clearance.provenance.signals import CONFIDENCE_C2PA, agent_name, short, source_type_verdict, tool_name
from clearance.provenance.source import MAX_ENTRIES, ScanProblem, Source
from clearance.provenance.verdicts import Hit

C2PA_STORE_UUID = bytes.fromhex("6332706100110010800000aa00389b71")  # 'c2pa'
READ_WHOLE = 96 * 1024  # stores up to this size are read at once; larger ones (thumbnails inside) in place


class StoreBytes:
    """The bytes of one manifest store, read on demand.

    A store is mostly thumbnails, signatures and hashes that provenance never needs; only box headers,
    description boxes, claims and actions assertions are read. The bytes come from memory, from a range
    of the file (PNG caBX, RIFF C2PA, BMFF uuid) or from the APP11 packets a JPEG splits the store into, so
    a 250 KB store with an ingredient's thumbnail costs a few KB of reads and no copy of the whole."""

    __slots__ = ("_data", "_pieces", "_src", "_starts", "size", "whole")

    def __init__(self, size: int, data: bytes | memoryview | None = None, src: Source | None = None,
                 pieces: list[tuple[int, int]] | None = None) -> None:
        self.size = size
        self.whole = data if isinstance(data, bytes) else None  # the store's bytes, when held whole
        self._data = None if data is None else memoryview(data)
        self._src = src
        self._pieces = pieces or []  # (file offset, length), in store order
        starts, at = [], 0
        for _, length in self._pieces:
            starts.append(at)
            at += length
        self._starts = starts

    @classmethod
    def of(cls, data: bytes | memoryview) -> StoreBytes:
        return cls(len(memoryview(data)), data=data)

    @classmethod
    def in_file(cls, src: Source, pieces: list[tuple[int, int]]) -> StoreBytes:
        """The store as the concatenation of file ranges (already checked to lie inside the file). A small
        store is read whole at once: one read costs less than the dozens of header reads of a walk in place."""
        size = sum(length for _, length in pieces)
        if size <= READ_WHOLE:
            parts = [src.read(at, length) for at, length in pieces]
            return cls.of(parts[0] if len(parts) == 1 else b"".join(parts))
        return cls(size, src=src, pieces=pieces)

    def read(self, offset: int, n: int) -> bytes | memoryview:
        """Exactly ``n`` bytes at ``offset``; callers keep inside ``size``."""
        if self._data is not None:
            return self._data[offset : offset + n]
        assert self._src is not None  # set by in_file whenever there is no data
        if len(self._pieces) == 1:
            return self._src.read(self._pieces[0][0] + offset, n)
        out: list[bytes] = []
        i = bisect_right(self._starts, offset) - 1
        while n > 0 and i < len(self._pieces):
            at, length = self._pieces[i]
            skip = offset - self._starts[i]
            take = min(n, length - skip)
            if take > 0:
                out.append(self._src.read(at + skip, take))
                offset += take
                n -= take
            i += 1
        return out[0] if len(out) == 1 else b"".join(out)


# A box: (type, start of its payload, end of its payload), offsets into its StoreBytes.
Box = tuple[str, int, int]


class Superbox:
    """A ``jumb`` box opened one level: its label, type UUID and raw children ``(type, start, end)``.

    Children superboxes are opened only when asked for (``children_labelled``): a manifest store's
    thumbnails, ingredients' data boxes and signatures are never read, and no hostile nesting is ever
    descended into beyond the four levels a store has (store, manifest, assertion store, assertion)."""

    __slots__ = ("_labels", "budget", "children", "label", "store", "uuid")

    def __init__(self, store: StoreBytes, label: str, uuid: bytes, children: list[Box], budget: _Budget) -> None:
        self.store = store
        self.label = label
        self.uuid = uuid
        self.children = children
        self.budget = budget
        self._labels: list[tuple[tuple[str, bytes, int], int, int]] | None = None

    def children_labelled(self, prefix: str) -> list[Superbox]:
        if self._labels is None:  # every child's description is checked, once, in order
            self._labels = [(_description(self.store, s, e), s, e) for kind, s, e in self.children if kind == "jumb"]
        store, budget = self.store, self.budget
        return [Superbox(store, label, uuid, boxes(store, s + size, e, budget), budget)
                for (label, uuid, size), s, e in self._labels if label.startswith(prefix)]

    def content(self) -> Box | None:
        for child in self.children:
            if child[0] != "jumb":
                return child
        return None


class _Budget:
    __slots__ = ("boxes",)

    def __init__(self) -> None:
        self.boxes = 0


def boxes(store: StoreBytes, start: int, end: int, budget: _Budget) -> list[Box]:
    """Split a run of boxes. Every length is checked against what is left; only headers are read."""
    out = []
    pos = start
    while pos < end:
        budget.boxes += 1
        if budget.boxes > MAX_ENTRIES:
            raise ScanProblem(f"JUMBF: more than {MAX_ENTRIES} boxes")
        if end - pos < 8:
            raise ScanProblem("JUMBF: truncated box header")
        head = store.read(pos, 16 if end - pos >= 16 else 8)
        lbox = int.from_bytes(head[:4], "big")
        tbox = bytes(head[4:8]).decode("latin-1")
        header = 8
        if lbox == 1:
            if end - pos < 16:
                raise ScanProblem("JUMBF: truncated extended box length")
            lbox = int.from_bytes(head[8:16], "big")
            header = 16
        elif lbox == 0:
            lbox = end - pos
        if lbox < header or lbox > end - pos:
            raise ScanProblem(f"JUMBF: box '{tbox}' claims {lbox} bytes but {end - pos} are left (lying length)")
        out.append((tbox, pos + header, pos + lbox))
        pos += lbox
    return out


def _description(store: StoreBytes, start: int, end: int) -> tuple[str, bytes, int]:
    """The leading ``jumd`` box of a superbox's payload: (label, type UUID, length of the description box)."""
    left = end - start
    if left < 8:
        raise ScanProblem("JUMBF: a superbox does not start with its description box")
    head = store.read(start, 8)
    if bytes(head[4:8]) != b"jumd":
        raise ScanProblem("JUMBF: a superbox does not start with its description box")
    size = int.from_bytes(head[:4], "big")
    if size < 25 or size > left:
        raise ScanProblem(f"JUMBF: description box claims {size} bytes but {left} are left (lying length)")
    desc = bytes(store.read(start + 8, size - 8))
    label = ""
    if desc[16] & 0x02:
        raw = desc[17:]
        stop = raw.find(b"\0")
        if stop < 0:
            raise ScanProblem("JUMBF: description label is not terminated")
        label = raw[:stop].decode("utf-8", errors="replace")
    return label, desc[:16], size


def superbox(store: StoreBytes, start: int, end: int, budget: _Budget) -> Superbox:
    label, uuid, size = _description(store, start, end)
    return Superbox(store, label, uuid, boxes(store, start + size, end, budget), budget)


# Only these fields are built from the CBOR; hashes, ingredient lists, thumbnails' references are stepped over.
CLAIM_SPEC: cbor.Spec = {"claim_generator": None, "claim_generator_info": {"name": None, "version": None}}
ACTIONS_SPEC: cbor.Spec = {"actions": {"action": None, "digitalSourceType": None, "softwareAgent": None,
                                       "parameters": {"digitalSourceType": None}}}


def _content_value(box: Superbox, keys: cbor.Spec = None) -> Any:
    content = box.content()
    if content is None:
        return None
    kind, start, end = content
    if kind == "cbor":
        return cbor.loads(box.store.read(start, end - start), keys)
    if kind == "json":
        if end - start > 4 * 1024 * 1024:
            raise ScanProblem(f"JUMBF: JSON assertion {box.label} is too large")
        try:
            return json.loads(bytes(box.store.read(start, end - start)))
        except ValueError as exc:
            raise ScanProblem(f"C2PA: assertion {box.label} holds invalid JSON ({exc})") from None
    return None


def parse_store(data: bytes | memoryview | StoreBytes) -> list[dict[str, Any]]:
    """The manifests of a C2PA store, oldest first (the last is active), each as
    ``{"label", "claim": dict, "assertions": [{"label", "data"}]}`` holding only the parts we interpret.
    A JUMBF superbox that is not a C2PA store (JPEG 360, other JUMBF uses) gives an empty list."""
    budget = _Budget()
    source = data if isinstance(data, StoreBytes) else StoreBytes.of(data)
    top = boxes(source, 0, source.size, budget)
    if not top or top[0][0] != "jumb":
        raise ScanProblem("C2PA: the manifest store is not a JUMBF superbox")
    store = superbox(source, top[0][1], top[0][2], budget)
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


# Stores already parsed in this process, by their exact bytes: copies of one signed file (a delivery's
# versions, the same still in several folders) are parsed once. Bounded; a store that fails is never kept.
_PARSED: dict[bytes, list[dict[str, Any]]] = {}
_PARSED_MAX_BYTES = 16 * 1024 * 1024
_parsed_bytes = 0


def c2pa_hits(data: bytes | memoryview | StoreBytes, fmt: str, location: str, hits: list[Hit]) -> None:
    global _parsed_bytes
    store = data if isinstance(data, StoreBytes) else StoreBytes.of(data)
    key = store.whole
    if key is None:  # read in place, never held whole: nothing to key on
        hits.extend(manifest_hits(parse_store(store), fmt, location))
        return
    manifests = _PARSED.get(key)
    if manifests is None:
        manifests = parse_store(store)
        if _parsed_bytes + len(key) > _PARSED_MAX_BYTES:
            _PARSED.clear()
            _parsed_bytes = 0
        _PARSED[key] = manifests
        _parsed_bytes += len(key)
    # manifest_hits only reads the manifests: a remembered list serves every copy unchanged.
    hits.extend(manifest_hits(manifests, fmt, location))
