"""`clearance packet PRODUCTION [--cut CUT] [-o DIR]` and `clearance packet verify DIR`: the delivery packet."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from clearance.cli.evaluate_cmd import add_policy_argument
from clearance.errors import ClearanceError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "packet", help="build a delivery packet (register, per-shot map, Article 50, signed bundle), or verify one",
        description="`clearance packet PRODUCTION`: a readable register (HTML and PDF) of every GenAI use with its "
        "decision, approval and consent references, a per-shot map and EU AI Act Article 50 assessment from the "
        "cut, and a bundle of the signed documents behind them, with a signed manifest of digests. From the "
        "service when one is set (--server, $CLEARANCE_SERVER, the policy's approvals.server), else from local "
        "records (--records) and the approval cache. `clearance packet verify DIR`: check every digest and "
        "signature offline; exit 0 when everything holds, 1 when anything fails, 2 bad input.",
    )
    p.add_argument("production", metavar="PRODUCTION", help="the production code (or `verify`)")
    p.add_argument("folder", nargs="?", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--cut", metavar="CUT", help="the cut (OTIO, EDL, FCP XML, AAF) for the per-shot map")
    p.add_argument("-o", "--output", metavar="DIR", help="the packet folder to create (default: packet-PRODUCTION)")
    p.add_argument("--server", help="the disclosure service URL (default: $CLEARANCE_SERVER, else the policy's)")
    p.add_argument("--token", help="your API token (default: $CLEARANCE_TOKEN)")
    p.add_argument("--offline", action="store_true", help="build from local records and the approval cache only")
    p.add_argument("--records", action="append", default=[], metavar="DIR",
                   help="record files or folders (offline source; also resolves the cut's tags)")
    p.add_argument("--no-pdf", action="store_true", help="HTML only (no Chromium needed)")
    p.add_argument("--no-scan", action="store_true", help="do not scan the cut's untagged media for AI provenance")
    p.add_argument("--trust-anchors", metavar="PEM", help="verify: PEM roots the packet's signer must chain to")
    p.add_argument("--keys", metavar="FILE", help="verify: the studio's approver keys document to compare with")
    add_policy_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.production == "verify":
        return run_verify(args)
    if args.folder:
        raise ClearanceError(f"unexpected argument {args.folder!r}: give one PRODUCTION (or `verify DIR`)")
    return run_build(args)


def run_build(args: argparse.Namespace) -> int:
    from clearance.credentials.identity import resolve_identity
    from clearance.packet.build import build_packet, cut_report
    from clearance.packet.sources import from_local, from_service
    from clearance.policy import load_policy

    policy = load_policy(args.policy)
    out = Path(args.output or f"packet-{args.production}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ClearanceError(f"{out}: exists and is not an empty folder; give a new folder with -o")
    records_dirs = [Path(r) for r in args.records]
    server = None if args.offline else (args.server or os.environ.get("CLEARANCE_SERVER") or policy.approvals.server)
    if server:
        from clearance.client import DisclosureClient

        identity = resolve_identity(policy.credentials)  # refused before any fetch when nobody can sign
        with DisclosureClient(server=server, token=args.token) as client:
            source = from_service(client, args.production)
    else:
        source = from_local(args.production, policy, records_dirs)  # bad record files are named first
        identity = resolve_identity(policy.credentials)
    report = None
    if args.cut:
        report = cut_report(Path(args.cut), policy, records_dirs, scan_media=not args.no_scan)
    built = build_packet(source, out, identity, report=report, cut_name=Path(args.cut).name if args.cut else None,
                         pdf=not args.no_pdf)
    print(f"packet for {args.production} written to {built.folder}: {built.uses} use(s)"
          + (f", {built.shots} shot(s), {built.deep_fakes} deep fake(s), {built.untagged_ai} untagged AI clip(s)"
             if built.shots is not None else "")
          + ("; register.html and register.pdf" if built.pdf else "; register.html (no PDF)"))
    for note in built.notes:
        print(f"  note: {note}")
    if identity.test:
        print("note: signed with the TEST identity; a real delivery needs the vendor's certificate", file=sys.stderr)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from clearance.approvals import TrustedKeys
    from clearance.packet.bundle import verify_packet

    if not args.folder:
        raise ClearanceError("give the packet folder: `clearance packet verify DIR`")
    trust = None
    if args.trust_anchors:
        from clearance.documents import read_text

        trust = read_text(args.trust_anchors, limit=4 * 1024 * 1024, what="a PEM bundle of trust anchors")
    studio = TrustedKeys.from_file(args.keys) if args.keys else None
    result = verify_packet(Path(args.folder), trust_pem=trust, studio_keys=studio)
    print("\n".join(result.lines()))
    return 0 if result.ok else 1
