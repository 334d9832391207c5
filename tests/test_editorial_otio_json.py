"""The check reads .otio files without OpenTimelineIO's objects (clearance.editorial.otio_json): its report must
equal, field for field, the report on the same file read by OpenTimelineIO. Generated timelines cover nested
stacks and tracks with trims, gaps, transitions, markers, tags in metadata, markers and marker names, every
media reference kind, several references per clip, effects, odd and mixed rates, older schema versions and
files not written the way OpenTimelineIO writes them; hand-made files cover what the reader must refuse."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import opentimelineio as otio
import pytest
from editorial_fixtures import make_record, shared_timelines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.editorial import otio_json
from clearance.editorial.check import CheckOptions, check_timeline, read_for_check
from clearance.editorial.tagging import apply_tag
from clearance.editorial.timeline_io import read_timeline
from clearance.policy import default_policy
from clearance.tags import Tag

SAMPLES = Path(__file__).parent / "data" / "provenance"
RATES = [24.0, 25.0, 30.0, 23.976023976023978, 29.97002997002997, 47.952047952047955, 60.0, 12.5]
RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
POLICY = default_policy()
RECORDS = [make_record("approval"), make_record("prohibited"), make_record("notify")]


def _report(timeline: Any, path: Path) -> dict[str, Any]:
    options = CheckOptions(policy=POLICY, source=str(path), base_dir=path.resolve().parent)
    report = check_timeline(timeline, options).model_dump(mode="json", by_alias=True)
    report.pop("generated_at")
    return report


def assert_same_answer(path: Path) -> bool:
    """The fast reader's report equals OpenTimelineIO's; True when the fast reader read the file itself."""
    fast = otio_json.load(path)
    slow = read_timeline(path)
    assert _report(read_for_check(path), path) == _report(slow, path)
    return fast is not None


def _media(draw: Any, folder: Path, rate: float) -> Any:
    kind = draw(st.sampled_from(["offline", "ai", "plain", "relative", "remote", "missing", "generator", "none"]))
    available = None if draw(st.booleans()) and kind != "none" else TR(RT(draw(st.integers(0, 2000)), rate),
                                                                       RT(draw(st.integers(1, 500)), rate))
    if kind == "offline":
        return otio.schema.ExternalReference(target_url=f"/mnt/absent/{draw(st.integers(0, 50))}.mov",
                                             available_range=available)
    if kind in ("ai", "plain", "relative"):
        name = {"ai": "comfy_sdxl_simple_example.png", "plain": "no_manifest.jpg", "relative": "C.jpg"}[kind]
        url = name if kind == "relative" else str(folder / name)
        return otio.schema.ExternalReference(target_url=url, available_range=available,
                                             metadata={"fcp_xml": {"timecode": {"reel": {"name": "A001"}}}})
    if kind == "remote":
        return otio.schema.ExternalReference(target_url="https://example.com/a.mov", available_range=available)
    if kind == "missing":
        return otio.schema.MissingReference(available_range=available)
    if kind == "generator":
        return otio.schema.GeneratorReference(generator_kind="SMPTEBars", available_range=available,
                                              parameters={"n": 1})
    return None


@st.composite
def clips(draw: Any, folder: Path, rate: float) -> Any:
    clip_rate = rate if draw(st.integers(0, 4)) else draw(st.sampled_from(RATES))
    source = TR(RT(draw(st.integers(0, 90000)), clip_rate), RT(draw(st.integers(0, 300)), clip_rate))
    media = _media(draw, folder, clip_rate)
    if media is None or (getattr(media, "available_range", None) is None and draw(st.booleans())):
        pass
    clip = otio.schema.Clip(name=draw(st.sampled_from(["sh010", "sh020 v2", "", "plate é", "sh010"])),
                            media_reference=media, source_range=source)
    if draw(st.booleans()) and media is not None:  # a second reference, maybe the active one
        clip.set_media_references({"DEFAULT_MEDIA": media, "proxy": otio.schema.ExternalReference(
            target_url=str(folder / "comfy_sdxl_simple_example.png"))},
            draw(st.sampled_from(["DEFAULT_MEDIA", "proxy"])))
    tag = draw(st.sampled_from(["none", "none", "metadata", "marker", "name"]))
    if tag != "none":
        record = draw(st.sampled_from(RECORDS))
        apply_tag(clip, Tag.for_record(record, target_ref=f"shot:{clip.name or 'x'}",
                                       status="approval_required"))
        if tag == "marker":
            del clip.metadata["clearance"]
        elif tag == "name":
            del clip.metadata["clearance"]
            clip.markers[0].comment = ""
            del clip.markers[0].metadata["fcp_xml"]
    if draw(st.booleans()):
        clip.markers.append(otio.schema.Marker(name="note", marked_range=TR(RT(1, rate), RT(0, rate))))
    reel = draw(st.sampled_from([None, "cmx_3600", "Resolve_OTIO", "tape"]))
    if reel == "cmx_3600":
        clip.metadata["cmx_3600"] = {"reel": "R1"}
    elif reel == "Resolve_OTIO":
        clip.metadata["Resolve_OTIO"] = {"Reel Name": "B002"}
    elif reel == "tape":
        clip.metadata["tape"] = "T9"
        clip.metadata["cmx_3600"] = {"reel": "R0"}
    if draw(st.integers(0, 5)) == 0:
        clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=2.0))
    if draw(st.integers(0, 6)) == 0:
        clip.enabled = False
    return clip


@st.composite
def compositions(draw: Any, folder: Path, rate: float, depth: int = 0) -> Any:
    track = otio.schema.Track(name=draw(st.sampled_from(["", "V1", "A1", "comp"])),
                              kind=draw(st.sampled_from(["Video", "Audio"])))
    for _ in range(draw(st.integers(0, 6))):
        what = draw(st.sampled_from(["clip", "clip", "clip", "gap", "transition", "nested"]))
        if what == "clip":
            track.append(draw(clips(folder, rate)))
        elif what == "gap":
            track.append(otio.schema.Gap(source_range=TR(RT(0, rate), RT(draw(st.integers(0, 50)), rate))))
        elif what == "transition":
            track.append(otio.schema.Transition(in_offset=RT(draw(st.integers(0, 12)), rate),
                                                out_offset=RT(draw(st.integers(0, 12)), rate)))
        elif depth < 2:
            inner = draw(compositions(folder, rate, depth + 1))
            if draw(st.booleans()):
                stack = otio.schema.Stack(name="nested")
                stack.append(inner)
                inner = stack
            if draw(st.booleans()):
                inner.source_range = TR(RT(draw(st.integers(0, 20)), rate), RT(draw(st.integers(0, 60)), rate))
            track.append(inner)
    return track


@st.composite
def timelines(draw: Any, folder: Path) -> Any:
    rate = draw(st.sampled_from(RATES))
    start = draw(st.sampled_from([None, RT(86400, rate), RT(3600 * 24, 24), RT(10, rate)]))
    timeline = otio.schema.Timeline("cut", global_start_time=start)
    for _ in range(draw(st.integers(1, 3))):
        timeline.tracks.append(draw(compositions(folder, rate)))
    if draw(st.integers(0, 4)) == 0:
        timeline.tracks.source_range = TR(RT(5, rate), RT(200, rate))
    return timeline


def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="clearance-otio-json-"))
    for name in ("comfy_sdxl_simple_example.png", "no_manifest.jpg", "C.jpg"):
        shutil.copyfile(SAMPLES / name, folder / name)
    return folder


FOLDER = _folder()


def _reshaped(data: Any, rng: random.Random) -> Any:
    """The same document with every object's keys in another order (not the way OpenTimelineIO writes it),
    the schema name kept first."""
    if isinstance(data, dict):
        items = [(k, v) for k, v in data.items() if k != "OTIO_SCHEMA"]
        rng.shuffle(items)
        if "OTIO_SCHEMA" in data:
            items.insert(0, ("OTIO_SCHEMA", data["OTIO_SCHEMA"]))
        return {k: _reshaped(v, rng) for k, v in items}
    if isinstance(data, list):
        return [_reshaped(v, rng) for v in data]
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_generated_timelines_give_the_same_report(data: Any) -> None:
    timeline = data.draw(timelines(FOLDER))
    path = FOLDER / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    fast = assert_same_answer(path)
    # Written by OpenTimelineIO, nothing in these timelines is outside what the reader models, except a clip
    # of unknown length (no source range and no available range), which none of them has.
    assert fast, "the fast reader gave up on a file OpenTimelineIO wrote"
    # The same document with keys in another order and no indentation.
    rng = random.Random(data.draw(st.integers(0, 1000)))
    path.write_text(json.dumps(_reshaped(json.loads(path.read_text("utf-8")), rng), ensure_ascii=False), "utf-8")
    assert assert_same_answer(path)
    # Older schema versions (Clip.1, as OpenTimelineIO 0.14 wrote them), upgraded on reading.
    older = otio.adapters.write_to_string(timeline, "otio_json", target_schema_versions={"Clip": 1})
    path.write_text(older, "utf-8")
    assert assert_same_answer(path)


def test_vendored_timelines_give_the_same_report() -> None:
    """OpenTimelineIO's own sample files and the other real .otio files in tests/data."""
    files = [p for p in shared_timelines() if p.suffix == ".otio"]
    read_here = [p.name for p in files if assert_same_answer(p)]
    assert len(read_here) >= len(files) - 2, read_here  # older schema names (Sequence.1) go to OpenTimelineIO


