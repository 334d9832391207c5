"""Vendor isolation and the TD's admin commands, on a real `clearance serve`, on SQLite AND PostgreSQL.

Vendor isolation (a production setting, on by default): an artist sees, lists and versions only their own
vendor's records; approvers and admins of the production see all; another vendor's record reads as unknown.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from server_fixtures import LiveServer, postgres_cluster, record_body, start_server  # noqa: F401  (a fixture)

PROD = "VENDORS_S01"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = None
    if request.param == "postgresql":
        db = request.getfixturevalue("postgres_cluster").create_database(f"vnd_{uuid.uuid4().hex[:10]}")
    server = start_server(tmp_path_factory.mktemp(f"vendors-{request.param}"), db=db)
    try:
        made = server.cli("admin", "production", "add", PROD, "--title", "The Vendors", "--db", server.db)
        assert made.returncode == 0 and "vendor isolation on" in made.stdout, made.stdout + made.stderr
        for name, role, vendor in (("vic.x", "artist", "Vendor X"), ("yan.y", "artist", "Vendor Y"),
                                   ("sam.approver", "approver", None)):
            args = ["admin", "user", "add", name, "--role", role, "--production", PROD, "--db", server.db]
            out = server.cli(*args, *(["--vendor", vendor] if vendor else []))
            assert out.returncode == 0, out.stderr
            server.tokens[name] = out.stdout.strip().splitlines()[-1]
        yield server
    finally:
        server.stop()


def test_artists_see_only_their_vendors_records(site: LiveServer) -> None:
    x_body = record_body(production=PROD, vendor="Vendor X", declared_by="vic.x")
    y_body = record_body(production=PROD, vendor="Vendor Y", declared_by="yan.y")
    assert site.post("/records", site.tokens["vic.x"], x_body).status_code == 201
    assert site.post("/records", site.tokens["yan.y"], y_body).status_code == 201

    listed = site.get("/records", site.tokens["vic.x"], production=PROD).json()
    assert {r["id"] for r in listed["records"]} == {x_body["id"]} and listed["total"] == 1
    foreign = site.get(f"/records/{y_body['id']}", site.tokens["vic.x"])
    unknown = site.get(f"/records/{uuid.uuid4()}", site.tokens["vic.x"])
    assert foreign.status_code == unknown.status_code == 404
    assert site.get(f"/records/{y_body['id']}/approvals", site.tokens["vic.x"]).status_code == 404
    looked = site.post("/records/lookup", site.tokens["vic.x"], {"record_ids": [x_body["id"], y_body["id"]]}).json()
    assert set(looked["records"]) == {x_body["id"]} and looked["unknown"] == [y_body["id"]]

    # A new version of the other vendor's record is refused like an unknown id; so is declaring another vendor.
    edited = dict(y_body, description="Rewritten by someone else.")
    assert site.post("/records", site.tokens["vic.x"], edited).status_code == 404
    assert site.get(f"/records/{y_body['id']}", site.tokens["yan.y"]).json()["latest_version"] == 1
    posing = record_body(production=PROD, vendor="Vendor Y")
    refused = site.post("/records", site.tokens["vic.x"], posing)
    assert refused.status_code == 403 and "Vendor X" in refused.json()["error"]

    everything = site.get("/records", site.tokens["sam.approver"], production=PROD).json()
    assert {x_body["id"], y_body["id"]} <= {r["id"] for r in everything["records"]}


def test_isolation_can_be_switched_off(site: LiveServer) -> None:
    y_body = record_body(production=PROD, vendor="Vendor Y")
    assert site.post("/records", site.tokens["yan.y"], y_body).status_code == 201
    off = site.cli("admin", "production", "add", PROD, "--vendor-isolation", "off", "--db", site.db)
    assert off.returncode == 0 and "vendor isolation off" in off.stdout
    try:
        import time

        deadline = time.monotonic() + 10  # tokens are looked up again within 5 s
        while site.get(f"/records/{y_body['id']}", site.tokens["vic.x"]).status_code != 200:
            assert time.monotonic() < deadline, "switching isolation off did not take effect"
            time.sleep(0.5)
    finally:
        site.cli("admin", "production", "add", PROD, "--vendor-isolation", "on", "--db", site.db)


def test_td_admin_commands(site: LiveServer) -> None:
    typo = site.cli("admin", "user", "add", "ana", "--role", "artist", "--production", "VENDORZ_S01", "--db", site.db)
    assert typo.returncode == 2 and "there is no production 'VENDORZ_S01'" in typo.stderr and "--create" in typo.stderr
    listing = site.cli("admin", "production", "list", "--db", site.db)
    assert "VENDORZ_S01" not in listing.stdout and PROD in listing.stdout and "The Vendors" in listing.stdout

    token = site.tokens["yan.y"]
    assert site.cli("admin", "user", "disable", "yan.y", "--db", site.db).returncode == 0
    enabled = site.cli("admin", "user", "enable", "yan.y", "--db", site.db)
    assert enabled.returncode == 0 and "enabled" in enabled.stdout
    assert site.cli("admin", "user", "enable", "yan.y", "--db", site.db).stdout.strip().endswith("was not disabled")

    removed = site.cli("admin", "user", "role", "remove", "yan.y", "--role", "artist", "--production", PROD,
                       "--db", site.db)
    assert removed.returncode == 0, removed.stderr
    again = site.cli("admin", "user", "role", "remove", "yan.y", "--role", "artist", "--production", PROD,
                     "--db", site.db)
    assert again.returncode == 2 and "has no artist role" in again.stderr
    assert site.get("/records", token).status_code == 401  # disabled: every token revoked, enabling does not revive

    reset = site.cli("admin", "user", "password", "reset", "sam.approver", "--db", site.db, stdin="a-new-password\n")
    assert reset.returncode == 0 and "new web password set" in reset.stdout, reset.stderr
    short = site.cli("admin", "user", "password", "reset", "sam.approver", "--db", site.db, stdin="short\n")
    assert short.returncode == 2 and "too short" in short.stderr
