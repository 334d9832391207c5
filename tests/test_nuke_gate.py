"""The Nuke render gate as a render node meets it: Nuke started with init.py only (no GUI, no menu.py),
a script built only with Nuke's own API calls, and every class that writes files.

Each case runs in its own Python process, as ``nuke -x`` / ``nuke -t`` would, with the fake ``nuke``
(tests/fakes/nuke) and the plugin folder on the path, and loads the plugin the way Nuke does: by executing
``init.py``. Nothing of the test's own process state leaks into the render node.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nuke_fixtures
import pytest
from nuke_fixtures import FAKE_NUKE, NUKE_PLUGIN, ROOT, final_record, ideation_record

approver = nuke_fixtures.approver
fake_nuke = nuke_fixtures.fake_nuke
gui_nuke = nuke_fixtures.gui_nuke

# A script made only with real Nuke API calls: a tagged Read, a Write, a DeepWrite, a WriteGeo, a Group
# holding a Write fed through the group's input, and a studio gizmo (WriteTank) wrapping a Write.
SCRIPT = """
import json, sys
import nuke
from clearance.record import UseRecord
from clearance.tags import Tag, encode_tag

out, record_json = sys.argv[1], sys.argv[2]
nuke.fake_startup()   # a render node: no GUI, the init.py of every NUKE_PATH folder, no menu.py

def write_tank(group):
    inp = nuke.nodes.Input()
    w = nuke.nodes.Write(file=out + "/tank.####.exr")
    w.setInput(0, inp)
nuke.fake_define_gizmo("WriteTank", write_tank)

read = nuke.nodes.Read(file="/plates/sky.####.exr")
if record_json and sys.argv[3] == "knob":  # the tag as a plain knob, as a saved script carries it
    record = UseRecord.model_validate_json(record_json)
    knob = nuke.String_Knob("clearance_tag", "tag")
    read.addKnob(knob)
    knob.setValue(encode_tag(Tag.for_record(record, target_ref="node:Read1")))
elif record_json:  # tagged through the plugin, as the GenAI tab does
    from clearance_nuke import knobs
    knobs.tag_node(read, UseRecord.model_validate_json(record_json))
grade = nuke.nodes.Grade()
grade.setInput(0, read)
writers = [
    nuke.nodes.Write(file=out + "/comp.####.exr"),
    nuke.nodes.DeepWrite(file=out + "/deep.####.exr"),
    nuke.nodes.WriteGeo(file=out + "/geo.abc"),
]
for w in writers:
    w.setInput(0, grade)
group = nuke.nodes.Group()
with group:
    inner_in = nuke.nodes.Input()
    inner = nuke.nodes.Write(file=out + "/group.####.exr")
    inner.setInput(0, inner_in)
group.setInput(0, grade)
tank = nuke.nodes.WriteTank()
tank.setInput(0, grade)
results = {}
for name in ["Write1", "DeepWrite1", "WriteGeo1", "Group1.Write2", "WriteTank1", "Group1"]:
    try:
        nuke.execute(name, 1, 1)
        results[name] = "rendered"
    except RuntimeError as exc:
        results[name] = "refused: " + str(exc)
