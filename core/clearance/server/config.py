"""The service's settings: flags override environment variables, which override the config file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clearance.documents import load_document
from clearance.errors import ClearanceError, describe_validation_error
from clearance.paths import data_dir
from clearance.server import DEFAULT_HOST, DEFAULT_PORT

ENV_VARS = {
    "db": "CLEARANCE_DB",
    "host": "CLEARANCE_HOST",
    "port": "CLEARANCE_PORT",
    "keys_dir": "CLEARANCE_KEYS_DIR",
    "policy": "CLEARANCE_POLICY",
}
CONFIG_ENV = "CLEARANCE_SERVER_CONFIG_JSON"  # hands the resolved settings to uvicorn worker processes
PARENT_ENV = "CLEARANCE_SERVER_PARENT_PID"  # the `clearance serve` process its workers must die with


def server_dir() -> Path:
    return data_dir() / "server"


def default_db_url() -> str:
    return f"sqlite:///{server_dir() / 'clearance.sqlite3'}"


def default_keys_dir() -> Path:
    return server_dir() / "keys"


class ServerConfig(BaseModel):
    """Everything `clearance serve` needs; the config file uses the same field names."""

    model_config = ConfigDict(extra="forbid")

    db: str = Field(default_factory=default_db_url, description="SQLAlchemy URL: sqlite:///FILE or postgresql://...")
    host: str = Field(default=DEFAULT_HOST, description="Address to listen on.")
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535, description="Port to listen on.")
    keys_dir: str = Field(default_factory=lambda: str(default_keys_dir()), description="Folder of signing keys.")
    policy: list[str] = Field(default_factory=list, description="Policy files, layered in order.")
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Larger request bodies get 413.")
    session_hours: float = Field(default=12.0, gt=0, description="How long a web login lasts.")
    public_url: str | None = Field(default=None, description="The URL users reach the pages at (behind a proxy).")
    log_level: str = Field(default="warning", description="uvicorn log level.")
    login_free_attempts: int = Field(default=5, ge=1, description="Failed logins (per account, per address) "
                                     "before each further attempt must wait.")
    login_delay_seconds: float = Field(default=1.0, gt=0, description="The first wait; it doubles per failure.")
    login_max_delay_seconds: float = Field(default=60.0, gt=0, description="The longest wait between attempts.")
    login_lockout_after: int = Field(default=20, ge=2, description="Failed logins that lock the account or "
                                     "address for login_lockout_seconds.")
    login_lockout_seconds: float = Field(default=900.0, gt=0, description="How long a lockout lasts.")
    login_refusal_seconds: float = Field(default=1.0, ge=0, le=10, description="How long a refused login from a "
                                         "throttled address waits before its 429 (a client that waits for answers "
                                         "then floods at most once per this many seconds per connection).")
    audit_checkpoint_entries: int = Field(default=500, ge=1, description="A signed audit checkpoint at least "
                                          "every this many entries (and on every decision, revocation, key change).")
    audit_checkpoint_minutes: float = Field(default=10.0, gt=0, description="... and at least every this many "
                                            "minutes while entries are written.")
    auth_log_window_seconds: float = Field(default=60.0, gt=0, description="Unauthenticated failures are written "
                                           "to the audit log once per client address per window, with a count.")

    def to_env(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_env_json(cls) -> ServerConfig:
        raw = os.environ.get(CONFIG_ENV)
        return cls.model_validate_json(raw) if raw else cls()


def _from_file(path: str) -> dict[str, Any]:
    doc = load_document(path)
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise ClearanceError(f"{path}: a server config must be a mapping of settings (db, host, port, ...)")
    try:
        ServerConfig.model_validate(doc.data)
    except ValidationError as exc:
        raise ClearanceError(describe_validation_error(exc, path, doc.line_of)) from None
    return dict(doc.data)


def resolve(config_file: str | None = None, **flags: Any) -> ServerConfig:
    """Merge config file, environment and flags (flags given as None are not set)."""
    values: dict[str, Any] = _from_file(config_file) if config_file else {}
    for name, var in ENV_VARS.items():
        raw = os.environ.get(var)
        if raw:
            values[name] = [p for p in raw.split(os.pathsep) if p] if name == "policy" else raw
    for name, value in flags.items():
        if value is not None and value != []:
            values[name] = value
    if isinstance(values.get("policy"), str):
        values["policy"] = [values["policy"]]
    try:
        return ServerConfig.model_validate(values)
    except ValidationError as exc:
        raise ClearanceError(describe_validation_error(exc, "server settings")) from None


def describe(config: ServerConfig) -> str:
    shown = config.model_dump()
    shown["db"] = redact_url(config.db)
    return json.dumps(shown, indent=2)


def redact_url(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            creds = creds.split(":", 1)[0] + ":***"
        return f"{scheme}://{creds}@{host}"
    return url
