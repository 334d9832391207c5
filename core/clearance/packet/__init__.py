"""The delivery packet: a readable register and a signed, machine-readable bundle of every GenAI use (docs/packet.md).

``sources``: facts from the service or the local cache; ``assess``: per use, per shot, Article 50;
``render``: HTML and PDF; ``bundle``: write and verify; ``build``: all of it for one production.
"""

from __future__ import annotations
