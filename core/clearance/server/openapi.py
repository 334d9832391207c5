"""Write the service's OpenAPI document: ``python -m clearance.server.openapi docs/openapi.json``.

docs/openapi.json is this output, committed; a test checks it still matches the app.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def document() -> dict[str, Any]:
    from clearance.server.app import create_app
    from clearance.server.config import ServerConfig

    with tempfile.TemporaryDirectory() as tmp:  # the app needs a database URL; nothing is written to it
        app = create_app(ServerConfig(db=f"sqlite:///{tmp}/openapi.sqlite3", keys_dir=f"{tmp}/keys"))
        spec = app.openapi()
        app.state.db.dispose()
    return spec


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if len(argv) > 1:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
