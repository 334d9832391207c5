"""Run the real disclosure service (`clearance serve`) on loopback for tests, on SQLite or PostgreSQL.

Reusable by every area: ``from server_fixtures import live_server, start_server, PRODUCTION`` (tests/ is
on sys.path because tests/conftest.py has no package: pytest's rootdir conftest import puts it there).
Importing a fixture function into a test module makes it available to that module's tests.

- ``start_server(base, db=None, extra_args=(), workers=1)`` -> LiveServer: a free port, a temp SQLite db
  (or the ``db`` URL given), a temp keys dir; waits for GET /api/v1/health; fails the test with the
  server's log when it cannot start. ``LiveServer.stop()`` sends SIGINT (uvicorn's clean shutdown).
- ``LiveServer.add_user(name, role, production, password=None)`` runs the real
  `clearance admin user add` and returns the token printed as its last line; ``add_users([...])`` runs
  several at once; ``add_user_direct(...)`` does the same through the admin code in-process (quicker).
- ``start_postgres(base)`` -> PostgresCluster: Debian's PostgreSQL in a temp dir (initdb, `postgres` on a
  free port, run as the `postgres` OS user when we are root); ``.create_database(name)`` returns a URL.
  Raises PostgresUnavailable with the reason (tests turn that into a FAILURE, never a skip).
- Fixtures: ``live_server`` (module: SQLite, users ana.artist / sam.approver in EXAMPLE_S01 and
  olga.other in OTHER_S02), ``postgres_cluster`` (session).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from records import CLEAN_ANSWERS, ENTERPRISE_TOOL

PRODUCTION = "EXAMPLE_S01"
OTHER_PRODUCTION = "OTHER_S02"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clearance_cli() -> list[str]:
    return [sys.executable, "-m", "clearance.cli.main"]


def run_cli(*args: str, home: Path, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*clearance_cli(), *args], capture_output=True, text=True, input=stdin, timeout=timeout,
        env={**os.environ, "CLEARANCE_HOME": str(home)},
    )


@dataclass
class LiveServer:
    url: str
    db: str
    keys_dir: Path
    home: Path
    process: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**os.environ, "CLEARANCE_HOME": str(self.home)}

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, home=self.home, stdin=stdin)

    def add_user(self, name: str, role: str, production: str = PRODUCTION, password: str | None = None) -> str:
        """`clearance admin user add` as a subprocess; the token is the last line of its output."""
        args = ["admin", "user", "add", name, "--role", role, "--production", production, "--create", "--db",
                self.db]
        if password is not None:
            args.append("--password-stdin")
        out = self.cli(*args, stdin=None if password is None else password + "\n")
        if out.returncode != 0:
            pytest.fail(f"`clearance admin user add {name}` failed ({out.returncode}): {out.stderr.strip()}")
        token = out.stdout.strip().splitlines()[-1].strip()
        self.tokens[name] = token
        return token

    def add_user_direct(self, name: str, role: str, production: str = PRODUCTION, password: str | None = None) -> str:
        """The same as `add_user` through the admin code in this process (no CLI start-up: for fixtures that
        make many users; the CLI itself is exercised by `add_user`)."""
        from clearance.server.admin import add_user
        from clearance.server.db import Database

        db = Database(self.db)
        try:
            with db.write() as session:
                _user, token, _notes = add_user(session, name, role, production, password, actor="test-fixture")
        finally:
            db.dispose()
        self.tokens[name] = token
        return token

    def add_users(self, users: list[tuple[str, ...]]) -> dict[str, str]:
        """Several `add_user` calls at once: (name, role, production[, password]) each. They run as parallel
        CLI processes (each pays Python's start-up); returns every token held, by user name."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, len(users))) as pool:
            list(pool.map(lambda spec: self.add_user(*spec), users))
        return self.tokens

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def get(self, path: str, token: str, **params: str) -> requests.Response:
        return requests.get(f"{self.url}/api/v1{path}", headers=self.headers(token), params=params or None,
                            timeout=20)

    def post(self, path: str, token: str, body: object) -> requests.Response:
        return requests.post(f"{self.url}/api/v1{path}", json=body, headers=self.headers(token), timeout=20)

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn finishes requests in flight, then exits
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(
    base: Path, *, db: str | None = None, extra_args: tuple[str, ...] = (), workers: int = 1, timeout: float = 60
) -> LiveServer:
    """Run `clearance serve` as a real process; fails the test with the server's log when it cannot start."""
    base.mkdir(parents=True, exist_ok=True)
    home = base / "server-home"
    db = db or f"sqlite:///{base / 'clearance.sqlite3'}"
    keys_dir = base / "keys"
    log = base / "serve.log"
    last_error = ""
    for _attempt in range(3):  # a port picked free can be taken by someone else before the server binds it
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        handle = log.open("wb")
        process = subprocess.Popen(
            [*clearance_cli(), "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port),
             "--keys-dir", str(keys_dir), "--workers", str(workers), *extra_args],
            stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, "CLEARANCE_HOME": str(home)},
        )
        handle.close()
        server = LiveServer(url, db, keys_dir, home, process, log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if requests.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    return server
            except requests.RequestException:
                pass
            time.sleep(0.1)
        server.stop()
        last_error = log.read_text(errors="replace")[-3000:]
        if "cannot listen" not in last_error and "address already in use" not in last_error.lower():
            break
    pytest.fail(f"`clearance serve` did not start on 127.0.0.1; its output:\n{last_error}")


@contextmanager
def running_server(base: Path, **kwargs: object) -> Iterator[LiveServer]:
    server = start_server(base, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def titled_site(base: Path, title: str, passwords: dict[str, str], roles: dict[str, str]) -> Iterator[LiveServer]:
    """A real server whose PRODUCTION has a title, with each user of ``roles`` in it under its password."""
    with running_server(base) as server:
        from clearance.server.admin import ensure_production
        from clearance.server.db import Database

        db = Database(server.db)
        with db.write() as session:
            ensure_production(session, PRODUCTION, title, actor="test-fixture")
        db.dispose()
        for name, role in roles.items():
            server.add_user_direct(name, role, PRODUCTION, passwords[name])
        yield server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server with an artist and an approver in EXAMPLE_S01 and an artist in OTHER_S02."""
    server = start_server(tmp_path_factory.mktemp("live-server"))
    try:
        server.add_users([("ana.artist", "artist", PRODUCTION), ("sam.approver", "approver", PRODUCTION),
                          ("olga.other", "artist", OTHER_PRODUCTION)])
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------- PostgreSQL


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be started; the message says why (tests fail with it, they never skip)."""


def postgres_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise PostgresUnavailable(
            "Debian's PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres missing): "
            "run `apt-get install postgresql` (./dev test does)"
        )
    return Path(found[-1]).parent


@dataclass
class PostgresCluster:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        _stop_postmaster(self.root / "data", self.process)
        shutil.rmtree(self.root, ignore_errors=True)


def _stop_postmaster(data: Path, process: subprocess.Popen[bytes]) -> None:
    # Signal the postmaster itself: runuser/su between us and it do not pass signals on.
    if process.poll() is not None:
        return
    try:
        os.kill(int((data / "postmaster.pid").read_text().split()[0]), signal.SIGINT)  # "fast" shutdown
    except (OSError, ValueError, IndexError):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int((data / "postmaster.pid").read_text().split()[0]), signal.SIGKILL)
        process.kill()
        process.wait(timeout=10)


def _as_postgres(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; the tests run as root in CI, so drop to the postgres OS user.
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--", *argv]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(argv)]


def start_postgres(durable: bool = False, timeout: float = 60) -> PostgresCluster:
    """initdb into a temp dir and start `postgres` on a free loopback port. Raises PostgresUnavailable."""
    bindir = postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="clearance-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "postgres.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        try:
            import pwd

            entry = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable("there is no `postgres` OS user to run PostgreSQL as (we are root)") from None
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(root, 0o700)
    init = subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                      "--no-sync", "--locale=C"]),
        capture_output=True, text=True, timeout=120,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed ({init.returncode}): {(init.stderr or init.stdout).strip()[-800:]}")
    settings = ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "shared_buffers=64MB"]
    if not durable:  # test data is thrown away: skip the disk flushes
        settings += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    last = ""
    for _attempt in range(3):
        port = free_port()
        handle = log.open("wb")
        process = subprocess.Popen(
            _as_postgres([str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(sockets), *settings]),
            stdout=handle, stderr=subprocess.STDOUT,
        )
        handle.close()
        cluster = PostgresCluster(root, port, process, log)
        deadline = time.monotonic() + timeout
        import psycopg

        while time.monotonic() < deadline and process.poll() is None:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=2):
                    return cluster
            except psycopg.OperationalError:
                time.sleep(0.2)
        last = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        _stop_postmaster(data, process)
        if "could not bind" not in last and "in use" not in last:
            break
    shutil.rmtree(root, ignore_errors=True)
    raise PostgresUnavailable(f"postgres did not accept connections on 127.0.0.1; its log:\n{last}")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = start_postgres()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL could not start, so the PostgreSQL tests cannot run: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


