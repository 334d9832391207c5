# Clearance for Nuke, run by Nuke at start-up everywhere (GUI, `nuke -t`, `nuke -x`, `nuke -F`, render farms).
# No UI here. If Clearance fails to load where there is no GUI (a render node), every render is stopped with
# one line saying why, because an ungated farm would let unapproved material out (policy setting
# hosts.nuke.fail_closed, on by default). In the GUI a load failure is a printed warning only.
# Only the standard library and `nuke` are used below: this must work when Clearance itself is broken.
try:
    import clearance_nuke.boot as _clearance_boot

    _clearance_boot.init()
except BaseException as _clearance_exc:
    import nuke as _clearance_nuke

    _clearance_why = (
        f"not loaded ({type(_clearance_exc).__name__}: {_clearance_exc}); "
        "run `clearance install nuke` or fix the install (docs/hosts/nuke.md)"
    )

    def _clearance_fail_closed() -> bool:
        # the policy can only switch this off when the core still loads and reads it; otherwise stay closed
        try:
            from clearance.hosts.status import current_policy

            return bool(current_policy().hosts.nuke.fail_closed)
        except BaseException:
            return True

    if not _clearance_nuke.GUI and _clearance_fail_closed():

        def _clearance_refuse_render(why: str = _clearance_why) -> None:
            raise RuntimeError(f"Clearance {why}; the render is stopped (policy hosts.nuke.fail_closed)")

        _clearance_nuke.addBeforeRender(_clearance_refuse_render, nodeClass="*")
        print(f"Clearance: {_clearance_why}; every render on this node is stopped until it loads")
    else:
        print(f"Clearance: {_clearance_why}")
