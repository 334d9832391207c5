"""Content Credentials (C2PA) written into deliverables from their use records, and read back (docs/credentials.md).

``identity``: who signs; ``uses``: what a deliverable discloses about each record; ``signing``: write the
manifest (embedded or ``.c2pa`` sidecar); ``reading``: what a C2PA reader will see.
"""

from __future__ import annotations
