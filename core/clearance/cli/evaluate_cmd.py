"""`clearance evaluate RECORD|FOLDER... [--policy F]... [--json] [--summary]`: the policy's decision on use records.

A folder stands for every ``.yaml``, ``.yml`` and ``.json`` record in it (sorted by name);
``--examples`` evaluates the bundled example production.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import Any

from clearance.decision import Decision
from clearance.errors import ClearanceError
from clearance.policy import evaluate, load_policy
from clearance.record import UseRecord, load_record, record_files_in

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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "evaluate",
        help="decide on use records: notify, approval_required or prohibited, and why",
        description="Evaluate use records against the policy. Exit 0 for any decision, 2 for bad input.",
    )
    p.add_argument("records", nargs="*", metavar="RECORD", help="a use record (YAML or JSON), or a folder of them")
    add_policy_argument(p)
    p.add_argument("--json", action="store_true", help="print the decision as JSON (a list when several records)")
    p.add_argument("--summary", action="store_true", help="one line per record: the register of decisions")
    p.add_argument("--examples", action="store_true", help="evaluate the bundled example production EXAMPLE_S01")
    p.set_defaults(func=run)


def decision_json(decision: Decision) -> dict[str, Any]:
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


def record_files(arguments: list[str]) -> list[str]:
    """The record files the arguments name: files as given, folders expanded to their records."""
    files: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = [str(p) for p in record_files_in(path, recursive=False)]
            if not found:
                raise ClearanceError(f"{argument}: folder has no .yaml, .yml or .json records")
            files.extend(found)
        else:
            files.append(argument)
    return files


def summary_line(path: str, record: UseRecord, decision: Decision, width: int) -> str:
    rules = ", ".join(f.rule for f in decision.findings if f.rule != "BASELINE")
    text = " ".join(record.description.split())
    text = text if len(text) <= 60 else text[:59] + "…"
    return f"{decision.outcome:<17}  {path:<{width}}  {text}" + (f"  [{rules}]" if rules else "")


def run(args: argparse.Namespace) -> int:
    names = list(args.records)
    if args.examples:
        from clearance.examples import example_paths

        names += [str(p) for p in example_paths()]
    if not names:
        raise ClearanceError("give a record file or folder to evaluate (or --examples for the bundled production)")
    policy = load_policy(args.policy)
    records = [(path, load_record(path)) for path in record_files(names)]  # every file read before any output
    decisions = [(path, record, evaluate(record, policy)) for path, record in records]
    if args.json:
        if len(decisions) == 1 and not args.summary:
            print(json.dumps(decision_json(decisions[0][2]), indent=2))
        else:
            print(json.dumps([{"record": path, **decision_json(d)} for path, _, d in decisions], indent=2))
        return 0
    if args.summary:
        width = min(max(len(Path(p).name) for p, _, _ in decisions), 40)
        for path, record, decision in decisions:
            print(summary_line(Path(path).name, record, decision, width))
        counts = {o: sum(1 for _, _, d in decisions if d.outcome == o) for o in OUTCOME_WORDS}
        print(f"{len(decisions)} records: " + ", ".join(f"{n} {o}" for o, n in counts.items()))
        return 0
    blocks = [render_decision(d, r, path if len(decisions) > 1 else None) for path, r, d in decisions]
    print("\n\n".join(blocks))
    return 0
