"""Write Content Credentials (a C2PA manifest) into a deliverable, or beside it as a ``.c2pa`` sidecar.

The manifest says how the file was made, from its use records:

- the action: ``c2pa.created`` with ``digitalSourceType`` trainedAlgorithmicMedia (wholly generated) or
  compositeWithTrainedAlgorithmicMedia (generated parts in other footage); a file that already carries
  credentials is the parent ingredient instead, ``c2pa.opened`` then ``c2pa.edited`` with that source type;
  each further input with ``c2pa.placed``. One action per generating tool names it as ``softwareAgent``.
- ``org.clearance.disclosure``: record ids, decisions, approval ids and conditions; prompts only when a
  record allows sharing them.
- the inputs' own credentials, kept whole as ingredients (the parent's manifest store goes inside).

Formats the C2PA library embeds into (JPEG, PNG, TIFF, WebP, MP4/MOV, WAV, ...) are written to a new file,
never over the input unless asked. EXR, DPX and MXF get ``<name>.c2pa`` beside the file (the library cannot
embed into them); EXR also gets ``clearance/*`` header attributes, written before the signature so the
sidecar's hash covers them.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearance import __version__
from clearance.credentials import bmff, detached, embedding, exr, fileio, tiff, xmp
from clearance.credentials.identity import SigningIdentity, make_signer, signer_for
from clearance.credentials.uses import COMPOSITE, TRAINED, UseFacts
from clearance.errors import ClearanceError

ASSERTION_LABEL = "org.clearance.disclosure"
EMBEDDED: dict[str, str] = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "tif": "image/tiff", "tiff": "image/tiff",
    "webp": "image/webp", "avif": "image/avif", "heic": "image/heic", "heif": "image/heif", "gif": "image/gif",
    "dng": "image/x-adobe-dng", "jxl": "image/jxl", "svg": "image/svg+xml", "mp4": "video/mp4", "m4v": "video/x-m4v",
    "mov": "video/quicktime", "avi": "video/x-msvideo", "wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4",
    "flac": "audio/flac", "pdf": "application/pdf",
}
SIDECAR: dict[str, str] = {"exr": "image/x-exr", "dpx": "image/x-dpx", "mxf": "application/mxf"}
OFFLINE: dict[str, Any] = {"verify": {"ocsp_fetch": False, "remote_manifest_fetch": False}}
# Above this no thumbnail: decoding a big still costs several times the signing. 10 MB as the speed target counts
# "files over 10 MB" (a file of 10.0-10.49 MB took the slow path when this was 10 MiB).
THUMBNAIL_MAX_BYTES = 10_000_000


@dataclass
class SignResult:
    source: Path
    written: Path
    sidecar: Path | None
    source_type: str
    parent_credentials: bool
    ingredients: list[str] = field(default_factory=list)
    xmp: str = ""
    exr_attributes: str = ""
    identity: str = ""
    test_identity: bool = False

    def lines(self) -> list[str]:
        kind = self.source_type.rsplit("/", 1)[-1]
        where = f"{self.written}" + (f" + {self.sidecar.name}" if self.sidecar else "")
        out = [f"{self.source}: signed ({kind}) -> {where}"]
        if self.parent_credentials:
            out.append("  the input's own credentials are kept as the parent ingredient")
        for name in self.ingredients:
            out.append(f"  ingredient: {name}")
        if self.xmp:
            out.append(f"  XMP: {self.xmp}")
        if self.exr_attributes:
            out.append(f"  EXR header: {self.exr_attributes}")
        return out


def format_of(path: Path) -> tuple[str, bool]:
    """(MIME type, embedded?) from the file name; a format Clearance cannot sign is refused."""
    ext = path.suffix.lower().lstrip(".")
    if ext in EMBEDDED:
        return EMBEDDED[ext], True
    if ext in SIDECAR:
        return SIDECAR[ext], False
    raise ClearanceError(f"{path}: Clearance cannot write Content Credentials for .{ext or '(no extension)'} files; "
                         f"embedded: {', '.join(sorted(set(EMBEDDED)))}; sidecar: exr, dpx, mxf")


def sidecar_path(path: Path) -> Path:
    """``shot.1001.exr`` -> ``shot.1001.c2pa`` (the name C2PA tools look for beside an asset)."""
    return path.with_suffix(".c2pa")


def default_output(path: Path) -> Path:
    return path.with_name(f"{path.stem}.signed{path.suffix}")


def source_type_for(facts: list[UseFacts], composite: bool | None, input_verdict: str) -> str:
    """Composite when asked, or when the input itself is a capture or a composite; else wholly generated."""
    if composite:
        return COMPOSITE
    if composite is None and input_verdict in ("camera", "ai_composite"):
        return COMPOSITE
    return TRAINED


def _tools(facts: list[UseFacts]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for use in facts:
        for tool in use.tools():
            seen.setdefault((tool["name"], tool.get("version", "")), tool)
    return list(seen.values())


def _agent(tool: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in (("name", tool["name"]), ("version", tool.get("version", ""))) if v}


def manifest_definition(
    title: str, mime: str, facts: list[UseFacts], source_type: str, *, parent: bool, placed: list[str],
    test_identity: bool,
) -> dict[str, Any]:
    tools = _tools(facts) or [{"name": "unnamed generative tool"}]
    actions: list[dict[str, Any]] = []
    if parent:
        actions.append({"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}})
        first = "c2pa.edited"
    else:
        first = "c2pa.created"
    for n, tool in enumerate(tools):
        actions.append({"action": first if n == 0 else "c2pa.edited", "digitalSourceType": source_type,
                        "softwareAgent": _agent(tool),
                        "description": "generative AI use disclosed in Clearance records"})
    for n, _ in enumerate(placed):
        actions.append({"action": "c2pa.placed", "digitalSourceType": source_type,
                        "parameters": {"ingredientIds": [f"input{n}"]}})
    disclosure = {
        "version": 1,
        "generator": f"Clearance {__version__}",
        "digital_source_type": source_type.rsplit("/", 1)[-1],
        "uses": [use.summary() for use in facts],
        "test_identity": test_identity,
    }
    return {
        "claim_generator_info": [{"name": "Clearance", "version": __version__}],
        "title": title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {"label": ASSERTION_LABEL, "data": disclosure},
        ],
    }


def ai_fields(facts: list[UseFacts], source_type: str) -> xmp.AiFields:
    tools = _tools(facts)
    prompts = [p for p in (use.shared_prompt() for use in facts) if p]
    return xmp.AiFields(
        source_type=source_type,
        systems="; ".join(t["name"] for t in tools),
        versions="; ".join(t.get("version", "") for t in tools if t.get("version")),
        prompt="\n".join(prompts) or None,
    )


def _context(large: bool, read_back_here: bool = False) -> Any:
    """A Context with ``_settings``, made once per process for each of the four (c2pa-python shares a Context
    between Readers and Builders, behind its own locks); never one that holds a signer."""
    return _contexts(os.getpid(), large, read_back_here)


@functools.cache
def _contexts(pid: int, large: bool, read_back_here: bool) -> Any:
    import c2pa

    return c2pa.Context.from_dict(_settings(large, read_back_here))


def _settings(large: bool, read_back_here: bool = False) -> dict[str, Any]:
    """The library's settings: offline; no thumbnail for a large file; and no check of its own after it signs
    when Clearance reads the manifest back itself (``detached.check_claims``: the same validation, and the
    binding too), so that it is not done twice."""
    settings: dict[str, Any] = json.loads(json.dumps(OFFLINE))
    if large:
        settings["builder"] = {"thumbnail": {"enabled": False}}
    if read_back_here:
        settings["verify"]["verify_after_sign"] = False
    return settings


def _existing_credentials(path: Path, mime: str, context: Any) -> bool:
    """Does the file carry credentials to keep? Refused when they are invalid: a file changed after it was
    signed must not pass its history on as if it were intact."""
    import c2pa

    try:
        if fileio.reads_natively():
            store = fileio.read_store(path, mime, context)
            if store is None:
                return False
            state, results = store.get("validation_state"), store.get("validation_results") or {}
        else:
            with open(path, "rb") as fh:
                reader = c2pa.Reader.try_create(mime, fh, None, context)
                if reader is None:
                    return False
                state = reader.get_validation_state()
                results = reader.get_validation_results() or {}
                reader.close()
    except c2pa.C2paError as exc:
        raise ClearanceError(f"{path}: its Content Credentials cannot be read ({_short(exc)}); sign from an intact "
                             "original, or strip its credentials on purpose first") from None
    if state == "Invalid":
        codes = [f.get("code") for f in (results.get("activeManifest") or {}).get("failure") or []]
        real = [c for c in codes if c and not c.endswith(".untrusted") and not c.startswith("signingCredential.ocsp")]
        raise ClearanceError(f"{path}: its Content Credentials are invalid ({', '.join(real[:3]) or state}): it was "
                             "changed after it was signed; sign from an intact original")
    return True


def _input_verdict(path: Path) -> str:
    """The scanner's verdict on the input (what picks the source type when none is asked for)."""
    from clearance.provenance.scanner import scan_record

    return scan_record(str(path))["verdict"]  # scan_file's verdict, without building its pydantic model


