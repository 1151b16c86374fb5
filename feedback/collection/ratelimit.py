"""An in-process token bucket per client address: the anonymous widget's answers, and wrong survey-link tokens."""

from __future__ import annotations

import time


class TokenBuckets:
    """`rate` submissions per `per` seconds per key, with bursts up to `rate`."""

    def __init__(self, rate: int = 10, per: float = 60.0, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.per = per
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def exhausted(self, key: str) -> bool:
        """Whether the next `allow` would refuse, without spending anything."""
        if key not in self._buckets:
            return False
        tokens, last = self._buckets[key]
        return min(float(self.rate), tokens + (time.monotonic() - last) * self.rate / self.per) < 1

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (float(self.rate), now))
        tokens = min(float(self.rate), tokens + (now - last) * self.rate / self.per)
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            # Memory stays bounded; a flood of addresses resets everyone's bucket at worst.
            self._buckets.clear()
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True
