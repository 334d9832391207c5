"""The shot list: CSV columns, HTML escaping, and the HTML opened in real headless Chromium (screen and print)."""

from __future__ import annotations

import csv
import io
from html import escape
from pathlib import Path

import opentimelineio as otio
import pytest
from editorial_fixtures import cli, make_record, write_record

from clearance.editorial.report import CSV_COLUMNS

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


def _csv(path: Path) -> list[dict[str, str]]:
    """The clip rows (the verdict and note rows after them are checked on their own)."""
    return [r for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))) if r["Group"].isdigit()]


def test_csv_groups_clips_by_record_strictest_first(shared_data: Path, tmp_path: Path) -> None:
    _html, csv_path, doc = _report(shared_data, tmp_path)
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    body = _csv(csv_path)
    assert [r["Status"] for r in body] == ["Prohibited", "Needs approval", "Disclosed (notify)"]
    by_name = {c["name"]: c for c in doc["clips"]}
    for row in body:
        clip = by_name[row["Clip"]]
        assert (row["Timecode in"], row["Timecode out"]) == (clip["timecode_in"], clip["timecode_out"])
        assert row["Record"] == clip["record_id"] and row["#"] == str(clip["index"])
        # the screening cut came from an EDL: source timecodes and the reel travel with the clip
        assert (row["Source in"], row["Source out"]) == (clip["source_in"], clip["source_out"]) != ("", "")
        assert row["Reel"] == clip["reel"] and row["Reel"].startswith("ZZ100_5")
    prohibited = body[0]
    assert "ETHICS-MISLEADING" in prohibited["Rule codes"]
    assert "mistaken for real events" in prohibited["Reasons"] and prohibited["Remedy"]
    tail = [r for r in csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))) if not r["Group"].isdigit()]
    assert tail[0]["Group"] == "verdict" and tail[0]["Status"] == "Blocked"
    assert tail[0]["Reasons"].startswith("Example_Screening.01: blocked; 2 clip(s)")
    assert any(r["Group"] == "note" and "without a media reference" in r["Reasons"] for r in tail)
    needs = body[1]
    assert needs["Approval"] == "none held" and needs["Reasons"].startswith("approval: ")


def test_report_carries_denials_conditions_and_untagged_ai_evidence(shared_data: Path, tmp_path: Path) -> None:
    """What the terminal shows reaches the HTML and the CSV: the studio's denial reason, the approver's
    conditions and expiry, and for untagged AI media the file and what was found in it."""
    from datetime import timedelta

    from editorial_fixtures import approvals_setup, sign

    from clearance.approvals import ApprovalStatement, KeyRing
    from clearance.editorial.check import CheckOptions, check_file
    from clearance.editorial.report import to_csv, to_html
    from clearance.record import decision_digest

    prov = shared_data / "provenance"
    timeline = otio.schema.Timeline("hand-on", global_start_time=otio.opentime.RationalTime(86400, 24))
    track = otio.schema.Track("V1")
    rng = otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(24, 24))
    for name in ("denied_shot", "approved_shot", "approved_shot_b", "expired_shot"):
        track.append(otio.schema.Clip(name, source_range=rng))
    track.append(otio.schema.Clip("ai_plate", source_range=rng,
                                  media_reference=otio.schema.ExternalReference(target_url=str(prov / "ocsp.jpg"))))
    timeline.tracks.append(track)
    cut = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(cut))
    denied_rec, approved_rec, expired_rec = make_record("approval"), make_record("approval"), make_record("approval")
    for clip, record in (("denied_shot", denied_rec), ("approved_shot", approved_rec),
                         ("approved_shot_b", approved_rec), ("expired_shot", expired_rec)):
        path = write_record(tmp_path / "records", record)
        assert cli("tag", cut, "--clip", clip, "--record", path, "-o", cut).code == 0  # -o may be the input
    ring = KeyRing.open(tmp_path / "keyring")
    base = sign(ring, approved_rec, expires_in=timedelta(days=10))
    statement = ApprovalStatement(**{**base.statement.model_dump(), "conditions": "background only; not in marketing",
                                     "record_digest": decision_digest(approved_rec)})
    approval = ring.sign(statement)
    expired = sign(ring, expired_rec, expires_in=timedelta(hours=-2))
    policy, folder = approvals_setup(tmp_path, [approval, expired], ring)
    denial = "the studio denied this use by lee.legal: the sky reads as a real city"
    report = check_file(cut, CheckOptions(policy_paths=[str(policy)], approvals_dir=folder,
                                          denials={str(denied_rec.id): denial}))
    assert report.verdict == "blocked"

    rows = [r for r in csv.DictReader(io.StringIO(to_csv(report))) if r["Group"].isdigit()]
    by_clip = {r["Clip"]: r for r in rows}
    assert by_clip["denied_shot"]["Status"] == "Denied"
    assert by_clip["denied_shot"]["Reasons"].startswith(denial)
    assert by_clip["ai_plate"]["Status"] == "Untagged AI media"
    assert by_clip["ai_plate"]["Media file"] == str(prov / "ocsp.jpg")
    assert "ocsp.jpg" in by_clip["ai_plate"]["Evidence"] and "Firefly" in by_clip["ai_plate"]["Evidence"]
    approved = by_clip["approved_shot"]
    assert approved["Status"] == "Approved" and approved["Approval"] == approval.approval_id
    assert approved["Conditions"] == "background only; not in marketing"
    assert approved["Approver"] == "sam.approver" and approved["Approval expires"].endswith("UTC")
    assert by_clip["approved_shot_b"]["Group"] == approved["Group"] and by_clip["approved_shot_b"]["Conditions"] == ""
    lapsed = by_clip["expired_shot"]
    assert lapsed["Status"] == "Needs approval" and lapsed["Approval"] == f"{expired.approval_id} (Approval expired)"
    assert lapsed["Approver"] == "sam.approver" and "expired" in lapsed["Reasons"]

    html = to_html(report)
    for text in (denial.replace("'", "&#x27;"), "background only; not in marketing", "sam.approver",
                 escape(str(prov / "ocsp.jpg")), "Untagged AI media"):
        assert text in html, text
    # strictest first: the denial before the untagged media, approvals after every blocked group
    assert html.index("denied_shot") < html.index("ai_plate") < html.index("approved_shot<")


