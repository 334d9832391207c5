"""Content Credentials on publish: the signing identity is checked before any file goes out, then every
published file of a deliverable family (policy ``credentials.families``) is signed in place.

Settings: ``credentials.sign_on_publish``, ``credentials.families``, ``credentials.composite_families`` and the
identity (``credentials.cert_chain`` / ``key`` / ``signer_command``); see docs/credentials.md.
"""

import pyblish.api

from clearance.credentials import publish


class ValidateClearanceSigningIdentity(pyblish.api.ContextPlugin):
    """Refuse the publish before anything is copied when a deliverable must be signed and nobody can sign it.

    A validator (pyblish stops after failed validation), so no file goes out unsigned.

    How to fix: set credentials.cert_chain and credentials.key (or credentials.signer_command) in the studio
    policy, or run `clearance credentials init` for a test identity.
    """

    label = "Clearance: signing identity for Content Credentials"
    order = pyblish.api.ValidatorOrder + 0.4
    hosts = ["*"]

    def process(self, context):
        identity = publish.resolve_for_publish(context)
        if identity is not None:
            self.log.info("deliverables will be signed by %s", identity.subject)


class IntegrateClearanceCredentials(pyblish.api.ContextPlugin):
    """Write Content Credentials (C2PA) into each published deliverable, after the files are in place."""

    label = "Clearance: Content Credentials"
    order = pyblish.api.IntegratorOrder + 0.2
    hosts = ["*"]

    def process(self, context):
        for result in publish.sign_published(context):
            for line in result.lines():
                self.log.info(line)
