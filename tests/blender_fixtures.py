"""Run scenarios inside real Blender (the bpy 5.0.1 module) in a subprocess, with the extension enabled.

bpy can be imported once per process and keeps global state, so every scenario gets a fresh Python:
``run_in_blender(tmp_path, "name", **params)`` runs ``scenario_<name>(params)`` from this file in a child
process and returns the dict it produced. The extension is enabled the way Blender enables any
extension: ``plugins/blender`` is linked into a user extension repository (``BLENDER_USER_EXTENSIONS``)
and enabled as ``bl_ext.user_default.clearance``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXTENSION_DIR = ROOT / "plugins" / "blender"
PLUGIN_DIR = ROOT / "pyblish_plugins"
MODULE = "bl_ext.user_default.clearance"
RESULT_PREFIX = "CLEARANCE-TEST-RESULT "

BOOT = "import sys, json; sys.path.insert(0, {tests!r}); import blender_fixtures as f; f.main(sys.argv[1], sys.argv[2])"


def run_in_blender(tmp_path: Path, scenario: str, timeout: float = 120, **params: Any) -> dict[str, Any]:
    """Run one scenario in a fresh bpy process; fail the test with Blender's output when it breaks."""
    resources = tmp_path / "blender-user"
    repo = resources / "extensions" / "user_default"
    repo.mkdir(parents=True, exist_ok=True)
    link = repo / "clearance"
    if not link.exists():
        link.symlink_to(EXTENSION_DIR, target_is_directory=True)
    params.setdefault("tmp", str(tmp_path))
    params_file = tmp_path / f"{scenario}-params.json"
    params_file.write_text(json.dumps(params), encoding="utf-8")
    env = dict(os.environ)
    env["BLENDER_USER_RESOURCES"] = str(resources)
    env["BLENDER_USER_EXTENSIONS"] = str(resources / "extensions")
    env["BLENDER_USER_CONFIG"] = str(resources / "config")
    env.pop("PYBLISHPLUGINPATH", None)
    proc = subprocess.run(
        [sys.executable, "-c", BOOT.format(tests=str(Path(__file__).parent)), scenario, str(params_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stdout + "\n" + proc.stderr).splitlines()[-40:])
        raise AssertionError(f"Blender scenario {scenario} failed (exit {proc.returncode}):\n{tail}")
    result = json.loads(lines[-1][len(RESULT_PREFIX) :])
    result["_stderr"] = proc.stderr
    return result


def main(scenario: str, params_file: str) -> None:
    params = json.loads(Path(params_file).read_text(encoding="utf-8"))
    result = globals()[f"scenario_{scenario}"](params)
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)


# ------------------------------------------------------------------ records, keys and policy for tests


def record_data(kind: str, production: str = "TEST_S01") -> dict[str, Any]:
    """A record the default policy answers ``notify`` (ideation) or ``approval_required`` (final, on screen)."""
    no = "no"
    base: dict[str, Any] = {
        "production": production,
        "vendor": "Test VFX",
        "declared_by": "artist",
        "description": f"{kind} test use",
        "tool": {
            "name": "Firefly",
            "provider": "Adobe",
            "environment": "enterprise",
            "trains_on_inputs": no,
            "retains_inputs": no,
        },
        "inputs": {"studio_proprietary": no, "personal_data": no, "third_party_material": no, "talent_material": no},
        "training": {"fine_tuned": no},
        "prompt_references": {"copyrighted_work": no, "public_figure": no, "deceased_person": no},
        "output": {"resembles_unowned_material": no},
        "talent": {
            "digital_replica": no,
            "model_from_other_production": no,
            "replaces_union_work": no,
            "consent_documented": no,
        },
        "realism": {"depicts_real_people_or_events": no, "presented_as_authentic": no},
    }
    if kind == "notify":
        base["use"] = {
            "media": "image",
            "stage": "ideation",
            "in_final_deliverable": no,
            "creative_element": "none",
            "prominence": "none",
        }
    else:
        base["use"] = {
            "media": "image",
            "stage": "final",
            "in_final_deliverable": "yes",
            "creative_element": "background",
            "prominence": "story_relevant",
        }
    return base


