"""The approver pages in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

An approver logs in, approves a request on the record page, and the artist's client (DisclosureClient)
then pulls and holds a valid signed approval; HTML and script in a record show as text; CSRF and
cookie flags; the register's CSV export; the audit page. Screenshots of the queue and record pages
go to .tmp/screens/ for a human look.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from browser_fixtures import SCREENS, browser
from browser_fixtures import log_in as browser_log_in
from server_fixtures import PRODUCTION, LiveServer, record_body, start_server

from clearance.approvals import find_valid_approval
from clearance.client import DisclosureClient
from clearance.record import UseRecord

pytestmark = pytest.mark.browser

PASSWORDS = {"ana.artist": "artist-secret-1", "sam.approver": "approver-secret-1", "kim.approver": "approver-2-secret"}
XSS = '<script>alert(1)</script><b>bold</b> "quoted" & <img src=x onerror=alert(2)>'
__all__ = ["browser"]  # the fixture, imported for this module's tests


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("browser-server"))
    try:
        server.add_user("sam.approver", "approver", PRODUCTION, PASSWORDS["sam.approver"])  # the real CLI
        for name, role in (("ana.artist", "artist"), ("kim.approver", "approver")):
            server.add_user_direct(name, role, PRODUCTION, PASSWORDS[name])
        yield server
    finally:
        server.stop()


def log_in(browser: object, site: LiveServer, name: str, viewport: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    return browser_log_in(browser, site, name, PASSWORDS[name], viewport)


def test_approver_approves_in_the_browser_and_the_artist_holds_a_valid_approval(
    site: LiveServer, browser: object
) -> None:
    record = UseRecord.model_validate(record_body("approval_required", description="Generated crowd in the "
                                                  "background of the stadium shots.",
                                                  targets=[{"kind": "shot", "ref": "sh120"}]))
    client = DisclosureClient(site.url, site.tokens["ana.artist"])
    sent = client.submit(record)
    assert sent.status == "waiting", sent

    page = log_in(browser, site, "sam.approver")
    card = page.locator("article.request", has_text="stadium shots")
    assert card.count() == 1
    assert "FINAL-DELIVERABLE" in card.inner_text()
    assert "What to weigh" in card.inner_text()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "queue.png"), full_page=True)

    card.get_by_role("link", name="Review and decide").click()
    page.wait_for_url(re.compile(f"/records/{record.id}"))
    page.get_by_label(re.compile("^Conditions")).fill("Background only; not in marketing material.")
    page.get_by_label(re.compile("^Approval expires")).fill("2099-12-31")
    page.screenshot(path=str(SCREENS / "record.png"), full_page=True)
    with page.expect_navigation():  # the title is read from the page the click leads to, once it has loaded
        page.get_by_role("button", name="Approve version 1…").click()
    assert page.title().startswith("Confirm: Approve version 1")
    assert "Background only; not in marketing material." in page.locator("main").inner_text()
    assert client.request("GET", f"/records/{record.id}")["status"] == "waiting", "the first step decides nothing"
    page.get_by_role("button", name="Approve version 1", exact=True).click()
    page.wait_for_url(re.compile(r"done=approved"))
    assert page.get_by_role("status").inner_text().startswith("Version 1 approved.")
    assert page.locator("#decide form").count() == 0, "a decided version shows its decision, not the form"
    assert "Background only; not in marketing material." in page.locator("#decide").inner_text()
    approvals = page.locator("section", has=page.get_by_role("heading", name="Approvals", exact=True))
    assert "in force" in approvals.inner_text()
    page.screenshot(path=str(SCREENS / "record-approved.png"), full_page=True)

    report = client.pull_approvals([record.id])
    assert report.approvals == 1
    held = client.cache.approvals_for(record.id)
    keys = client.cache.keys()
    result = find_valid_approval(record, held, keys=keys, revocations=client.cache.revocations(keys))
    assert result.valid, result.reason
    assert held[0].statement.approver == "sam.approver"
    assert held[0].statement.conditions == "Background only; not in marketing material."
    assert held[0].statement.expires_at is not None and held[0].statement.expires_at.year == 2099
    download = page.request.get(f"{site.url}/records/{record.id}/approvals/{held[0].approval_id}.json")
    assert download.ok and "attachment" in download.headers["content-disposition"]
    assert download.json() == held[0].model_dump(mode="json")
    assert page.dialogs == []
    page.context.close()


def test_html_and_script_in_a_record_show_as_text(site: LiveServer, browser: object) -> None:
    body = record_body("approval_required", description=XSS, vendor="<i>Vendor</i>",
                       targets=[{"kind": "shot", "ref": "<u>sh999</u>"}])
    assert site.post("/records", site.tokens["ana.artist"], body).status_code == 201
    page = log_in(browser, site, "sam.approver")
    assert XSS in page.locator("article.request", has_text="bold").inner_text()
    page.goto(f"{site.url}/records/{body['id']}")
    assert page.locator("p.description").inner_text() == XSS
    assert page.locator("h1").inner_text() == XSS
    assert page.locator("main b").count() == 0 and page.locator("main img").count() == 0
    assert page.locator("main i").count() == 0 and page.locator("main u").count() == 0
    assert "<u>sh999</u>" in page.locator("section", has_text="Targets").inner_text()
    page.goto(f"{site.url}/register/{PRODUCTION}")
    assert XSS in page.locator("table.register").inner_text()
    assert page.dialogs == [], "a script from a record ran"
    response = requests.get(f"{site.url}/queue", timeout=10)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp and "unsafe-inline" not in csp
    page.context.close()


def test_login_cookie_and_csrf(site: LiveServer) -> None:
    web = requests.Session()
    login = web.get(f"{site.url}/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
    wrong = web.post(f"{site.url}/login", data={"name": "sam.approver", "password": "nope", "csrf_token": token},
                     allow_redirects=False, timeout=10)
    assert wrong.status_code == 401 and "wrong password" in wrong.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', wrong.text).group(1)  # type: ignore[union-attr]
    ok = web.post(f"{site.url}/login", data={"name": "sam.approver", "password": PASSWORDS["sam.approver"],
                                             "csrf_token": token}, allow_redirects=False, timeout=10)
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"]
    assert "clearance_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie, "plain http on loopback: a Secure cookie would never come back"
    body = record_body("approval_required")
    assert site.post("/records", site.tokens["ana.artist"], body).status_code == 201
    forged = web.post(f"{site.url}/records/{body['id']}/decision",
                      data={"decision": "approve", "version": "1", "confirmed": "yes"},
                      allow_redirects=False, timeout=10)
    assert forged.status_code == 403 and "did not come from this site" in forged.text
    assert site.get(f"/records/{body['id']}", site.tokens["ana.artist"]).json()["status"] == "waiting"


def test_register_csv_export_and_audit_page(site: LiveServer, browser: object) -> None:
    body = record_body("notify", description="=HYPERLINK(\"http://evil\") mood board")
    assert site.post("/records", site.tokens["ana.artist"], body).status_code == 201
    page = log_in(browser, site, "kim.approver")
    page.goto(f"{site.url}/register/{PRODUCTION}?status=notified")
    assert page.locator("table.register tbody tr").count() >= 1
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    mine = [r for r in rows if r["id"] == body["id"]]
    assert mine and mine[0]["status"] == "notified"
    assert mine[0]["description"].startswith("'="), "a formula in a cell must not run in a spreadsheet"
    assert {r["status"] for r in rows} == {"notified"}
    page.goto(f"{site.url}/audit")
    text = page.locator("table.audit").inner_text()
    assert "record.submit" in text
    assert page.locator(f"table.audit a[href='/records/{body['id']}']").count() >= 1
    page.screenshot(path=str(SCREENS / "audit.png"), full_page=True)
    page.context.close()


def test_artist_sees_the_record_but_no_decide_form(site: LiveServer, browser: object) -> None:
    body = record_body("approval_required")
    assert site.post("/records", site.tokens["ana.artist"], body).status_code == 201
    page = log_in(browser, site, "ana.artist")
    page.goto(f"{site.url}/records/{body['id']}")
    assert page.get_by_role("button", name=re.compile("^Approve")).count() == 0
    assert "Only an approver" in page.locator("#decide").inner_text()
    page.context.close()
