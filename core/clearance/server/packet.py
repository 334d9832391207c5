"""The register page's "Delivery packet" download: the same packet `clearance packet` builds, as a zip.

Built on the service from what it holds (every record of the production the approver can see, the signed
approvals, the signed revocation list, the keys), HTML only and without a cut (a cut lives with the editor:
`clearance packet PRODUCTION --cut CUT`), signed with the service host's signing identity (the policy's
``credentials`` section, else the test identity of `clearance credentials init` on that host). Approvers and
admins of the production only: the packet shows every vendor's uses.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from fastapi import APIRouter, Request, Response

from clearance.errors import ClearanceError
from clearance.server.auth import OVERSIGHT_ROLES
from clearance.server.errors import ServiceError

router = APIRouter(include_in_schema=False)  # a page download, not part of the /api/v1 contract


@router.get("/register/{production}/packet.zip", name="register_packet")
def packet_zip(request: Request, production: str) -> Response:
    from clearance.credentials.identity import resolve_identity
    from clearance.packet.build import build_packet
    from clearance.packet.sources import PacketSource, add_view
    from clearance.server import reads, revocations
    from clearance.server.web import page_actor

    actor = page_actor(request)
    if not actor.has_role(production, *OVERSIGHT_ROLES):
        raise ServiceError(404, f"production {production} not found")
    db = request.app.state.db
    try:
        identity = resolve_identity(request.app.state.decider.policy.credentials)
    except ClearanceError as exc:
        raise ServiceError(409, f"the service cannot sign a packet: {exc}") from None
    source = PacketSource(production=production, origin=f"service {request.base_url}".rstrip("/"))
    offset = 0
    while True:
        page = reads.list_records(db, actor, production=production, limit=5000, offset=offset)
        for row in page["records"]:
            add_view(source, reads.record_detail(db, actor, str(row["id"])))
        offset += len(page["records"])
        if not page["records"] or offset >= page["total"]:
            break
    if not source.records:
        raise ServiceError(409, f"production {production} has no record yet: there is nothing to put in a packet")
    ring = request.app.state.keyring()
    source.revocations = {"documents": [ring.sign_document(revocations.revocations(db, actor))]}
    source.keys = ring.public_keys_document()
    from clearance.server import checkpoints

    with db.read() as session:
        source.checkpoint = checkpoints.latest(session)
    if source.checkpoint is None:
        source.notes.append("the service has signed no audit checkpoint yet: the packet carries none")
    with tempfile.TemporaryDirectory(prefix="clearance-packet-") as work:
        folder = Path(work) / f"packet-{production}"
        try:
            build_packet(source, folder, identity, pdf=False)
        except ClearanceError as exc:
            raise ServiceError(409, f"the packet could not be built: {exc}") from None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="packet-{production}.zip"'})
