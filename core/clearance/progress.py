"""Progress bars for CLI runs that can take more than a second (check, scan, tag, publish, sync, pull).

A bar is drawn on standard error, and only when standard error is a terminal: output piped to a file or
read by a script stays exactly as it was, and `rich` is not even imported then. A bar appears only once
the run has lasted ``DELAY`` seconds, so quick runs print nothing extra. ``CLEARANCE_PROGRESS=0`` turns
bars off everywhere; ``CLEARANCE_PROGRESS=1`` forces them on (for terminals that do not say they are).

    with progress("Checking clips", total=len(clips)) as bar:
        for clip in clips:
            ...
            bar.advance()
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

ENV_SWITCH = "CLEARANCE_PROGRESS"
DELAY = 0.5  # seconds before a bar is shown: below that a bar is only flicker
_CHECK_EVERY = 64  # advances between clock reads while the bar is not shown yet


def wanted(stream: IO[str] | None = None) -> bool:
    """Whether a bar should be drawn on ``stream`` (standard error by default)."""
    switch = os.environ.get(ENV_SWITCH, "").strip().lower()
    if switch in {"0", "false", "no", "off"}:
        return False
    if switch in {"1", "true", "yes", "on"}:
        return True
    target = stream if stream is not None else sys.stderr
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


class Bar:
    """Counts work done; draws a `rich` bar once the run is long enough. Cheap per call when hidden."""

    def __init__(self, description: str, total: int | None, stream: IO[str] | None, enabled: bool,
                 delay: float) -> None:
        self.description = description
        self.total = total
        self.completed = 0
        self._stream = stream
        self._enabled = enabled
        self._delay = delay
        self._started = time.monotonic()
        self._pending = 0
        self._rich: Any = None
        self._task: Any = None

    def advance(self, amount: int = 1) -> None:
        self.completed += amount
        if not self._enabled:
            return
        if self._rich is not None:
            self._rich.update(self._task, completed=self.completed)
            return
        self._pending += 1
        if self._pending >= _CHECK_EVERY or amount > 1:
            self._pending = 0
            if time.monotonic() - self._started >= self._delay:
                self._show()

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        """Change the total (once it is known) or the words beside the bar."""
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        if self._rich is not None:
            self._rich.update(self._task, total=self.total, description=self.description)

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(file=self._stream or sys.stderr, force_terminal=True if self._stream else None)
        self._rich = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), console=console, transient=True,
        )
        self._rich.start()
        self._task = self._rich.add_task(self.description, total=self.total, completed=self.completed)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None


@contextmanager
def progress(description: str, total: int | None = None, *, stream: IO[str] | None = None,
             enabled: bool | None = None, delay: float = DELAY) -> Iterator[Bar]:
    """A bar for one run; removed from the terminal when the run ends (the command prints its summary)."""
    bar = Bar(description, total, stream, wanted(stream) if enabled is None else enabled, delay)
    try:
        yield bar
    finally:
        bar.close()


@contextmanager
def activity(description: str, *, stream: IO[str] | None = None, enabled: bool | None = None,
             delay: float = DELAY) -> Iterator[None]:
    """A spinner for one step that cannot count its work (reading a timeline, waiting for the service)."""
    if not (wanted(stream) if enabled is None else enabled):
        yield
        return
    import threading

    shown: list[Any] = []
    lock = threading.Lock()

    def show() -> None:
        from rich.console import Console

        with lock:
            if shown == [None]:  # the step ended first
                return
            console = Console(file=stream or sys.stderr, force_terminal=True if stream else None)
            status = console.status(description)
            status.start()
            shown.append(status)

    timer = threading.Timer(delay, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            for status in shown:
                status.stop()
            shown[:] = [None]
