"""Host-side helpers that need a host's Python API (imported lazily): what a host stores and where."""
