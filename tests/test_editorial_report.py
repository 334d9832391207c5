"""The shot list: CSV columns, HTML escaping, and the HTML opened in real headless Chromium (screen and print)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import opentimelineio as otio
import pytest
from editorial_fixtures import cli, make_record, write_record

from clearance.editorial.report import COLUMNS

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / ".tmp"


def _report(shared_data: Path, tmp_path: Path) -> tuple[Path, Path, dict]:
    """A cut with a prohibited, an approval-required and a notify clip, one with a hostile name."""
    src = otio.adapters.read_from_file(str(shared_data / "otio" / "screening_example.otio"))
    evil = next(c for c in src.find_clips() if c.name == "ZZ100_510 (LAY1)")
    evil.name = '<script>alert("x")</script> & co'
    staged = tmp_path / "staged.otio"
    otio.adapters.write_to_file(src, str(staged))
    cut = staged
    for n, (kind, clip) in enumerate([("prohibited", "ZZ100_501 (LAY3)"), ("approval", "ZZ100_504C (LAY1)"),
                                      ("notify", evil.name)]):
        record = write_record(tmp_path / "records", make_record(kind))
        out = tmp_path / f"cut{n}.otio"
        assert cli("tag", cut, "--clip", clip, "--record", record, "-o", out).code == 0
        cut = out
    html, csv_path = tmp_path / "shots.html", tmp_path / "shots.csv"
    run = cli("check", cut, "--report", html, "--report", csv_path, "--json")
    assert run.code == 1
    return html, csv_path, run.json()


def test_csv_has_the_report_columns(shared_data: Path, tmp_path: Path) -> None:
    _html, csv_path, doc = _report(shared_data, tmp_path)
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == COLUMNS
    body = rows[1:]
    assert [r[4] for r in body] == [c["name"] for c in doc["clips"]]
    assert [(r[1], r[2]) for r in body] == [(c["timecode_in"], c["timecode_out"]) for c in doc["clips"]]
    statuses = {r[4]: r[5] for r in body}
    assert statuses["ZZ100_501 (LAY3)"] == "Prohibited" and statuses["ZZ100_504C (LAY1)"] == "Needs approval"
    assert "ETHICS-MISLEADING" in next(r[6] for r in body if r[4] == "ZZ100_501 (LAY3)")
    assert all(r[10] for r in body if r[5] != "Disclosed (notify)")  # every blocked row says what to do


def test_html_escapes_clip_names(shared_data: Path, tmp_path: Path) -> None:
    html, _csv, _doc = _report(shared_data, tmp_path)
    text = html.read_text(encoding="utf-8")
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in text


@pytest.mark.browser
def test_html_report_in_headless_chromium(shared_data: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    html, _csv, doc = _report(shared_data, tmp_path)
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(html.as_uri())
            assert page.title().startswith("GenAI clearance:")
            rows = page.locator("tbody tr")
            assert rows.count() == len(doc["clips"]) == 3
            assert page.locator(".verdict").inner_text() == "Blocked"
            assert page.locator("tbody tr.blocking").count() == 2
            names = [rows.nth(i).locator("td.clip").inner_text().splitlines()[0] for i in range(3)]
            assert names == [c["name"] for c in doc["clips"]]
            assert '<script>alert("x")</script> & co' in names  # shown as text, not run
            badges = page.locator("tbody .badge").all_inner_texts()
            assert sorted(badges) == ["Disclosed (notify)", "Needs approval", "Prohibited"]
            first_tc = rows.nth(0).locator("td.tc").first.inner_text()
            assert first_tc == doc["clips"][0]["timecode_in"]
            page.screenshot(path=str(SCREENSHOTS / "editorial-report.png"), full_page=True)
            page.emulate_media(media="print")
            assert page.evaluate("getComputedStyle(document.querySelector('thead')).display") == "table-header-group"
            page.screenshot(path=str(SCREENSHOTS / "editorial-report-print.png"), full_page=True)
            pdf = page.pdf(format="A4", landscape=True)
            assert pdf.startswith(b"%PDF") and len(pdf) > 5000
        finally:
            browser.close()
