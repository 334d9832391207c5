"""Start the service: migrate, check keys and policy, then hand over to uvicorn (one or more workers)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

from clearance.errors import ClearanceError
from clearance.server.config import CONFIG_ENV, PARENT_ENV, ServerConfig, resolve
from clearance.server.db import Database, migrate


def add_db_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL", help="database URL (env CLEARANCE_DB; default: SQLite in the data dir)")
    parser.add_argument("--config", metavar="FILE", help="server settings file (YAML): db, host, port, keys_dir, ...")


def config_from(args: argparse.Namespace, **extra: object) -> ServerConfig:
    flags = {"db": getattr(args, "db", None), **extra}
    return resolve(getattr(args, "config", None), **flags)


def open_database(config: ServerConfig) -> Database:
    db = Database(config.db)
    migrate(db)
    return db


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ClearanceError(
                f"cannot listen on {host}:{port}: {exc.strerror}; choose another with --port "
                "or stop the process using it"
            ) from None


def preflight(config: ServerConfig) -> Database:
    """Everything that can fail for a user reason fails here, as one line, before uvicorn starts."""
    from pathlib import Path

    from clearance.approvals import KeyRing
    from clearance.server.decider import Decider

    db = open_database(config)
    KeyRing.open(Path(config.keys_dir).expanduser())
    Decider(config.policy)
    return db


def serve(config: ServerConfig, banner: Callable[[str], None] | None = None) -> int:
    import uvicorn

    db = preflight(config)
    check_port_free(config.host, config.port)
    url = f"http://{config.host}:{config.port}"
    (banner or (lambda u: print(f"Clearance disclosure service on {u} (database: {db.backend})", flush=True)))(url)
    options: dict[str, Any] = {
        "host": config.host, "port": config.port, "log_level": config.log_level, "proxy_headers": True,
        "server_header": False, "access_log": config.log_level in ("info", "debug", "trace"),
    }
    if config.workers > 1:
        db.dispose()
        os.environ[CONFIG_ENV] = config.to_env()
        os.environ[PARENT_ENV] = str(os.getpid())
        uvicorn.run("clearance.server.app:app_from_env", factory=True, workers=config.workers, **options)
    else:
        from clearance.server.app import create_app, settle_memory

        app = create_app(config, db)
        settle_memory()
        uvicorn.run(app, **options)
    sys.stdout.flush()
    return 0


__all__ = ["add_db_flags", "config_from", "open_database", "resolve", "serve"]
