"""Nuke callbacks: scan a Read's new file, keep tags and status current, queue disclosures on save,
put record ids into rendered files, and gate renders of deliverables.

Registered by ``install()`` (from init.py, so they run on farms and in ``nuke -t`` too). Every callback
but the render gate swallows its own errors after logging one line: a Clearance problem must never
stop an artist from saving a script. The render gate raises on purpose: an exception in a
beforeRender callback is how Nuke stops a render and shows the reason.
"""

from __future__ import annotations

import logging
from typing import Any

import nuke

from clearance.errors import ClearanceError
from clearance.hosts import nuke as host
from clearance.hosts.status import Judge
from clearance_nuke import knobs

log = logging.getLogger("clearance.nuke")

SCAN_FRAMES = 3
ANSWER_KNOBS = frozenset(k.name for k in host.all_answer_knobs())


def say(text: str) -> None:
    """A status line: the Script Editor / terminal; in the GUI also the message box when asked to."""
    nuke.tprint(f"Clearance: {text}")


def _guard(what: str, func: Any, *args: Any) -> Any:
    try:
        return func(*args)
    except ClearanceError as exc:
        say(f"{what}: {exc}")
    except Exception as exc:  # never break the artist's session over a Clearance bug
        log.exception("Clearance %s failed", what)
        say(f"{what} failed: {type(exc).__name__}: {exc} (set CLEARANCE_DEBUG=1 for details)")
    return None


# ------------------------------------------------------------------------------------- knobChanged


_handling = False
"""True while a knobChanged handler runs: with the panel open, Nuke fires knobChanged again for every knob
the handler sets (a preset sets dozens), so those nested calls are ours and are ignored."""


def on_knob_changed() -> None:
    global _handling
    if _handling:
        return
    node, knob = nuke.thisNode(), nuke.thisKnob()
    if node is None or knob is None:
        return
    _handling = True
    try:
        _knob_changed(node, knob)
    finally:
        _handling = False


def _knob_changed(node: Any, knob: Any) -> None:
    name = knob.name()
    if name == "file" and node.Class() in host.READ_CLASSES:
        _guard("scan", scan_read, node)
    elif name == host.PRESET_KNOB:
        _guard("preset", knobs.apply_preset, node, str(knob.value()))
    elif name in ANSWER_KNOBS and knobs.has_tab(node) and host.is_tagged(node):
        _guard("update", knobs.update_from_knobs, node)
    elif name == "showPanel" and host.is_writer(node):
        # a writing node made by a template, a paste or on a farm has no tab yet: the artist opening it sees
        # the gate's view (status, the 'not a deliverable' box) all the same
        _guard("status", knobs.show_writer_status, node)
    elif name == host.EXEMPT_KNOB:
        _guard("status", knobs.show_writer_status, node)


