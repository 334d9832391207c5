"""The client sends a small picture of each target it can render, and the service keeps it for the approver.

A real `clearance serve`; real files: a vendored PNG, a middle frame of a numbered sequence, a large TIFF
scaled down with Pillow, the middle frame of a vendored MP4 through PyAV; a target with no file, and a file
that is no picture, get no preview and break nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_fixtures import png
from server_fixtures import PRODUCTION, LiveServer, record_body, start_server

from clearance.client import DisclosureClient
from clearance.record import UseRecord
from clearance.thumbnails import MAX_BYTES, preview, sniff, target_file

DATA = Path(__file__).resolve().parent / "data" / "provenance"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("previews-server"))
    try:
        server.add_user_direct("ana.artist", "artist", PRODUCTION, "artist-secret-1")
        yield server
    finally:
        server.stop()


def test_sequences_send_their_middle_frame(tmp_path: Path) -> None:
    for frame, colour in ((1001, (255, 0, 0)), (1002, (0, 255, 0)), (1003, (0, 0, 255))):
        (tmp_path / f"sky.{frame}.png").write_bytes(png(8, 8, colour))
    for spelling in ("sky.####.png", "sky.%04d.png", "sky.@@@@.png"):
        assert target_file({"kind": "file", "ref": spelling}, tmp_path) == tmp_path / "sky.1002.png"
    assert preview({"kind": "shot", "ref": "sh010", "path": "sky.####.png"}, tmp_path) == (
        png(8, 8, (0, 255, 0)), "image/png")
    assert preview({"kind": "file", "ref": "nothing.####.png"}, tmp_path) is None
    assert preview({"kind": "shot", "ref": "sh010"}, tmp_path) is None, "no file named: no preview"


def test_large_stills_and_movies_are_scaled_down(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (4000, 2250), (90, 30, 200)).save(tmp_path / "plate.tif")
    assert (tmp_path / "plate.tif").stat().st_size > MAX_BYTES
    data, kind = preview({"kind": "file", "ref": "plate.tif"}, tmp_path) or (b"", "")
    assert kind == "image/jpeg" and sniff(data) == "image/jpeg" and len(data) <= MAX_BYTES
    with Image.open(__import__("io").BytesIO(data)) as small:
        assert max(small.size) <= 960
    shutil.copy(DATA / "video1.mp4", tmp_path / "shot.mp4")
    frame = preview({"kind": "file", "ref": "shot.mp4"}, tmp_path)
    assert frame is not None and sniff(frame[0]) == "image/jpeg"
    (tmp_path / "notes.png").write_text("not a picture")
    assert preview({"kind": "file", "ref": "notes.png"}, tmp_path) is None


def test_submit_sends_previews_that_the_service_keeps(site: LiveServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(DATA / "libpng-test.png", tmp_path / "sign.png")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLEARANCE_HOME", str(tmp_path / "home"))
    body = record_body("approval_required", targets=[
        {"kind": "file", "ref": "sign.png", "path": "sign.png"},
        {"kind": "shot", "ref": "sh010"},
        {"kind": "file", "ref": "missing.png"},
    ])
    with DisclosureClient(site.url, site.tokens["ana.artist"]) as client:
        assert client.submit(UseRecord.model_validate(body)).state == "sent"
        listed = client.request("GET", f"/records/{body['id']}/previews")["previews"]
        assert [p["target"] for p in listed] == ["file:sign.png"]
        assert listed[0]["media_type"] == "image/png"
        monkeypatch.setenv("CLEARANCE_PREVIEWS", "0")
        assert client.send_previews(body) == []


def test_cli_submit_finds_pictures_beside_the_record_file(site: LiveServer, tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    folder = tmp_path / "shots" / "sh020"
    folder.mkdir(parents=True)
    (folder / "sign.png").write_bytes(png(32, 18, (10, 200, 90)))
    body = record_body("approval_required", targets=[{"kind": "shot", "ref": "sh020", "path": "sign.png"}])
    (folder / "record.json").write_text(json.dumps(body))
    env = {**os.environ, "CLEARANCE_SERVER": site.url, "CLEARANCE_TOKEN": site.tokens["ana.artist"],
           "CLEARANCE_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-m", "clearance.cli.main", "submit", str(folder / "record.json")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = site.get(f"/records/{body['id']}/previews", site.tokens["ana.artist"]).json()["previews"]
    assert [p["target"] for p in listed] == ["shot:sh020"]


def test_a_record_keeps_at_most_fifty_previews(site: LiveServer) -> None:
    import requests

    from clearance.server.previews import MAX_PER_RECORD

    body = record_body("approval_required", targets=[{"kind": "shot", "ref": f"sh{n:03d}"}
                                                     for n in range(MAX_PER_RECORD + 1)])
    assert site.post("/records", site.tokens["ana.artist"], body).status_code == 201
    headers = {**site.headers(site.tokens["ana.artist"]), "Content-Type": "image/png"}
    url = f"{site.url}/api/v1/records/{body['id']}/previews"
    with requests.Session() as http:
        codes = [http.put(url, params={"target": f"shot:sh{n:03d}"}, data=png(4, 4, (n, n, n)), headers=headers,
                          timeout=10).status_code for n in range(MAX_PER_RECORD + 1)]
    assert codes == [201] * MAX_PER_RECORD + [422]
    again = requests.put(url, params={"target": "shot:sh000"}, data=png(4, 4, (9, 9, 9)), headers=headers, timeout=10)
    assert again.status_code == 201, "replacing a kept preview is not a new one"
