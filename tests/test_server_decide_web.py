"""Deciding cannot happen by accident, and binds what the approver saw: driven in real Chromium and over HTTP.

- Keyboard alone (Tab, Enter, typing) denies and approves; Tab+Enter anywhere after typing a reason never
  records an approval; shortcuts never fire while typing.
- A decided version shows its decision, not the form; a denial needs a reason (page and API); a past expiry
  date is an inline error that keeps what was typed.
- The decision carries the version (and content digest) reviewed: a newer version answers 409 and the page
  shows what changed; the API requires `version` (422 without it).
- Several like requests decided together; previews stored with limits and shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from browser_fixtures import browser, log_in, png, tab_to
from server_fixtures import PRODUCTION, LiveServer, record_body, titled_site

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the fixture, imported for this module's tests

TITLE = "Harbour Lights, season 1"
PASSWORDS = {"ana.artist": "artist-secret-1", "sam.approver": "approver-secret-1", "kim.approver": "approver-2-secret"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    roles = {"ana.artist": "artist", "sam.approver": "approver", "kim.approver": "approver"}
    with titled_site(tmp_path_factory.mktemp("decide-server"), TITLE, PASSWORDS, roles) as server:
        yield server


def new_record(site: LiveServer, **fields: Any) -> dict[str, Any]:
    body = record_body("approval_required", **fields)
    response = site.post("/records", site.tokens["ana.artist"], body)
    assert response.status_code == 201 and response.json()["status"] == "waiting", response.text
    return body


def state(site: LiveServer, record_id: str) -> dict[str, Any]:
    detail = site.get(f"/records/{record_id}", site.tokens["ana.artist"]).json()
    return {"status": detail["status"], "approvals": detail["approvals"], "denials": detail["denials"]}


def press_enter(page: Any) -> None:
    """Enter, then wait for the page it leads to, if any (a bounded wait: most stops lead nowhere)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        with page.expect_navigation(timeout=1500):
            page.keyboard.press("Enter")
    except PlaywrightTimeout:
        pass


def approver_page(browser: Any, site: LiveServer) -> Any:
    return log_in(browser, site, "sam.approver", PASSWORDS["sam.approver"])