def write_record_file(folder: Path, kind: str, name: str) -> Path:
    import uuid

    import yaml

    path = folder / name
    data = {"id": str(uuid.uuid4()), **record_data(kind)}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def approver_setup(folder: Path, *, render_gate: str = "stop") -> tuple[Any, Path]:
    """A key ring in a temp dir and a policy file trusting its key; returns (ring, policy path)."""
    import yaml

    from clearance.approvals import KeyRing

    ring = KeyRing.open(folder / "keys")
    keys = [{"key_id": k["key_id"], "public_key": k["public_key"]} for k in ring.public_keys_document()["keys"]]
    policy = {"approvals": {"trusted_keys": keys}, "hosts": {"render_gate": render_gate}}
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return ring, path


def approve(ring: Any, record: Any, approval_id: str = "APR-1") -> None:
    """Sign an approval for the record and put it, with a fresh signed revocation list, in the cache."""
    from clearance.approvals import ApprovalStatement
    from clearance.cache import ApprovalCache
    from clearance.record import decision_digest

    now = datetime.now(timezone.utc)
    statement = ApprovalStatement(
        approval_id=approval_id,
        record_id=record.id,
        record_digest=decision_digest(record),
        production=record.production,
        targets=[t.key() for t in record.targets],
        approver="supervisor@studio",
        issued_at=now - timedelta(minutes=1),
        expires_at=now + timedelta(days=30),
        conditions="",
        key_id=ring.active_key_id(),
    )
    cache = ApprovalCache()
    cache.add_approval(ring.sign(statement))
    from clearance.approvals import TrustedKeys

    cache.store_revocations(ring.sign_document({"revocations": [], "generated_at": now.isoformat()}),
                            TrustedKeys.from_document(ring.public_keys_document()))


# ------------------------------------------------------------------------------- in-Blender helpers


def enable_extension() -> None:
    import bpy

    result = bpy.ops.preferences.addon_enable(module=MODULE)
    assert result == {"FINISHED"}, result


def disable_extension() -> None:
    import bpy

    result = bpy.ops.preferences.addon_disable(module=MODULE)
    assert result == {"FINISHED"}, result


def build_scene(tmp: Path) -> dict[str, Any]:
    """Objects, a material, a generated PNG as an image datablock, a color strip and an image strip."""
    import bpy

    scene = bpy.context.scene
    scene.name = "Shot010"
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x = 8
    scene.render.resolution_y = 8
    scene.render.resolution_percentage = 100
    scene.frame_start = scene.frame_end = 1
    for obj in list(bpy.data.objects):
        if obj.type != "CAMERA":
            bpy.data.objects.remove(obj)
    made = []
    for name in ("Crowd", "Sign", "Tree"):
        mesh = bpy.data.meshes.new(name)
        obj = bpy.data.objects.new(name, mesh)
        scene.collection.objects.link(obj)
        made.append(obj)
    material = bpy.data.materials.new("SignMat")
    made[1].data.materials.append(material)
    png = tmp / "matte.png"
    image = bpy.data.images.new("matte_gen", 4, 4)
    image.pixels = [0.5] * (4 * 4 * 4)
    image.filepath_raw = str(png)
    image.file_format = "PNG"
    image.save()
    loaded = bpy.data.images.load(str(png))
    loaded.name = "matte.png"
    bpy.data.images.remove(image)
    if material.node_tree is None:
        material.use_nodes = True
    material.node_tree.nodes.new("ShaderNodeTexImage").image = loaded  # a user, so the image is saved
    editor = scene.sequence_editor_create()
    color = editor.strips.new_effect("Fog", "COLOR", 2, 1, length=10)
    plate = editor.strips.new_image("Plate", str(png), 1, 1)
    bpy.context.view_layer.update()
    return {"objects": [o.name for o in made], "strips": [color.name, plate.name], "image": loaded.name}


def select_objects(names: list[str]) -> None:
    import bpy

    for obj in bpy.context.view_layer.objects:
        obj.select_set(obj.name in names)


def select_strips(names: list[str]) -> None:
    import bpy

    for strip in bpy.context.scene.sequence_editor.strips_all:
        strip.select = strip.name in names


def tag_of(owner: Any) -> dict[str, Any]:
    from clearance.hosts import blender as host

    return host.stored_values(owner)


# ------------------------------------------------------------------------------------ scenarios


