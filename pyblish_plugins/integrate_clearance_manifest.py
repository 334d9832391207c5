"""Writes ``clearance-disclosure.json`` next to the published files, last, once they are in place.

Hosts other than standalone set ``context.data["clearance_destination"]`` to their publish folder.
"""

import pyblish.api

from clearance.pyblish import publishing


class IntegrateClearanceManifest(pyblish.api.ContextPlugin):
    """The disclosure manifest goes in after the files it describes."""

    label = "Clearance: write disclosure manifest"
    order = pyblish.api.IntegratorOrder + 0.4
    hosts = ["*"]

    def process(self, context):
        path = publishing.write_disclosure(context)
        if path is None:
            self.log.warning("no clearance_destination on the context: the disclosure manifest was not written")
        else:
            self.log.info("disclosure manifest: %s", path)
