"""Whether any installed distribution declares an entry point in a group, with one read per process.

Finding a group's entry points (``importlib.metadata.entry_points(group=...)``) parses every installed
distribution's ``entry_points.txt``: 6 to 8 ms in an environment of a hundred packages, and a command would
pay it once for Clearance's rule packs and once more for pydantic's plugins, although neither group is
usually declared at all. Here the files are read once and only searched for the group's name; the callers ask
``importlib.metadata`` as before when it is there.

The answer is sound in one direction: ``declared`` is False only when no distribution that
``importlib.metadata.distributions()`` finds declares the group. The standard library reads a distribution's
entry points from that same file (``Distribution.entry_points``), and a section's name from a line holding it
between brackets (``Sectioned.read`` in ``importlib/metadata/__init__.py``, Python 3.11), so a file without the
name declares nothing in the group. A file that holds the name elsewhere only costs the full search.
"""

from __future__ import annotations

import functools
from importlib.metadata import distributions


@functools.cache
def _entry_point_files() -> tuple[str, ...]:
    texts = []
    for dist in distributions():
        text = dist.read_text("entry_points.txt")
        if text:
            texts.append(text)
    return tuple(texts)


def declared(group: str) -> bool:
    """Whether some installed distribution may declare entry points in ``group`` (False: none does)."""
    try:
        texts = _entry_point_files()
    except Exception:  # unreadable metadata: the caller's own search meets it and answers as it always did
        return True
    return any(group in text for text in texts)


def forget() -> None:
    """Read the distributions again on the next question (after installing one into a running process)."""
    _entry_point_files.cache_clear()