def _bench_like(path: Path) -> dict[str, Any]:
    timeline = otio.schema.Timeline("t", global_start_time=RT(86400, 24))
    track = otio.schema.Track("V1")
    for i in range(3):
        clip = otio.schema.Clip(f"c{i}", media_reference=otio.schema.ExternalReference(
            target_url=f"/mnt/absent/{i}.mov", available_range=TR(RT(0, 24), RT(100, 24))),
            source_range=TR(RT(i, 24), RT(10, 24)))
        if i == 1:
            apply_tag(clip, Tag.for_record(RECORDS[0], target_ref="shot:c1", status="approval_required"))
        track.append(clip)
    timeline.tracks.append(track)
    otio.adapters.write_to_file(timeline, str(path))
    return json.loads(path.read_text("utf-8"))  # type: ignore[no-any-return]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def test_a_plain_file_is_read_without_opentimelineio(tmp_path: Path) -> None:
    path = tmp_path / "cut.otio"
    _bench_like(path)
    assert isinstance(read_for_check(path), otio_json.JsonTimeline)
    assert assert_same_answer(path)


@pytest.mark.parametrize("change", [
    "duplicate key", "duplicate metadata key", "otio object in metadata", "unicode escape", "nan",
    "unknown schema", "newer schema", "image sequence", "reference id", "int where a string is read",
    "big integer", "trailing text", "null metadata", "clip without length", "media reference keyed OTIO_SCHEMA",
])
def test_what_the_reader_does_not_model_goes_to_opentimelineio(tmp_path: Path, change: str) -> None:
    path = tmp_path / "cut.otio"
    doc = _bench_like(path)
    text = json.dumps(doc, indent=4)
    clip_at = text.index('"OTIO_SCHEMA": "Clip.2"')
    if change == "duplicate key":
        # Python's parser keeps the last of two keys, OpenTimelineIO's the first: the media differs.
        text = text.replace('"target_url": "/mnt/absent/1.mov"',
                            '"target_url": "/mnt/absent/1.mov", "target_url": "' + str(SAMPLES / "C.jpg") + '"')
    elif change == "duplicate metadata key":
        text = text[:clip_at] + '"metadata": {"cmx_3600": {"reel": "A"}, "cmx_3600": {"reel": "B"}}, ' + \
            text[clip_at:].replace('"metadata": {},', "", 1)
    elif change == "otio object in metadata":
        text = text.replace('"metadata": {}', '"metadata": {"x": {"OTIO_SCHEMA": "RationalTime.1", "rate": 24.0, '
                                              '"value": 1.0}}', 1)
    elif change == "unicode escape":
        text = text.replace('"name": "c0"', '"name": "c\\u0030"')
    elif change == "nan":
        text = text.replace('"rate": 24.0', '"rate": NaN', 1)
    elif change == "unknown schema":
        text = text.replace('"OTIO_SCHEMA": "Clip.2"', '"OTIO_SCHEMA": "Clapper.1"', 1)
    elif change == "newer schema":
        text = text.replace('"OTIO_SCHEMA": "Clip.2"', '"OTIO_SCHEMA": "Clip.3"', 1)
    elif change == "image sequence":
        text = text.replace('"OTIO_SCHEMA": "ExternalReference.1"', '"OTIO_SCHEMA": "ImageSequenceReference.1"', 1)
    elif change == "reference id":
        text = text.replace('"OTIO_SCHEMA": "Clip.2"', '"OTIO_SCHEMA": "Clip.2", "OTIO_REF_ID": "r1"', 1)
    elif change == "int where a string is read":
        text = text.replace('"name": "c0"', '"name": 5')
    elif change == "big integer":
        text = text.replace('"metadata": {}', '"metadata": {"n": 99999999999999999999}', 1)
    elif change == "trailing text":
        text += "\n{}"
    elif change == "null metadata":
        text = text.replace('"metadata": {}', '"metadata": null', 1)
    elif change == "media reference keyed OTIO_SCHEMA":  # OpenTimelineIO reads such a mapping as an object
        clip = doc["tracks"]["children"][0]["children"][0]
        clip["media_references"] = {"OTIO_SCHEMA": clip["media_references"]["DEFAULT_MEDIA"]}
        clip["active_media_reference_key"] = "OTIO_SCHEMA"
        text = json.dumps(doc, indent=4)
    elif change == "clip without length":
        doc["tracks"]["children"][0]["children"][0]["source_range"] = None
        doc["tracks"]["children"][0]["children"][0]["media_references"]["DEFAULT_MEDIA"]["available_range"] = None
        text = json.dumps(doc)
    _write(path, text)
    assert otio_json.load(path) is None
    try:
        slow = _report(read_timeline(path), path)
    except Exception as exc:  # OpenTimelineIO refuses the file: so does the check, with the same error
        with pytest.raises(type(exc)):
            _report(read_for_check(path), path)
        return
    assert _report(read_for_check(path), path) == slow