def scenario_register_twice(params: dict[str, Any]) -> dict[str, Any]:
    import bpy

    seen = []
    for _round in range(2):
        enable_extension()
        seen.append(
            {
                "props": [
                    hasattr(getattr(bpy.types, t), "clearance")
                    for t in ("Object", "Image", "Material", "MovieClip", "Sound", "Text", "Scene", "Strip")
                ],
                "operators": [
                    hasattr(bpy.ops.clearance, name)
                    for name in (
                        "tag",
                        "untag",
                        "edit",
                        "apply_record",
                        "scan",
                        "submit",
                        "refresh",
                        "select_offending",
                        "check_publish",
                    )
                ],
                "panels": sorted(name for name in dir(bpy.types) if name.startswith("CLEARANCE_PT_")),
                "handlers": {
                    name: sum(1 for f in getattr(bpy.app.handlers, name) if "clearance" in f.__module__)
                    for name in ("load_post", "save_pre", "render_init", "render_cancel", "render_complete")
                },
            }
        )
        disable_extension()
        seen.append(
            {
                "props": [hasattr(getattr(bpy.types, t), "clearance") for t in ("Object", "Strip", "Scene")],
                "panels": sorted(name for name in dir(bpy.types) if name.startswith("CLEARANCE_PT_")),
                "handlers": sum(
                    1
                    for name in ("load_post", "save_pre", "render_init", "render_cancel", "render_complete")
                    for f in getattr(bpy.app.handlers, name)
                    if "clearance" in f.__module__
                ),
            }
        )
    return {"rounds": seen}


def tag_sample_file(tmp: Path) -> dict[str, Any]:
    """Build the sample scene and tag it through the extension's operators; returns what was tagged."""
    import bpy

    built = build_scene(tmp)
    final = write_record_file(tmp, "approval", "final-crowd.yaml")
    ideation = write_record_file(tmp, "notify", "ideation-fog.yaml")
    select_objects(["Crowd", "Sign"])
    results = {"objects": bpy.ops.clearance.tag(what="OBJECTS", record_file=str(final))}
    select_strips(["Fog"])
    results["strips"] = bpy.ops.clearance.tag(what="STRIPS", record_file=str(ideation))
    results["image"] = bpy.ops.clearance.tag(what="HANDLES", handles="images:matte.png", record_file=str(ideation))
    select_objects(["Sign"])
    results["material"] = bpy.ops.clearance.tag(what="MATERIALS", record_file=str(ideation))
    bpy.context.scene.clearance.deliverable = True
    return {"built": built, "ops": {k: sorted(v) for k, v in results.items()}}


def summary(items: list[Any]) -> dict[str, Any]:
    return {
        item.handle: {
            "record": str(item.record.id) if item.record else None,
            "target": item.target.key(),
            "error": item.tag_error,
            "files": [Path(f).name for f in item.files],
            "deliverable": item.deliverable,
        }
        for item in items
    }


def scenario_tag_and_save(params: dict[str, Any]) -> dict[str, Any]:
    import bpy

    from clearance.hosts import blender as host

    tmp = Path(params["tmp"])
    enable_extension()
    out = tag_sample_file(tmp)
    out["status"] = {
        h: tag_of(host.resolve(h)).get("status")
        for h in (
            "objects:Crowd",
            "objects:Sign",
            "objects:Tree",
            "strips:Shot010/Fog",
            "images:matte.png",
            "materials:SignMat",
        )
    }
    out["items"] = summary(host.collect_items())
    bpy.data.objects["Crowd"].clearance.status = ""  # display only: the load handler recomputes it
    path = tmp / "tagged.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    out["saved"] = str(path)
    from clearance.outbox import Outbox

    with Outbox() as outbox:  # the save handler queued every tagged record for disclosure
        out["outbox"] = sorted(set(outbox.record_ids()))
    return out


def scenario_reopen(params: dict[str, Any]) -> dict[str, Any]:
    import bpy

    from clearance.hosts import blender as host

    if params.get("extension"):
        enable_extension()
    bpy.ops.wm.open_mainfile(filepath=params["file"])
    out: dict[str, Any] = {"items": summary(host.collect_items())}
    out["stored"] = {h: tag_of(host.resolve(h)) for h in ("objects:Crowd", "strips:Shot010/Fog", "scenes:Shot010")}
    if params.get("draw"):
        out["drawn"] = draw_panels()
    return out


def _icons() -> set[str]:
    """Every icon name Blender's UILayout accepts (a wrong one raises when the real panel draws)."""
    import bpy

    return set(bpy.types.UILayout.bl_rna.functions["label"].parameters["icon"].enum_items.keys())


