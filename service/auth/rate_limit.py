"""Failed client-authentication attempts, counted in a sliding window per client id and per address.

The counts live in this process's memory: they reset on restart and are not shared between
processes, so with N workers an attacker gets at most N times the configured budget. That is
enough to make guessing a 256-bit secret hopeless and to stop a misconfigured client from
hammering the hash; a shared store can replace `SlidingWindow` if deployments grow.
"""

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class SlidingWindow:
    limit: int
    window_seconds: float
    clock: Callable[[], float] = time.monotonic
    # Past this many tracked keys, expired ones are swept (bounds memory under address spraying).
    max_keys: int = 100_000
    _events: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window_seconds:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None when it is under its limit."""
        now = self.clock()
        events = self._recent(key, now)
        if events is None or len(events) < self.limit:
            return None
        return max(1, math.ceil(events[0] + self.window_seconds - now))

    def record(self, key: str) -> None:
        now = self.clock()
        if len(self._events) >= self.max_keys:
            self._sweep(now)
        events = self._recent(key, now)
        if events is None:
            events = self._events[key] = deque()
        events.append(now)
        # Only the newest `limit` events can decide a block; older ones need not be kept.
        while len(events) > self.limit:
            events.popleft()

    def _sweep(self, now: float) -> None:
        for key in list(self._events):
            self._recent(key, now)
        while len(self._events) >= self.max_keys:
            del self._events[next(iter(self._events))]


@dataclass
class ClientAuthLimiter:
    per_client: SlidingWindow
    per_address: SlidingWindow

    def retry_after(self, client_id: str | None, address: str | None) -> int | None:
        waits = []
        if client_id:
            waits.append(self.per_client.retry_after(client_id))
        if address:
            waits.append(self.per_address.retry_after(address))
        blocked = [w for w in waits if w is not None]
        return max(blocked) if blocked else None

    def record_failure(self, client_id: str | None, address: str | None) -> None:
        if client_id:
            self.per_client.record(client_id)
        if address:
            self.per_address.record(address)
