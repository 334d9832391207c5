"""Regenerate the reference pages from the code: rules.md, record-reference.md and the settings table
of policy-settings.md (the prose above its "## Every setting" heading is hand-written and kept).

Run: .venv/bin/python docs/gen_docs.py   (tests/test_policy_docs.py fails when a page is out of date)
"""

from __future__ import annotations

import sys
from pathlib import Path

from clearance.policy.reference import record_reference_markdown, rules_markdown, settings_markdown

DOCS = Path(__file__).resolve().parent
MARKER = "\n## Every setting\n"


def pages() -> dict[str, str]:
    settings_page = (DOCS / "policy-settings.md").read_text(encoding="utf-8")
    intro = settings_page.split(MARKER, 1)[0]
    return {
        "rules.md": rules_markdown(),
        "record-reference.md": record_reference_markdown(),
        "policy-settings.md": settings_markdown(intro),
    }


def main() -> int:
    check = "--check" in sys.argv
    stale = []
    for name, text in pages().items():
        path = DOCS / name
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not check:
            path.write_text(text, encoding="utf-8")
    if check and stale:
        print(f"out of date: {', '.join(stale)}; run .venv/bin/python docs/gen_docs.py", file=sys.stderr)
        return 1
    print("written: " + (", ".join(stale) or "nothing (all up to date)") if not check else "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
