"""The `clearance` command line."""

import os

# pydantic looks for plugins by scanning the metadata of every installed distribution the first time a
# model is built: a tenth of a second on each run of a short command, for plugins Clearance does not use.
# PYDANTIC_DISABLE_PLUGINS is pydantic's documented switch ("Pydantic Plugins" in its docs); a user who
# wants a plugin for the CLI sets the variable to something else.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
