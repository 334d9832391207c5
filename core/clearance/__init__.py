"""Clearance: GenAI disclosure and clearance for film and TV pipelines."""

__version__ = "0.1.0"