class _Restart(Exception):
    """A file signed on an assumption that turned out wrong is signed again from the start: by the library
    when it carried credentials or is not laid out as Clearance places manifests (``verdict`` None); as
    before, with the scanner's ``verdict`` known, when the source type guessed before the scan was not it."""

    def __init__(self, verdict: str | None = None) -> None:
        super().__init__(verdict)
        self.verdict = verdict


def sign_file(
    path: str | Path,
    facts: list[UseFacts],
    identity: SigningIdentity,
    *,
    out: str | Path | None = None,
    composite: bool | None = None,
    in_place: bool = False,
    inputs: list[str | Path] | None = None,
) -> SignResult:
    """Sign one file; returns what was written. Nothing is left half-written on failure."""
    verdict: str | None = None
    speculate = True
    # At most two restarts: the guessed source type is only guessed once, and the library's path (speculate
    # False) never restarts.
    for _attempt in range(3):
        try:
            return _sign_file(path, facts, identity, out=out, composite=composite, in_place=in_place,
                              inputs=inputs, speculate=speculate, verdict=verdict)
        except _Restart as again:
            if again.verdict is None:
                speculate = False
            else:
                verdict = again.verdict
    raise AssertionError("unreachable: the library's path does not restart")


def _sign_file(
    path: str | Path,
    facts: list[UseFacts],
    identity: SigningIdentity,
    *,
    out: str | Path | None,
    composite: bool | None,
    in_place: bool,
    inputs: list[str | Path] | None,
    speculate: bool,
    verdict: str | None,
) -> SignResult:
    import c2pa

    source = Path(path)
    if not source.is_file():
        raise ClearanceError(f"{source}: no such file; give a deliverable to sign")
    if not facts:
        raise ClearanceError(f"{source}: no use record given; sign with --record RECORD (the GenAI uses it carries)")
    mime, embedded = format_of(source)
    if in_place and out is not None:
        raise ClearanceError("--in-place and -o both given: choose one")
    if in_place:
        target = source
    elif out is not None:
        target = Path(out)
    elif embedded or mime == "image/x-exr":
        target = default_output(source)
    else:
        target = source  # DPX/MXF: only a sidecar is written, the file is not touched
    # Only an existing path can be the input (a file): resolving both costs more than a tenth of a millisecond
    # before a large file's hash can start, and the output usually does not exist yet.
    existing = target.exists()
    if existing and not in_place and (embedded or mime == "image/x-exr") and target.resolve() == source.resolve():
        raise ClearanceError(f"{target}: the output is the input; use --in-place to replace the original")
    if existing and target.is_dir():
        raise ClearanceError(f"{target}: is a folder; give an output file name")
    size = source.stat().st_size
    placing = speculate and mime in embedding.FORMATS and size > THUMBNAIL_MAX_BYTES and embedding.active()
    context = _context(size > THUMBNAIL_MAX_BYTES, read_back_here=placing or (not embedded and detached.available()))
    pending: Future[bool] | None = None
    plain = {"image/jpeg": embedding.jpeg_without_credentials, "image/png": embedding.png_without_credentials,
             "audio/wav": embedding.wav_without_credentials}
    if placing and mime in plain:
        parent = False  # assumed, and checked from its headers alone while it is hashed (``beside``)
    elif placing:
        # To say whether a JPEG or PNG carries credentials the library reads and parses all of it, which costs
        # about what hashing it does. A file whose headers do not say it alone, and that will have its manifest
        # placed, is assumed to carry none while it is read on another core; the answer is waited for before the
        # signed file is kept, and a file that does carry credentials is signed again from the start, by the
        # library.
        background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clearance-credentials")
        pending = background.submit(_existing_credentials, source, mime, _context(True))
        background.shutdown(wait=False)
        parent = False
    else:
        parent = _existing_credentials(source, mime, context) if embedded else False
    # Where the manifest is placed here, the scan for the source type (which goes into the XMP, hashed first)
    # runs while the hash does, on the other core: the common answer (neither a capture nor a composite) is
    # assumed, and a file that is one is signed again from the start with the scanner's verdict.
    guessed = placing and composite is None and verdict is None
    if verdict is None:
        verdict = _input_verdict(source) if composite is None and not guessed else ""
    source_type = source_type_for(facts, composite, verdict)

    checked: list[bool] = []

    def beside() -> None:
        """What the signed file does not wait for, done while it is hashed; raises _Restart when what was
        assumed is not so."""
        nonlocal pending
        checked.append(True)
        if guessed:
            scanned = _input_verdict(source)
            if source_type_for(facts, composite, scanned) != source_type:
                raise _Restart(scanned)
        if placing and mime in plain and not plain[mime](source, size):
            # Its headers do not say it alone: the library's Reader reads it on another core (as below).
            background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clearance-credentials")
            pending = background.submit(_existing_credentials, source, mime, _context(True))
            background.shutdown(wait=False)
    placed = [Path(p) for p in (inputs or [])]
    for p in placed:
        if not p.is_file():
            raise ClearanceError(f"{p}: no such input file; fix --input")
        input_mime, input_embedded = format_of(p)
        if input_embedded:
            _existing_credentials(p, input_mime, context)  # refuses an input whose credentials were broken
    result = SignResult(source, target, None, source_type, parent, [p.name for p in placed],
                        identity=identity.subject, test_identity=identity.test)
    signer = signer_for(identity)
    movie_signers: list[Any] = []
    target.parent.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []  # the temporary output, made where it is first needed (after a hash started ahead)
    staged: Path | None = None
    ahead: fileio.HashAhead | None = None
    try:
        fields = ai_fields(facts, source_type)
        signing_source = source
        placement: embedding.Placement | None = None
        rewrite: xmp.Rewrite | None = None
        if embedded and mime in xmp.WRITERS:
            try:
                with open(source, "rb") as src:
                    rewrite = xmp.WRITERS[mime](src, fields, str(source), size)
                result.xmp = "IPTC AI fields written (" + ", ".join(
                    n for n, v in (("DigitalSourceType", 1), ("AISystemUsed", fields.systems),
                                   ("AISystemVersionUsed", fields.versions), ("AIPromptInformation", fields.prompt))
                    if v) + ")"
            except xmp.NotWritable as why:
                result.xmp = f"not written ({why}); the C2PA manifest carries the same facts"
        elif embedded:
            result.xmp = "not written: Clearance writes XMP into JPEG, PNG, TIFF/DNG, MP4/MOV, WAV and WebP only " \
                         f"({mime} carries the same facts in the C2PA manifest)"
        movie: bmff.Plan | None = None  # the library makes no thumbnail for a movie: placed here at any size
        if speculate and mime in bmff.FORMATS and not parent and bmff.active():
            try:
                movie = bmff.plan(source, rewrite.pieces() if rewrite is not None else [(0, size)])
            except bmff.NotModelled:
                movie = None  # signed by the library, as before
        if rewrite is not None and mime in embedding.ENDS:
            placement = embedding.in_header(mime, rewrite, parent, thumbnail=size <= THUMBNAIL_MAX_BYTES)
        elif placing and mime == "audio/wav":
            placement = embedding.at_riff_end(source, size, rewrite)
        elif placing and rewrite is not None and mime in tiff.FORMATS:
            placement = tiff.at_tiff_end(mime, rewrite)
        if placement is None and movie is None and rewrite is not None and not placing:
            staged = _temporary(target, made).with_suffix(".xmp.part")
            try:
                with fileio.descriptor(source, os.O_RDONLY) as src_fd, \
                        fileio.descriptor(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) as staged_fd:
                    fileio.write_pieces(rewrite.pieces(), src_fd, staged_fd)
            except OSError as exc:
                raise ClearanceError(f"{source}: signing failed ({exc.strerror or exc}); nothing was written. Check "
                                     "the file and the free space where the output goes") from None
            signing_source = staged
        if placing and placement is None:
            raise _Restart  # JUMBF in the header, or not laid out as modelled: the library signs it, parent known
        pieces: list[fileio.Piece] | None = None  # what a sidecar's file is written from: it binds those bytes
        if mime == "image/x-exr":
            try:
                with open(source, "rb") as src:
                    pieces = [exr.head(src, exr_attributes(facts, source_type, sidecar_path(target).name),
                                       str(source)), (src.tell(), size)]
                result.exr_attributes = "clearance/record_ids, clearance/decision, clearance/approval_ids, " \
                                        "clearance/source_type, clearance/credentials"
            except exr.NotWritable as why:
                pieces = [(0, size)]
                result.exr_attributes = f"not written ({why}); the sidecar still covers the file"
        elif not embedded and target.resolve() != source.resolve():
            pieces = [(0, size)]  # DPX/MXF with -o: the sidecar binds these bytes, so they go along
        try:
            define = functools.partial(manifest_definition, target.name, mime, facts, source_type, parent=parent,
                                       placed=[p.name for p in placed], test_identity=identity.test)
            definition: dict[str, Any] | None = None
            if isinstance(placement, embedding.AtRiffEnd):  # a WAV's room is sized from its definition
                definition = define()
                placement = embedding.with_reserved_slot(placement, definition, signer.reserve_size(),
                                                         ingredients=parent or bool(placed))
            if placement is not None:  # hashed on another core while the manifest is made
                ahead = embedding.hash_ahead(source, placement)
            if definition is None:
                definition = define()
            try:
                builder = c2pa.Builder(definition, context=context)
                if movie is None:  # a movie's Builders get the ingredients themselves (_movie_builder)
                    _add_ingredients(builder, source, mime, parent, placed)
            except c2pa.C2paError as exc:
                raise ClearanceError(f"{source}: the C2PA library refused the manifest ({_short(exc)})") from None
            if placement is not None:
                try:
                    embedding.sign(builder, signer, source, placement, lambda: _temporary(target, made), ahead,
                                   beside)
                finally:
                    builder.close()  # single use, as the library's own sign leaves it
                if not checked:  # a file with no source bytes to hash beside: checked now, before it is kept
                    beside()
                if pending is not None and pending.result():  # raises as _existing_credentials does
                    raise _Restart
                temp = made[0]
            elif movie is not None:
                temp = _temporary(target, made)
                builder.close()  # the movie's manifest is built twice below, sized then signed, with its hash
                bmff.sign(movie, _movie_builder(definition, identity, source, mime, placed, movie_signers,
                                                large=size > THUMBNAIL_MAX_BYTES), mime, temp)
            elif embedded:
                temp = _temporary(target, made)
                try:
                    fileio.sign_with_library(builder, signer, mime, signing_source, temp)
                except c2pa.C2paError as exc:
                    if staged is None or getattr(signer, "_clearance_failures", None):
                        raise
                    # Refused with the XMP Clearance staged (a layout its writers did not foresee): the file is
                    # signed as it came, without XMP, and says so; a file the library refuses either way fails.
                    result.xmp = f"not written (the C2PA library refused the file with it: {_short(exc)})"
                    builder = c2pa.Builder(definition, context=context)
                    _add_ingredients(builder, source, mime, parent, placed)
                    fileio.sign_with_library(builder, signer, mime, source, temp)
            else:
                builder.set_no_embed()
                hashed = source
                digest: bytes | None = None
                if pieces is not None:
                    temp = _temporary(target, made)
                    with fileio.descriptor(source, os.O_RDONLY) as src_fd, \
                            fileio.descriptor(temp, os.O_RDWR) as out_fd:
                        digest, _ = fileio.write_hashed(pieces, src_fd, out_fd)
                    hashed = temp
                if detached.available():
                    try:
                        manifest = detached.sign(builder, signer, hashed, digest)
                    finally:
                        builder.close()
                else:
                    manifest = fileio.sign_with_library(builder, signer, mime, hashed, None)
                sidecar = sidecar_path(target)
                fd, side_temp = tempfile.mkstemp(prefix=f".{sidecar.name}.", suffix=".part", dir=target.parent)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(manifest)
                os.replace(side_temp, sidecar)
                result.sidecar = sidecar
        except c2pa.C2paError as exc:
            for used in (signer, *movie_signers):
                failures = getattr(used, "_clearance_failures", None)
                if failures:
                    raise failures[0] from None
            raise ClearanceError(f"{source}: signing failed ({_short(exc)})") from None
        except OSError as exc:
            raise ClearanceError(f"{source}: signing failed ({exc.strerror or exc}); nothing was written. Check "
                                 "the file and the free space where the output goes") from None
        if embedded or pieces is not None:
            shutil.copymode(source, temp)
            os.replace(temp, target)
    finally:
        if ahead is not None:
            ahead.close()
        for part in made:
            part.unlink(missing_ok=True)
        if staged is not None:
            staged.unlink(missing_ok=True)
    return result