class FakeLayout:
    """Records what a panel draws. Blender's real UI layout only exists with a window, not headless."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def _child(self, *_args: Any, **_kwargs: Any) -> FakeLayout:
        return self

    row = column = box = split = _child

    def label(self, text: str = "", icon: str = "NONE") -> None:
        assert icon in _icons(), f"not a Blender icon: {icon}"
        self.lines.append(f"[{icon}] {text}")

    def prop(self, data: Any, name: str, text: str = "", **_kwargs: Any) -> None:
        assert name in data.bl_rna.properties, name  # a real property of a real struct
        self.lines.append(f"(prop {name}) {text}")

    def operator(self, idname: str, text: str = "", icon: str = "NONE") -> Any:
        import types

        import bpy

        category, _, name = idname.partition(".")
        assert hasattr(getattr(bpy.ops, category), name), idname
        assert icon in _icons(), f"not a Blender icon: {icon}"
        self.lines.append(f"(op {idname}) {text}")
        return types.SimpleNamespace()


def draw_panels() -> dict[str, list[str]]:
    """Run every Clearance panel's draw() on real data for each editor, with a recording layout."""
    import importlib
    import types

    import bpy

    panels = importlib.import_module(f"{MODULE}.panels")
    scene = bpy.context.scene
    bpy.context.view_layer.objects.active = bpy.data.objects["Crowd"]
    scene.sequence_editor.active_strip = scene.sequence_editor.strips_all["Fog"]
    drawn: dict[str, list[str]] = {}
    crowd, tree = bpy.data.objects["Crowd"], bpy.data.objects["Tree"]
    for space, suffix, active, extra in (
        ("VIEW_3D", "", crowd, {}),
        ("VIEW_3D", ":untagged", tree, {}),
        ("SEQUENCE_EDITOR", "", crowd, {}),
        ("IMAGE_EDITOR", "", crowd, {"space_data": types.SimpleNamespace(image=bpy.data.images["matte.png"])}),
    ):
        context = types.SimpleNamespace(
            area=types.SimpleNamespace(type=space),
            scene=scene,
            view_layer=bpy.context.view_layer,
            window_manager=bpy.context.window_manager,
            active_object=active,
            screen=None,
            **extra,
        )
        for panel in panels.CLASSES:
            if panel.bl_space_type != space:
                continue
            lines: list[str] = []
            panel.draw(types.SimpleNamespace(layout=FakeLayout(lines)), context)
            drawn[panel.bl_idname + suffix] = lines
    return drawn


def record_on(handle: str) -> Any:
    from clearance.hosts import blender as host

    owner = host.resolve(handle)
    entry = host.Entry(handle, handle, owner, tag_of(owner)["tag"])
    return host.read_tag(entry).record


def try_render(tmp: Path, name: str, animation: bool = False) -> dict[str, Any]:
    import bpy

    scene = bpy.context.scene
    scene.render.filepath = str(tmp / name)
    camera = scene.camera.name if scene.camera else None
    error = None
    try:
        if animation:
            bpy.ops.render.render(animation=True)
        else:
            bpy.ops.render.render(write_still=True)
    except RuntimeError as exc:
        error = str(exc)
    written = sorted(p.name for p in tmp.iterdir() if p.name.startswith(name))
    return {
        "error": error,
        "written": written,
        "camera_restored": (scene.camera.name if scene.camera else None) == camera,
        "sequencer_restored": scene.render.use_sequencer,
        "message": scene.clearance.message,
    }


def scenario_render_gate(params: dict[str, Any]) -> dict[str, Any]:
    import bpy

    tmp = Path(params["tmp"])
    ring, policy = approver_setup(tmp, render_gate=params.get("render_gate", "stop"))
    os.environ["CLEARANCE_POLICY"] = str(policy)
    enable_extension()
    tag_sample_file(tmp)
    bpy.context.scene.clearance.deliverable = params.get("deliverable", True)
    out: dict[str, Any] = {"still": try_render(tmp, "still"), "animation": try_render(tmp, "anim_", animation=True)}
    approve(ring, record_on("objects:Crowd"))
    out["after_approval"] = try_render(tmp, "approved")
    bpy.ops.clearance.refresh(offline=True)
    out["status_after_approval"] = tag_of(bpy.data.objects["Crowd"])["status"]
    return out


def publish_in_blender(bundled: bool = False) -> dict[str, Any]:
    """One Pyblish publish of the open file, host ``blender``; failures by validator id, with item handles.

    ``bundled``: the plugins the installed core carries (the extension zip's wheel), not the checkout's."""
    import pyblish.api
    import pyblish.util

    from clearance.pyblish import register

    if not bundled:
        os.environ["PYBLISHPLUGINPATH"] = str(PLUGIN_DIR)
    register("blender")
    context = pyblish.util.publish()
    from pyblish_results import failures_by_validator

    failures, errors = failures_by_validator(context)
    plugins = sorted(r["plugin"].__name__ for r in context.data.get("results", []))
    return {
        "failures": failures,
        "errors": errors,
        "plugins": sorted(set(plugins)),
        "items": sorted(item.handle for item in context.data.get("clearance_items", [])),
    }