def test_keyboard_alone_denies_then_approves(site: LiveServer, browser: Any) -> None:
    denied, approved = new_record(site), new_record(site)
    page = approver_page(browser, site)

    page.goto(f"{site.url}/records/{denied['id']}")
    tab_to(page, "#reason")
    page.keyboard.type("The signage copies a real brand: replace it.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "deny-button"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/decision"))
    assert state(site, denied["id"])["status"] == "waiting", "the first Enter only asks for confirmation"
    tab_to(page, "#confirm-button")
    assert page.evaluate("document.activeElement.textContent").strip() == "Deny version 1"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("done=denied"))
    after = state(site, denied["id"])
    assert after["status"] == "denied" and after["approvals"] == []
    assert after["denials"][0]["reason"] == "The signage copies a real brand: replace it."

    page.goto(f"{site.url}/records/{approved['id']}")
    tab_to(page, "#conditions")
    page.keyboard.type("Background only.")
    page.keyboard.press("Tab")
    page.keyboard.type("2099-06-30")
    tab_to(page, "#approve-button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/decision"))
    tab_to(page, "#confirm-button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("done=approved"))
    after = state(site, approved["id"])
    assert after["status"] == "approved" and after["denials"] == []
    assert after["approvals"][0]["conditions"] == "Background only."
    assert after["approvals"][0]["expires_at"].startswith("2099-06-30T23:59:59")
    page.context.close()


def test_tab_and_enter_after_typing_a_reason_never_approve(site: LiveServer, browser: Any) -> None:
    """The audit's walk: a reason typed, then Tab k times and Enter, for every stop in the decision forms;
    and Enter pressed inside every field of both forms. No approval may be recorded, ever."""
    body = new_record(site)
    page = approver_page(browser, site)
    url = f"{site.url}/records/{body['id']}"
    page.goto(url)
    stops = page.evaluate(
        "() => Array.from(document.querySelectorAll('#decide input, #decide textarea, #decide button, #decide a'))"
        ".filter(e => e.tabIndex >= 0 && !e.disabled && !e.hidden && e.type !== 'hidden').length")
    assert stops >= 5
    for presses in range(stops + 3):
        page.goto(url)
        page.locator("#reason").fill("")
        tab_to(page, "#reason")
        page.keyboard.type("Not the agreed look")
        for _ in range(presses):
            page.keyboard.press("Tab")
        press_enter(page)
        assert state(site, body["id"])["approvals"] == [], f"Tab x{presses} then Enter recorded an approval"
        assert not page.title().startswith("Confirm: Approve"), f"Tab x{presses} then Enter led to approving"
    for field in ("#conditions", "#expires_at", "#reason"):
        page.goto(url)
        page.locator("#reason").fill("Not the agreed look")
        page.locator("#expires_at").fill("2099-01-01")
        page.locator(field).focus()
        press_enter(page)
        assert state(site, body["id"])["approvals"] == [], f"Enter in {field} recorded an approval"
        assert not page.title().startswith("Confirm: Approve"), f"Enter in {field} led to approving"
    page.context.close()


def test_decided_versions_show_their_decision_and_deny_needs_a_reason(site: LiveServer, browser: Any) -> None:
    body = new_record(site)
    page = approver_page(browser, site)
    page.goto(f"{site.url}/records/{body['id']}")
    page.get_by_role("button", name="Deny version 1…").click()
    assert page.locator("#reason-error").inner_text().startswith("A denial needs a reason")
    assert page.locator("#reason").get_attribute("aria-invalid") == "true"
    assert state(site, body["id"])["status"] == "waiting"
    page.get_by_label(re.compile("^Reason")).fill("Replace the poster with licensed art.")
    page.get_by_role("button", name="Deny version 1…").click()
    page.get_by_role("button", name="Deny version 1", exact=True).click()
    page.wait_for_url(re.compile("done=denied"))
    decide = page.locator("#decide")
    assert decide.locator("form").count() == 0 and page.get_by_role("button", name=re.compile("^Approve")).count() == 0
    assert "Replace the poster with licensed art." in decide.inner_text()
    assert len(state(site, body["id"])["denials"]) == 1

    api = site.post(f"/records/{new_record(site)['id']}/decision", site.tokens["sam.approver"],
                    {"decision": "deny", "version": 1, "reason": "  "})
    assert api.status_code == 422 and api.json()["field"] == "reason" and "reason" in api.json()["error"]
    page.context.close()


def test_a_past_expiry_keeps_what_was_typed(site: LiveServer, browser: Any) -> None:
    body = new_record(site)
    page = approver_page(browser, site)
    page.goto(f"{site.url}/records/{body['id']}")
    page.get_by_label(re.compile("^Conditions")).fill("Background only;\nnot in marketing.")
    page.get_by_label(re.compile("^Approval expires")).fill("2021-03-04")
    page.get_by_role("button", name="Approve version 1…").click()
    assert page.locator("#expires_at-error").inner_text().startswith("2021-03-04 is in the past")
    assert page.get_by_label(re.compile("^Conditions")).input_value() == "Background only;\nnot in marketing."
    assert page.get_by_label(re.compile("^Approval expires")).input_value() == "2021-03-04"
    page.get_by_label(re.compile("^Approval expires")).fill("31/12/2099")
    page.get_by_role("button", name="Approve version 1…").click()
    assert "YYYY-MM-DD" in page.locator("#expires_at-error").inner_text()
    assert state(site, body["id"])["approvals"] == []
    page.context.close()


def test_a_newer_version_answers_409_and_shows_what_changed(site: LiveServer, browser: Any) -> None:
    body = new_record(site)
    page = approver_page(browser, site)
    page.goto(f"{site.url}/records/{body['id']}")
    page.get_by_label(re.compile("^Conditions")).fill("Background only.")
    with page.expect_navigation():  # the title is read from the page the click leads to, once it has loaded
        page.get_by_role("button", name="Approve version 1…").click()
    assert page.title().startswith("Confirm: Approve version 1")
    # Meanwhile the artist sends version 2: a digital replica now.
    changed = {**body, "talent": {**body.get("talent", {}), "digital_replica": "yes", "consent_documented": "yes",
                                  "consent_ref": "contract 12"}}
    assert site.post("/records", site.tokens["ana.artist"], changed).status_code == 201
    with page.expect_response(lambda r: "/decision" in r.url) as answer:
        page.get_by_role("button", name="Approve version 1", exact=True).click()
    assert answer.value.status == 409
    alert = page.get_by_role("alert").first.inner_text()
    assert "The record changed since you opened it: review version 2." in alert
    assert "talent.digital_replica" in alert
    assert state(site, body["id"])["approvals"] == []
    assert page.get_by_role("button", name="Approve version 2…").count() == 1
    assert page.get_by_label(re.compile("^Conditions")).input_value() == "Background only."

    token = site.tokens["sam.approver"]
    stale = site.post(f"/records/{body['id']}/decision", token, {"decision": "approve", "version": 1})
    assert stale.status_code == 409
    assert "the record changed since you opened it: review version 2" in stale.json()["error"]
    old_client = site.post(f"/records/{body['id']}/decision", token, {"decision": "approve"})
    assert old_client.status_code == 422 and old_client.json()["field"] == "version"
    digest = site.get(f"/records/{body['id']}", token).json()["versions"][0]["content_digest"]
    wrong = site.post(f"/records/{body['id']}/decision", token,
                      {"decision": "approve", "version": 2, "content_digest": digest})
    assert wrong.status_code == 409, "version 2 with version 1's content digest is not what is stored"
    assert state(site, body["id"])["approvals"] == []
    page.context.close()


def test_shortcuts_move_focus_and_never_fire_while_typing(site: LiveServer, browser: Any) -> None:
    first, second = new_record(site, description="Shortcut test one."), new_record(site, description="Shortcut two.")
    page = approver_page(browser, site)
    page.goto(f"{site.url}/records/{first['id']}")
    page.locator("h1").click()
    page.keyboard.press("d")
    assert page.evaluate("document.activeElement.id") == "reason"
    page.keyboard.type("and now n")
    assert page.url.endswith(first["id"]), "a shortcut fired while typing"
    assert page.locator("#reason").input_value() == "and now n"
    page.locator("h1").click()
    page.keyboard.press("a")
    assert page.evaluate("document.activeElement.id") == "conditions"
    page.locator("h1").click()
    page.keyboard.press("n")
    page.wait_for_url(re.compile("/records/(?!" + first["id"] + ")"))
    assert state(site, first["id"])["status"] == "waiting" and state(site, second["id"])["status"] == "waiting"
    page.goto(f"{site.url}/queue")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.classList.contains('open')")
    page.context.close()


def test_several_like_requests_denied_together(site: LiveServer, browser: Any) -> None:
    bodies = [new_record(site, description=f"Bulk sign {n} in the market.") for n in range(2)]
    page = approver_page(browser, site)
    page.goto(f"{site.url}/queue?q=Bulk+sign")
    for box in page.get_by_role("checkbox").all():
        box.check()
    with page.expect_navigation():
        page.get_by_role("button", name="Deny selected…").click()
    assert page.title().startswith("Confirm: Deny 2 requests")
    page.get_by_role("button", name="Deny these 2").click()
    assert page.locator("#reason-error").count() == 1, "a denial of several needs a reason too"
    page.get_by_label(re.compile("^Reason")).fill("Use the cleared sign set instead.")
    page.get_by_role("button", name="Deny these 2").click()
    assert "Denied 2 of 2" in page.locator("h1").inner_text()
    for body in bodies:
        assert state(site, body["id"])["denials"][0]["reason"] == "Use the cleared sign set instead."
    page.context.close()


def test_previews_are_bounded_and_shown(site: LiveServer, browser: Any) -> None:
    body = new_record(site, targets=[{"kind": "shot", "ref": "sh300"}, {"kind": "shot", "ref": "sh301"}])
    url = f"{site.url}/api/v1/records/{body['id']}/previews"
    headers = site.headers(site.tokens["ana.artist"])

    def put(target: str, data: bytes, kind: str = "image/png") -> requests.Response:
        return requests.put(url, params={"target": target}, data=data, headers={**headers, "Content-Type": kind},
                            timeout=10)

    picture = png(64, 36, (200, 120, 40))
    assert put("shot:sh300", picture).status_code == 201
    assert put("shot:sh300", picture).status_code == 200, "the same picture again is a replay"
    assert put("shot:nope", picture).status_code == 404, "a target the record does not have is not found"
    assert put("shot:sh301", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml").status_code == 415
    assert put("shot:sh301", picture, "image/jpeg").status_code == 415, "declared type must match the bytes"
    assert put("shot:sh301", picture + b"\0" * (600 * 1024)).status_code == 413
    listed = requests.get(url, headers=headers, timeout=10).json()["previews"]
    assert [p["target"] for p in listed] == ["shot:sh300"]

    page = approver_page(browser, site)
    page.goto(f"{site.url}/records/{body['id']}")
    image = page.get_by_role("img", name="Preview of shot sh300")
    assert image.evaluate("i => i.complete && i.naturalWidth") == 64
    assert "No preview sent for shot sh301" in page.locator("#targets-h + .previews").inner_text()
    page.context.close()


def test_an_approval_that_still_holds_after_a_wording_change_shows_no_form(site: LiveServer, browser: Any) -> None:
    body = new_record(site)
    approved = site.post(f"/records/{body['id']}/decision", site.tokens["kim.approver"],
                         {"decision": "approve", "version": 1})
    assert approved.status_code == 201, approved.text
    reworded = site.post("/records", site.tokens["ana.artist"], {**body, "description": "Same use, clearer words."})
    assert reworded.json()["status"] == "approved", "a wording change keeps the approval"
    page = approver_page(browser, site)
    page.goto(f"{site.url}/records/{body['id']}")
    decide = page.locator("#decide")
    assert decide.locator("form").count() == 0
    assert "given on version 1" in decide.inner_text()
    page.context.close()


def test_deciding_works_without_javascript(site: LiveServer, browser: Any) -> None:
    body = new_record(site)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site.url}/login?next=/records/{body['id']}")
    page.get_by_label("Name").fill("sam.approver")
    page.get_by_label("Password").fill(PASSWORDS["sam.approver"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(f"/records/{body['id']}"))
    page.get_by_label(re.compile("^Conditions")).fill("Background only.")
    page.get_by_role("button", name="Approve version 1…").click()
    page.get_by_role("button", name="Approve version 1", exact=True).click()
    page.wait_for_url(re.compile("done=approved"))
    assert state(site, body["id"])["approvals"][0]["conditions"] == "Background only."
    context.close()


def test_queue_sorts_and_filters(site: LiveServer, browser: Any) -> None:
    older = new_record(site, description="Sorting check: older request.")
    newer = new_record(site, description="Sorting check: newer request.",
                       talent={"digital_replica": "yes", "consent_documented": "yes", "consent_ref": "contract 9"})
    page = approver_page(browser, site)
    page.goto(f"{site.url}/queue?q=Sorting+check")
    titles = page.locator("article.request h2").all_inner_texts()
    assert titles == [older["description"], newer["description"]], "oldest request first by default"
    page.goto(f"{site.url}/queue?q=Sorting+check&sort=newest")
    assert page.locator("article.request h2").all_inner_texts() == [newer["description"], older["description"]]
    page.goto(f"{site.url}/queue?q=Sorting+check&rule=TALENT-REPLICA")
    assert page.locator("article.request h2").all_inner_texts() == [newer["description"]]
    page.goto(f"{site.url}/queue?q=no+such+words+anywhere")
    assert "No waiting request matches these filters." in page.locator("main").inner_text()
    page.context.close()


def test_targets_and_productions_read_in_plain_words(site: LiveServer, browser: Any) -> None:
    body = new_record(site, description="Plain words check.",
                      targets=[{"kind": "datablock", "ref": "objects:Sign"}, {"kind": "shot", "ref": "sh020"},
                               {"kind": "node", "ref": "Write3"}, {"kind": "clip", "ref": "Edit/A001_C004"}])
    page = approver_page(browser, site)
    page.goto(f"{site.url}/queue?q=Plain+words")
    card = page.locator("article.request").inner_text()
    assert f"{TITLE} ({PRODUCTION})" in card
    assert "Blender object Sign, shot sh020, Nuke node Write3, clip A001_C004 (scene Edit)" in card
    page.goto(f"{site.url}/records/{body['id']}")
    assert page.locator(".crumbs").inner_text().startswith(f"{TITLE} ({PRODUCTION}) register")
    page.goto(f"{site.url}/register/{PRODUCTION}")
    assert page.locator("h1").inner_text().startswith(f"Register: {TITLE} ({PRODUCTION})")
    page.context.close()
