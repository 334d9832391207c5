"""The register page's "Delivery packet" button, in real headless Chromium against a real `clearance serve`.

The approver downloads the zip, and `clearance packet verify` checks it offline; an artist gets no button and
no packet; a service without a signing identity says so instead of handing out an unsigned packet.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_fixtures import SCREENS, browser
from browser_fixtures import log_in as browser_log_in
from server_fixtures import PRODUCTION, LiveServer, record_body, start_server

from clearance.cli.main import main
from clearance.credentials.identity import init_test_identity

pytestmark = pytest.mark.browser
__all__ = ["browser"]
PASSWORDS = {"sam.approver": "approver-secret-1", "ana.artist": "artist-secret-1"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("packet-server"))
    try:
        for name, role in (("sam.approver", "approver"), ("ana.artist", "artist")):
            server.add_user_direct(name, role, PRODUCTION, PASSWORDS[name])
        for kind in ("notify", "approval_required"):
            assert server.post("/records", server.tokens["ana.artist"], record_body(kind)).status_code == 201
        yield server
    finally:
        server.stop()


def test_no_signing_identity_on_the_service_is_said_not_hidden(site: LiveServer, browser: object) -> None:
    page = browser_log_in(browser, site, "sam.approver", PASSWORDS["sam.approver"])
    answer = page.request.get(f"{site.url}/register/{PRODUCTION}/packet.zip")
    assert answer.status == 409
    text = answer.text()
    assert "cannot sign a packet" in text and "credentials init" in text
    page.context.close()


def test_approver_downloads_a_packet_that_verifies(site: LiveServer, browser: object, tmp_path: Path) -> None:
    init_test_identity(site.home / "credentials")  # the service host's test identity
    checkpoint = site.cli("audit", "checkpoint", "--db", site.db, "--keys-dir", str(site.keys_dir))
    assert checkpoint.returncode == 0, checkpoint.stderr
    page = browser_log_in(browser, site, "sam.approver", PASSWORDS["sam.approver"])
    page.goto(f"{site.url}/register/{PRODUCTION}")
    button = page.get_by_role("link", name="Delivery packet")
    assert button.count() == 1
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "register-packet.png"), full_page=True)
    with page.expect_download() as download:
        button.click()
    archive = tmp_path / "packet.zip"
    Path(download.value.path()).replace(archive)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp_path)
    folder = tmp_path / f"packet-{PRODUCTION}"
    html = (folder / "register.html").read_text(encoding="utf-8")
    assert "Register of GenAI uses" in html and "waiting" in html
    assert (folder / "bundle" / "checkpoint.json").is_file()  # the latest signed audit checkpoint
    assert main(["packet", "verify", str(folder)]) == 0
    page.context.close()


def test_an_artist_gets_no_button_and_no_packet(site: LiveServer, browser: object) -> None:
    page = browser_log_in(browser, site, "ana.artist", PASSWORDS["ana.artist"])
    page.goto(f"{site.url}/register/{PRODUCTION}")
    assert page.get_by_role("link", name="Delivery packet").count() == 0
    answer = page.request.get(f"{site.url}/register/{PRODUCTION}/packet.zip")
    assert answer.status == 404
    page.context.close()