@pytest.mark.parametrize("change", [
    "integer rate", "keys in another order", "unknown clip field", "unknown reference field", "time with a fourth key",
    "range without duration", "marker range with integers", "source past 24 hours", "source at another rate",
    "marker with a null colour", "marker with an unknown field", "marker without its colour",
])
def test_clips_and_ranges_off_the_short_path_give_opentimelineio_answer(tmp_path: Path, change: str) -> None:
    """The reader's short path for clips and ranges written as OpenTimelineIO writes them hands anything else
    to the general path: the report is still OpenTimelineIO's (or the file goes to OpenTimelineIO)."""
    path = tmp_path / "cut.otio"
    doc = _bench_like(path)
    track = doc["tracks"]["children"][0]["children"]
    clip, reference = track[1], track[1]["media_references"]["DEFAULT_MEDIA"]  # the tagged one: reported
    if change == "integer rate":
        clip["source_range"]["duration"]["rate"] = 24
    elif change == "keys in another order":
        track[1] = {k: clip[k] for k in reversed(list(clip))}
        track[2]["source_range"] = {k: track[2]["source_range"][k] for k in ("start_time", "duration", "OTIO_SCHEMA")}
    elif change == "unknown clip field":
        clip["colour"] = clip.pop("color")  # still ten fields, one of them not Clip's
    elif change == "unknown reference field":
        reference["image_bounds"] = reference.pop("available_image_bounds")
    elif change == "time with a fourth key":
        clip["source_range"]["start_time"]["note"] = "x"
    elif change == "range without duration":
        reference["available_range"]["length"] = reference["available_range"].pop("duration")
    elif change == "marker range with integers":
        marked = clip["markers"][0]["marked_range"]
        marked["start_time"]["value"] = 0
        marked["duration"]["value"] = 0
    elif change == "marker with a null colour":
        clip["markers"][0]["color"] = None
    elif change == "marker with an unknown field":
        clip["markers"][0]["colour"] = clip["markers"][0].pop("color")
    elif change == "marker without its colour":  # OpenTimelineIO's default, GREEN
        del clip["markers"][0]["color"]
    elif change == "source past 24 hours":
        clip["source_range"]["start_time"]["value"] = 86400.0 * 24 - 4
    elif change == "source at another rate":
        clip["source_range"]["duration"]["rate"] = 25.0
    _write(path, json.dumps(doc, indent=4))
    try:
        slow = _report(read_timeline(path), path)
    except Exception as exc:
        with pytest.raises(type(exc)):
            _report(read_for_check(path), path)
        return
    assert _report(read_for_check(path), path) == slow
    if change in ("integer rate", "keys in another order", "unknown clip field", "marker range with integers",
                  "source past 24 hours", "source at another rate", "marker with a null colour",
                  "marker with an unknown field", "marker without its colour"):
        fast = otio_json.load(path)
        assert fast is not None  # read here, by the general path
        # The markers as OpenTimelineIO reads them (the report shows only what a tag needs of them).
        ours = [(m.name, m.color, m.comment, m.metadata) for track in fast.tracks for c in track for m in c.markers]
        theirs = [(m.name, str(m.color), m.comment, _plain(m.metadata))
                  for c in read_timeline(path).find_clips() for m in c.markers]
        assert ours == theirs


