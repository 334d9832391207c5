"""Builds the disclosure manifest (records, decisions, approvals, policy version, file digests) and puts
the record ids into the published metadata (``instance.data["clearance_record_ids"]``)."""

import pyblish.api

from clearance.pyblish import publishing


class ExtractClearanceDisclosure(pyblish.api.ContextPlugin):
    """Hash every published file and gather what the disclosure manifest says about it."""

    label = "Clearance: disclosure manifest"
    order = pyblish.api.ExtractorOrder
    hosts = ["*"]

    def process(self, context):
        manifest = publishing.extract(context, pyblish.api.current_host())
        self.log.info("%d item(s), %d record(s) in the disclosure manifest", len(manifest.items),
                      len(manifest.records))