def test_notify_groups_are_folded(shared_data: Path, tmp_path: Path) -> None:
    html, _csv_path, _doc = _report(shared_data, tmp_path)
    text = html.read_text(encoding="utf-8")
    folded = text[text.index("<details"):text.index("</details>")]
    assert "Disclosed (notify)" in folded and "mood board frames" in folded
    assert text.count("<section") == 2  # the prohibited and the approval groups stay open


def test_a_10000_clip_report_stays_under_1_mb(tmp_path: Path) -> None:
    """10,000 reported clips (50 records of 200 clips, 60% needing approval, the rest approved or notify, long
    clip names, reels): the HTML stays under 1 MB, and every clip is in it and in the CSV."""
    import uuid
    from datetime import datetime, timezone

    from clearance.editorial.check import LABELS, ApprovalInfo, CheckReport, ClipResult, Summary, timecode
    from clearance.editorial.media import MediaSummary
    from clearance.editorial.report import to_csv, to_html

    clips = []
    statuses = ["approval_required"] * 6 + ["approved"] * 2 + ["notify"] * 2
    for r in range(50):
        record_id = str(uuid.UUID(int=r + 1))
        status = statuses[r % 10]
        reasons = ["approval: no approval is held for record " + record_id,
                   "Generated material will be in the final deliverable, even if only as incidental background."]
        approval = ApprovalInfo(status="valid", approval_id=f"APP-{r:06d}", approver="sam.approver",
                                conditions="background only") if status == "approved" else None
        for k in range(200):
            n = r * 200 + k
            start, length = 86400 * 24 + n * 48, 24 + n % 40
            source = 1001 + n % 7
            clips.append(ClipResult(
                index=n + 1, name=f"sq{n // 100:03d}_sh{n % 100:03d}0_comp_v{k + 1:03d}.mov", track="V1",
                track_kind="Video", timecode_in=timecode(otio.opentime.RationalTime(start, 24), 24),
                timecode_out=timecode(otio.opentime.RationalTime(start + length, 24), 24), frame_in=start,
                frame_out=start + length, source_in=timecode(otio.opentime.RationalTime(86400 + source, 24), 24),
                source_out=timecode(otio.opentime.RationalTime(86400 + source + length, 24), 24),
                reel=f"A{n % 90:03d}C{n % 13:03d}", record_id=record_id, status=status,
                description=f"generated set extension {r}, sky and far buildings", target=f"shot:sq{r:03d}",
                status_label=LABELS[status], blocking=status == "approval_required",
                rules=["FINAL-DELIVERABLE"] if status != "notify" else [],
                reasons=reasons if status == "approval_required" else reasons[1:],
                remedy="Replace it with artist-made or licensed material before delivery, or request approval.",
                approval=approval, media="file", media_path=f"/mnt/show/sq{n // 100:03d}/comp_v{k + 1:03d}.mov",
            ))
    report = CheckReport(
        timeline="big cut", source="big.otio", generated_at=datetime.now(timezone.utc), rate=24.0,
        verdict="blocked", clips=clips, summary=Summary(clips=10000, tagged=10000, reported=10000, blocked=6000),
        media=MediaSummary(),
    )
    html, table = to_html(report), to_csv(report)
    assert len(html.encode()) < 1_000_000, len(html.encode())
    assert len(table.encode()) < 1_300_000, len(table.encode())  # every timecode, one row per clip
    assert html.count("\n<p>") == 10000 and len(table.splitlines()) == 10002  # header, clips, verdict
    assert html.count("background only") == 10  # once per approved group, not per clip


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
            cells = page.locator(".c > p")
            assert cells.count() == 6 * len(doc["clips"]) == 18
            assert page.locator(".verdict").inner_text() == "Blocked"
            assert page.locator("section.g.blocking").count() == 2
            names = [cells.nth(6 * i + 3).text_content() for i in range(3)]
            assert sorted(names) == sorted(c["name"] for c in doc["clips"])
            assert '<script>alert("x")</script> & co' in names  # shown as text, not run
            assert not page.locator("details.g .c > p").first.is_visible()  # notify folded
            badges = page.locator(".g .badge").all_inner_texts()
            assert badges == ["Prohibited", "Needs approval", "Disclosed (notify)"]
            first = next(c for c in doc["clips"] if c["status"] == "prohibited")
            assert cells.nth(0).inner_text() == first["timecode_in"]
            assert cells.nth(4).inner_text() == first["source_in"]
            # the grid lines the cells up in columns: every row's timecode sits under the header's
            left = page.locator(".c > b").first.bounding_box()["x"]
            assert all(abs(cells.nth(6 * i).bounding_box()["x"] - left) < 1 for i in range(2))
            page.screenshot(path=str(SCREENSHOTS / "editorial-report.png"), full_page=True)
            page.emulate_media(media="print")
            page.screenshot(path=str(SCREENSHOTS / "editorial-report-print.png"), full_page=True)
            pdf = page.pdf(format="A4", landscape=True)
            assert pdf.startswith(b"%PDF") and len(pdf) > 5000
        finally:
            browser.close()
