"""Run many `clearance` commands in this one process and report how each ended, as JSON on stdout.

    python tests/hostile_driver.py CASES.json

CASES.json is a list of {"id": ..., "argv": [...]}. Each command gets at most TIME_LIMIT_S seconds (an
alarm interrupts a hang, even one blocked in open()). The caller runs this under resource limits
(address space), so a command that tries to eat memory fails here instead of taking the machine.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
import time
from types import FrameType

TIME_LIMIT_S = 10


class CaseTimedOut(BaseException):
    """Not an Exception: the CLI's catch-all must not turn a hang into an ordinary error line."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise CaseTimedOut


def main() -> int:
    from clearance.cli.main import main as clearance

    with open(sys.argv[1], encoding="utf-8") as handle:
        cases = json.load(handle)
    signal.signal(signal.SIGALRM, _alarm)
    results = []
    for case in cases:
        out, err = io.StringIO(), io.StringIO()
        print(case["id"], file=sys.__stderr__, flush=True)  # the last line names a case that crashed the process
        start = time.monotonic()
        signal.alarm(TIME_LIMIT_S)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code: int | str = clearance(case["argv"])
        except CaseTimedOut:
            code = "timeout"
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        finally:
            signal.alarm(0)
        results.append({
            "id": case["id"], "code": code, "out": out.getvalue(), "err": err.getvalue(),
            "seconds": round(time.monotonic() - start, 3),
        })
    print(json.dumps({"results": results}))  # the test measures this process's peak memory from outside
    return 0


if __name__ == "__main__":
    sys.exit(main())
