"""`clearance serve`: run the disclosure service (API under /api/v1 and the approvers' pages)."""

from __future__ import annotations

import argparse

from clearance.server import DEFAULT_HOST, DEFAULT_PORT


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve", help="run the disclosure service (HTTP API and approver pages)",
        description="Run the disclosure service. Settings: flags, then environment variables (CLEARANCE_DB, "
        "CLEARANCE_HOST, CLEARANCE_PORT, CLEARANCE_KEYS_DIR, CLEARANCE_POLICY), then --config FILE, then defaults. "
        "The database schema is migrated on start.",
    )
    p.add_argument("--db", metavar="URL", help="sqlite:///FILE or postgresql://USER@HOST/DB (default: SQLite in the "
                   "data dir)")
    p.add_argument("--host", help=f"address to listen on (default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--keys-dir", metavar="DIR", help="folder of the approval signing keys (created 0700)")
    p.add_argument("--policy", metavar="FILE", action="append", help="policy file; repeat to layer (default: "
                   "CLEARANCE_POLICY, else the embedded policy)")
    p.add_argument("--workers", type=int, help="uvicorn worker processes (default 1)")
    p.add_argument("--config", metavar="FILE", help="settings file (YAML) with the same names: db, host, port, "
                   "keys_dir, policy, workers, max_body_bytes, session_hours")
    p.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"), help="default warning")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clearance.server.config import resolve
    from clearance.server.runner import serve

    config = resolve(
        args.config, db=args.db, host=args.host, port=args.port, keys_dir=args.keys_dir, policy=args.policy,
        workers=args.workers, log_level=args.log_level,
    )
    return serve(config)