def scenario_publish(params: dict[str, Any]) -> dict[str, Any]:
    import bpy

    from clearance.items import select_in_host

    tmp = Path(params["tmp"])
    ring, policy = approver_setup(tmp)
    os.environ["CLEARANCE_POLICY"] = str(policy)
    enable_extension()
    tag_sample_file(tmp)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp / "publish.blend"))  # save_pre queues the disclosures
    import importlib

    out: dict[str, Any] = {"check_blocked": run_op(bpy.ops.clearance.check_publish)}
    out["check_lines"] = importlib.import_module(f"{MODULE}.operators").last_publish_check
    out["blocked"] = publish_in_blender()
    select_objects([])
    handles = out["blocked"]["failures"].get("clearance.approval_valid", [])
    out["selected_by_host"] = select_in_host("blender", handles)
    out["selected"] = sorted(o.name for o in bpy.context.view_layer.objects if o.select_get())
    approve(ring, record_on("objects:Crowd"))
    out["approved_only"] = publish_in_blender()
    # ideation material may not go into a deliverable scene: take it out, then the publish passes
    out["untag"] = sorted(
        bpy.ops.clearance.untag(what="HANDLES", handles="strips:Shot010/Fog;images:matte.png;materials:SignMat")
    )
    out["approved"] = publish_in_blender()
    out["check_approved"] = run_op(bpy.ops.clearance.check_publish)
    return out


def run_op(operator: Any, **kwargs: Any) -> dict[str, Any]:
    """Call an operator; an error report surfaces as RuntimeError in background Blender."""
    try:
        return {"result": sorted(operator(**kwargs)), "error": None}
    except RuntimeError as exc:
        return {"result": ["CANCELLED"], "error": str(exc).strip()}


