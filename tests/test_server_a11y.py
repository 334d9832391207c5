"""Every approver page, in real Chromium, at a phone's 390x844 and a desk's 1400x900 (and 320 px for reflow):
axe-core's WCAG 2.2 A/AA rules find nothing, the page never scrolls sideways, and a screenshot of each is
kept in .tmp/screens/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from browser_fixtures import DESK, PHONE, SCREENS, axe_violations, browser, describe, log_in, png
from server_fixtures import PRODUCTION, LiveServer, record_body, start_server

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the fixture, imported for this module's tests

PASSWORDS = {"ana.artist": "artist-secret-1", "sam.approver": "approver-secret-1", "kim.approver": "approver-2-secret"}


class Seeded:
    def __init__(self, site: LiveServer) -> None:
        self.site = site
        self.ids: dict[str, str] = {}

    def submit(self, name: str, body: dict[str, Any]) -> str:
        response = self.site.post("/records", self.site.tokens["ana.artist"], body)
        assert response.status_code in (200, 201), response.text
        self.ids[name] = body["id"]
        return str(body["id"])

    def decide(self, name: str, decision: str, **fields: Any) -> None:
        body = {"decision": decision, "version": 1, **fields}
        response = self.site.post(f"/records/{self.ids[name]}/decision", self.site.tokens["kim.approver"], body)
        assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    server = start_server(tmp_path_factory.mktemp("a11y-server"))
    try:
        for name, role in (("ana.artist", "artist"), ("sam.approver", "approver"), ("kim.approver", "approver")):
            server.add_user_direct(name, role, PRODUCTION, PASSWORDS[name])
        seeded = Seeded(server)
        waiting = record_body("approval_required", description="Generated shop signage in the background of the "
                              "market shots, replacing the practical signs that could not be cleared.",
                              targets=[{"kind": "shot", "ref": "sh020"},
                                       {"kind": "datablock", "ref": "objects:Sign"},
                                       {"kind": "file", "ref": "plates/sh020_sign_v003.png",
                                        "path": "plates/sh020_sign_v003.png"}])
        seeded.submit("waiting", waiting)
        preview = requests.put(f"{server.url}/api/v1/records/{waiting['id']}/previews",
                               params={"target": "shot:sh020"}, data=png(320, 180, (40, 90, 160)),
                               headers={**server.headers(server.tokens["ana.artist"]), "Content-Type": "image/png"},
                               timeout=10)
        assert preview.status_code == 201, preview.text
        seeded.submit("approved", record_body("approval_required", description="Generated crowd in the stadium "
                                              "wide shots.", targets=[{"kind": "shot", "ref": "sh120"}]))
        seeded.decide("approved", "approve", conditions="Background only; not in marketing.",
                      expires_at="2099-12-31T23:59:59Z")
        seeded.submit("denied", record_body("approval_required", description="Generated poster on the bedroom "
                                            "wall.", targets=[{"kind": "node", "ref": "Read12"}]))
        seeded.decide("denied", "deny", reason="The poster resembles a real film's artwork: replace it.")
        seeded.submit("prohibited", record_body("prohibited", targets=[{"kind": "clip", "ref": "Scene/Archive1"}]))
        seeded.submit("notified", record_body("notify"))
        two = record_body("approval_required", description="Sky replacement, first pass.")
        seeded.submit("changed", two)
        seeded.submit("changed", {**two, "description": "Sky replacement, second pass with a generated moon.",
                                  "targets": [{"kind": "shot", "ref": "sh010"}, {"kind": "shot", "ref": "sh011"}]})
        server.add_user_direct("lee.legal", "legal", PRODUCTION, "legal-secret-1")
        consent = {"id": "CONSENT-LEAD-DEAGEING", "production": PRODUCTION, "talent": "Mara Quinn",
                   "given_by": "performer", "guild_terms": "SAG-AFTRA 2023 digital replica terms",
                   "scope": {"productions": [PRODUCTION], "media": ["video"], "uses": ["digital_replica"],
                             "starts_on": "2026-01-01", "ends_on": "2027-12-31"},
                   "document_sha256": "ab" * 32}
        registered = server.post("/consents", server.tokens["lee.legal"], consent)
        assert registered.status_code == 201, registered.text
        yield seeded
    finally:
        server.stop()


def check_page(page: Any, name: str, size: dict[str, int]) -> None:
    label = f"{name}-{size['width']}"
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{label}.png"), full_page=True)
    title = page.title()
    assert title and not title.startswith("Clearance") and title.count("Clearance") == 1, f"{label}: title {title!r}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{label}: the page scrolls sideways by {overflow} px"
    found = axe_violations(page)
    assert not found, f"{label}: axe-core found WCAG 2.2 A/AA violations:\n{describe(found)}"


@pytest.mark.parametrize("size", [PHONE, DESK], ids=["390x844", "1400x900"])
def test_every_approver_page_passes_axe_and_reflows(seeded: Seeded, browser: Any, size: dict[str, int]) -> None:
    site = seeded.site
    context = browser.new_context(viewport=size)
    page = context.new_page()
    page.goto(f"{site.url}/login")
    check_page(page, "login", size)
    page.get_by_label("Password").fill("wrong")
    page.get_by_label("Name").fill("sam.approver")
    page.get_by_role("button", name="Log in").click()
    check_page(page, "login-failed", size)
    page.context.close()

    page = log_in(browser, site, "sam.approver", PASSWORDS["sam.approver"], viewport=size)
    check_page(page, "queue", size)
    page.goto(f"{site.url}/queue?sort=newest&rule=FINAL-DELIVERABLE&q=sky")
    check_page(page, "queue-filtered", size)
    for name in ("waiting", "approved", "denied", "prohibited", "notified", "changed"):
        page.goto(f"{site.url}/records/{seeded.ids[name]}")
        check_page(page, f"record-{name}", size)
        assert page.locator("img[alt='Preview of shot sh020']").count() == (1 if name == "waiting" else 0)

    page.goto(f"{site.url}/records/{seeded.ids['waiting']}")
    page.get_by_label(re.compile("^Conditions")).fill("Background only.")
    page.get_by_label(re.compile("^Approval expires")).fill("2020-01-31")
    page.get_by_role("button", name=re.compile("^Approve version 1")).click()
    check_page(page, "record-past-date", size)
    page.get_by_label(re.compile("^Approval expires")).fill("2099-01-31")
    page.get_by_role("button", name=re.compile("^Approve version 1")).click()
    check_page(page, "confirm-approve", size)
    page.get_by_role("button", name="Go back and change").click()
    page.get_by_role("button", name=re.compile("^Deny version 1")).click()
    check_page(page, "deny-without-reason", size)
    page.get_by_label(re.compile("^Reason")).fill("Not the agreed look.")
    page.get_by_role("button", name=re.compile("^Deny version 1")).click()
    check_page(page, "confirm-deny", size)

    page.get_by_role("button", name="Go back and change").click()
    fresh = record_body("approval_required", description=f"Matte painting of the harbour ({size['width']}).")
    seeded.submit(f"stale-{size['width']}", fresh)
    page.goto(f"{site.url}/records/{fresh['id']}")
    page.get_by_label(re.compile("^Conditions")).fill("Background only.")
    seeded.submit(f"stale-{size['width']}", {**fresh, "description": "Matte painting of the harbour, with a "
                                             "generated lighthouse.", "targets": [{"kind": "shot", "ref": "sh400"}]})
    page.get_by_role("button", name=re.compile("^Approve version 1")).click()
    check_page(page, "record-changed-409", size)
    page.get_by_role("button", name=re.compile("^Approve version 2")).click()
    page.get_by_role("button", name="Approve version 2", exact=True).click()
    check_page(page, "record-just-approved", size)

    for n in (1, 2):
        seeded.submit(f"bulk-{size['width']}-{n}", record_body("approval_required",
                                                                description=f"Bulk {size['width']} sign {n}."))
    page.goto(f"{site.url}/queue?q=Bulk+{size['width']}")
    page.get_by_role("checkbox").first.check()
    page.get_by_role("checkbox").nth(1).check()
    page.get_by_role("button", name="Deny selected…").click()
    check_page(page, "confirm-bulk", size)
    page.get_by_label(re.compile("^Reason")).fill("Bulk check of the pages.")
    page.get_by_role("button", name=re.compile("^Deny these")).click()
    check_page(page, "bulk-result", size)

    page.goto(f"{site.url}/register")
    page.wait_for_url(re.compile("/register/"))
    check_page(page, "register", size)
    page.goto(f"{site.url}/audit")
    check_page(page, "audit", size)
    page.goto(f"{site.url}/consents")
    assert "Mara Quinn" in page.locator("main").inner_text()
    check_page(page, "consents", size)
    page.goto(f"{site.url}/records/00000000-0000-4000-8000-000000000000")
    check_page(page, "not-found", size)
    page.context.close()


def test_pages_reflow_at_320_px(seeded: Seeded, browser: Any) -> None:
    site = seeded.site
    page = log_in(browser, site, "sam.approver", PASSWORDS["sam.approver"], viewport={"width": 320, "height": 640})
    for path in ("/queue", f"/records/{seeded.ids['waiting']}", f"/records/{seeded.ids['changed']}",
                 f"/register/{PRODUCTION}", "/audit", "/consents"):
        page.goto(f"{site.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at 320 px"
    page.context.close()


def test_status_and_policy_are_labelled_apart_with_no_doubled_words(seeded: Seeded, browser: Any) -> None:
    page = log_in(browser, seeded.site, "sam.approver", PASSWORDS["sam.approver"])
    page.goto(f"{seeded.site.url}/records/{seeded.ids['prohibited']}")
    facts = " ".join(page.locator("main .facts").first.text_content().split())
    assert "Status: prohibited" in facts and "Policy: prohibited" in facts
    text = page.locator("main").inner_text()
    assert not re.search(r"\b(prohibited prohibited|P\d P\d)\b", text), "a badge repeats its word"
    assert "clip Archive1 (scene Scene)" in text
    page.goto(f"{seeded.site.url}/records/{seeded.ids['waiting']}")
    text = page.locator("main").inner_text()
    assert "Blender object Sign" in text and "shot sh020" in text and "file sh020_sign_v003.png" in text
    assert "datablock:objects:Sign" not in text
    page.context.close()
