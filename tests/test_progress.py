"""The shared progress bar: drawn on a terminal after a delay, silent and rich-free otherwise."""

from __future__ import annotations

import io
import subprocess
import sys

from clearance.progress import progress, wanted


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_not_a_terminal_draws_nothing(monkeypatch) -> None:
    monkeypatch.delenv("CLEARANCE_PROGRESS", raising=False)
    out = io.StringIO()
    assert not wanted(out)
    with progress("Checking", total=1000, stream=out, delay=0) as bar:
        for _ in range(1000):
            bar.advance()
    assert bar.completed == 1000
    assert out.getvalue() == ""


def test_terminal_draws_a_bar_after_the_delay(monkeypatch) -> None:
    monkeypatch.delenv("CLEARANCE_PROGRESS", raising=False)
    out = _Tty()
    assert wanted(out)
    with progress("Checking clips", total=500, stream=out, delay=0) as bar:
        for _ in range(500):
            bar.advance()
    assert "Checking clips" in out.getvalue()


def test_short_runs_stay_silent_on_a_terminal(monkeypatch) -> None:
    monkeypatch.delenv("CLEARANCE_PROGRESS", raising=False)
    out = _Tty()
    with progress("Checking", total=10, stream=out, delay=60) as bar:
        for _ in range(10):
            bar.advance()
    assert out.getvalue() == ""


def test_switch_overrides_the_terminal_test(monkeypatch) -> None:
    monkeypatch.setenv("CLEARANCE_PROGRESS", "0")
    assert not wanted(_Tty())
    monkeypatch.setenv("CLEARANCE_PROGRESS", "1")
    assert wanted(io.StringIO())


def test_rich_is_not_imported_when_no_bar_is_drawn() -> None:
    code = ("import sys, io; from clearance.progress import progress\n"
            "with progress('x', 10, stream=io.StringIO(), delay=0) as b:\n"
            "    [b.advance() for _ in range(200)]\n"
            "print('rich' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PATH": "", "PYTHONPATH": ":".join(sys.path)})
    assert done.stdout.strip() == "False"