# ------------------------------------------------------------------------------------------- records



def record_body(kind: str = "approval_required", production: str = PRODUCTION, **fields: object) -> dict:
    """A use record as JSON. kind: notify (ideation), approval_required (final background), prohibited
    (presented as authentic footage of real events). Extra keyword fields replace top-level fields."""
    import uuid

    body: dict = {
        "id": str(uuid.uuid4()), "production": production, "vendor": "Example VFX", "declared_by": "ana.artist",
        "description": "Generated shop signage in the background of the market shots.",
        "tool": dict(ENTERPRISE_TOOL), **{k: dict(v) for k, v in CLEAN_ANSWERS.items()},
        "use": {"media": "image", "stage": "final", "in_final_deliverable": "yes", "creative_element": "background",
                "prominence": "incidental"},
        "targets": [{"kind": "shot", "ref": "sh010"}],
    }
    if kind == "notify":
        body["use"] = {"media": "image", "stage": "ideation", "in_final_deliverable": "no"}
        body["description"] = "Mood board frames for the harbour at night."
    elif kind == "prohibited":
        body["realism"] = {"depicts_real_people_or_events": "yes", "presented_as_authentic": "yes"}
        body["use"]["content_type"] = "documentary"
        body["description"] = "Fabricated archive footage of a real protest."
    elif kind != "approval_required":
        raise ValueError(f"unknown record kind {kind}")
    body.update(fields)
    return body
