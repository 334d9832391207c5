"""`clearance credentials init|identity|sign|verify`: Content Credentials (C2PA) in deliverables."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from clearance.cli.evaluate_cmd import add_policy_argument
from clearance.errors import ClearanceError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("credentials", help="write Content Credentials (C2PA) into deliverables and read them back",
                       description="Content Credentials: a signed C2PA manifest in (or beside) each deliverable "
                       "saying that generative AI made it, with which tools, and which approvals cleared it.")
    cmds = p.add_subparsers(dest="credentials_command", metavar="ACTION")

    init = cmds.add_parser("init", help="make a self-signed TEST signing identity (not for delivery)")
    init.add_argument("--organization", default="", help="a name shown in the test certificate")
    init.add_argument("--force", action="store_true", help="replace an existing test identity")
    init.set_defaults(func=run_init)

    ident = cmds.add_parser("identity", help="show which identity `sign` would use")
    add_policy_argument(ident)
    ident.set_defaults(func=run_identity)

    sign = cmds.add_parser("sign", help="sign deliverables with the C2PA manifest their records call for",
                           description="Write a signed C2PA manifest into FILE (to a new file FILE.signed.EXT "
                           "unless -o or --in-place), or a .c2pa sidecar for EXR, DPX and MXF. Refused for a "
                           "prohibited use, a missing approval or a missing signing identity. Exit 0 signed, 2 "
                           "refused.")
    sign.add_argument("files", nargs="+", metavar="FILE",
                      help="files or frame sequences (sh010.####.exr, sh010.%%04d.exr: every frame on disk)")
    sign.add_argument("--record", "-r", action="append", required=True, metavar="RECORD",
                      help="a use record file, or a record id this machine knows (tagged, submitted or pulled); "
                      "repeat for every GenAI use in the file")
    sign.add_argument("-o", "--output", metavar="OUT",
                      help="the signed file (one FILE), or a folder for several files or a sequence (same names)")
    kind = sign.add_mutually_exclusive_group()
    kind.add_argument("--composite", action="store_true", default=None,
                      help="generated material was placed into other footage (compositeWithTrainedAlgorithmicMedia)")
    kind.add_argument("--generated", dest="composite", action="store_false",
                      help="the file is wholly generated (trainedAlgorithmicMedia)")
    sign.add_argument("--input", action="append", default=[], metavar="FILE",
                      help="an input placed into the file; its credentials are kept as an ingredient (repeat)")
    sign.add_argument("--in-place", action="store_true", help="replace FILE itself with the signed file")
    sign.add_argument("--approvals", metavar="DIR", help="a folder of signed approvals besides the local cache")
    sign.add_argument("--json", action="store_true", help="JSON lines, one per file")
    add_policy_argument(sign)
    sign.set_defaults(func=run_sign)

    verify = cmds.add_parser("verify", help="show what a C2PA reader will see in each file",
                             description="Read each file's Content Credentials with the C2PA library, offline. "
                             "Exit 0 when every file carries intact credentials, 1 otherwise, 2 bad input.")
    verify.add_argument("files", nargs="+", metavar="FILE")
    verify.add_argument("--trust-anchors", metavar="PEM", help="PEM bundle of signing roots to trust")
    verify.add_argument("--json", action="store_true", help="JSON lines, one per file")
    verify.set_defaults(func=run_verify)

    def usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)


def run_init(args: argparse.Namespace) -> int:
    from clearance.credentials.identity import describe_certificate, init_test_identity

    folder = init_test_identity(organization=args.organization, force=args.force)
    print(f"test signing identity written to {folder} (key mode 0600, folder 0700)")
    print(f"  signer: {describe_certificate((folder / 'signer-chain.pem').read_bytes())}")
    print("  THIS IS A TEST IDENTITY: C2PA readers show its credentials as signed by an unknown signer. Real "
          "deliveries need a signing certificate from a CA on the C2PA trust list: set credentials.cert_chain "
          "and credentials.key in the studio policy.")
    return 0


def run_identity(args: argparse.Namespace) -> int:
    from clearance.credentials.identity import resolve_identity
    from clearance.policy import load_policy

    identity = resolve_identity(load_policy(args.policy).credentials)
    print(f"signing identity: {identity.source}")
    print(f"  signer: {identity.subject}; algorithm {identity.algorithm}"
          + (f"; time-stamps from {identity.tsa_url}" if identity.tsa_url else "; no time-stamp authority"))
    if identity.test:
        print("  TEST identity: not for delivery (readers show an unknown signer)")
    return 0


def run_sign(args: argparse.Namespace) -> int:
    from clearance.credentials.identity import resolve_identity
    from clearance.credentials.signing import sign_file
    from clearance.credentials.uses import ApprovalBook, cleared_facts
    from clearance.policy import load_policy
    from clearance.record import load_record

    files = _expand(args.files)
    several = len(files) > 1 or any(is_pattern(f) for f in args.files)
    if args.output and several and Path(args.output).exists() and not Path(args.output).is_dir():
        raise ClearanceError(f"-o {args.output}: several files are signed: give a folder (they keep their names)")
    policy = load_policy(args.policy)
    records = [_record(ref, load_record) for ref in args.record]
    identity = resolve_identity(policy.credentials)
    facts = cleared_facts(records, policy, ApprovalBook(policy, approvals_dir=args.approvals))
    for file in files:
        out = args.output
        if out and several:
            Path(out).mkdir(parents=True, exist_ok=True)
            out = str(Path(out) / Path(file).name)
        result = sign_file(Path(file), facts, identity, out=out, composite=args.composite,
                           in_place=args.in_place, inputs=args.input)
        if args.json:
            print(json.dumps({"file": str(result.source), "written": str(result.written),
                              "sidecar": str(result.sidecar) if result.sidecar else None,
                              "source_type": result.source_type, "parent_credentials": result.parent_credentials,
                              "ingredients": result.ingredients, "xmp": result.xmp,
                              "exr_attributes": result.exr_attributes, "test_identity": result.test_identity}))
        else:
            print("\n".join(result.lines()))
    if identity.test and not args.json:
        print("note: signed with the TEST identity; readers show an unknown signer (see `clearance credentials "
              "init`)", file=sys.stderr)
    return 0


def _record(ref: str, load_record: Any) -> Any:
    """A record file; else a record id known here: the local record store, the outbox, the last pull."""
    import uuid

    if Path(ref).exists() or Path(ref).is_symlink():
        return load_record(ref)
    try:
        record_id = str(uuid.UUID(ref))
    except ValueError:
        raise ClearanceError(f"--record {ref}: no such record file (and not a record id)") from None
    from clearance.cache import ApprovalCache
    from clearance.editorial.tagging import local_records_dir
    from clearance.trust import known_record

    stored = local_records_dir() / f"{record_id}.json"
    if stored.is_file():
        return load_record(stored)
    found = known_record(ApprovalCache(), record_id)
    if found is None:
        raise ClearanceError(f"--record {ref}: this machine does not know that record (not tagged, submitted or "
                             "pulled here); give the record file")
    return found


def is_pattern(path: str) -> bool:
    from clearance.provenance.sequences import is_pattern as pattern

    return pattern(path)


def _expand(paths: list[str]) -> list[str]:
    """Files as given; a frame pattern becomes every frame on disk (none on disk: refused, naming it)."""
    from clearance.provenance.sequences import expand_pattern

    out: list[str] = []
    for path in paths:
        if is_pattern(path) and not Path(path).exists():
            sequence = expand_pattern(path)
            if sequence is None:
                raise ClearanceError(f"{path}: no frame of this sequence is on disk; check the pattern")
            out += [name for _frame, name in sequence.ordered()]
        else:
            out.append(path)
    return out


def run_verify(args: argparse.Namespace) -> int:
    from clearance.credentials.reading import read_credentials

    trust = None
    if args.trust_anchors:
        from clearance.documents import read_text

        trust = read_text(args.trust_anchors, limit=4 * 1024 * 1024, what="a PEM bundle of trust anchors")
        if "-----BEGIN CERTIFICATE-----" not in trust:
            raise ClearanceError(f"{args.trust_anchors}: no PEM certificate in it; give a PEM bundle of roots")
    worst = 0
    for file in _expand(args.files):
        view = read_credentials(file, trust)
        if args.json:
            print(view.model_dump_json())
        else:
            print("\n".join(view.lines()))
        if not view.ok:
            worst = 1
    return worst
