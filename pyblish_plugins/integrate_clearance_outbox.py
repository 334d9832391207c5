"""Queues the records not yet disclosed in the outbox, before any file is integrated: the studio is
notified before the work goes out (``clearance sync`` or the next submit sends them)."""

import pyblish.api

from clearance.pyblish import publishing


class IntegrateClearanceOutbox(pyblish.api.ContextPlugin):
    """Notification first: queue undisclosed records before the files go out."""

    label = "Clearance: queue disclosures"
    order = pyblish.api.IntegratorOrder - 0.4
    hosts = ["*"]

    def process(self, context):
        added = publishing.queue_notifications(context)
        self.log.info("%d record(s) queued in the outbox", added)
