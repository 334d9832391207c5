"""What the Clearance menu, panel and tab buttons do: tag, submit, refresh approvals, select, check.

Network calls go through the disclosure client (clearance.client), outbox first: a submit without a
server, or with the server down, is kept on disk and sent by the next sync.
"""

from __future__ import annotations

from typing import Any

import nuke

from clearance.errors import ClearanceError
from clearance.hosts import nuke as host
from clearance.hosts.status import Judge
from clearance_nuke import knobs
from clearance_nuke.callbacks import say


def tell(text: str) -> None:
    """Show a result: a message box in the GUI, a terminal line otherwise."""
    say(text)
    if nuke.GUI:
        nuke.message(text)


def tag_selected(preset: str | None = None) -> int:
    """Tag every selected node (or add the GenAI tab to it, to fill in by hand)."""
    nodes = nuke.selectedNodes()
    if not nodes:
        tell("Select the nodes to tag first (Read, Write, CopyCat, Inference or any other node).")
        return 0
    judge = Judge()
    for node in nodes:
        knobs.tag_node(node, preset=preset, judge=judge)
    tell(f"Tagged {len(nodes)} node(s){' with preset ' + preset if preset else ''}: see their GenAI tab.")
    return len(nodes)


def _records(nodes: list[Any]) -> list[Any]:
    out = []
    for node in nodes:
        try:
            tag = host.read_tag(node)
        except ClearanceError as exc:
            say(str(exc))
            continue
        if tag is not None and tag.record is not None:
            out.append(tag.record)
    return out


def submit_nodes(nodes: list[Any] | None = None) -> int:
    """Submit the records on ``nodes`` (default: every tagged node) and ask for approval where needed."""
    from clearance.client import DisclosureClient

    nodes = host.tagged_nodes() if nodes is None else [n for n in nodes if host.is_tagged(n)]
    records = _records(nodes)
    if not records:
        tell("No tagged node to submit.")
        return 0
    judge = Judge()
    states: dict[str, int] = {}
    with DisclosureClient() as client:
        for record in records:
            result = client.submit(record)
            states[result.state] = states.get(result.state, 0) + 1
            if result.state == "sent" and judge.decide(record).outcome == "approval_required":
                try:
                    client.request_approval(record)
                except ClearanceError as exc:
                    say(f"approval request for {record.id} not sent: {exc}")
    summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    hint = (
        "" if not states.get("queued") else " (queued records go out with `clearance submit --sync` or the next Submit)"
    )
    tell(f"{len(records)} record(s) submitted: {summary}{hint}.")
    return len(records)


def refresh_approvals() -> int:
    """Pull approvals, keys and revocations from the server, then show every node's new status."""
    from clearance.client import DisclosureClient

    try:
        with DisclosureClient() as client:
            client.pull_approvals()
    except ClearanceError as exc:
        say(f"could not pull approvals: {exc}; showing what the cache holds")
    return refresh_all()


def refresh_all() -> int:
    judge = Judge()
    nodes = host.tagged_nodes()
    for node in nodes:
        knobs.refresh(node, judge)
    return len(nodes)


def check_script() -> list[str]:
    """Every blocking problem in the script, one line each (the same view the render gate takes)."""
    judge = Judge()
    problems = []
    for node in host.tagged_nodes():
        result = knobs.refresh(node, judge)
        if result is not None and result.blocking:
            problems.append(f"{node.fullName()}: {result.line()}")
    tell("\n".join(problems) if problems else "Clearance: every tagged use is disclosed and cleared.")
    return problems


def _untagged_ai() -> list[Any]:
    from clearance.hosts.status import current_policy

    return host.untagged_ai_nodes(current_policy().hosts.ai_node_classes)


def select_untagged_ai_nodes() -> list[str]:
    """Select the generative nodes (policy hosts.ai_node_classes) nobody tagged; returns their names."""
    names = [n.fullName() for n in _untagged_ai()]
    host.select(names)
    if names:
        tell(f"{len(names)} untagged generative node(s) selected: {', '.join(names)}. "
             "Tag them with Clearance > Tag untagged AI nodes.")
    else:
        tell("Every generative node in this script is tagged.")
    return names


def tag_untagged_ai_nodes(preset: str | None = None) -> int:
    """Give every untagged generative node a tag (a new record, answers to fill in on its GenAI tab)."""
    nodes = _untagged_ai()
    judge = Judge()
    for node in nodes:
        knobs.tag_node(node, preset=preset, judge=judge)
    done = f"Tagged {len(nodes)} generative node(s): fill in their GenAI tab, then Submit."
    tell(done if nodes else "Nothing to tag.")
    return len(nodes)
