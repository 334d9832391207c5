"""The Resolve scripts against the faithful fake DaVinciResolveScript (tests/fakes/DaVinciResolveScript):
tag markers and clip colours, the check through Resolve's OTIO export and through the track walk,
the HTML report, the UI Manager window and the script files as Resolve runs them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nuke_fixtures
import pytest
from nuke_fixtures import ROOT, final_record, ideation_record

FAKE_RESOLVE = ROOT / "tests" / "fakes" / "DaVinciResolveScript"
RESOLVE_PLUGIN = ROOT / "plugins" / "resolve"
for _path in (FAKE_RESOLVE, RESOLVE_PLUGIN):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import DaVinciResolveScript as dvr  # noqa: E402 - the fake

from clearance.hosts import resolve as host  # noqa: E402
from clearance.record import UseRecord, dump_record  # noqa: E402
from clearance.tags import decode_tag  # noqa: E402

approver = nuke_fixtures.approver


@pytest.fixture
def app() -> Any:
    resolve = dvr.fake_reset()
    timeline = dvr.Timeline("Reel 1")
    resolve.GetProjectManager().GetCurrentProject().timeline = timeline
    timeline.fake_add_clip("sh010_plate", 48, path="/media/sh010.mov")
    timeline.fake_add_clip("sh020_sky", 24, path="/media/sh020.mov", gap_before=12)
    timeline.fake_add_clip("sh030_plate", 36, path="/media/sh030.mov")
    return resolve


def _timeline(app: Any) -> Any:
    return app.GetProjectManager().GetCurrentProject().GetCurrentTimeline()


def _record_file(tmp_path: Path, record: UseRecord) -> Path:
    path = tmp_path / "use.yaml"
    path.write_text(dump_record(record.model_copy(update={"targets": []})), encoding="utf-8")
    return path


def _tag(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: UseRecord, clips: str = "current") -> int:
    from clearance_resolve import tag

    monkeypatch.setenv("CLEARANCE_RECORD", str(_record_file(tmp_path, record)))
    monkeypatch.setenv("CLEARANCE_CLIPS", clips)
    return tag.main(app, None)


def test_tag_current_clip_puts_the_tag_in_a_marker_and_colours_the_clip(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    timeline = _timeline(app)
    timeline.playhead = 86400 + 48 + 12 + 5  # over sh020_sky
    assert _tag(app, tmp_path, monkeypatch, final_record()) == 0
    item = timeline.GetItemListInTrack("video", 1)[1]
    ((_frame, marker),) = item.GetMarkers().items()
    assert marker["name"].startswith("CLEARANCE ") and marker["color"] == "Yellow"
    assert marker["note"].startswith("CLEARANCE {")
    tag = decode_tag(marker["customData"], "test")
    assert tag.record is not None and [t.key() for t in tag.record.targets] == ["clip:sh020_sky"]
    assert tag.target_ref == "clip:sh020_sky" and tag.status == "approval_required"
    assert item.GetClipColor() == "Orange"
    assert "clip 'sh020_sky' on V1: tagged; Needs approval" in capsys.readouterr().out
    others = [i for i in timeline.GetItemListInTrack("video", 1) if i is not item]
    assert all(not i.GetMarkers() for i in others)


def test_tag_clips_by_colour_declares_one_use_for_all_of_them(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _timeline(app).GetItemListInTrack("video", 1)
    items[0].SetClipColor("Lime")
    items[2].SetClipColor("Lime")
    assert _tag(app, tmp_path, monkeypatch, ideation_record(), clips="colour:Lime") == 0
    tags = [host.read_item_tag(i) for i in items]
    assert tags[1] is None
    assert tags[0] is not None and tags[2] is not None and tags[0].record_id == tags[2].record_id
    assert {t.key() for t in tags[0].record.targets} == {"clip:sh010_plate", "clip:sh030_plate"}
    assert items[0].GetClipColor() == "Green" and items[2].GetClipColor() == "Green"


def test_tag_without_a_clip_or_a_record_says_what_to_do(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from clearance_resolve import tag

    _timeline(app).playhead = 0
    monkeypatch.setenv("CLEARANCE_RECORD", str(_record_file(tmp_path, final_record())))
    assert tag.main(app, None) == 2
    assert "no clip matches 'current'" in capsys.readouterr().out
    monkeypatch.delenv("CLEARANCE_RECORD")
    monkeypatch.setenv("CLEARANCE_CLIPS", "all")
    assert tag.main(app, None) == 2
    assert "choose a preset or a record file" in capsys.readouterr().out


def test_retagging_replaces_the_marker_instead_of_stacking(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tag(app, tmp_path, monkeypatch, final_record())
    _tag(app, tmp_path, monkeypatch, ideation_record())
    item = _timeline(app).GetCurrentVideoItem()
    assert len(item.GetMarkers()) == 1
    assert host.read_item_tag(item).record.use.stage == "ideation"


def test_marker_lands_beside_an_editors_own_marker(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    item = _timeline(app).GetCurrentVideoItem()
    assert item.AddMarker(0, "Blue", "note from the editor", "keep", 1, "")
    _tag(app, tmp_path, monkeypatch, final_record())
    markers = item.GetMarkers()
    assert markers[0.0]["name"] == "note from the editor" and markers[1.0]["name"].startswith("CLEARANCE")


# ------------------------------------------------------------------------------------------ check


def test_check_exports_otio_and_blocks_until_approved(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, approver: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from clearance_resolve import check

    _tag(app, tmp_path, monkeypatch, final_record())
    capsys.readouterr()
    assert check.main(app, None) == 1
    out = capsys.readouterr().out
    assert "BLOCKED" in out and "through Resolve's OTIO export" in out
    assert "BLOCKING sh010_plate" in out
    report = Path(out.strip().splitlines()[-1].removeprefix("Report: "))
    assert report.is_file() and report.suffix == ".html"
    assert "sh010_plate" in report.read_text(encoding="utf-8")

    record = host.read_item_tag(_timeline(app).GetCurrentVideoItem()).record
    approver.approve(record)
    assert check.main(app, None) == 0
    assert "DELIVERABLE" in capsys.readouterr().out


def test_resolve_export_drops_custom_data_but_the_note_carries_the_tag(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clearance.editorial.tagging import read_raw_tag
    from clearance.editorial.timeline_io import read_timeline

    _tag(app, tmp_path, monkeypatch, final_record())
    out = tmp_path / "export.otio"
    assert _timeline(app).Export(str(out), app.EXPORT_OTIO, app.EXPORT_NONE)
    assert "customData" not in out.read_text(encoding="utf-8")
    clip = next(iter(read_timeline(out).find_clips()))
    raw = read_raw_tag(clip)
    assert raw is not None and raw.source == "marker"
    assert decode_tag(raw.text, "test").record_id == host.read_item_tag(_timeline(app).GetCurrentVideoItem()).record_id


def test_check_falls_back_to_walking_the_tracks(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from clearance_resolve import check

    _tag(app, tmp_path, monkeypatch, final_record())
    _timeline(app).export_works = False
    capsys.readouterr()
    assert check.main(app, None) == 1
    out = capsys.readouterr().out
    assert "a walk of the tracks" in out and "BLOCKING sh010_plate" in out
    assert "3 clip(s), 1 tagged, 1 blocking" in out


def test_walk_and_export_agree(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clearance_resolve import check

    _tag(app, tmp_path, monkeypatch, final_record())
    timeline = _timeline(app)
    exported, _, _ = check.run_check(app, timeline, out_dir=tmp_path)
    timeline.export_works = False
    walked, _, _ = check.run_check(app, timeline, out_dir=tmp_path)

    def essentials(report: Any) -> list[tuple[str, str, str | None, str]]:
        return [(c.name, c.status, c.record_id, c.timecode_in) for c in report.clips]

    assert essentials(exported) == essentials(walked)
    assert exported.verdict == walked.verdict == "blocked"


def test_check_flags_untagged_ai_media(app: Any, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from clearance_resolve import check

    _timeline(app).fake_add_clip(
        "gen_matte", 10, path=str(shared_data / "provenance" / "comfy_sdxl_simple_example.png")
    )
    assert check.main(app, None) == 1
    assert "BLOCKING gen_matte" in capsys.readouterr().out


def test_refresh_recolours_after_approval_and_untag_clears(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, approver: Any
) -> None:
    from clearance_resolve import tag

    _tag(app, tmp_path, monkeypatch, final_record())
    timeline = _timeline(app)
    item = timeline.GetCurrentVideoItem()
    approver.approve(host.read_item_tag(item).record)
    lines = tag.refresh(timeline)
    assert lines == ["clip 'sh010_plate' on V1: Approved: " + lines[0].split("Approved: ", 1)[1]]
    ((_, marker),) = item.GetMarkers().items()
    assert marker["color"] == "Cyan" and item.GetClipColor() == "Teal"
    assert decode_tag(marker["customData"], "t").status == "approved"
    assert tag.untag([item]) == ["clip 'sh010_plate' on V1: tag removed"]
    assert item.GetMarkers() == {} and item.GetClipColor() == ""


def test_broken_marker_is_reported_not_ignored(app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from clearance_resolve import check, tag

    item = _timeline(app).GetCurrentVideoItem()
    item.AddMarker(0, "Red", "CLEARANCE", "CLEARANCE {not json", 1, "")
    lines = tag.refresh(_timeline(app))
    assert "sh010_plate" in lines[0] and "not valid JSON" in lines[0]
    assert item.GetClipColor() == "Purple"
    assert check.main(app, None) == 1
    assert "BLOCKING sh010_plate" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ UI and scripts


def test_tag_window_through_the_ui_manager(app: Any, tmp_path: Path) -> None:
    from clearance_resolve import tag

    ui = dvr.fake_enable_ui(app)
    path = _record_file(tmp_path, final_record())
    dvr.fake_clicks.extend([f"RecordPath.Text={path}", "Scope.CurrentText=all", "Tag", "Close"])
    assert tag.main(app, dvr) == 0
    window = ui.windows[-1]
    assert window.props["WindowTitle"] == "Clearance: tag GenAI use"
    output = window.Find("Output").PlainText
    assert output.count(": tagged;") == 3
    assert all(host.read_item_tag(i) is not None for _, i in host.video_items(_timeline(app)))


def test_check_window_shows_the_summary(app: Any) -> None:
    from clearance_resolve import check

    ui = dvr.fake_enable_ui(app)
    assert check.main(app, dvr) == 0
    text = ui.windows[-1].Find("Text").PlainText
    assert "Clearance check of 'Reel 1': DELIVERABLE" in text and "Report: " in text


def _run_script(name: str, app: Any) -> dict[str, Any]:
    source = (RESOLVE_PLUGIN / name).read_text(encoding="utf-8")
    scope: dict[str, Any] = {"resolve": app, "bmd": dvr, "__name__": "__main__"}
    exec(compile(source, name, "exec"), scope)
    return scope


def test_script_files_run_as_resolve_runs_them(app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    scope = _run_script("Clearance Check.py", app)
    assert scope["_clearance_exit"] == 0
    assert "Clearance check of 'Reel 1': DELIVERABLE" in capsys.readouterr().out


def test_script_without_a_timeline_prints_one_line(app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    app.GetProjectManager().GetCurrentProject().timeline = None
    scope = _run_script("Clearance Check.py", app)
    assert scope["_clearance_exit"] == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["Clearance: no timeline is open: open the timeline to check in the Edit page, then run again"]


def test_external_scripting_uses_scriptapp(app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from clearance_resolve import check

    assert check.main(None, None) == 0  # DaVinciResolveScript.scriptapp("Resolve")
    assert json.dumps("DELIVERABLE") and "DELIVERABLE" in capsys.readouterr().out


def test_tag_window_with_a_preset(app: Any) -> None:
    from clearance_resolve import tag

    from clearance.hosts.presets import preset_names, preset_record

    name = preset_names()[0]
    ui = dvr.fake_enable_ui(app)
    dvr.fake_clicks.extend([f"Preset.CurrentText={name}", "Description.Text=sky for the diner", "Tag", "Close"])
    assert tag.main(app, dvr) == 0
    item = _timeline(app).GetCurrentVideoItem()
    record = host.read_item_tag(item).record
    assert record.use == preset_record(name).use and record.description == "sky for the diner"
    assert "clip 'sh010_plate' on V1: tagged;" in ui.windows[-1].Find("Output").PlainText


def test_check_says_where_approvals_came_from(
    app: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from clearance_resolve import check

    assert check.main(app, None) == 0
    assert "approvals from this machine's cache (no CLEARANCE_SERVER set)" in capsys.readouterr().out
    monkeypatch.setenv("CLEARANCE_SERVER", "http://127.0.0.1:9")  # nothing listens on the discard port
    assert check.main(app, None) == 0
    out = capsys.readouterr().out
    assert "approvals from this machine's cache (pulling failed:" in out and "DELIVERABLE" in out


def _studio_and_free(app: Any, product: str, version: tuple[int, ...], external: bool = False) -> Any:
    """The same project and timeline in another edition/version of Resolve."""
    timeline = _timeline(app)
    other = dvr.fake_reset(product, version, external=external)
    other.GetProjectManager().GetCurrentProject().timeline = timeline
    return other


@pytest.mark.parametrize(
    ("product", "version", "window"),
    [
        ("DaVinci Resolve Studio", (19, 1, 3, 7), True),
        ("DaVinci Resolve", (19, 0, 2, 6), True),
        ("DaVinci Resolve", (19, 1, 0, 2), False),
        ("DaVinci Resolve", (21, 1, 0, 1), False),
    ],
)
def test_the_check_window_follows_the_edition_and_version(
    app: Any, capsys: pytest.CaptureFixture[str], product: str, version: tuple[int, ...], window: bool
) -> None:
    from clearance_resolve import check

    other = _studio_and_free(app, product, version)
    ui = dvr.fake_enable_ui(other)
    assert check.main(other, dvr) == 0
    out = capsys.readouterr().out
    assert bool(ui.windows) is window
    if not window:
        why = [line for line in out.splitlines() if "no script windows from 19.1" in line]
        assert len(why) == 1 and "DaVinci Resolve " + ".".join(str(v) for v in version[:3]) in why[0]
        assert "Report: " in out, "the results still reach the editor: console and HTML report"


def test_an_unreadable_version_is_treated_as_the_most_limited(app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from clearance_resolve import check

    other = _studio_and_free(app, "", (19, 1, 0, 2))
    other.GetProductName = None  # type: ignore[assignment, method-assign]  # an older build without the call
    dvr.fake_enable_ui(other)
    assert check.main(other, dvr) == 0
    out = capsys.readouterr().out
    assert "edition or version unreadable (GetProductName failed: TypeError)" in out


def test_external_scripting_on_the_free_edition_says_it_needs_studio(
    app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from clearance_resolve import check

    _studio_and_free(app, "DaVinci Resolve", (20, 2, 0, 12), external=True)
    assert check.main(None, None) == 2
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.startswith("Clearance: Resolve not reached:") and "external scripting needs Studio" in line


def test_app_get_resolve_is_the_console_fallback(app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from clearance_resolve import check

    class FusionApp:
        def GetResolve(self) -> Any:
            return app

    dvr.fake_external = True
    dvr_app = dvr._app
    dvr._app = dvr.Resolve("DaVinci Resolve", (20, 2, 0, 12))  # scriptapp would answer None
    try:
        assert check.main(None, None, FusionApp()) == 0
    finally:
        dvr._app = dvr_app
    assert "DELIVERABLE" in capsys.readouterr().out


def test_a_marker_resolve_refuses_to_delete_is_reported_not_retried(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tag(app, tmp_path, monkeypatch, final_record())
    item = _timeline(app).GetCurrentVideoItem()
    item.fake_refuse_delete = True
    capsys.readouterr()
    assert _tag(app, tmp_path, monkeypatch, ideation_record()) == 2
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert "refused to delete the CLEARANCE marker" in line and "sh010_plate" in line


def test_export_constants_are_distinct(app: Any) -> None:
    names = [n for n in vars(dvr.Resolve) if n.startswith("EXPORT_")]
    values = [getattr(dvr.Resolve, n) for n in names]
    assert len(set(values)) == len(values)
    assert not _timeline(app).Export("/tmp/x.aaf", app.EXPORT_AAF, app.EXPORT_NONE), "only OTIO is modelled"


def test_start_timecode_and_audio_tracks_export_and_walk_the_same(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolve's OTIO export starts each clip at its media's start timecode and carries audio tracks."""
    import opentimelineio as otio
    from clearance_resolve import check

    timeline = _timeline(app)
    timeline.fake_add_clip("sh040_plate", 24, path="/media/sh040.mov", start_tc="10:00:00:00", left_offset=5)
    timeline.fake_add_clip("dialogue", 60, path="/media/dialogue.wav", kind="audio", start_tc="01:00:00:00")
    timeline.playhead = timeline.GetItemListInTrack("video", 1)[-1].GetStart()
    _tag(app, tmp_path, monkeypatch, final_record())
    out = tmp_path / "export.otio"
    assert timeline.Export(str(out), app.EXPORT_OTIO, app.EXPORT_NONE)
    exported = otio.adapters.read_from_file(str(out))
    walked = host.timeline_from_items(timeline)
    for tl in (exported, walked):
        kinds = [t.kind for t in tl.tracks]
        assert kinds == [otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio]
        sh040 = next(c for c in tl.find_clips() if c.name == "sh040_plate")
        assert sh040.source_range.start_time.value == 10 * 3600 * 24 + 5
        assert all(sh040.source_range.contains(m.marked_range.start_time) for m in sh040.markers)
    exported_report, _, _ = check.run_check(app, timeline, out_dir=tmp_path)
    timeline.export_works = False
    walked_report, _, _ = check.run_check(app, timeline, out_dir=tmp_path)
    rows = [[(c.name, c.status, c.record_id) for c in r.clips] for r in (exported_report, walked_report)]
    assert rows[0] == rows[1]
    assert [(name, status) for name, status, _ in rows[0]] == [("sh040_plate", "approval_required")]


def test_the_refresh_shows_the_approvals_conditions_and_expiry(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, approver: Any
) -> None:
    from clearance_resolve import tag

    _tag(app, tmp_path, monkeypatch, final_record())
    item = _timeline(app).GetCurrentVideoItem()
    approver.approve(host.read_item_tag(item).record, conditions="night shots only")
    (line,) = tag.refresh(_timeline(app))
    assert line.startswith("clip 'sh010_plate'") and "Approved: approved by approver@studio.example" in line
    assert "conditions: night shots only" in line and "expires" in line