print(json.dumps(results))
"""


def _farm(
    tmp_path: Path, record_json: str, *, env: dict[str, str] | None = None, break_core: bool = False, how: str = "knob"
) -> Any:
    out = tmp_path / "out"
    paths = [FAKE_NUKE, NUKE_PLUGIN, ROOT / "core"]
    code = SCRIPT
    if break_core:  # a render node whose Clearance install is broken: the core cannot be imported
        code = "import sys\nsys.modules['clearance.hosts.nuke'] = None\n" + code
    full_env = {
        **os.environ, **(env or {}),
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        "NUKE_PATH": str(NUKE_PLUGIN),
        "HOME": str(tmp_path / "home"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code, str(out), record_json, how],
        capture_output=True, text=True, env=full_env, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout, out


def _env(tmp_path: Path, approver: Any) -> dict[str, str]:
    return {"CLEARANCE_HOME": os.environ["CLEARANCE_HOME"], "CLEARANCE_POLICY": str(approver.policy_path)}


def test_every_writer_is_refused_on_a_render_node_until_the_approval_is_held(tmp_path: Path, approver: Any) -> None:
    record = final_record()
    env = _env(tmp_path, approver)
    results, _, out = _farm(tmp_path, record.model_dump_json(), env=env)
    assert set(results) == {"Write1", "DeepWrite1", "WriteGeo1", "Group1.Write2", "WriteTank1", "Group1"}
    for name, result in results.items():
        assert result.startswith("refused: Clearance: "), (name, result)
        assert "Read1: Needs approval" in result, (name, result)
    assert not out.exists() or not any(out.iterdir()), "nothing was written"
    approver.approve(record, targets=["node:Read1"])
    results, _, out = _farm(tmp_path, record.model_dump_json(), env=env)
    assert set(results.values()) == {"rendered"}, results
    assert sorted(p.name for p in out.iterdir()) == [
        "comp.0001.exr", "deep.0001.exr", "geo.abc", "group.0001.exr", "tank.0001.exr"]


def test_a_use_tagged_through_the_plugin_is_gated_the_same(tmp_path: Path, approver: Any) -> None:
    results, _, _out = _farm(tmp_path, final_record().model_dump_json(), env=_env(tmp_path, approver), how="plugin")
    assert all(r.startswith("refused: Clearance: ") and "Read1" in r for r in results.values()), results


def test_a_use_that_needs_no_approval_renders_everywhere(tmp_path: Path, approver: Any) -> None:
    results, _, _ = _farm(tmp_path, ideation_record().model_dump_json(), env=_env(tmp_path, approver))
    assert set(results.values()) == {"rendered"}, results


def test_a_broken_clearance_install_stops_every_render(tmp_path: Path, approver: Any) -> None:
    results, stdout, out = _farm(tmp_path, "", env=_env(tmp_path, approver), break_core=True)
    assert "every render on this node is stopped" in stdout
    for name, result in results.items():
        assert result.startswith("refused: Clearance not loaded"), (name, result)
        assert "hosts.nuke.fail_closed" in result
    assert not out.exists()


def test_policy_output_patterns_exempt_explicitly(tmp_path: Path, approver: Any) -> None:
    policy = json.loads(approver.policy_path.read_text(encoding="utf-8"))
    policy["hosts"] = {"nuke": {"exempt_outputs": ["*/deep.*", "*.abc"]}}
    approver.policy_path.write_text(json.dumps(policy), encoding="utf-8")
    results, _stdout, _ = _farm(tmp_path, final_record().model_dump_json(), env=_env(tmp_path, approver))
    assert results["DeepWrite1"] == "rendered" and results["WriteGeo1"] == "rendered"
    assert results["Write1"].startswith("refused") and results["WriteTank1"].startswith("refused")


def test_knob_changed_reentry_is_guarded_with_the_panel_open(fake_nuke: Any) -> None:
    """Nuke fires knobChanged for every setValue while the panel is open; applying a preset sets dozens."""
    from clearance_nuke import presets

    from clearance.hosts import nuke as host

    read = fake_nuke.nodes.Read(file="/plates/a.exr")
    from clearance_nuke import knobs

    knobs.add_tab(read)
    read.showControlPanel()
    calls: list[str] = []
    real = knobs.apply_preset

    def spy(node: Any, name: str, judge: Any = None) -> Any:
        calls.append(name)
        return real(node, name, judge)

    knobs.apply_preset = spy  # type: ignore[assignment]
    try:
        fake_nuke.fake_set_knob(read, host.PRESET_KNOB, presets.names()[0])
    finally:
        knobs.apply_preset = real  # type: ignore[assignment]
    assert calls == [presets.names()[0]], "the preset handler ran once, not again for the knobs it set"
    assert host.is_tagged(read)


def test_rejoining_branches_are_walked_once_by_full_name(fake_nuke: Any) -> None:
    """A new wrapper per call: a diamond-shaped graph 20 levels deep must not be walked 2**20 times."""
    from clearance.hosts import nuke as host

    top = fake_nuke.nodes.Read(file="/plates/a.exr")
    node = top
    for _ in range(20):
        left, right = fake_nuke.nodes.Grade(), fake_nuke.nodes.Blur()
        left.setInput(0, node)
        right.setInput(0, node)
        merge = fake_nuke.nodes.Merge2()
        merge.setInput(0, left)
        merge.setInput(1, right)
        node = merge
    write = fake_nuke.nodes.Write()
    write.setInput(0, node)
    names = [n.fullName() for n in host.upstream(write)]
    assert len(names) == len(set(names)) == 61 and "Read1" in names


def test_panel_widget_string_is_evaluated_in_nukes_namespace(gui_nuke: Any) -> None:
    """registerWidgetAsPanel's string is evaluated in __main__, where clearance_nuke was never imported."""
    from clearance_nuke import boot
    from nukescripts import panels

    assert "clearance_nuke" not in gui_nuke.main_namespace()
    panel = panels.PythonPanel(boot.PANEL_WIDGET, "Clearance", boot.PANEL_ID)
    knob = eval(panel.command, gui_nuke.main_namespace())
    assert knob.widget_class.__name__ == "ClearancePanel"
    bad = panels.PythonPanel("clearance_nuke.panel.ClearancePanel", "Clearance", "x")
    try:
        eval(bad.command, gui_nuke.main_namespace())
    except NameError:
        pass
    else:
        raise AssertionError("the fake must fail a dotted name __main__ never imported, as Nuke does")


