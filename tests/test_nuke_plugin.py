"""The Nuke plugin against the faithful fake ``nuke`` (tests/fakes/nuke): tab, tags, status, callbacks,
render gate, EXR metadata, panel model, menu and start-up scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nuke_fixtures
import pytest
from nuke_fixtures import FAKE_NUKE, NUKE_PLUGIN, ROOT, final_record, ideation_record

from clearance.hosts import nuke as host
from clearance.tags import STATUS_RGB, decode_tag

fake_nuke = nuke_fixtures.fake_nuke
gui_nuke = nuke_fixtures.gui_nuke
approver = nuke_fixtures.approver


def _knobs() -> Any:
    from clearance_nuke import knobs

    return knobs


def _colour(status: str) -> int:
    r, g, b = (round(c * 255) for c in STATUS_RGB[status])
    return (r << 24) | (g << 16) | (b << 8) | 0xFF


def test_tab_holds_hidden_tag_answers_and_status(fake_nuke: Any) -> None:
    read = fake_nuke.nodes.Read(file="/plates/sky.####.exr")
    result = _knobs().tag_node(read, final_record())
    assert result.status == "approval_required"
    assert read["clearance_tab"].label() == "GenAI"
    assert not read["clearance_tag"].visible(), "the tag knob must be hidden"
    tag = decode_tag(read["clearance_tag"].value(), "test")
    assert tag.record is not None and tag.record.tool is not None and tag.record.tool.name == "Firefly"
    assert read["clearance_tool_name"].value() == "Firefly"
    assert read["clearance_use_stage"].value() == "final"
    assert "Needs approval" in read["clearance_status"].value()
    assert "FINAL-DELIVERABLE" in read["clearance_status"].value()
    assert read["tile_color"].value() == _colour("approval_required")
    assert {t.key() for t in tag.record.targets} == {"node:Read1", "file:sky.####.exr"}
    # Read nodes have no exemption box; every writing node gets one, unticked (gated), however it was made
    assert read.knob("clearance_exempt") is None
    write = fake_nuke.nodes.Write()
    assert write["clearance_exempt"].value() is False


def test_new_tab_menus_start_on_the_cautious_answer(fake_nuke: Any) -> None:
    node = fake_nuke.nodes.Inference()
    _knobs().add_tab(node)
    assert node["clearance_tool_environment"].value() == "unknown"
    assert node["clearance_inputs_personal_data"].value() == "unsure"
    assert node["clearance_use_stage"].value() == "final"
    assert not host.is_tagged(node), "adding the tab alone does not declare a use"


def test_editing_an_answer_retags_and_rejudges(fake_nuke: Any) -> None:
    node = fake_nuke.nodes.CopyCat()
    _knobs().tag_node(node, final_record())
    first = decode_tag(node["clearance_tag"].value(), "test")
    fake_nuke.fake_set_knob(node, "clearance_use_in_final_deliverable", "no")
    fake_nuke.fake_set_knob(node, "clearance_use_stage", "ideation")
    fake_nuke.fake_set_knob(node, "clearance_use_creative_element", "none")
    fake_nuke.fake_set_knob(node, "clearance_use_prominence", "none")
    second = decode_tag(node["clearance_tag"].value(), "test")
    assert second.record_id == first.record_id, "the same use keeps its record id"
    assert second.digest != first.digest
    assert second.record is not None and second.record.use.stage == "ideation"
    assert "Disclosed" in node["clearance_status"].value()
    assert node["tile_color"].value() == _colour("notify")


def test_approval_turns_the_node_approved_and_an_edit_voids_it(fake_nuke: Any, approver: Any) -> None:
    read = fake_nuke.nodes.Read(file="/plates/sky.exr")
    _knobs().tag_node(read, final_record())
    record = host.read_tag(read).record
    approver.approve(record)
    result = _knobs().refresh(read)
    assert result.status == "approved", result.reason
    assert read["tile_color"].value() == _colour("approved")
    fake_nuke.fake_set_knob(read, "clearance_tool_environment", "consumer")
    assert _knobs().standing(read).status in ("approval_required", "prohibited")
    assert "edited after approval" in _knobs().standing(read).reason or _knobs().standing(read).status == "prohibited"


def test_broken_tag_shows_invalid(fake_nuke: Any) -> None:
    node = fake_nuke.nodes.Read(file="/plates/a.exr")
    _knobs().tag_node(node, final_record())
    node["clearance_tag"].setValue('{"schema": "clearance.tag/1", "record_id": "oops"')
    result = _knobs().refresh(node)
    assert result.status == "invalid"
    assert "Read1" in result.reason and "re-tag" in result.reason
    assert node["tile_color"].value() == _colour("invalid")


def test_remove_tag_restores_the_node(fake_nuke: Any) -> None:
    node = fake_nuke.nodes.Read(file="/plates/a.exr")
    _knobs().tag_node(node, final_record())
    node["clearance_untag"].execute()
    assert not any(name.startswith("clearance_") for name in node.knobs())
    assert node["tile_color"].value() == 0
    assert host.tagged_nodes() == []


def test_nodes_inside_groups_are_found(fake_nuke: Any) -> None:
    group = fake_nuke.nodes.Group(name="Sky")
    with group:
        inner = fake_nuke.nodes.Read(file="/plates/inner.exr")
    _knobs().tag_node(inner, final_record())
    write = fake_nuke.nodes.Write(file="/tmp/never.exr")
    write.setInput(0, group)
    assert [n.fullName() for n in host.tagged_nodes()] == ["Sky.Read1"]
    assert host.upstream_record_ids(write) == [str(host.read_tag(inner).record_id)]


# ------------------------------------------------------------------------------- render gate + metadata


def _comp(fake_nuke: Any, tmp_path: Path, record: Any) -> tuple[Any, Any]:
    read = fake_nuke.nodes.Read(file=str(tmp_path / "plate.exr"))
    grade = fake_nuke.nodes.Grade()
    grade.setInput(0, read)
    write = fake_nuke.nodes.Write(file=str(tmp_path / "out" / "comp.####.exr"))
    write.setInput(0, grade)
    _knobs().tag_node(read, record)
    _knobs().add_tab(write)
    return read, write


def test_render_is_refused_without_approval_and_says_why_on_the_node(fake_nuke: Any, tmp_path: Path) -> None:
    _read, write = _comp(fake_nuke, tmp_path, final_record())
    with pytest.raises(RuntimeError) as refused:
        fake_nuke.execute(write, 1001, 1001)
    message = str(refused.value)
    assert "Write1 may not render" in message and "Read1" in message and "never requested" in message
    assert "Request approval" in message and "not a deliverable" in message, "the refusal says what to do"
    assert "\n" not in message
    assert not (tmp_path / "out" / "comp.1001.exr").exists()
    assert "Render blocked" in write["clearance_status"].value()
    assert write["tile_color"].value() == _colour("approval_required")


def test_a_write_ticked_not_a_deliverable_renders(fake_nuke: Any, tmp_path: Path) -> None:
    _read, write = _comp(fake_nuke, tmp_path, final_record())
    write["clearance_exempt"].setValue(True)
    fake_nuke.execute(write, 1001, 1001)
    assert (tmp_path / "out" / "comp.1001.exr").is_file()
    assert any("rendering without the gate" in line and "not a deliverable" in line for line in fake_nuke.terminal)


def test_render_gate_warn_renders_and_says_why(fake_nuke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("hosts:\n  render_gate: warn\n", encoding="utf-8")
    monkeypatch.setenv("CLEARANCE_POLICY", str(policy))
    fake_nuke.GUI = True
    _read, write = _comp(fake_nuke, tmp_path, final_record())
    fake_nuke.execute(write, 1, 1)
    assert (tmp_path / "out" / "comp.0001.exr").is_file()
    assert any("Rendering anyway" in m for m in fake_nuke.messages)


def test_approved_deliverable_renders_with_record_ids_in_the_exr_header(
    fake_nuke: Any, tmp_path: Path, approver: Any
) -> None:
    read, write = _comp(fake_nuke, tmp_path, final_record())
    record = host.read_tag(read).record
    approver.approve(record)
    fake_nuke.execute(write, 1001, 1002)
    meta = write.input(0)
    assert meta.Class() == "ModifyMetaData" and meta.name() == "ClearanceMetadata_Write1"
    assert meta.input(0).Class() == "Grade", "the metadata node is inserted between the Write and its input"
    assert write["metadata"].value() == "default metadata and exr/*"
    rendered = tmp_path / "out" / "comp.1001.exr"
    assert rendered.is_file()
    assert b"clearance/record_ids\0string\0" in rendered.read_bytes()
    from clearance.provenance import scan_file

    scanned = scan_file(str(rendered))
    assert scanned.error is None, scanned.error
    assert scanned.record_ids == [str(record.id)]


def test_metadata_sync_is_idempotent_and_follows_tags(fake_nuke: Any, tmp_path: Path) -> None:
    _read, write = _comp(fake_nuke, tmp_path, ideation_record())
    other = fake_nuke.nodes.Read(file=str(tmp_path / "b.exr"))
    merge = write.input(0)
    merge_node = fake_nuke.nodes.Merge2()
    merge_node.setInput(0, merge)
    merge_node.setInput(1, other)
    write.setInput(0, merge_node)
    first = host.sync_write_metadata(write)
    again = host.sync_write_metadata(write)
    assert first == again and len(first) == 1
    assert len(fake_nuke.allNodes("ModifyMetaData")) == 1
    _knobs().tag_node(other, final_record())
    both = host.sync_write_metadata(write)
    assert len(both) == 2 and both == sorted(both)
    assert host.metadata_node_for(write)["metadata"].toScript() == host.metadata_script(both)


# ------------------------------------------------------------------------------- callbacks


def test_read_file_change_scans_and_logs_in_terminal_mode(fake_nuke: Any, shared_data: Path) -> None:
    read = fake_nuke.nodes.Read()
    fake_nuke.fake_set_knob(read, "file", str(shared_data / "provenance" / "comfy_sdxl_simple_example.png"))
    assert any("looks ai_generated" in line for line in fake_nuke.terminal), fake_nuke.terminal
    assert not host.is_tagged(read), "terminal mode only reports"
    assert fake_nuke.questions == []


def test_read_file_change_proposes_a_tag_in_the_gui(fake_nuke: Any, shared_data: Path) -> None:
    fake_nuke.GUI = True
    fake_nuke.ask_answers.append(True)
    read = fake_nuke.nodes.Read()
    fake_nuke.fake_set_knob(read, "file", str(shared_data / "provenance" / "comfy_sdxl_simple_example.png"))
    assert fake_nuke.questions and "Tag it as a GenAI use" in fake_nuke.questions[0]
    tag = host.read_tag(read)
    assert tag is not None and tag.record is not None
    assert "Flagged by the Clearance scan" in tag.record.description


def test_camera_file_is_not_flagged(fake_nuke: Any, shared_data: Path) -> None:
    fake_nuke.GUI = True
    read = fake_nuke.nodes.Read()
    fake_nuke.fake_set_knob(read, "file", str(shared_data / "provenance" / "no_manifest.jpg"))
    assert fake_nuke.questions == [] and not host.is_tagged(read)


def test_script_save_queues_disclosures_once(fake_nuke: Any, tmp_path: Path) -> None:
    from clearance.outbox import Outbox

    a = fake_nuke.nodes.Read(file="/plates/a.exr")
    b = fake_nuke.nodes.Read(file="/plates/b.exr")
    _knobs().tag_node(a, final_record())
    _knobs().tag_node(b, ideation_record())
    fake_nuke.fake_save_script(tmp_path / "shot.nk")
    fake_nuke.fake_save_script(tmp_path / "shot.nk")
    with Outbox() as outbox:
        queued = {e.record_id for e in outbox.entries()}
    assert queued == {str(host.read_tag(a).record_id), str(host.read_tag(b).record_id)}
    assert any("2 disclosure(s) queued" in line for line in fake_nuke.terminal)


def test_save_never_raises_on_a_broken_tag(fake_nuke: Any, tmp_path: Path) -> None:
    node = fake_nuke.nodes.Read(file="/plates/a.exr")
    _knobs().tag_node(node, final_record())
    node["clearance_tag"].setValue("not json")
    fake_nuke.fake_save_script(tmp_path / "shot.nk")
    assert (tmp_path / "shot.nk").is_file()
    assert any("not valid JSON" in line for line in fake_nuke.terminal)


def test_preset_menu_applies_a_preset(fake_nuke: Any) -> None:
    from clearance_nuke import presets

    names = presets.names()
    assert names, "the core ships record presets"
    node = fake_nuke.nodes.Read(file="/plates/a.exr")
    _knobs().add_tab(node)
    assert node["clearance_preset"].values()[1:] == names
    fake_nuke.fake_set_knob(node, "clearance_preset", names[0])
    tag = host.read_tag(node)
    expected = presets.record(names[0])
    assert tag is not None and tag.record is not None
    assert tag.record.use == expected.use and tag.record.tools == expected.tools


# ------------------------------------------------------------------------------- panel, menu, selection


def test_panel_model_lists_tagged_nodes_and_selects(gui_nuke: Any, approver: Any) -> None:
    from clearance_nuke.panel_model import PanelModel

    a = gui_nuke.nodes.Read(file="/plates/a.exr")
    a.setXYpos(100, 200)
    b = gui_nuke.nodes.Read(file="/plates/b.exr")
    gui_nuke.nodes.Blur()
    _knobs().tag_node(a, final_record())
    _knobs().tag_node(b, ideation_record())
    model = PanelModel()
    rows = model.reload()
    assert [(r.handle, r.status) for r in rows] == [("Read1", "approval_required"), ("Read2", "notify")]
    assert model.cells(rows[0])[2] == "Needs approval"
    assert [r.handle for r in model.blocking()] == ["Read1"]
    model.select(["Read1"])
    assert a.isSelected() and not b.isSelected()
    assert gui_nuke.zoom_calls[-1] == (1.0, (140.0, 209.0))
    approver.approve(host.read_tag(a).record)
    assert [r.status for r in model.reload()] == ["approved", "notify"]


def test_selector_is_registered_for_pyblish_actions(gui_nuke: Any) -> None:
    from clearance.items import select_in_host

    node = gui_nuke.nodes.Read(file="/plates/a.exr")
    assert select_in_host("nuke", ["Read1"]) is True
    assert node.isSelected()


def test_menu_and_panel_are_registered_in_the_gui(gui_nuke: Any) -> None:
    from nukescripts import panels

    top = gui_nuke.menu("Nuke").findItem("Clearance")
    assert top is not None
    names = [i.name() for i in top.items()]
    for wanted in ("Add GenAI tab to selected", "Check script", "Submit all tagged", "Refresh approvals", "Show panel"):
        assert wanted in names
    assert "clearance.panel" in panels._panels
    assert gui_nuke.menu("Pane").findItem("Clearance") is not None
    # a Write made by the artist gets the GenAI tab with the exemption box
    write = gui_nuke.createNode("Write")
    assert write.knob("clearance_exempt") is not None


def test_tag_selected_from_the_menu(gui_nuke: Any) -> None:
    a = gui_nuke.nodes.Read(file="/plates/a.exr")
    a.setSelected(True)
    gui_nuke.menu("Nuke").findItem("Clearance/Add GenAI tab to selected").invoke()
    assert host.is_tagged(a)
    assert any("Tagged 1 node" in m for m in gui_nuke.messages)


def test_check_script_lists_blocking_nodes(gui_nuke: Any) -> None:
    from clearance_nuke import actions

    a = gui_nuke.nodes.Read(file="/plates/a.exr")
    _knobs().tag_node(a, final_record())
    problems = actions.check_script()
    assert len(problems) == 1 and problems[0].startswith("Read1: Needs approval")


# ------------------------------------------------------------------------------- start-up scripts


def _run_nuke_script(script: str, pythonpath: list[Path], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in pythonpath), "CLEARANCE_HOME": str(tmp_path)}
    code = (
        "import runpy, sys\n"
        f"runpy.run_path({str(NUKE_PLUGIN / script)!r})\n"
        "import nuke\n"
        "changed = sorted(k for k, v in nuke.knobChangeds.items() if v)\n"
        "print('callbacks', changed, len(nuke.beforeRenders.get('*', [])))\n"
        "print('menus', sorted(nuke._menus))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


def test_init_py_registers_callbacks_without_ui(tmp_path: Path) -> None:
    done = _run_nuke_script("init.py", [FAKE_NUKE, NUKE_PLUGIN, ROOT / "core"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "callbacks ['*'] 1" in done.stdout
    assert "menus []" in done.stdout, "init.py must not build any UI (farm, nuke -t)"


def test_init_py_in_the_gui_only_warns_when_the_core_is_missing(tmp_path: Path) -> None:
    env_python = [FAKE_NUKE, NUKE_PLUGIN]
    code = (
        "import sys, nuke\n"
        "nuke.GUI = True\n"
        "sys.modules['clearance'] = None  # the core is not installed for this Nuke\n"
        f"exec(open({str(NUKE_PLUGIN / 'init.py')!r}).read())\n"
        "w = nuke.nodes.Write(file=sys.argv[1])\n"
        "nuke.execute(w, 1, 1)\n"
        "print('rendered')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in env_python), "CLEARANCE_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out.exr")], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[-1] == "rendered"
    assert (
        lines[0].startswith("Clearance: not loaded (ImportError: the Clearance core")
        and "clearance install nuke" in lines[0]
    )


def test_menu_py_builds_the_menu(tmp_path: Path) -> None:
    done = _run_nuke_script("menu.py", [FAKE_NUKE, NUKE_PLUGIN, ROOT / "core"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "'Nuke'" in done.stdout and "'Pane'" in done.stdout


def test_submit_and_refresh_work_offline(gui_nuke: Any) -> None:
    from clearance_nuke.panel_model import PanelModel

    from clearance.outbox import Outbox

    node = gui_nuke.nodes.Read(file="/plates/a.exr")
    _knobs().tag_node(node, final_record())
    model = PanelModel()
    assert model.submit(["Read1"]) == 1
    assert gui_nuke.messages[-1].startswith("1 record(s) submitted: 1 queued")
    with Outbox() as outbox:
        assert [e.record_id for e in outbox.entries()] == [str(host.read_tag(node).record_id)]
    assert model.refresh_approvals() == 1
    assert any("could not pull approvals" in line and "CLEARANCE_SERVER" in line for line in gui_nuke.terminal)
    assert [r.status for r in model.rows()] == ["approval_required"]


def test_read_of_a_long_sequence_scans_three_frames(
    fake_nuke: Any, tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from clearance import provenance

    for frame in range(1001, 1051):
        shutil.copy(shared_data / "provenance" / "no_manifest.jpg", tmp_path / f"plate.{frame:04d}.jpg")
    seen: list[list[str]] = []
    real = provenance.scan_paths

    def spy(paths: list[str], *args: Any, **kwargs: Any) -> Any:
        seen.append(list(paths))
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(provenance, "scan_paths", spy)
    read = fake_nuke.nodes.Read()
    fake_nuke.fake_set_knob(read, "file", str(tmp_path / "plate.####.jpg"))
    assert [Path(p).name for p in seen[0]] == ["plate.1001.jpg", "plate.1026.jpg", "plate.1050.jpg"]
    assert not host.is_tagged(read)


def test_opening_a_script_shows_approvals_that_arrived_since(gui_nuke: Any, approver: Any) -> None:
    node = gui_nuke.nodes.Read(file="/plates/a.exr")
    _knobs().tag_node(node, final_record())
    assert node["tile_color"].value() == _colour("approval_required")
    approver.approve(host.read_tag(node).record)
    gui_nuke.fake_load_script()
    assert node["tile_color"].value() == _colour("approved")
    assert "Approved" in node["clearance_status"].value()


def test_the_node_and_the_panel_show_who_approved_under_which_conditions_until_when(
    gui_nuke: Any, approver: Any
) -> None:
    from clearance_nuke.panel_model import PanelModel

    node = gui_nuke.nodes.Read(file="/plates/a.exr")
    _knobs().tag_node(node, final_record())
    approver.approve(host.read_tag(node).record, conditions="background only; not in marketing")
    gui_nuke.fake_load_script()
    text = node["clearance_status"].value()
    assert "approved by approver@studio.example" in text and "background only; not in marketing" in text
    assert "expires" in text and "UTC" in text
    (row,) = PanelModel().reload()
    assert row.label == "Approved" and "conditions: background only; not in marketing" in row.reason


def test_the_prompt_is_typed_on_the_tab_and_editing_it_keeps_the_approval(fake_nuke: Any, approver: Any) -> None:
    node = fake_nuke.nodes.Read(file="/plates/sign.exr")
    record = final_record().model_copy(update={"schema_version": 2})
    _knobs().tag_node(node, record)
    assert node["clearance_prompt_shareable"].value() == "unsure"  # private until someone says yes
    approver.approve(host.read_tag(node).record)
    assert _knobs().refresh(node).status == "approved"
    fake_nuke.fake_set_knob(node, "clearance_prompt_text", "weathered shop sign [neon]\nharbour at dusk")
    tag = decode_tag(node["clearance_tag"].value(), "test")
    assert tag.record is not None and tag.record.prompt.text == "weathered shop sign [neon]\nharbour at dusk"
    assert tag.record.prompt.shared_text() is None
    assert _knobs().standing(node).status == "approved", "the prompt is not bound by the approval"
    fake_nuke.fake_set_knob(node, "clearance_prompt_shareable", "yes")
    tag = decode_tag(node["clearance_tag"].value(), "test")
    assert tag.record is not None and tag.record.prompt.shared_text() == "weathered shop sign [neon]\nharbour at dusk"
