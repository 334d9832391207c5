"""Abuse that cannot slow the studio: login throttling, and unauthenticated failures logged in aggregate.

- ``LoginThrottle``: failed logins are counted per account name and per client address. After
  ``login_free_attempts`` failures each further attempt must wait a delay that doubles with every failure
  (``login_delay_seconds``, 2x, 4x ... capped at ``login_max_delay_seconds``); after ``login_lockout_after``
  failures the account or address is locked for ``login_lockout_seconds``. An attempt too soon answers 429
  with Retry-After before any password is hashed. A success clears the account's count (not the address's).
- ``FailureLog``: a bad token or a failed login writes at most one audit entry per client address per
  ``auth_log_window_seconds``, carrying how many failures the previous window saw: a flood of bad requests
  costs counters in memory, never a row per request.

Both live in the memory of one server process: with ``--workers N`` each worker counts on its own, so an
attacker spread over the workers gets up to N times the attempts before a lockout (still bounded).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from clearance.server.config import ServerConfig


@dataclass
class _Count:
    failures: int = 0
    next_allowed: float = 0.0
    last: float = 0.0


@dataclass
class LoginThrottle:
    free_attempts: int = 5
    delay_seconds: float = 1.0
    max_delay_seconds: float = 60.0
    lockout_after: int = 20
    lockout_seconds: float = 900.0
    forget_after_seconds: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _counts: dict[str, _Count] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_config(cls, config: ServerConfig) -> LoginThrottle:
        return cls(config.login_free_attempts, config.login_delay_seconds, config.login_max_delay_seconds,
                   config.login_lockout_after, config.login_lockout_seconds)

    @staticmethod
    def keys(name: str, address: str) -> list[str]:
        return [f"account:{name.strip().lower()[:100]}", LoginThrottle.address_key(address)]

    @staticmethod
    def address_key(address: str) -> str:
        return f"address:{address}"

    def wait_seconds(self, keys: list[str]) -> float:
        """0 when an attempt may be made now, else how long to wait (the largest of the keys')."""
        now = self.clock()
        with self._lock:
            waits = [self._counts[k].next_allowed - now for k in keys if k in self._counts]
        return max([0.0, *waits])

    def failed(self, keys: list[str]) -> None:
        now = self.clock()
        with self._lock:
            if len(self._counts) > 100_000:  # a flood of made-up names: forget the oldest half
                for key in sorted(self._counts, key=lambda k: self._counts[k].last)[:50_000]:
                    del self._counts[key]
            for key in keys:
                count = self._counts.get(key)
                if count is None or now - count.last > self.forget_after_seconds:
                    count = self._counts[key] = _Count()
                count.failures += 1
                count.last = now
                over = count.failures - self.free_attempts
                if count.failures >= self.lockout_after:
                    count.next_allowed = now + self.lockout_seconds
                elif over >= 0:
                    count.next_allowed = now + min(self.max_delay_seconds, self.delay_seconds * 2**over)

    def succeeded(self, account_key: str) -> None:
        with self._lock:
            self._counts.pop(account_key, None)


@dataclass
class FailureLog:
    """Counts unauthenticated failures per source; says when one audit entry is due."""

    window_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)  # source -> (window start, failures)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, source: str) -> int | None:
        """Count one failure. Returns the previous window's failure count when this failure opens a new window
        for the source (an audit entry is due), else None."""
        now = self.clock()
        with self._lock:
            start, failures = self._windows.get(source, (-1e18, 0))
            if now - start < self.window_seconds:
                self._windows[source] = (start, failures + 1)
                return None
            if len(self._windows) > 100_000:
                self._windows.clear()
            self._windows[source] = (now, 1)
            return failures
