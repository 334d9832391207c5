# Clearance for Nuke, GUI only: the Clearance menu, the dockable panel, the GenAI tab on new nodes.
try:
    import clearance_nuke.boot as _clearance_boot

    _clearance_boot.menu()
except Exception as _clearance_exc:
    print(f"Clearance: menu not loaded ({type(_clearance_exc).__name__}: {_clearance_exc}); see docs/hosts/nuke.md")