def _temporary(target: Path, made: list[Path]) -> Path:
    """The temporary file the output is written to beside ``target`` (kept in ``made``, which the caller
    removes), made on first use."""
    if not made:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
        made.append(Path(name))
    return made[0]


def _movie_builder(definition: dict[str, Any], identity: SigningIdentity, source: Path, mime: str,
                   placed: list[Path], signers: list[Any], *, large: bool) -> Any:
    """Builders of the manifest with a hash assertion added, for ``bmff.sign``: each with a Context that holds
    a signer of the identity (the library's caller-placed calls take the signer from there), and the settings
    the library's own path would have (a small movie's inputs get ingredient thumbnails)."""
    import c2pa

    contexts: list[Any] = []  # one for both Builders of this file

    def new_builder(binding: dict[str, Any]) -> Any:
        if not contexts:
            signer = make_signer(identity)  # consumed by its Context: never one kept for other files
            signers.append(signer)
            contexts.append(c2pa.Context.from_dict(_settings(large, read_back_here=True), signer=signer))
        movie = {**definition, "assertions": [*definition["assertions"], binding]}
        builder = c2pa.Builder(movie, context=contexts[0])
        try:
            _add_ingredients(builder, source, mime, False, placed)
        except BaseException:
            builder.close()
            raise
        return builder

    return new_builder


def _add_ingredients(builder: Any, source: Path, mime: str, parent: bool, placed: list[Path]) -> None:
    if parent:
        with open(source, "rb") as fh:
            builder.add_ingredient({"title": source.name, "relationship": "parentOf", "label": "parent"}, mime, fh)
    for n, p in enumerate(placed):
        with open(p, "rb") as fh:
            builder.add_ingredient({"title": p.name, "relationship": "componentOf", "label": f"input{n}"},
                                   format_of(p)[0], fh)


def exr_attributes(facts: list[UseFacts], source_type: str, sidecar_name: str) -> dict[str, str]:
    decisions = sorted({use.decision.outcome for use in facts}, key=["notify", "approval_required"].index)
    return {
        "clearance/record_ids": json.dumps([use.record_id for use in facts]),
        "clearance/decision": decisions[-1] if decisions else "notify",
        "clearance/approval_ids": json.dumps([use.approval.approval_id for use in facts if use.approval]),
        "clearance/source_type": source_type.rsplit("/", 1)[-1],
        "clearance/credentials": sidecar_name,
    }


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