def scenario_operators(params: dict[str, Any]) -> dict[str, Any]:
    import shutil

    import bpy
    import yaml

    from clearance.outbox import Outbox

    tmp = Path(params["tmp"])
    enable_extension()
    build_scene(tmp)
    import importlib

    ui = bpy.context.window_manager.clearance_ui
    ui.preset = "mood-board"  # a dynamic enum: only names the presets module lists are accepted
    out: dict[str, Any] = {
        "presets": [item[0] for item in importlib.import_module(f"{MODULE}.status").preset_enum_items()],
        "ui_preset": ui.preset,
    }
    select_objects(["Crowd"])
    out["tag_signage"] = run_op(
        bpy.ops.clearance.tag, what="OBJECTS", preset="background-signage", production="TEST_S01"
    )
    select_strips(["Fog"])
    out["tag_moodboard"] = run_op(bpy.ops.clearance.tag, what="STRIPS", preset="mood-board", production="TEST_S01")
    out["unknown_preset"] = run_op(bpy.ops.clearance.tag, what="STRIPS", preset="no-such-preset")
    select_objects([])
    out["nothing_selected"] = run_op(bpy.ops.clearance.tag, what="OBJECTS", preset="mood-board")
    crowd = bpy.data.objects["Crowd"]
    out["crowd"] = {"status": crowd.clearance.status, "preset": crowd.clearance.preset}
    out["fog_status"] = bpy.context.scene.sequence_editor.strips_all["Fog"].clearance.status

    # edit the record as YAML in a text datablock, then apply it
    out["edit"] = run_op(bpy.ops.clearance.edit, handle="objects:Crowd")
    text = next(t for t in bpy.data.texts if t.name.startswith("clearance-"))
    data = yaml.safe_load(text.as_string())
    out["form_prompt"] = dict(data.get("prompt") or {})  # the unanswered prompt section is offered to fill in
    data["use"]["stage"] = "ideation"
    data["use"]["in_final_deliverable"] = "no"
    data["description"] = "signage mock-up for the art department only"
    data["prompt"]["text"] = "hand-painted shop sign, 1950s, [weathered]"
    before = crowd.clearance.tag
    text.clear()
    text.write(yaml.safe_dump(data, sort_keys=False))
    out["apply"] = run_op(bpy.ops.clearance.apply_record, text=text.name)
    out["after_apply"] = {
        "status": crowd.clearance.status,
        "changed": crowd.clearance.tag != before,
        "description": record_on("objects:Crowd").description,
        "prompt": record_on("objects:Crowd").prompt.model_dump(mode="json"),
    }
    before = crowd.clearance.tag
    text.clear()
    text.write(text_body := yaml.safe_dump({**data, "use": {**data["use"], "stage": "sometimes"}}, sort_keys=False))
    out["apply_broken"] = run_op(bpy.ops.clearance.apply_record, text=text.name)
    out["unchanged_after_broken"] = crowd.clearance.tag == before and text.as_string() == text_body

    # scan media: a C2PA Firefly composite, a ComfyUI render and a plain JPEG
    scanned = {}
    for name in ("ocsp.jpg", "comfy_sdxl_simple_example.png", "no_manifest.jpg"):
        shutil.copy(Path(params["provenance"]) / name, tmp / name)
        scanned[name] = bpy.data.images.load(str(tmp / name)).name
    out["scan"] = run_op(bpy.ops.clearance.scan)
    out["verdicts"] = {
        name: (bpy.data.images[n].clearance.scan_verdict, bpy.data.images[n].clearance.message)
        for name, n in scanned.items()
    }

    # submit with no service configured: everything waits in the outbox
    out["submit"] = run_op(bpy.ops.clearance.submit)
    with Outbox() as outbox:
        out["outbox"] = sorted(set(outbox.record_ids()))
    out["record_ids"] = sorted(
        {crowd.clearance.record_id, bpy.context.scene.sequence_editor.strips_all["Fog"].clearance.record_id}
    )

    # select offending: make Crowd need approval again
    select_objects(["Crowd"])
    run_op(bpy.ops.clearance.tag, what="OBJECTS", preset="background-signage", production="TEST_S01")
    select_objects(["Tree"])
    select_strips(["Fog", "Plate"])
    out["select_offending"] = run_op(bpy.ops.clearance.select_offending)
    out["selected_objects"] = sorted(o.name for o in bpy.context.view_layer.objects if o.select_get())
    out["selected_strips"] = sorted(s.name for s in bpy.context.scene.sequence_editor.strips_all if s.select)
    out["refresh_offline"] = run_op(bpy.ops.clearance.refresh)

    # a tag naming a record file instead of embedding it (relative to the .blend's folder)
    from clearance.hosts import blender as host
    from clearance.record import load_record
    from clearance.tags import Tag

    bpy.ops.wm.save_as_mainfile(filepath=str(tmp / "by-path.blend"))
    record_file = write_record_file(tmp, "notify", "tree.yaml")
    tree_record = load_record(record_file)
    tag = Tag.for_record(tree_record, embed=False, record_path="//tree.yaml")
    host.write_tag(bpy.data.objects["Tree"], tag)
    items = {i.handle: i for i in host.collect_items()}
    out["by_path"] = {"record": str(items["objects:Tree"].record.id), "expected": str(tree_record.id)}
    record_file.write_text(record_file.read_text().replace("stage: ideation", "stage: final"))
    items = {i.handle: i for i in host.collect_items()}
    out["by_path_edited"] = items["objects:Tree"].tag_error
    return out


BL_PKG_CLI = "bl_pkg/cli/blender_ext.py"


def blender_extension_cli() -> Path:
    """Blender's own extension command-line tool (what `blender --command extension ...` runs)."""
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    assert spec is not None and spec.origin is not None
    found = sorted(Path(spec.origin).parent.glob(f"*/scripts/addons_core/{BL_PKG_CLI}"))
    assert found, "the bpy module ships no bl_pkg extension tool"
    return found[-1]


def scenario_install_zip(params: dict[str, Any]) -> dict[str, Any]:
    import bpy

    result = bpy.ops.extensions.package_install_files(
        repo="user_default", filepath=params["zip"], enable_on_install=True
    )
    return {
        "install": sorted(result),
        "enabled": MODULE in bpy.context.preferences.addons,
        "props": hasattr(bpy.types.Object, "clearance") and hasattr(bpy.types.Strip, "clearance"),
    }


class _NoCore:
    """Hides the clearance package, as on a machine where nobody installed the core."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "clearance" or name.startswith("clearance."):
            raise ImportError(f"No module named {name!r}")


def try_render_plain(tmp: Path, name: str) -> dict[str, Any]:
    """A still render without the extension's properties: what it wrote and whether the camera came back."""
    import bpy

    scene = bpy.context.scene
    scene.render.filepath = str(tmp / name)
    camera = scene.camera.name if scene.camera else None
    error = None
    try:
        bpy.ops.render.render(write_still=True)
    except RuntimeError as exc:
        error = str(exc)
    return {
        "error": error,
        "written": sorted(p.name for p in tmp.iterdir() if p.name.startswith(name)),
        "camera_restored": (scene.camera.name if scene.camera else None) == camera,
    }


