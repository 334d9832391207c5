"""The policy: settings for TDs and the engine that decides on a use record."""
