"""Clearance for DaVinci Resolve: the Workspace > Scripts > Edit scripts' shared code.

``Clearance Tag.py`` and ``Clearance Check.py`` call ``tag.main`` and ``check.main`` with the ``resolve``
and ``bmd`` objects Resolve gives a script. Everything that decides lives in the core package ``clearance``.
"""

__version__ = "0.1.0"