def scenario_no_core(params: dict[str, Any]) -> dict[str, Any]:
    import bpy

    sys.meta_path.insert(0, _NoCore())
    enable_extension()
    out = {
        "missing_panel": hasattr(bpy.types, "CLEARANCE_PT_missing_core"),
        "props": hasattr(bpy.types.Object, "clearance"),
    }
    tmp = Path(params["tmp"])
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x = scene.render.resolution_y = 8
    if scene.camera is None:
        camera = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
        scene.collection.objects.link(camera)
        scene.camera = camera
    scene["clearance"] = {"deliverable": True}  # marked earlier, with the extension working
    out["deliverable_render"] = try_render_plain(tmp, "deliverable")
    scene["clearance"] = {"deliverable": False}
    out["other_render"] = try_render_plain(tmp, "other")
    disable_extension()
    out["after_disable"] = hasattr(bpy.types, "CLEARANCE_PT_missing_core")
    return out


def scenario_linked(params: dict[str, Any]) -> dict[str, Any]:
    """An asset tagged in its own file, then linked into a shot: read, gated, but not re-taggable here."""
    import bpy

    from clearance.hosts import blender as host

    tmp = Path(params["tmp"])
    enable_extension()
    tag_sample_file(tmp)
    library = tmp / "asset.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(library))
    bpy.data.batch_remove([o for o in bpy.data.objects if o.type != "CAMERA"])
    bpy.data.orphans_purge(do_recursive=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp / "shot.blend"))  # Blender cannot link from the open file
    with bpy.data.libraries.load(str(library), link=True) as (_source, linked):
        linked.objects = ["Crowd"]
    bpy.context.scene.collection.objects.link(linked.objects[0])
    items = {i.handle: i for i in host.collect_items()}
    crowd = items.get("objects:Crowd")
    return {
        "linked": bpy.data.objects["Crowd"].library is not None,
        "record": bool(crowd and crowd.record),
        "deliverable": bool(crowd and crowd.deliverable),
        "retag": run_op(bpy.ops.clearance.tag, what="HANDLES", handles="objects:Crowd", preset="mood-board"),
        "refresh": run_op(bpy.ops.clearance.refresh, offline=True),
        "render": try_render(tmp, "gated_render"),
    }


def scenario_media_types(params: dict[str, Any]) -> dict[str, Any]:
    """Movie clips, sounds, texts and sound/movie strips: tagged through the operators, collected, scanned."""
    import shutil

    import bpy

    from clearance.hosts import blender as host

    tmp = Path(params["tmp"])
    enable_extension()
    build_scene(tmp)
    for name in ("video1.mp4", "sample1_signed.wav"):
        shutil.copy(Path(params["provenance"]) / name, tmp / name)
    clip = bpy.data.movieclips.load(str(tmp / "video1.mp4"))
    sound = bpy.data.sounds.load(str(tmp / "sample1_signed.wav"))
    text = bpy.data.texts.new("prompt.txt")
    editor = bpy.context.scene.sequence_editor
    editor.strips.new_sound("Voice", str(tmp / "sample1_signed.wav"), 3, 1)
    editor.strips.new_movie("Insert", str(tmp / "video1.mp4"), 4, 1)
    out = {
        "tag_text_and_clip": run_op(
            bpy.ops.clearance.tag,
            what="HANDLES",
            handles=f"texts:{text.name};movieclips:{clip.name}",
            preset="script-summary",
        ),
    }
    select_strips(["Voice"])
    out["tag_voice"] = run_op(bpy.ops.clearance.tag, what="STRIPS", preset="temp-voice")
    out["scan"] = run_op(bpy.ops.clearance.scan)
    items = host.collect_items()
    out["items"] = {i.handle: {"tagged": i.record is not None, "files": [Path(f).name for f in i.files]} for i in items}
    out["verdicts"] = {
        "clip": clip.clearance.scan_verdict,
        "sound": sound.clearance.scan_verdict,
        "voice": editor.strips_all["Voice"].clearance.scan_verdict,
    }
    return out


# ------------------------------------------------------------------ the built zip, with nothing else installed


