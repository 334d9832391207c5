"""Editorial: Clearance tags on OTIO timelines, the delivery check, its reports and the OTIO hook.

OpenTimelineIO imports this package through the ``opentimelineio.plugins`` entry point every time it
builds its plugin manifest, and reads ``plugin_manifest.json`` beside it. Keep this module free of
imports: every OTIO user on the machine pays for them.
"""