def _plain(value: Any) -> Any:
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    return value


def test_other_releases_hooks_and_media_linkers_go_to_opentimelineio(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cut.otio"
    _bench_like(path)
    assert otio_json.load(path) is not None
    monkeypatch.setattr(otio, "__version__", "0.19.0")  # a release whose reader was not modelled
    assert otio_json.load(path) is None
    monkeypatch.undo()
    monkeypatch.setenv("OTIO_DEFAULT_MEDIA_LINKER", "studio_linker")
    assert otio_json.load(path) is None
    monkeypatch.delenv("OTIO_DEFAULT_MEDIA_LINKER")
    real = otio.plugins.ActiveManifest()

    class WithReadHook:
        hooks: ClassVar[dict[str, list[str]]] = {"post_adapter_read": ["relink"]}

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(otio.plugins, "ActiveManifest", lambda *a, **k: WithReadHook())
    assert otio_json.load(path) is None


NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.from_regex(r"-?(0|[1-9][0-9]{0,20})\.[0-9]{1,25}", fullmatch=True),
    st.from_regex(r"-?[1-9][0-9]{0,5}(\.[0-9]{1,6})?[eE][-+]?[0-9]{1,3}", fullmatch=True),
)


@settings(max_examples=400, deadline=None)
@given(text=NUMBERS)
def test_numbers_are_read_as_opentimelineio_reads_them(text: str) -> None:
    """OpenTimelineIO's parser (RapidJSON, not in full precision) can round long numbers differently from
    Python: the reader's value must be OpenTimelineIO's, or the reader must give up."""
    document = '{"OTIO_SCHEMA": "RationalTime.1", "rate": ' + text + ', "value": 1.0}'
    try:
        theirs = otio.adapters.read_from_string(document, "otio_json").rate
    except Exception:
        theirs = None
    try:
        ours = otio_json._rapidjson_double(text)
    except otio_json.Unsupported:
        return
    assert theirs is not None and ours == theirs, (text, ours, theirs)
    assert str(ours) == str(theirs)  # the sign of zero too
