# Clearance for Nuke, run by Nuke at start-up everywhere (GUI, `nuke -t`, render farm).
# No UI here, and it never raises: a Clearance problem must not stop Nuke or a render from starting.
try:
    import clearance_nuke.boot as _clearance_boot

    _clearance_boot.init()
except Exception as _clearance_exc:  # noqa: BLE001
    print(f"Clearance: not loaded ({type(_clearance_exc).__name__}: {_clearance_exc}); see docs/hosts/nuke.md")