def test_a_writer_made_without_the_gui_shows_its_gate_when_opened(fake_nuke: Any) -> None:
    from clearance_nuke import knobs

    read = fake_nuke.nodes.Read(file="/plates/a.exr")
    knobs.tag_node(read, final_record())
    write = fake_nuke.nodes.Write(file="/out/a.exr")
    write.setInput(0, read)
    write.showControlPanel()
    assert "Render blocked" in write["clearance_status"].value() and "Read1" in write["clearance_status"].value()
    fake_nuke.fake_set_knob(write, "clearance_exempt", True)
    assert "Not gated" in write["clearance_status"].value()


def test_untagged_ai_nodes_block_renders_and_can_be_selected_and_tagged(gui_nuke: Any, tmp_path: Path) -> None:
    import pytest
    from clearance_nuke import actions

    from clearance.hosts import nuke as host

    cat = gui_nuke.nodes.CopyCat()
    infer = gui_nuke.nodes.Inference()
    infer.setInput(0, cat)
    write = gui_nuke.nodes.Write(file=str(tmp_path / "a.exr"))
    write.setInput(0, infer)
    with pytest.raises(RuntimeError, match="untagged Inference node"):
        gui_nuke.execute(write, 1, 1)
    assert actions.select_untagged_ai_nodes() == ["CopyCat1", "Inference1"]
    assert cat.isSelected() and infer.isSelected() and not write.isSelected()
    assert actions.tag_untagged_ai_nodes() == 2
    assert host.is_tagged(cat) and host.is_tagged(infer)


def test_a_later_policy_layer_cannot_turn_the_gate_into_a_warning(tmp_path: Path) -> None:
    from clearance.errors import ClearanceError
    from clearance.policy import load_policy

    studio = tmp_path / "studio.yaml"
    studio.write_text("hosts:\n  render_gate: stop\n", encoding="utf-8")
    show = tmp_path / "show.yaml"
    show.write_text("hosts:\n  render_gate: warn\n  nuke:\n    fail_closed: false\n", encoding="utf-8")
    with pytest.raises(ClearanceError, match="render_gate") as refused:
        load_policy([studio, show])
    assert "show.yaml" in str(refused.value)


def test_record_ids_reach_files_rendered_inside_a_group_and_gizmos_are_left_alone(
    fake_nuke: Any, tmp_path: Path, approver: Any
) -> None:
    from clearance_nuke import knobs

    from clearance.hosts import nuke as host

    def tank(group: Any) -> None:
        inner = fake_nuke.nodes.Write(file=str(tmp_path / "tank.exr"))
        inner.setInput(0, fake_nuke.nodes.Input())

    fake_nuke.fake_define_gizmo("WriteTank", tank)
    read = fake_nuke.nodes.Read(file="/plates/a.exr")
    knobs.tag_node(read, ideation_record())
    group = fake_nuke.nodes.Group()
    with group:
        write = fake_nuke.nodes.Write(file=str(tmp_path / "group.exr"))
        write.setInput(0, fake_nuke.nodes.Input())
    group.setInput(0, read)
    gizmo = fake_nuke.nodes.WriteTank()
    gizmo.setInput(0, read)
    fake_nuke.execute("Group1.Write1", 1, 1)
    fake_nuke.execute("WriteTank1", 1, 1)
    meta = fake_nuke.toNode("Group1.Write1").input(0)
    assert meta.fullName() == "Group1.ClearanceMetadata_Write1", "made inside the group, beside the Write"
    assert b"clearance/record_ids" in (tmp_path / "group.exr").read_bytes()
    (inner,) = fake_nuke.allNodes("Write", gizmo)
    assert inner.input(0).Class() == "Input", "a gizmo's insides are not edited"
    assert not fake_nuke.allNodes("ModifyMetaData"), "nothing was made at the top level for the inner Writes"
    assert host.upstream_record_ids(inner) == [str(host.read_tag(read).record_id)]