def scan_read(node: Any) -> str | None:
    """Scan a Read's new file for AI provenance; propose a tag when it looks AI-made. Returns the verdict."""
    files = host.media_files(node)
    if not files:
        return None
    from clearance.provenance import is_genai, scan_paths

    # first, middle and last frame: a knobChanged callback must not read a whole sequence in the UI thread
    sample = sorted({files[0], files[len(files) // 2], files[-1]}) if len(files) > SCAN_FRAMES else files
    results = scan_paths(sample)
    genai = [r for r in results if is_genai(r.verdict)]
    if not genai:
        return results[0].verdict if results else None
    result = genai[0]
    made_by = ", ".join(result.generators) or "an unnamed generator"
    if host.is_tagged(node):
        say(f"{node.fullName()}: {result.path} is {result.verdict} (by {made_by}); the node is already tagged")
        return result.verdict
    question = (
        f"{node.fullName()}: {result.path} looks {result.verdict.replace('_', ' ')} (by {made_by}).\n"
        "Tag it as a GenAI use now? You can pick a preset and edit the answers on its GenAI tab."
    )
    if nuke.GUI:
        if nuke.ask(question):
            record = knobs.new_record(node)
            tool = result.generators[0] if result.generators else ""
            update: dict[str, Any] = {"description": f"Flagged by the Clearance scan: {result.verdict}, {made_by}"}
            if tool:
                from clearance.record import Tool

                update["tools"] = [Tool(name=tool)]
            knobs.tag_node(node, record.model_copy(update=update))
    else:
        say(f"{node.fullName()}: {result.path} looks {result.verdict} (by {made_by}); tag it on its GenAI tab")
    return result.verdict


# ------------------------------------------------------------------------------------- onScriptSave


def on_script_save() -> None:
    _guard("save", save_hook)


def save_hook() -> int:
    """Refresh every tag's status, refresh Write metadata, queue every tagged record in the outbox."""
    from clearance.outbox import Outbox

    judge = Judge()
    queued = 0
    seen: set[int] = set()
    with Outbox() as outbox:
        for node in host.tagged_nodes():
            tag, result = knobs.judged(node, judge)
            if result is not None:
                knobs.show_status(node, result)
                if result.status == "invalid":
                    say(result.reason)
            if tag is None or tag.record is None:
                continue
            key = id(tag.record)  # nodes sharing a record share one instance (see hosts.nuke.read_tag)
            if key in seen:
                continue
            seen.add(key)
            _, new = outbox.add(tag.record)
            queued += int(new)
    for write in nuke.allNodes("Write", nuke.root(), recurseGroups=True):
        host.sync_write_metadata(write)
    if queued:
        say(f"{queued} disclosure(s) queued in the outbox; they are sent by `clearance submit --sync` or the panel")
    return queued


def on_script_load() -> None:
    """Show current statuses (approvals may have arrived since the script was saved)."""
    _guard("load", _refresh_all)


def _refresh_all() -> None:
    judge = Judge()
    for node in host.tagged_nodes():
        knobs.refresh(node, judge)


# ------------------------------------------------------------------------------------- beforeRender


def before_render() -> None:
    """A node is about to render: carry record ids into its files, refuse it while a use upstream blocks.

    Registered for every class (``'*'``): Nuke runs beforeRender only for nodes it executes, so a Write,
    a DeepWrite, a WriteGeo, a Write inside a group or gizmo, or a third-party writer all pass here. Any
    error while deciding stops the render (raising is how Nuke aborts one) with one line saying why.
    """
    writer = nuke.thisNode()
    if writer is None:
        raise RuntimeError("Clearance: Nuke named no node for this render; the render is stopped")
    try:
        gate(writer)
    except RenderRefused:
        raise
    except Exception as exc:  # fail closed: a gate that cannot decide must not let the frames out
        log.exception("Clearance render gate failed")
        raise RenderRefused(
            f"Clearance could not check {writer.fullName()} ({type(exc).__name__}: {exc}); the render is stopped. "
            "Fix the Clearance set-up (see docs/hosts/nuke.md) and render again"
        ) from None


class RenderRefused(RuntimeError):
    """Raised in beforeRender: Nuke aborts the render and shows this text."""


WHAT_TO_DO = (
    "Request approval (GenAI tab > Submit, or Clearance > Submit all tagged), then Clearance > Refresh approvals "
    "and render again; if this output is not a deliverable, tick 'not a deliverable' on its GenAI tab"
)


def gate(writer: Any) -> None:
    """Decide one render of ``writer``; raises RenderRefused when it must not go out."""
    from clearance.hosts.status import current_policy

    policy = current_policy()
    name = writer.fullName()
    exempt = host.exemption(writer, policy.hosts.nuke.exempt_outputs)
    if writer.Class() == "Write":
        _guard("metadata", host.sync_write_metadata, writer)
    if exempt is not None:
        say(f"{name}: rendering without the gate: {exempt}")
        return
    judge = Judge(policy)
    problems = render_problems(writer, judge)
    if not problems:
        return
    reason = f"Clearance: {name} may not render: " + "; ".join(problems)
    if policy.hosts.render_gate == "warn":
        say(reason + " (rendering anyway: the policy's hosts.render_gate is 'warn')")
        if nuke.GUI:
            nuke.message(reason + "\n\nRendering anyway (policy: warn).")
        return
    knobs.show_refusal(writer, reason)
    raise RenderRefused(f"{reason}. {WHAT_TO_DO}")


def render_problems(writer: Any, judge: Judge | None = None) -> list[str]:
    """One line per use upstream of ``writer`` that blocks it: a tagged use without approval, prohibited or
    broken; (policy ``hosts.untagged_ai_nodes: block``) a generative node nobody tagged; and a use that
    reaches it through a file Clearance rendered before (its record ids in the file's header), so a render
    through an exempt Write read back in cannot launder a use past the gate."""
    judge = judge or Judge()
    patterns = judge.policy.hosts.ai_node_classes
    block_untagged = judge.policy.hosts.untagged_ai_nodes == "block"
    problems = []
    nodes = [writer, *host.upstream(writer)]
    covered: set[str] = set()
    for node in nodes:
        if not host.is_tagged(node):
            if block_untagged and host.ai_node_class(node, patterns):
                problems.append(f"{node.fullName()}: untagged {node.Class()} node (generative): tag it")
            continue
        tag, result = knobs.judged(node, judge)
        if tag is not None:
            covered.add(str(tag.record_id))
        if result is not None and result.blocking:
            problems.append(f"{node.fullName()}: {result.line()}")
    for node in nodes:
        if node.Class() not in host.READ_CLASSES:
            continue
        for record_id in host.carried_record_ids(node):
            if record_id in covered:
                continue
            covered.add(record_id)
            problems.extend(_carried_problem(node, record_id, judge))
    return problems


def _carried_problem(node: Any, record_id: str, judge: Judge) -> list[str]:
    record = _record_by_id(record_id)
    short = record_id[:8]
    if record is None:
        return [
            f"{node.fullName()}: its file was rendered with GenAI use {short} (record id in the file) and this "
            f"machine does not hold that record: run `clearance approvals pull {record_id}`, or tag the Read"
        ]
    result = judge.standing(record, None)
    return [f"{node.fullName()}: its file carries GenAI use {short}: {result.line()}"] if result.blocking else []


def _record_by_id(record_id: str) -> Any:
    """The record with this id: from a tagged node of the script, else as this machine knows it."""
    for node in host.tagged_nodes():
        tag = knobs._safe_tag(node)
        if tag is not None and tag.record is not None and str(tag.record_id) == record_id:
            return tag.record
    from clearance.cache import ApprovalCache
    from clearance.trust import known_record

    return known_record(ApprovalCache(), record_id)


# ------------------------------------------------------------------------------------- registration


def install() -> None:
    """Register the callbacks (idempotent: Nuke keeps one entry per callable)."""
    nuke.addKnobChanged(on_knob_changed, nodeClass="*")
    nuke.addOnScriptSave(on_script_save)
    nuke.addBeforeRender(before_render, nodeClass="*")
    for node_class in host.WRITE_CLASSES:
        nuke.addOnCreate(on_writer_created, nodeClass=node_class)


def uninstall() -> None:
    nuke.removeKnobChanged(on_knob_changed, nodeClass="*")
    if hasattr(nuke, "removeOnScriptSave"):
        nuke.removeOnScriptSave(on_script_save)
    if hasattr(nuke, "removeBeforeRender"):
        nuke.removeBeforeRender(before_render, nodeClass="*")
    if hasattr(nuke, "removeOnCreate"):
        for node_class in host.WRITE_CLASSES:
            nuke.removeOnCreate(on_writer_created, nodeClass=node_class)


def on_writer_created() -> None:
    """Every writing node gets the GenAI tab however it was made (script, template, paste, farm, gizmo)."""
    node = nuke.thisNode()
    if node is not None:
        _guard("tab", knobs.add_tab, node)
