"""The Clearance extension in real Blender (bpy 5.0.1, headless), each scenario in a fresh Blender process."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from blender_fixtures import EXTENSION_DIR, blender_extension_cli, run_in_blender

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(
        importlib.util.find_spec("bpy") is None, reason="needs the bpy module (pip install bpy==5.0.1, Python 3.11)"
    ),
]


def test_extension_registers_and_unregisters_cleanly_twice(tmp_path: Path) -> None:
    rounds = run_in_blender(tmp_path, "register_twice")["rounds"]
    assert len(rounds) == 4
    for enabled in (rounds[0], rounds[2]):
        assert all(enabled["props"]), enabled["props"]
        assert all(enabled["operators"]), enabled["operators"]
        assert len(enabled["panels"]) == 9  # three panels in each of three editors
        assert enabled["handlers"] == {
            "load_post": 1,
            "save_pre": 1,
            "render_init": 1,
            "render_cancel": 1,
            "render_complete": 1,
        }
    for disabled in (rounds[1], rounds[3]):
        assert disabled == {"props": [False, False, False], "panels": [], "handlers": 0}


def test_operators_tag_objects_strips_images_and_tags_survive_save_and_reopen(tmp_path: Path) -> None:
    saved = run_in_blender(tmp_path, "tag_and_save")
    assert all(ops == ["FINISHED"] for ops in saved["ops"].values()), saved["ops"]
    status = saved["status"]
    assert status["objects:Crowd"] == status["objects:Sign"] == "approval_required"
    assert status["strips:Shot010/Fog"] == status["images:matte.png"] == status["materials:SignMat"] == "notify"
    assert status["objects:Tree"] is None or status["objects:Tree"] == ""
    items = saved["items"]
    crowd, sign, fog = items["objects:Crowd"], items["objects:Sign"], items["strips:Shot010/Fog"]
    assert crowd["record"] == sign["record"] and crowd["record"] != fog["record"]
    assert fog["target"] == "clip:Shot010/Fog" and crowd["target"] == "datablock:objects:Crowd"
    assert crowd["deliverable"] and fog["deliverable"]
    assert "objects:Tree" not in items  # untagged and no media file
    assert items["strips:Shot010/Plate"]["record"] is None  # untagged image strip kept for the AI scan
    assert items["strips:Shot010/Plate"]["files"] == ["matte.png"]

    assert saved["outbox"] == sorted({crowd["record"], fog["record"]})  # queued by the save handler

    drawn: dict[str, list[str]] = {}
    for with_extension in (True, False):
        reopened = run_in_blender(
            tmp_path, "reopen", file=saved["saved"], extension=with_extension, draw=with_extension
        )
        assert reopened["items"] == items, f"extension enabled: {with_extension}"
        assert reopened["stored"]["scenes:Shot010"]["deliverable"] in (True, 1)
        assert crowd["record"] in reopened["stored"]["objects:Crowd"]["tag"]
        # the load handler recomputed the display status the file was saved without
        assert reopened["stored"]["objects:Crowd"].get("status", "") == ("approval_required" if with_extension else "")
        drawn = reopened.get("drawn") or drawn

    assert len([name for name in drawn if ":" not in name]) == 9
    untagged = "\n".join(drawn["CLEARANCE_PT_view3d_active:untagged"])
    assert "Object Tree" in untagged and "No GenAI tag" in untagged and "(op clearance.tag)" in untagged
    active_3d = "\n".join(drawn["CLEARANCE_PT_view3d_active"])
    assert "Object Crowd" in active_3d and "Needs approval" in active_3d and "FINAL-DELIVERABLE" in active_3d
    assert "Strip Shot010/Fog" in "\n".join(drawn["CLEARANCE_PT_sequencer_active"])
    assert "Image matte.png" in "\n".join(drawn["CLEARANCE_PT_image_active"])
    listed = "\n".join(drawn["CLEARANCE_PT_view3d_file"])
    assert "(prop deliverable)" in listed and "Object Sign" in listed and "Material SignMat" in listed
    assert "(op clearance.tag)" in "\n".join(drawn["CLEARANCE_PT_sequencer_actions"])


def test_render_of_a_deliverable_scene_is_stopped_until_approved(tmp_path: Path) -> None:
    out = run_in_blender(tmp_path, "render_gate")
    for blocked in (out["still"], out["animation"]):
        assert blocked["error"] and "camera" in blocked["error"]  # how Blender words the refusal
        assert blocked["written"] == []
        assert blocked["camera_restored"] and blocked["sequencer_restored"]
        assert "stopped" in blocked["message"] and "Object Crowd" in blocked["message"]
        assert "What to do: request approval" in blocked["message"], "the artist is told what to do"
    assert "render of deliverable scene 'Shot010' stopped: Object Crowd: Needs approval" in out["_stderr"]
    assert out["after_approval"]["error"] is None and out["after_approval"]["written"] == ["approved.png"]
    assert out["status_after_approval"] == "approved"


def test_render_gate_warns_only_when_the_policy_says_warn(tmp_path: Path) -> None:
    out = run_in_blender(tmp_path, "render_gate", render_gate="warn")
    assert out["still"]["error"] is None and out["still"]["written"] == ["still.png"]
    assert "WITHOUT clearance" in out["_stderr"]


def test_render_of_a_scene_not_marked_deliverable_is_not_gated(tmp_path: Path) -> None:
    out = run_in_blender(tmp_path, "render_gate", deliverable=False)
    assert out["still"]["error"] is None and out["still"]["written"] == ["still.png"]
    assert "stopped" not in out["_stderr"]


def test_pyblish_publish_inside_blender_is_blocked_without_approval_and_passes_with_one(tmp_path: Path) -> None:
    out = run_in_blender(tmp_path, "publish")
    check = out["check_blocked"]  # the panel's "Check for publish" runs the same checks
    assert check["result"] == ["CANCELLED"]
    assert "publish blocked: " in check["error"] and "(+1 more check(s); see the Clearance panel)" in check["error"]
    assert sorted(out["check_lines"]) == [
        "Temporary GenAI material in a final deliverable: Image matte.png, Material SignMat, Strip Shot010/Fog",
        "Written approval missing or not valid: Object Crowd, Object Sign",
    ]
    assert out["check_approved"] == {"result": ["FINISHED"], "error": None}
    blocked = out["blocked"]
    assert "CollectBlenderGenAIItems" in blocked["plugins"]
    assert {"objects:Crowd", "objects:Sign", "strips:Shot010/Fog", "strips:Shot010/Plate"} <= set(blocked["items"])
    ideation = ["images:matte.png", "materials:SignMat", "strips:Shot010/Fog"]
    assert blocked["failures"] == {
        "clearance.approval_valid": ["objects:Crowd", "objects:Sign"],
        "clearance.temp_not_final": ideation,  # ideation material in a scene marked as a deliverable
    }, blocked
    assert blocked["errors"] == []
    assert out["selected_by_host"] and out["selected"] == ["Crowd", "Sign"]
    assert out["approved_only"]["failures"] == {"clearance.temp_not_final": ideation}
    assert out["untag"] == ["FINISHED"]
    approved = out["approved"]
    assert approved["failures"] == {} and approved["errors"] == [], approved


def test_operators_on_real_datablocks_and_strips(tmp_path: Path, shared_data: Path) -> None:
    out = run_in_blender(tmp_path, "operators", provenance=str(shared_data / "provenance"))
    assert {"mood-board", "background-signage"} <= set(out["presets"])
    assert out["tag_signage"]["result"] == ["FINISHED"] and out["tag_moodboard"]["result"] == ["FINISHED"]
    assert out["crowd"] == {"status": "approval_required", "preset": "background-signage"}
    assert out["fog_status"] == "notify"
    assert "preset no-such-preset: unknown preset" in out["unknown_preset"]["error"]
    assert "--preset" not in out["unknown_preset"]["error"] and "\n" not in out["unknown_preset"]["error"]
    assert "select objects first" in out["nothing_selected"]["error"]

    assert out["edit"]["result"] == ["FINISHED"] and out["apply"]["result"] == ["FINISHED"]
    assert out["form_prompt"] == {"text": None, "shareable": "unsure"}
    assert out["after_apply"] == {
        "status": "notify",
        "changed": True,
        "description": "signage mock-up for the art department only",
        "prompt": {"text": "hand-painted shop sign, 1950s, [weathered]", "shareable": "unsure"},
    }
    assert out["apply_broken"]["result"] == ["CANCELLED"]
    assert "use.stage" in out["apply_broken"]["error"] and "sometimes" in out["apply_broken"]["error"]
    assert out["unchanged_after_broken"]  # nothing lost: the tag and the edited text stay as they were

    verdicts = out["verdicts"]
    assert verdicts["ocsp.jpg"][0] in {"ai_generated", "ai_composite"} and "tag it" in verdicts["ocsp.jpg"][1]
    assert verdicts["comfy_sdxl_simple_example.png"][0] in {"ai_generated", "ai_composite"}
    assert verdicts["no_manifest.jpg"][0] == "none" and verdicts["no_manifest.jpg"][1] == ""
    assert out["scan"]["result"] == ["FINISHED"]

    assert out["submit"]["result"] == ["FINISHED"]
    assert out["outbox"] == out["record_ids"]
    assert out["select_offending"]["result"] == ["FINISHED"]
    assert out["selected_objects"] == ["Crowd"] and out["selected_strips"] == []
    assert out["refresh_offline"]["result"] == ["FINISHED"]
    assert out["by_path"]["record"] == out["by_path"]["expected"]
    assert "tree.yaml was edited after tagging" in out["by_path_edited"]


def test_manifest_passes_blenders_validator_and_the_built_zip_installs(tmp_path: Path) -> None:
    cli = blender_extension_cli()
    checked = subprocess.run(
        [sys.executable, str(cli), "validate", str(EXTENSION_DIR)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0 and "Success" in checked.stdout, checked.stdout + checked.stderr
    out_dir = tmp_path / "dist"
    out_dir.mkdir()
    built = subprocess.run(
        [sys.executable, str(cli), "build", "--source-dir", str(EXTENSION_DIR), "--output-dir", str(out_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    zips = list(out_dir.glob("clearance-*.zip"))
    assert len(zips) == 1
    with zipfile.ZipFile(zips[0]) as archive:
        names = set(archive.namelist())
    assert {"blender_manifest.toml", "__init__.py", "operators.py", "handlers.py"} <= names
    assert not any("__pycache__" in name for name in names)
    (tmp_path / "fresh").mkdir()
    installed = run_in_blender(tmp_path / "fresh", "install_zip", zip=str(zips[0]))
    assert installed["install"] == ["FINISHED"] and installed["enabled"] and installed["props"]


def test_extension_without_the_core_enables_and_says_what_is_missing(tmp_path: Path) -> None:
    out = run_in_blender(tmp_path, "no_core")
    stderr = out.pop("_stderr")
    stopped, other = out.pop("deliverable_render"), out.pop("other_render")
    assert out == {"missing_panel": True, "props": False, "after_disable": False}
    # fail closed: a scene marked deliverable is not rendered while the core is missing; others are
    assert stopped["error"] and "camera" in stopped["error"] and stopped["written"] == []
    assert stopped["camera_restored"]
    assert "render of deliverable scene" in stderr and "install the Clearance core" in stderr
    assert other["error"] is None and other["written"] == ["other.png"]


def test_linked_asset_keeps_its_tag_gates_the_render_and_is_not_retagged_here(tmp_path: Path) -> None:
    out = run_in_blender(tmp_path, "linked")
    assert out["linked"] and out["record"] and out["deliverable"]
    assert out["retag"]["result"] == ["CANCELLED"] and "is linked from" in out["retag"]["error"]
    assert out["refresh"]["result"] == ["FINISHED"]  # linked data is judged, never written
    assert out["render"]["error"] and out["render"]["written"] == []


def test_movie_clips_sounds_texts_and_sound_and_movie_strips(tmp_path: Path, shared_data: Path) -> None:
    out = run_in_blender(tmp_path, "media_types", provenance=str(shared_data / "provenance"))
    assert out["tag_text_and_clip"]["result"] == ["FINISHED"] and out["tag_voice"]["result"] == ["FINISHED"]
    assert out["scan"]["result"] == ["FINISHED"]
    items = out["items"]
    assert items["texts:prompt.txt"] == {"tagged": True, "files": []}
    assert items["movieclips:video1.mp4"] == {"tagged": True, "files": ["video1.mp4"]}
    assert items["strips:Shot010/Voice"] == {"tagged": True, "files": ["sample1_signed.wav"]}
    # untagged media that points at files is collected for the untagged-AI check
    assert items["sounds:sample1_signed.wav"] == {"tagged": False, "files": ["sample1_signed.wav"]}
    assert items["strips:Shot010/Insert"] == {"tagged": False, "files": ["video1.mp4"]}
    assert all(out["verdicts"].values()), out["verdicts"]  # every file behind them was scanned


def test_the_built_zip_installs_into_a_bare_blender_and_gates_a_publish(tmp_path: Path) -> None:
    """`clearance install blender --build --from-env`, installed with package_install_files into a Blender
    whose Python has no Clearance and none of its dependencies, no start-up script: tag, blocked, approve, pass.

    The wheels come from this test environment (--from-env), so the test needs no network."""
    from blender_fixtures import run_isolated

    from clearance.cli.main import main

    dist = tmp_path / "dist"
    assert main(["install", "blender", "--build", "--from-env", "--dest", str(dist)]) == 0
    (built,) = dist.glob("clearance-*-linux_x64.zip")
    with zipfile.ZipFile(built) as archive:
        manifest = archive.read("blender_manifest.toml").decode()
        names = set(archive.namelist())
    assert 'platforms = ["linux-x64"]' in manifest
    for wheel in ("clearance-", "pydantic_core-", "cryptography-", "pyyaml-", "pyblish_base-"):
        assert any(n.startswith("wheels/" + wheel) for n in names), wheel
    assert all(f'"./{n}"' in manifest for n in names if n.startswith("wheels/"))
    checked = subprocess.run(
        [sys.executable, str(blender_extension_cli()), "validate", str(built)], capture_output=True, text=True,
        timeout=60,
    )
    assert checked.returncode == 0 and "Success" in checked.stdout, checked.stdout + checked.stderr
    out = run_isolated(tmp_path, "zip_gate", zip=str(built))
    assert out["core_before"] is False, "the Blender under test must not find Clearance before the install"
    assert out["install"] == ["FINISHED"] and out["enabled"]
    site = str(tmp_path / "blender-user" / "extensions" / ".local")
    assert out["core_from"].startswith(site) and out["pydantic_from"].startswith(site)
    assert out["plugins_from"].startswith(site)
    assert "Crowd" in str(out["blocked"]["failures"].get("clearance.approval_valid")), out["blocked"]
    assert out["approved"]["failures"] == {} and out["approved"]["errors"] == [], out["approved"]


def test_untagged_datablocks_of_generative_addons_are_found_selected_and_tagged(tmp_path: Path) -> None:
    out = run_in_blender(tmp_path, "untagged_ai")
    assert out["before"]["failures"].get("clearance.untagged_ai_nodes") == ["images:matte.png", "objects:Sign"]
    assert out["select"]["result"] == ["FINISHED"] and out["selected"] == ["Sign"]
    assert out["tag"]["result"] == ["FINISHED"], out["tag"]
    assert "clearance.untagged_ai_nodes" not in out["after"]["failures"], out["after"]