def test_an_unreadable_policy_on_a_render_node_stops_the_render_in_one_line(tmp_path: Path, approver: Any) -> None:
    env = _env(tmp_path, approver)
    env["CLEARANCE_POLICY"] = str(tmp_path / "missing-policy.yaml")
    results, _, out = _farm(tmp_path, final_record().model_dump_json(), env=env)
    for name, result in results.items():
        assert result.startswith("refused: Clearance"), (name, result)
        assert "missing-policy.yaml" in result and "\n" not in result, (name, result)
    assert not out.exists()


def test_record_ids_travel_through_a_rendered_file_into_the_next_render(
    fake_nuke: Any, tmp_path: Path, approver: Any
) -> None:
    """A Read of an EXR Clearance rendered shows its record ids as exr/ metadata (as Nuke reads headers);
    the next render carries them on, so the provenance chain survives a precomp."""
    from clearance_nuke import knobs

    from clearance.hosts import nuke as host
    from clearance.provenance import scan_file

    read = fake_nuke.nodes.Read(file="/plates/a.exr")
    knobs.tag_node(read, ideation_record())
    record_id = str(host.read_tag(read).record_id)
    precomp = fake_nuke.nodes.Write(file=str(tmp_path / "precomp.####.exr"))
    precomp.setInput(0, read)
    fake_nuke.execute(precomp, 1, 1)
    again = fake_nuke.nodes.Read(file=str(tmp_path / "precomp.####.exr"))
    assert again.metadata("exr/clearance/record_ids") == record_id
    final = fake_nuke.nodes.Write(file=str(tmp_path / "final.exr"))
    final.setInput(0, again)
    fake_nuke.execute(final, 1, 1)
    assert scan_file(str(tmp_path / "final.exr")).record_ids == [record_id]


def test_a_use_cannot_be_laundered_through_an_exempt_render_read_back_in(
    fake_nuke: Any, tmp_path: Path, approver: Any
) -> None:
    """Render the unapproved use through a Write ticked 'not a deliverable', read the file back, render it as
    a deliverable: the record ids in the file bring the use's standing with them."""
    from clearance_nuke import knobs

    from clearance.hosts import nuke as host

    read = fake_nuke.nodes.Read(file="/plates/a.exr")
    knobs.tag_node(read, final_record())
    record = host.read_tag(read).record
    review = fake_nuke.nodes.Write(file=str(tmp_path / "review.####.exr"))
    review.setInput(0, read)
    review["clearance_exempt"].setValue(True)
    fake_nuke.execute(review, 1, 1)  # exempt: renders, and the file carries the record id
    again = fake_nuke.nodes.Read(file=str(tmp_path / "review.####.exr"))
    final = fake_nuke.nodes.Write(file=str(tmp_path / "final.exr"))
    final.setInput(0, again)
    with pytest.raises(RuntimeError, match=r"Read2: its file carries GenAI use .*Needs approval"):
        fake_nuke.execute(final, 1, 1)
    fake_nuke.delete(read)  # the tagged Read gone: this machine no longer holds the record at all
    fake_nuke.delete(review)
    with pytest.raises(RuntimeError, match=r"does not hold that record: run `clearance approvals pull"):
        fake_nuke.execute(final, 1, 1)
    assert not (tmp_path / "final.exr").exists()
    from clearance.outbox import Outbox

    with Outbox() as outbox:
        outbox.add(record)  # the record as this machine submitted it
    approver.approve(record)
    fake_nuke.execute(final, 1, 1)
    assert (tmp_path / "final.exr").is_file()
