"""What metadata values mean: IPTC digital source types, AI tool names, embedded prompts, XMP packets.

Shared by every format reader so a PNG text chunk, an EXIF UserComment and an EXR string attribute are
judged the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, AnyStr

from clearance.provenance.source import ScanProblem
from clearance.provenance.verdicts import Hit

# IPTC NewsCodes digital source type (last URI segment) -> verdict. Anything else reports 'none'.
SOURCE_TYPE_VERDICT = {
    "trainedAlgorithmicMedia": "ai_generated",
    "compositeWithTrainedAlgorithmicMedia": "ai_composite",
    "algorithmicMedia": "synthetic",
    "digitalCapture": "camera",
}
CONFIDENCE_C2PA = 0.95
CONFIDENCE_XMP_SOURCE_TYPE = 0.85
CONFIDENCE_PROMPT = 0.9
CONFIDENCE_TOOL_NAME = 0.6
CONFIDENCE_CLEARANCE_RECORD = 0.9

MAX_TEXT = 4 * 1024 * 1024  # one text value we are willing to parse (JSON graph, XMP packet)
SHORT = 200

# Generative tools whose name in a software/creator/device field means the media came out of a model.
_TOOLS = (
    "Midjourney", "DALL-E", "DALL·E", "DALLE", "Stable Diffusion", "StableDiffusion", "SDXL", "ComfyUI",
    "AUTOMATIC1111", "stable-diffusion-webui", "InvokeAI", "Fooocus", "NovelAI", "Adobe Firefly", "Firefly",
    "Runway", "Runway Gen-2", "Runway Gen-3", "Runway Gen-4", "RunwayML", "Runway ML",
    "OpenAI Sora", "Sora", "Imagen", "Google Veo", "Veo 2", "Veo 3",
    "Leonardo.Ai", "Leonardo AI", "Ideogram", "Flux.1", "FLUX.1", "Black Forest Labs", "Kling AI", "Pika Labs",
    "Luma Dream Machine", "Dream Machine", "Krea AI", "Nano Banana", "GPT-4o", "gpt-image-1", "Playground AI",
    "DreamStudio", "Craiyon", "Bing Image Creator", "Copilot Designer", "Meta AI", "Stability AI",
    "Image Playground", "Google Gemini", "Made with Google AI", "Stable Audio", "Suno", "Udio", "ElevenLabs",
)
# Longest first, so 'Runway Gen-3' wins over 'Runway'.
_TOOL_PATTERN = (
    r"(?<![\w-])(" + "|".join(re.escape(t) for t in sorted(_TOOLS, key=len, reverse=True)) + r")(?![\w-])"
)
# Plain substring tests are ~50x cheaper than the alternation: the regex only runs when one of these occurs.
_LOWER = {t.lower() for t in _TOOLS}
_ANCHORS = tuple(sorted(a for a in _LOWER if not any(b != a and b in a for b in _LOWER)))
_ANCHORS_BYTES = tuple(a.encode("utf-8") for a in _ANCHORS)
_LONGEST = max(len(t) for t in _TOOLS) + 2
# Up to this length (the common case: a Software or Encoder field) any window below spans the whole text.
_WHOLE_WINDOW = _LONGEST + min(len(a) for a in _ANCHORS)
# The alternation is compiled on first need (a few ms, paid only by scans that meet an anchor).
_compiled: dict[str, Any] = {}


def _tool_re() -> re.Pattern[str]:
    found: re.Pattern[str] | None = _compiled.get("str")
    if found is None:
        found = _compiled["str"] = re.compile(_TOOL_PATTERN, re.IGNORECASE)
    return found


def _tool_bytes_re() -> re.Pattern[bytes]:
    found: re.Pattern[bytes] | None = _compiled.get("bytes")
    if found is None:
        found = _compiled["bytes"] = re.compile(_TOOL_PATTERN.encode("utf-8"), re.IGNORECASE)
    return found


_XMP_MARKERS = re.compile(rb"DigitalSourceType|AIPromptInformation|AISystemUsed|provenance")
_CANONICAL = {t.lower(): t for t in _TOOLS}


def short(value: str, n: int = SHORT) -> str:
    value = " ".join(value.split())
    return value if len(value) <= n else value[: n - 1] + "…"


def source_type_verdict(uri: str) -> tuple[str, str]:
    """IPTC/C2PA digital source type URI (or bare term) -> (verdict, term)."""
    term = uri.rstrip("/").rsplit("/", 1)[-1].strip()
    return SOURCE_TYPE_VERDICT.get(term, "none"), term


def tool_name(text: str) -> str | None:
    """The generative tool named in a free-text field, if any."""
    if not text:
        return None
    text = text[:4096]
    match = _first_tool(text, text.lower(), _ANCHORS, _tool_re)
    if not match:
        return None
    name: str = match.group(1)
    return _CANONICAL.get(name.lower(), name)


def _first_tool(
    text: AnyStr, low: AnyStr, anchors: tuple[AnyStr, ...], compiled: Callable[[], re.Pattern[AnyStr]]
) -> re.Match[AnyStr] | None:
    """The leftmost tool name, searching only around occurrences of the anchors (plain substring finds): the
    alternation is slow over long text, and anchors such as 'udio' occur inside ordinary words ('audio')."""
    if len(low) <= _WHOLE_WINDOW:
        # Every anchor's window is the whole text: one search answers for all of them (the same match, as
        # the loop below would find it), provided some anchor occurs at all.
        found = compiled().search(text)
        return found if found is not None and any(a in low for a in anchors) else None
    best: re.Match[AnyStr] | None = None
    for anchor in anchors:
        i = low.find(anchor)
        while i >= 0:
            match = compiled().search(text, max(0, i - _LONGEST), i + len(anchor) + _LONGEST)
            if match and (best is None or match.start() < best.start()):
                best = match
            if match:
                break
            i = low.find(anchor, i + 1)
    return best


def tool_hit(fmt: str, location: str, field: str, text: str, hits: list[Hit]) -> None:
    tool = tool_name(text)
    if tool:
        hits.append(Hit("ai_generated", fmt, location, field, short(text), generator=tool,
                        confidence=CONFIDENCE_TOOL_NAME))


def a1111_generator(text: str) -> str:
    model = re.search(r"(?:^|, )Model: ([^,\n]+)", text)
    return f"Stable Diffusion web UI (model {model.group(1).strip()})" if model else "Stable Diffusion web UI"


def looks_like_a1111(text: str) -> bool:
    return "Steps: " in text and ("Sampler: " in text or "Seed: " in text or "CFG scale: " in text)


def text_field_hits(fmt: str, location: str, key: str, text: str, hits: list[Hit]) -> None:
    """A keyed text value (PNG text chunk, EXR/DPX string, EXIF comment) -> hits."""
    lowered = key.lower()
    if lowered == "parameters" or looks_like_a1111(text):
        if looks_like_a1111(text):
            hits.append(Hit("ai_generated", fmt, location, key, short(text), generator=a1111_generator(text),
                            prompt=True, confidence=CONFIDENCE_PROMPT))
            return
        if lowered == "parameters" and text.strip() and not text.lstrip().startswith("{"):
            hits.append(Hit("ai_generated", fmt, location, key, short(text), prompt=True,
                            generator="unknown (A1111-style parameters)", confidence=CONFIDENCE_TOOL_NAME))
            return
    if lowered in ("prompt", "workflow"):
        hit = _comfy_hit(fmt, location, key, text)
        if hit:
            hits.append(hit)
            return
    if lowered in ("invokeai_metadata", "invokeai_graph", "sd-metadata", "dream"):
        hits.append(Hit("ai_generated", fmt, location, key, short(text), generator="InvokeAI", prompt=True,
                        confidence=CONFIDENCE_PROMPT))
        return
    if lowered in ("xml:com.adobe.xmp",):
        xmp_hits(text.encode("utf-8", "replace"), fmt, location, hits)
        return
    if "Job ID: " in text and lowered in ("description", "comment"):
        # Midjourney writes the prompt and its job id into the PNG description
        hits.append(Hit("ai_generated", fmt, location, key, short(text), generator="Midjourney", prompt=True,
                        confidence=CONFIDENCE_PROMPT))
        return
    if text.lstrip().startswith("{") and '"prompt"' in text:
        generator = _json_generation(text)
        if generator:
            hits.append(Hit("ai_generated", fmt, location, key, short(text), generator=generator, prompt=True,
                            confidence=CONFIDENCE_PROMPT))
            return
    tool_hit(fmt, location, key, text, hits)


_GENERATION_KEYS = frozenset({"steps", "sampler", "seed", "cfg_scale", "scale", "noise_schedule", "guidance_scale",
                              "num_inference_steps"})


def _json_generation(text: str) -> str | None:
    """JSON generation settings (NovelAI Comment, SwarmUI/Fooocus/Draw Things parameters): a prompt next to
    sampler settings, at the top level or one level down. Returns the generator it names, if any."""
    if len(text) > MAX_TEXT:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack allows
        return None
    if not isinstance(data, dict):
        return None
    for candidate in (data, *(v for v in data.values() if isinstance(v, dict))):
        keys = {str(k).lower() for k in candidate}
        if "prompt" in keys and keys & _GENERATION_KEYS:
            for name in ("software", "generator", "model", "sui_models", "base_model", "version"):
                value = candidate.get(name) or data.get(name)
                if isinstance(value, str) and value:
                    return value[:80]
            return "unknown (JSON generation settings)"
    return None


def _comfy_hit(fmt: str, location: str, key: str, text: str) -> Hit | None:
    if len(text) > MAX_TEXT:
        return None
    try:
        graph = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack allows
        return None
    model: str | None = None
    if key.lower() == "prompt":
        if not isinstance(graph, dict) or not any(isinstance(n, dict) and "class_type" in n for n in graph.values()):
            return None
        for node in graph.values():
            inputs = node.get("inputs") if isinstance(node, dict) else None
            if isinstance(inputs, dict):
                for name in ("ckpt_name", "unet_name", "model_name"):
                    if isinstance(inputs.get(name), str):
                        model = inputs[name]
                        break
            if model:
                break
        value = f"ComfyUI API graph, {len(graph)} nodes"
    else:
        if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
            return None
        value = f"ComfyUI workflow, {len(graph['nodes'])} nodes"
    generator = f"ComfyUI (model {model})" if model else "ComfyUI"
    return Hit("ai_generated", fmt, location, key, value, generator=generator, prompt=True,
               confidence=CONFIDENCE_PROMPT + (0.05 if key.lower() == "prompt" else 0.0))


# --- XMP -----------------------------------------------------------------------------------------

_NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
_NS_XMP = "http://ns.adobe.com/xap/1.0/"
_NS_PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
_NS_TIFF = "http://ns.adobe.com/tiff/1.0/"
_NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_TOOL_FIELDS = {
    f"{{{_NS_XMP}}}CreatorTool": "xmp:CreatorTool",
    f"{{{_NS_PHOTOSHOP}}}Credit": "photoshop:Credit",
    f"{{{_NS_TIFF}}}Software": "tiff:Software",
    f"{{{_NS_IPTC_EXT}}}AISystemUsed": "Iptc4xmpExt:AISystemUsed",
    "{http://ns.adobe.com/xap/1.0/mm/}History": "xmpMM:History",
    "{http://ns.adobe.com/xap/1.0/sType/ResourceEvent#}softwareAgent": "stEvt:softwareAgent",
}
_SOURCE_TYPE = f"{{{_NS_IPTC_EXT}}}DigitalSourceType"
_REMOTE_MANIFEST = "{http://purl.org/dc/terms/}provenance"
_PROMPT = f"{{{_NS_IPTC_EXT}}}AIPromptInformation"
_RESOURCE = f"{{{_NS_RDF}}}resource"


def xmp_hits(packet: bytes, fmt: str, location: str, hits: list[Hit]) -> None:
    """Parse one XMP packet (bounded; DTDs refused so no entity expansion) and add what it says."""
    if len(packet) > MAX_TEXT:
        raise ScanProblem(f"{location}: XMP packet of {len(packet)} bytes is over the {MAX_TEXT // 1048576} MiB limit")
    start = packet.find(b"<x:xmpmeta")
    if start < 0:
        start = packet.find(b"<rdf:RDF")
    if start < 0:
        return
    end_tag = b"</x:xmpmeta>" if packet.startswith(b"<x:xmpmeta", start) else b"</rdf:RDF>"
    end = packet.find(end_tag, start)
    if end < 0:
        raise ScanProblem(f"{location}: truncated XMP packet (no {end_tag.decode()})")
    body = packet[start : end + len(end_tag)]
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        raise ScanProblem(f"{location}: XMP packet declares a DTD/entities; refused")
    if not _XMP_MARKERS.search(body) and not _mentions_tool(body):
        return  # nothing the XML could tell us: skip the parse (most packets: camera and editing tools)
    import xml.etree.ElementTree as ET  # here, not at the top: most scans never parse an XMP packet

    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ScanProblem(f"{location}: malformed XMP ({exc})") from None
    prompt = False
    found: list[tuple[str, str]] = []
    for element in root.iter():
        for name, value in element.attrib.items():
            found.append((name, value))
        tag = element.tag
        if tag in (_SOURCE_TYPE, _REMOTE_MANIFEST):
            value = element.get(_RESOURCE) or (element.text or "")
            found.append((tag, value))
        elif tag == _PROMPT or tag in _TOOL_FIELDS:
            text = " ".join(t.strip() for t in element.itertext() if t.strip())
            found.append((tag, text))
    stated = "ai_generated"
    for name, value in found:
        if name == _PROMPT and value.strip():
            prompt = True
        elif name == _SOURCE_TYPE and source_type_verdict(value.strip())[0] == "ai_composite":
            # IPTC 2025.1: AISystemUsed names the model behind the generated part of a composite; the packet's
            # own DigitalSourceType says the whole file is a composite, so the tool fields do not outrank it.
            stated = "ai_composite"
    for name, value in found:
        if name == _SOURCE_TYPE and value.strip():
            verdict, term = source_type_verdict(value.strip())
            hits.append(Hit(verdict, fmt, location, "Iptc4xmpExt:DigitalSourceType", term, prompt=prompt,
                            confidence=CONFIDENCE_XMP_SOURCE_TYPE))
        elif name == _REMOTE_MANIFEST and value.strip().lower().startswith(("http://", "https://")):
            # A C2PA manifest kept on a server: the scan is offline, so it is reported, never fetched.
            hits.append(Hit("none", fmt, location, "dcterms:provenance (remote C2PA manifest)", short(value.strip()),
                            confidence=0.5, manifest=value.strip()[:300], active=True))
        elif name in _TOOL_FIELDS:
            tool = tool_name(value)
            if tool:
                hits.append(Hit(stated, fmt, location, _TOOL_FIELDS[name], short(value), generator=tool,
                                prompt=prompt, confidence=CONFIDENCE_TOOL_NAME))
        elif name == _PROMPT and value.strip():
            hits.append(Hit(stated, fmt, location, "Iptc4xmpExt:AIPromptInformation", short(value),
                            prompt=True, confidence=CONFIDENCE_TOOL_NAME))


def _mentions_tool(data: bytes) -> bool:
    return _first_tool(data, data.lower(), _ANCHORS_BYTES, _tool_bytes_re) is not None


def agent_name(agent: Any) -> str | None:
    """C2PA softwareAgent / claim_generator_info entry -> 'name version'."""
    if isinstance(agent, str):
        return agent
    if isinstance(agent, dict):
        name = agent.get("name")
        if isinstance(name, str):
            version = agent.get("version")
            return f"{name} {version}" if isinstance(version, str) and version else name
    return None
