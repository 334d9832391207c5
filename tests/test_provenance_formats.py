"""Files we generate for every format the scanner reads, laid out as their specifications say."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from clearance.provenance import samples as s
from clearance.provenance import scan_file, scan_paths

A1111 = ("a lighthouse at dusk, oil painting\nNegative prompt: blurry\n"
         "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234, Size: 512x512, Model: dreamshaper_8")
RECORD_A = "0b1f3c9e-6c1d-4c2a-9a59-3f3b8e2d1a01"
RECORD_B = "7d6e5f4a-1b2c-4d3e-8f9a-0b1c2d3e4f50"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_png_a1111_parameters(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "render.png", s.png(text={"parameters": A1111})))
    assert r.verdict == "ai_generated" and r.prompt_embedded
    assert r.evidence[0].location == "tEXt parameters"
    assert r.generators == ["Stable Diffusion web UI (model dreamshaper_8)"]


def test_png_text_chunks_compressed_international_and_after_idat(tmp_path: Path) -> None:
    z = scan_file(write(tmp_path, "z.png", s.png(ztxt={"parameters": A1111})))
    assert z.verdict == "ai_generated" and z.evidence[0].location == "zTXt parameters"
    i = scan_file(write(tmp_path, "i.png", s.png(itxt={"invokeai_metadata": '{"positive_prompt": "x"}'},
                                                   text_after_idat=True)))
    assert i.verdict == "ai_generated" and i.generators == ["InvokeAI"]
    packet = s.xmp_packet("digitalCapture").decode()
    xmp = scan_file(write(tmp_path, "x.png", s.png(itxt={"XML:com.adobe.xmp": packet})))
    assert xmp.verdict == "camera"
    soft = scan_file(write(tmp_path, "soft.png", s.png(text={"Software": "Midjourney v6"})))
    assert soft.verdict == "ai_generated" and soft.confidence < 0.7  # a tool name alone is weaker evidence


def test_png_cabx_c2pa(tmp_path: Path) -> None:
    store = s.c2pa_store([{"actions": [s.created("trainedAlgorithmicMedia", "Imagen 4")]}])
    r = scan_file(write(tmp_path, "c.png", s.png(cabx=store)))
    assert r.verdict == "ai_generated" and r.evidence[0].location == "caBX"
    assert r.evidence[0].generator == "Imagen 4 1.0" or r.evidence[0].generator.startswith("Imagen 4")


def test_png_plain_text_is_not_evidence(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "p.png", s.png(text={"Comment": "shot on set", "Software": "Nuke 15.1"})))
    assert r.verdict == "none" and r.evidence == []


def test_jpeg_xmp_digital_source_type(tmp_path: Path) -> None:
    for term, verdict in (("trainedAlgorithmicMedia", "ai_generated"),
                          ("compositeWithTrainedAlgorithmicMedia", "ai_composite"),
                          ("algorithmicMedia", "synthetic"), ("digitalCapture", "camera"),
                          ("minorHumanEdits", "none")):
        r = scan_file(write(tmp_path, f"{term}.jpg", s.jpeg(xmp=s.xmp_packet(term))))
        assert r.verdict == verdict, term
        assert r.evidence[0].field == "Iptc4xmpExt:DigitalSourceType" and r.evidence[0].value == term


def test_jpeg_xmp_credit_and_prompt(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "c.jpg", s.jpeg(xmp=s.xmp_packet(credit="Made with Google AI", prompt="a red fox"))))
    assert r.verdict == "ai_generated" and r.prompt_embedded
    r = scan_file(write(tmp_path, "d.jpg", s.jpeg(xmp=s.xmp_packet(credit="Adobe Firefly"))))
    assert r.evidence[0].field == "photoshop:Credit" and r.generators == ["Adobe Firefly"]


def test_jpeg_extended_xmp_reassembled(tmp_path: Path) -> None:
    big = s.xmp_packet("compositeWithTrainedAlgorithmicMedia", padding=200_000)  # needs 4 APP1 segments
    r = scan_file(write(tmp_path, "ext.jpg", s.jpeg(extended_xmp=big)))
    assert r.verdict == "ai_composite" and r.evidence[0].location == "APP1 extended XMP"


def test_jpeg_exif_user_comment_and_software(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "e.jpg", s.jpeg(exif_data=s.exif(user_comment=A1111))))
    assert r.verdict == "ai_generated" and r.prompt_embedded
    assert r.evidence[0].field == "UserComment" and "EXIF IFD" in r.evidence[0].location
    r = scan_file(write(tmp_path, "f.jpg", s.jpeg(exif_data=s.exif(software="DALL-E 3", description="a cat"))))
    assert r.verdict == "ai_generated" and r.evidence[0].field == "Software"


def test_jpeg_c2pa_split_over_many_app11_segments(tmp_path: Path) -> None:
    store = s.c2pa_store([
        {"label": "urn:c2pa:ingredient", "actions": [s.created("trainedAlgorithmicMedia", "Midjourney")]},
        {"label": "urn:c2pa:active", "actions": [{"action": "c2pa.color_adjustments"}]},
    ])
    r = scan_file(write(tmp_path, "multi.jpg", s.jpeg(c2pa=store, app11_chunk=97)))
    assert r.error is None
    assert r.verdict == "ai_generated"
    assert {e.manifest for e in r.evidence} == {"urn:c2pa:ingredient", "urn:c2pa:active"}
    assert next(e for e in r.evidence if e.verdict == "ai_generated").active_manifest is False


def test_c2pa_v1_actions_and_claim_generator(tmp_path: Path) -> None:
    store = s.c2pa_store([{"actions_label": "c2pa.actions", "claim_generator": "Runway Gen-4",
                           "actions": [{"action": "c2pa.created",
                                        "digitalSourceType": "compositeWithTrainedAlgorithmicMedia"}]}])
    r = scan_file(write(tmp_path, "v1.jpg", s.jpeg(c2pa=store)))
    assert r.verdict == "ai_composite"
    assert r.evidence[0].field == "c2pa.actions/c2pa.created/digitalSourceType"
    assert r.evidence[0].generator == "Runway Gen-4 1.0"


def test_tiff_xmp_and_c2pa_tags(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "x.tif", s.tiff({700: (1, s.xmp_packet("trainedAlgorithmicMedia"))})))
    assert r.verdict == "ai_generated" and "tag 700" in r.evidence[0].location
    store = s.c2pa_store([{"actions": [s.created("digitalCapture")]}])
    r = scan_file(write(tmp_path, "c.dng", s.tiff({52545: (7, store)}, little=False)))
    assert r.verdict == "camera" and "tag 52545" in r.evidence[0].location
    r = scan_file(write(tmp_path, "s.tiff", s.tiff({305: s.ascii_value("Stable Diffusion 3.5")})))
    assert r.verdict == "ai_generated" and r.evidence[0].field == "Software"


def test_exr_clearance_attributes(tmp_path: Path) -> None:
    data = s.exr({"clearance/record_ids": json.dumps([RECORD_A, RECORD_B]), "software": "Nuke 15.1v3"})
    r = scan_file(write(tmp_path, "comp.exr", data))
    assert r.error is None and r.format == "exr"
    assert r.record_ids == [RECORD_A, RECORD_B]
    assert r.verdict == "ai_composite"
    assert r.evidence[0].field == "clearance/record_ids"
    r = scan_file(write(tmp_path, "plain.exr", s.exr({"software": "Nuke 15.1v3", "owner": "vendor"})))
    assert r.verdict == "none" and r.evidence == []
    r = scan_file(write(tmp_path, "gen.exr", s.exr({"comments": "upscaled with ComfyUI"})))
    assert r.verdict == "ai_generated" and r.generators == ["ComfyUI"]


def test_exr_is_valid_for_exiftool(tmp_path: Path) -> None:
    """Our EXR builder writes a header another reader accepts (so tests are not only self-consistent)."""
    if not shutil.which("exiftool"):
        pytest.skip("exiftool not installed")
    path = write(tmp_path, "comp.exr", s.exr({"clearance/record_ids": RECORD_A}))
    out = subprocess.run(["exiftool", "-j", "-G", str(path)], capture_output=True, text=True, check=True).stdout
    row = json.loads(out)[0]
    assert row.get("OpenEXR:DataWindow") == "0 0 0 0" and row.get("OpenEXR:Compression") == "None"
    assert RECORD_A in json.dumps(row)


def test_dpx_creator_and_device(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "plate.dpx", s.dpx(creator="Runway Gen-3 Alpha export", project="SHOW")))
    assert r.verdict == "ai_generated" and r.evidence[0].field == "creator"
    assert r.generators == ["Runway Gen-3"]
    r = scan_file(write(tmp_path, "scan.dpx", s.dpx(creator="ARRISCAN", input_device="ARRISCAN XT")))
    assert r.verdict == "none"
    r = scan_file(write(tmp_path, "u.dpx", s.dpx(user_data="made with Midjourney")))
    assert r.verdict == "ai_generated" and r.evidence[0].location == "user data"


def test_webp_xmp_and_wav_c2pa_after_big_data_chunk(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "w.webp", s.webp(xmp=s.xmp_packet("trainedAlgorithmicMedia"))))
    assert r.verdict == "ai_generated" and r.evidence[0].location == "XMP chunk"
    store = s.c2pa_store([{"actions": [s.created("trainedAlgorithmicMedia", "ElevenLabs")]}])
    r = scan_file(write(tmp_path, "voice.wav", s.wav(c2pa=store, data_size=2_000_000)))
    assert r.verdict == "ai_generated" and r.evidence[0].location == "C2PA chunk"
    assert r.bytes_read < 64 * 1024
    r = scan_file(write(tmp_path, "isft.wav", s.wav(software="Suno AI v4 made with Stable Diffusion")))
    assert r.verdict == "ai_generated" and "ISFT" in r.evidence[0].location


def test_mp4_c2pa_and_xmp_uuid(tmp_path: Path) -> None:
    store = s.c2pa_store([{"actions": [s.created("compositeWithTrainedAlgorithmicMedia")]}])
    r = scan_file(write(tmp_path, "m.mp4", s.mp4(c2pa=store, mdat_size=3_000_000)))
    assert r.verdict == "ai_composite" and r.bytes_read < 64 * 1024
    r = scan_file(write(tmp_path, "x.mov", s.mp4(xmp=s.xmp_packet("trainedAlgorithmicMedia"))))
    assert r.verdict == "ai_generated" and r.evidence[0].location == "uuid (XMP)"


def test_xmp_sidecar(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "plate.xmp", s.xmp_packet("trainedAlgorithmicMedia")))
    assert r.verdict == "ai_generated" and r.format == "xmp"


def test_format_detected_by_magic_not_extension(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "really_a_png.jpg", s.png(text={"parameters": A1111})))
    assert r.verdict == "ai_generated" and r.format == "png"
    assert r.error and "named as JPEG but the content is PNG" in r.error
    r = scan_file(write(tmp_path, "notes.exr", b"this is a text file\n"))
    assert r.format is None and r.error and "not a OpenEXR file" in r.error
    r = scan_file(write(tmp_path, "README", b"plain text"))
    assert r.format is None and r.error is None and r.verdict == "none"


def test_scan_paths_recursive_and_jobs(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    write(tmp_path / "a", "one.png", s.png(text={"parameters": A1111}))
    write(tmp_path / "a" / "b", "two.jpg", s.jpeg(xmp=s.xmp_packet("digitalCapture")))
    write(tmp_path / "a" / "b", ".hidden.jpg", s.jpeg(xmp=s.xmp_packet("trainedAlgorithmicMedia")))
    flat = scan_paths([tmp_path / "a"])
    assert [Path(r.path).name for r in flat] == ["one.png"]
    deep = scan_paths([tmp_path / "a"], recursive=True)
    assert [(Path(r.path).name, r.verdict) for r in deep] == [("one.png", "ai_generated"), ("two.jpg", "camera")]
    for i in range(70):
        write(tmp_path / "a", f"n{i:02d}x.png", s.png())
    parallel = scan_paths([tmp_path / "a"], recursive=True, jobs=2)
    serial = scan_paths([tmp_path / "a"], recursive=True)
    assert [r.model_dump() for r in parallel] == [r.model_dump() for r in serial]


def test_mp3_id3_c2pa_and_text_frames(tmp_path: Path) -> None:
    store = s.c2pa_store([{"actions": [s.created("trainedAlgorithmicMedia", "ElevenLabs")]}])
    r = scan_file(write(tmp_path, "vo.mp3", s.mp3(c2pa=store, encoder="Lavf60.3.100")))
    assert r.verdict == "ai_generated" and r.evidence[0].location == "ID3 GEOB (C2PA)"
    assert r.evidence[0].generator.startswith("ElevenLabs")
    r = scan_file(write(tmp_path, "song.mp3", s.mp3(comment="created with Stable Audio by Stability AI")))
    assert r.verdict == "ai_generated" and r.evidence[0].field == "COMM (comment)"
    r = scan_file(write(tmp_path, "plain.mp3", s.mp3(encoder="LAME 3.100")))
    assert r.verdict == "none" and r.error is None
    bare = s.mp3()
    r = scan_file(write(tmp_path, "bare.mp3", bare[bare.index(b"\xff\xfb") :]))  # no ID3 tag at all
    assert r.format == "mp3" and r.error is None and r.verdict == "none"


def test_webp_exif_user_comment(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "forge.webp", s.webp_exif(s.exif(user_comment=A1111))))
    assert r.verdict == "ai_generated" and r.prompt_embedded
    assert r.evidence[0].location.startswith("EXIF chunk")


def test_heif_meta_items_xmp_and_exif(tmp_path: Path) -> None:
    r = scan_file(write(tmp_path, "a.heic", s.heif(xmp=s.xmp_packet("trainedAlgorithmicMedia"))))
    assert r.verdict == "ai_generated" and r.evidence[0].location == "meta item (XMP)"
    r = scan_file(write(tmp_path, "b.heic", s.heif(exif_data=s.exif(software="Image Playground 1.0"))))
    assert r.verdict == "ai_generated" and r.generators == ["Image Playground"]
    r = scan_file(write(tmp_path, "c.avif", s.heif(exif_data=s.exif(software="iOS 18.1"), mdat_size=500_000)))
    assert r.verdict == "none" and r.error is None and r.bytes_read < 64 * 1024


def test_png_json_generation_settings_and_midjourney_description(tmp_path: Path) -> None:
    novelai = json.dumps({"prompt": "a castle", "steps": 28, "sampler": "k_euler", "seed": 7, "scale": 5})
    r = scan_file(write(tmp_path, "nai.png", s.png(text={"Software": "NovelAI", "Comment": novelai})))
    assert r.verdict == "ai_generated" and r.prompt_embedded
    swarm = json.dumps({"sui_image_params": {"prompt": "a bridge", "seed": 3, "steps": 20, "model": "flux1-dev"}})
    r = scan_file(write(tmp_path, "swarm.png", s.png(text={"parameters": swarm})))
    assert r.verdict == "ai_generated" and r.generators == ["flux1-dev"] and r.confidence >= 0.9
    mj = "a lighthouse in fog --ar 16:9 --v 6 Job ID: 1a2b3c4d-0000-4000-8000-000000000000"
    r = scan_file(write(tmp_path, "mj.png", s.png(text={"Description": mj})))
    assert r.verdict == "ai_generated" and r.generators == ["Midjourney"] and r.prompt_embedded
    notes = json.dumps({"prompt": "call the client back"})  # a prompt key alone is not generation settings
    r = scan_file(write(tmp_path, "notes.png", s.png(text={"Comment": notes})))
    assert r.verdict == "none"


def test_remote_manifest_reference_is_reported_not_fetched(tmp_path: Path) -> None:
    url = "https://manifests.example.com/urn-uuid-1234"
    packet = s.xmp_packet().replace(b"<rdf:Description rdf:about=\"\" ", b"<rdf:Description rdf:about=\"\" "
                                    b"xmlns:dcterms=\"http://purl.org/dc/terms/\" dcterms:provenance=\"" + url.encode()
                                    + b"\" ")
    path = write(tmp_path, "cloud.jpg", s.jpeg(xmp=packet))
    r = scan_file(path)
    assert r.verdict == "none" and r.error is None
    assert r.evidence[0].field.startswith("dcterms:provenance") and r.evidence[0].value == url
    checked = scan_file(path, verify=True).c2pa
    assert checked is not None and checked.status == "remote"  # offline: reported, never fetched


def test_xml_that_is_not_xmp_is_not_read_as_xmp(tmp_path: Path) -> None:
    svg = b'<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg xmlns="http://www.w3.org/2000/svg"><x:xmpmeta/></svg>'
    r = scan_file(write(tmp_path, "logo.svg", svg))
    assert r.format is None and r.error is None
