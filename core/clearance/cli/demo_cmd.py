"""`clearance demo`: the disclosure service on SQLite with a seeded demo production, users and records."""

from __future__ import annotations

import argparse

from clearance.server import DEFAULT_HOST, DEFAULT_PORT


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo", help="start the disclosure service with a demo production, demo logins and example records",
        description="Start the disclosure service on SQLite (in DIR, default the data dir's demo folder) with the "
        "example production, an artist, an approver and an admin, and example records waiting for a decision. "
        "Prints the page URL and the logins, then serves until Ctrl-C.",
    )
    p.add_argument("--dir", metavar="DIR", help="where the demo database and keys live (default: DATA_DIR/demo)")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--policy", metavar="FILE", action="append", help="policy file(s) the service decides with "
                   "(default: the embedded policy; try the example studio policy in clearance/examples)")
    p.add_argument("--seed-only", action="store_true", help="seed the demo data and print the logins, do not serve")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from clearance.paths import data_dir
    from clearance.server.config import ServerConfig
    from clearance.server.demo import seed
    from clearance.server.runner import check_port_free, serve

    folder = Path(args.dir).expanduser().resolve() if args.dir else data_dir() / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    config = ServerConfig(
        db=f"sqlite:///{folder / 'clearance.sqlite3'}", host=args.host, port=args.port,
        keys_dir=str(folder / "keys"), policy=args.policy or [],
    )
    if not args.seed_only:
        check_port_free(config.host, config.port)
    result = seed(config)
    url = f"http://{config.host}:{config.port}"
    print(f"Clearance demo: production {result.production}, {result.records} example records "
          f"({result.waiting} waiting for a decision)")
    print(f"  data:     {folder}")
    print(f"  pages:    {url}/queue")
    print(f"  API:      {url}/api/v1  (OpenAPI: {url}/openapi.json)")
    print("  logins (passwords are new on every run):")
    for login in result.logins:
        print(f"    {login.role:9} name {login.name:9} password {login.password}")
    print("  try the client as the artist:")
    print(f"    export CLEARANCE_SERVER={url} CLEARANCE_TOKEN={result.artist_token}")
    if args.seed_only:
        return 0
    print("Serving until Ctrl-C.", flush=True)
    return serve(config, banner=lambda _url: None)
