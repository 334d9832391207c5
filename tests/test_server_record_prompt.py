"""The service keeps a record's prompt (it is the studio's) and shows it to the approver, saying whether the
deliverables may carry it. Editing the prompt is a new version, and like a wording change it keeps an approval."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import browser, log_in
from server_fixtures import LiveServer, record_body, titled_site

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the fixture, imported for this module's tests

PASSWORDS = {"ana.artist": "artist-secret-1", "sam.approver": "approver-secret-1"}
PROMPT = "weathered shop signs, Portuguese fishing village,\nhand lettering, dusk light"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    roles = {"ana.artist": "artist", "sam.approver": "approver"}
    with titled_site(tmp_path_factory.mktemp("prompt-server"), "Harbour Lights", PASSWORDS, roles) as server:
        yield server


def _body(**prompt: Any) -> dict[str, Any]:
    body = record_body("approval_required", schema_version=2, prompt=prompt)
    body["tool"] = {**body["tool"], "trains_on_outputs": "no"}
    return body


def test_the_prompt_is_kept_and_editing_it_keeps_the_approval(site: LiveServer) -> None:
    body = _body(text=PROMPT, shareable="no")
    created = site.post("/records", site.tokens["ana.artist"], body)
    assert created.status_code == 201, created.text
    detail = site.get(f"/records/{body['id']}", site.tokens["sam.approver"]).json()
    assert detail["record"]["prompt"] == {"text": PROMPT, "shareable": "no"}
    approved = site.post(f"/records/{body['id']}/decision", site.tokens["sam.approver"],
                         {"decision": "approve", "version": 1})
    assert approved.status_code == 201, approved.text
    edited = site.post("/records", site.tokens["ana.artist"],
                       {**body, "prompt": {"text": PROMPT + ", wide lens", "shareable": "yes"}})
    assert edited.status_code in (200, 201), edited.text
    assert edited.json()["status"] == "approved", "the prompt is not bound by the approval, like the description"
    detail = site.get(f"/records/{body['id']}", site.tokens["sam.approver"]).json()
    assert detail["latest_version"] == 2 and detail["record"]["prompt"]["shareable"] == "yes"


def test_the_record_page_shows_the_prompt_and_whether_it_is_shared(site: LiveServer, browser: Any,
                                                                   tmp_path: Path) -> None:
    private = _body(text=PROMPT, shareable="no")
    shared = _body(text="a brass lighthouse lamp, macro", shareable="yes")
    plain = record_body("approval_required")
    for body in (private, shared, plain):
        assert site.post("/records", site.tokens["ana.artist"], body).status_code == 201
    page = log_in(browser, site, "sam.approver", PASSWORDS["sam.approver"])
    page.goto(f"{site.url}/records/{private['id']}")
    prompt = page.locator("p.prompt")
    assert prompt.inner_text() == PROMPT  # line breaks kept
    assert "private" in page.locator(".prompt-sharing").inner_text()
    assert "never carry it" in page.locator(".prompt-sharing").inner_text()
    page.screenshot(path=str(tmp_path / "record-prompt.png"), full_page=True)
    page.goto(f"{site.url}/records/{shared['id']}")
    assert page.locator("p.prompt").inner_text() == "a brass lighthouse lamp, macro"
    assert "shared:" in page.locator(".prompt-sharing").inner_text()
    page.goto(f"{site.url}/records/{plain['id']}")
    assert page.locator("#prompt-h").count() == 0  # no prompt, no heading
    page.context.close()
