"""Clearance for Nuke: the GenAI tab, callbacks, the Clearance menu and panel.

Start-up goes through ``boot``: ``init.py`` calls ``boot.init()`` (no UI: farms, ``nuke -t``) and
``menu.py`` calls ``boot.menu()`` (GUI). Everything that decides lives in the core package ``clearance``.
"""

__version__ = "0.1.0"