def isolated_site(tmp_path: Path) -> Path:
    """A site folder holding only bpy and numpy (what bpy itself needs), linked from this Python's
    site-packages: a Blender whose Python has no Clearance, pydantic, yaml or cryptography."""
    import bpy  # noqa: F401 - located, not run, in this process
    import numpy

    site = Path(numpy.__file__).resolve().parents[1]
    folder = tmp_path / "bpy-only-site"
    folder.mkdir(exist_ok=True)
    for entry in site.iterdir():
        if entry.name.split("-")[0].split(".")[0] in ("bpy", "numpy"):
            link = folder / entry.name
            if not link.exists():
                link.symlink_to(entry, target_is_directory=entry.is_dir())
    return folder


def run_isolated(tmp_path: Path, scenario: str, timeout: float = 240, **params: Any) -> dict[str, Any]:
    """Like run_in_blender, but with ``python -S`` and only bpy on the path, and no extension linked."""
    resources = tmp_path / "blender-user"
    (resources / "extensions" / "user_default").mkdir(parents=True, exist_ok=True)
    params.setdefault("tmp", str(tmp_path))
    params_file = tmp_path / f"{scenario}-params.json"
    params_file.write_text(json.dumps(params), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CLEARANCE_REPO"))}
    env.update(
        BLENDER_USER_RESOURCES=str(resources),
        BLENDER_USER_EXTENSIONS=str(resources / "extensions"),
        BLENDER_USER_CONFIG=str(resources / "config"),
        PYTHONNOUSERSITE="1",
    )
    paths = [str(isolated_site(tmp_path)), str(Path(__file__).parent)]
    boot = f"import sys; sys.path[:0] = {paths!r}; import blender_fixtures as f; f.main(sys.argv[1], sys.argv[2])"
    proc = subprocess.run(
        [sys.executable, "-S", "-c", boot, scenario, str(params_file)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stdout + "\n" + proc.stderr).splitlines()[-40:])
        raise AssertionError(f"Blender scenario {scenario} failed (exit {proc.returncode}):\n{tail}")
    return dict(json.loads(lines[-1][len(RESULT_PREFIX) :]))


def scenario_zip_gate(params: dict[str, Any]) -> dict[str, Any]:
    """Install the built zip into a Blender with no Clearance anywhere, then tag, publish, approve, publish."""
    import importlib.util

    import bpy

    out: dict[str, Any] = {"core_before": importlib.util.find_spec("clearance") is not None}
    result = bpy.ops.extensions.package_install_files(
        repo="user_default", filepath=params["zip"], enable_on_install=True
    )
    out["install"] = sorted(result)
    out["enabled"] = MODULE in bpy.context.preferences.addons
    import pydantic

    import clearance

    out["core_from"] = clearance.__file__
    out["pydantic_from"] = pydantic.__file__
    tmp = Path(params["tmp"])
    ring, policy = approver_setup(tmp)
    os.environ["CLEARANCE_POLICY"] = str(policy)
    tag_sample_file(tmp)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp / "zip.blend"))
    from clearance.pyblish import plugin_path

    out["plugins_from"] = str(plugin_path())
    out["blocked"] = publish_in_blender(bundled=True)
    approve(ring, record_on("objects:Crowd"))
    bpy.ops.clearance.untag(what="HANDLES", handles="strips:Shot010/Fog;images:matte.png;materials:SignMat")
    out["approved"] = publish_in_blender(bundled=True)
    return out


def scenario_untagged_ai(params: dict[str, Any]) -> dict[str, Any]:
    """Datablocks made by generative add-ons (custom properties named after them) that nobody tagged."""
    import bpy

    tmp = Path(params["tmp"])
    _ring, policy = approver_setup(tmp)
    os.environ["CLEARANCE_POLICY"] = str(policy)
    enable_extension()
    build_scene(tmp)
    bpy.data.objects["Sign"]["dream_textures_prompt"] = "a neon diner sign"
    bpy.data.images["matte.png"]["ai_render_seed"] = 42
    bpy.data.objects["Tree"]["plain_prop"] = 1  # not an add-on the policy lists
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp / "ai.blend"))
    out: dict[str, Any] = {"before": publish_in_blender()}
    select_objects([])
    out["select"] = run_op(bpy.ops.clearance.select_untagged_ai)
    out["selected"] = sorted(o.name for o in bpy.context.view_layer.objects if o.select_get())
    bpy.context.window_manager.clearance_ui.preset = "mood-board"
    out["tag"] = run_op(bpy.ops.clearance.tag_untagged_ai)
    out["after"] = publish_in_blender()
    return out
