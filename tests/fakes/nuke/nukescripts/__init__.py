"""Fake ``nukescripts``: only ``nukescripts.panels`` is used (Foundry's Python API reference)."""

from nukescripts import panels  # noqa: F401
from nukescripts.panels import registerWidgetAsPanel  # noqa: F401
