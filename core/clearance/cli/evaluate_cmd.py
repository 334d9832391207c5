"""`clearance evaluate RECORD... [--policy F]... [--json]`: the policy's decision on use records."""

from __future__ import annotations

import argparse
import json
import textwrap

from clearance.decision import Decision
from clearance.policy import evaluate, load_policy
from clearance.record import UseRecord, load_record

OUTCOME_WORDS = {
    "notify": "NOTIFY: go ahead once the studio is notified (submit the record)",
    "approval_required": "APPROVAL REQUIRED: written approval before the material is used",
    "prohibited": "PROHIBITED: cannot be approved through a vendor workflow",
}


def add_policy_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy",
        action="append",
        metavar="FILE",
        default=None,
        help=(
            "a policy file; repeat to layer studio -> production -> vendor (default: $CLEARANCE_POLICY, else embedded"
            " defaults)"
        ),
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="decide on use records: notify, approval_required or prohibited, and why",
        description="Evaluate use records against the policy. Exit 0 for any decision, 2 for bad input.",
    )
    p.add_argument("records", nargs="+", metavar="RECORD", help="a use record, YAML or JSON")
    add_policy_argument(p)
    p.add_argument("--json", action="store_true", help="print the decision as JSON (a list when several records)")
    p.set_defaults(func=run)


def decision_json(decision: Decision) -> dict:
    return decision.model_dump(mode="json")


def render_decision(decision: Decision, record: UseRecord | None = None, source: str | None = None) -> str:
    """The decision for people: the outcome first, then each finding with its reasons and the fix."""
    lines: list[str] = []
    if source:
        title = source
        if record is not None and record.description:
            title += f" - {record.description.strip().splitlines()[0][:80]}"
        lines.append(title)
    lines.append(OUTCOME_WORDS[decision.outcome])
    for finding in decision.findings:
        cites = f" [{', '.join(finding.cites)}]" if finding.cites else ""
        lines.append("")
        lines.append(f"  {finding.rule} -> {finding.outcome}{cites}")
        for label, text in (("why", finding.message), ("fix", finding.remedy)):
            wrapped = textwrap.wrap(text, width=100, initial_indent=f"    {label}: ", subsequent_indent="         ")
            lines.extend(wrapped)
        if finding.fields:
            lines.append(f"    fields: {', '.join(finding.fields)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    records = [(path, load_record(path)) for path in args.records]  # every file read before any output
    decisions = [(path, record, evaluate(record, policy)) for path, record in records]
    if args.json:
        if len(decisions) == 1:
            print(json.dumps(decision_json(decisions[0][2]), indent=2))
        else:
            print(json.dumps([{"record": path, **decision_json(d)} for path, _, d in decisions], indent=2))
        return 0
    blocks = [render_decision(d, r, path if len(decisions) > 1 else None) for path, r, d in decisions]
    print("\n\n".join(blocks))
    return 0
