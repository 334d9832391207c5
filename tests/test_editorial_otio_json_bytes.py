"""The check trusts its own reading of an .otio file only when the file passes the exact byte pass
(``clearance.documents.check_json_nesting``: nesting within the limit, no key written twice). For a file it
has parsed whole, the reader settles that with cheaper facts (clearance.editorial.otio_json, "what the
file's bytes must show"): they must never accept what the exact pass would not, and they must settle the
files OpenTimelineIO writes without the exact pass."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest
from editorial_fixtures import make_record
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance import documents
from clearance.documents import MAX_JSON_NESTING, DocumentError, check_json_nesting
from clearance.editorial import otio_json
from clearance.editorial.tagging import apply_tag
from clearance.tags import Tag

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange

# Keys and strings chosen to be hard on a count of  ":  pairs: quotes, backslashes, colons, slashes, u.
_TRICKY = ["a", "b", ":", '":', 'a"', "u", "/x", "\\", "\n", "a\t", "file:///x", "01:00:00:00", "é", "", "[{",
           '\\"', ":a", "/", "\\u", "OTIO"]
KEYS = st.one_of(st.sampled_from(_TRICKY), st.text(alphabet='ab:"\\/u\n{ ', max_size=4))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-999, 999), KEYS)


def _values(depth: int) -> Any:
    if depth == 0:
        return SCALARS
    inner = _values(depth - 1)
    return st.one_of(
        SCALARS,
        st.lists(inner, max_size=3),
        st.lists(st.tuples(KEYS, inner), max_size=4).map(lambda pairs: ("object", pairs)),
    )


def _string(text: str, rng: random.Random) -> str:
    out = ['"']
    for ch in text:
        roll = rng.random()
        if ch == '"':
            out.append('\\"' if roll < 0.8 else "\\u0022")
        elif ch == "\\":
            out.append("\\\\" if roll < 0.8 else "\\u005c")
        elif ch == "\n":
            out.append("\\n" if roll < 0.8 else "\\u000a")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "/" and roll < 0.3:
            out.append("\\/")
        elif roll < 0.05:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _render(value: Any, rng: random.Random) -> str:
    """JSON text that may write a key twice in one object, with whitespace around colons and commas."""
    def space() -> str:
        return rng.choice(["", "", "", " ", "\n  ", "\t", " \r\n"])

    if isinstance(value, tuple):
        members = [_string(k, rng) + space() + ":" + space() + _render(v, rng) for k, v in value[1]]
        return "{" + space() + ("," + space()).join(members) + space() + "}"
    if isinstance(value, list):
        return "[" + space() + ("," + space()).join(_render(v, rng) for v in value) + space() + "]"
    if isinstance(value, str):
        return _string(value, rng)
    return json.dumps(value)


def _parsed_keys(value: Any, names: set[str]) -> int:
    """Keys as Python's parser keeps them (the last of a key written twice), and every key's text."""
    if isinstance(value, dict):
        names.update(value)
        return len(value) + sum(_parsed_keys(v, names) for v in value.values())
    if isinstance(value, list):
        return sum(_parsed_keys(v, names) for v in value)
    return 0


@settings(max_examples=600, deadline=None)
@given(value=_values(4), seed=st.integers(0, 2**32 - 1))
def test_the_cheap_key_count_never_hides_a_key_written_twice(value: Any, seed: int) -> None:
    text = _render(value, random.Random(seed))
    raw = text.encode("utf-8")
    names: set[str] = set()
    parsed = _parsed_keys(json.loads(text), names)
    exact = check_json_nesting(raw, "doc.json", outline=True)
    assert exact is not None
    kept = otio_json._kept(raw)
    if exact.unicode_escapes:
        assert kept is None  # a \u escape is always seen
    if kept is None or any(otio_json._ESCAPE_IN_KEY.search(n) for n in names):
        return
    if otio_json._no_key_twice(kept, parsed):
        assert exact.keys == parsed, text


@pytest.mark.parametrize(("text", "settled", "twice"), [
    ('{"a": 1, "b": {"c": [1, "use:y"]}}', True, False),
    ('{"a": 1, "a": 2}', False, True),
    ('{"a" : 1, "b"\n:\t{"a": 1, "a": 2}}', False, True),  # whitespace before a colon, a key twice one down
    ('{"a": "{\\"k\\":1}", "b": "{\\"k\\":1}"}', True, False),  # JSON in a string: escaped quotes, colons
    ('{"a": "{\\"k\\":1}", "a": "{\\"k\\":1}"}', False, True),
    ('{"url": "file:///mnt/a.mov", "tc": "01:00:00:00"}', True, False),  # strings starting with : or /
    ('{"url": "file:///mnt/a.mov", "url": "01:00:00:00"}', False, True),
    ('{"a": "x:y", "b": 1}', False, False),  # a colon after letters only: more pairs than keys, not settled
])
def test_the_cheap_key_count_on_examples(text: str, settled: bool, twice: bool) -> None:
    raw = text.encode("utf-8")
    names: set[str] = set()
    parsed = _parsed_keys(json.loads(text), names)
    kept = otio_json._kept(raw)
    assert kept is not None
    assert otio_json._no_key_twice(kept, parsed) is settled
    exact = check_json_nesting(raw, "doc.json", outline=True)
    assert exact is not None and (exact.keys != parsed) is twice


def _cut(path: Path, clips: int = 6, metadata: Any = None, nested: int = 0) -> Path:
    timeline = otio.schema.Timeline("t", global_start_time=RT(86400, 24))
    track = otio.schema.Track("V1")
    record = make_record("approval")
    for i in range(clips):
        clip = otio.schema.Clip(f"c{i}", media_reference=otio.schema.ExternalReference(
            target_url=f"file:///mnt/absent/{i}.mov", available_range=TR(RT(0, 24), RT(100, 24))),
            source_range=TR(RT(i, 24), RT(10, 24)), metadata={"cmx_3600": {"reel": "A001"}})
        if i % 2:
            apply_tag(clip, Tag.for_record(record, target_ref=f"shot:c{i}", status="approval_required"))
        if metadata is not None and i == clips - 1:
            clip.metadata["deep"] = metadata
        track.append(clip)
    inner: Any = track
    for _ in range(nested):  # the track inside stacks inside tracks...
        stack = otio.schema.Stack("s")
        stack.append(inner)
        outer = otio.schema.Track("n")
        outer.append(stack)
        inner = outer
    timeline.tracks.append(inner)
    otio.adapters.write_to_file(timeline, str(path))
    return path


def test_a_cut_as_opentimelineio_writes_it_is_settled_without_the_exact_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _cut(tmp_path / "cut.otio")
    import clearance.editorial.timeline_io  # noqa: F401 - imported first, so that it keeps the real pass

    def exact(*_a: Any, **_k: Any) -> None:
        raise AssertionError("the exact pass ran")

    monkeypatch.setattr(documents, "check_json_nesting", exact)
    assert isinstance(otio_json.load(path), otio_json.JsonTimeline)


def _refused_by_exact_pass(path: Path) -> bool:
    try:
        check_json_nesting(path.read_bytes(), str(path))
    except DocumentError:
        return True
    return False


def _deep(levels: int) -> Any:
    value: Any = 1
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.mark.parametrize("levels", [3, 480, 490, 495, 498, 499, 500, 501, 502, 503, 506, 520, 700])
def test_deep_metadata_is_refused_exactly_when_the_exact_pass_refuses_it(tmp_path: Path, levels: int) -> None:
    path = _cut(tmp_path / "cut.otio", metadata=_deep(levels))
    refused = _refused_by_exact_pass(path)
    assert (otio_json.load(path) is None) is refused
    assert refused is (levels > MAX_JSON_NESTING - 12)  # the sweep crosses the limit


@pytest.mark.parametrize("nested", [1, 60, 120, 124, 125, 126, 127, 130])
def test_deep_compositions_are_refused_exactly_when_the_exact_pass_refuses_them(tmp_path: Path, nested: int) -> None:
    path = _cut(tmp_path / "cut.otio", clips=2, nested=nested)
    refused = _refused_by_exact_pass(path)
    assert (otio_json.load(path) is None) is refused
    assert refused is (nested >= 125)


def test_a_cut_longer_than_the_read_window_with_text_beyond_ascii_reads_as_opentimelineio_reads_it(
        tmp_path: Path) -> None:
    """The reader decodes a megabyte at a time: characters of two to four bytes fall across the windows."""
    from test_editorial_otio_json import assert_same_answer

    timeline = otio.schema.Timeline("t", global_start_time=RT(86400, 24))
    track = otio.schema.Track("V1")
    record = make_record("approval")
    for i in range(2500):
        clip = otio.schema.Clip(f"plan é{i} 日本 🎬" + "ü" * (i % 7), media_reference=otio.schema.ExternalReference(
            target_url=f"/mnt/absent/é{i}.mov", available_range=TR(RT(0, 24), RT(100, 24))),
            source_range=TR(RT(i % 5, 24), RT(10, 24)), metadata={"note": "ß" * (i % 11)})
        if i % 50 == 0:
            apply_tag(clip, Tag.for_record(record, target_ref=f"shot:é{i}", status="approval_required"))
        track.append(clip)
    timeline.tracks.append(track)
    path = tmp_path / "long.otio"
    otio.adapters.write_to_file(timeline, str(path))
    assert path.stat().st_size > 3 * otio_json._WINDOW
    assert assert_same_answer(path)


_PLACES = {
    # where plain data can sit in a file the reader reads, from shallow to the deepest it accepts
    "timeline metadata": lambda doc: doc["metadata"],
    "clip metadata": lambda doc: doc["tracks"]["children"][0]["children"][1]["metadata"],
    "marker metadata": lambda doc: doc["tracks"]["children"][0]["children"][1]["markers"][0]["metadata"],
    "reference metadata": lambda doc: doc["tracks"]["children"][0]["children"][1]["media_references"][
        "DEFAULT_MEDIA"]["metadata"],
    "a marker's time": lambda doc: doc["tracks"]["children"][0]["children"][1]["markers"][0]["marked_range"][
        "start_time"],
}


@pytest.mark.parametrize("place", sorted(_PLACES))
def test_deep_plain_data_anywhere_is_refused_exactly_when_the_exact_pass_refuses_it(tmp_path: Path,
                                                                                    place: str) -> None:
    """The depth bound must hold where plain data sits deepest (an unknown field of a marker's time)."""
    base = json.loads(_cut(tmp_path / "base.otio").read_text("utf-8"))
    outcomes = set()
    for levels in range(494, 510):
        doc = json.loads(json.dumps(base))
        _PLACES[place](doc)["deep"] = _deep(levels)
        path = tmp_path / f"{levels}.otio"
        path.write_text(json.dumps(doc), "utf-8")  # one line: no indentation 500 levels deep
        try:
            check_json_nesting(path.read_bytes(), str(path))
            refused = False
        except DocumentError:
            refused = True
        assert (otio_json.load(path) is None) is refused, (place, levels)
        outcomes.add(refused)
    assert outcomes == {False, True}  # the sweep crosses the limit


@pytest.fixture(scope="module")
def long_cut(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return _cut(tmp_path_factory.mktemp("long") / "good.otio", clips=800).read_bytes()


@pytest.mark.parametrize("bad", [
    b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\x80" * 70_000, b"\x80" * ((1 << 20) + 10), b"\xe2\x82",
])
def test_a_file_not_in_utf8_anywhere_is_left_to_opentimelineio_with_its_error(
        tmp_path: Path, long_cut: bytes, bad: bytes) -> None:
    """The reader decodes every window strictly before it answers: bytes that are not UTF-8 deep in a long
    cut (a lone byte, a surrogate, a run of continuation bytes longer than a window's margin, a cut-off
    character) leave the file to OpenTimelineIO's path, which refuses it with its own one-line error."""
    from clearance.editorial.check import read_for_check
    from clearance.editorial.timeline_io import read_timeline
    from clearance.errors import ClearanceError

    good = long_cut
    at = good.rindex(b"\"name\": \"c799\"") + len(b"\"name\": \"c7")  # in the last window
    path = tmp_path / "cut.otio"
    path.write_bytes(good[:at] + bad + good[at:])
    assert len(good) > 2 * otio_json._WINDOW
    assert otio_json.load(path) is None
    with pytest.raises(ClearanceError) as slow:
        read_timeline(path)
    with pytest.raises(ClearanceError) as fast:
        read_for_check(path)
    assert str(fast.value) == str(slow.value)
    assert "UTF-8" in str(fast.value)


def test_a_file_with_more_brackets_than_the_limit_is_refused_before_it_is_parsed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the cheap facts cannot bound the brackets, the exact pass runs first, as it always did: a file
    over the bracket limit is refused before the reader builds anything from it."""
    path = _cut(tmp_path / "cut.otio", metadata=_deep(40))
    assert otio_json.load(path) is not None

    def parse(*_a: Any) -> None:
        raise AssertionError("parsed before the exact pass refused it")

    monkeypatch.setattr(documents, "MAX_JSON_BRACKETS", 16)  # the deep metadata keeps more after peeling
    monkeypatch.setattr(otio_json, "_read", parse)
    monkeypatch.setattr(otio_json, "read_otio_json", parse)
    assert otio_json.load(path) is None
