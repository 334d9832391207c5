"""Standalone publish: copies the manifest's files to the destination, with a record-id sidecar each."""

import pyblish.api

from clearance.pyblish import publishing


class IntegrateClearanceStandaloneFiles(pyblish.api.ContextPlugin):
    """Copy each file, check its sha256 after the copy, and write ``<file>.clearance.json``."""

    label = "Clearance: publish files"
    order = pyblish.api.IntegratorOrder
    hosts = ["standalone", "shell"]

    def process(self, context):
        written = publishing.copy_standalone(context)
        self.log.info("%d file(s) written to %s", len(written), context.data["clearance_destination"])
