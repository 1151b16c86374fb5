"""A small per-process cache: entries live a few seconds, and concurrent misses share one load."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Values by key for `ttl` seconds, at most `size` of them.

    One load per key at a time: the burst of requests that meets a missing or expired entry
    waits for that load instead of each taking a pool connection. `drop`, `drop_where` and
    `clear` forget entries at once (a change another instance made, feedback/service/invalidation.py).
    """

    def __init__(self, ttl: float, size: int = 10_000, *, keep_none: bool) -> None:
        self.ttl = ttl
        self.size = size
        # Whether "not found" is remembered too (a bad API key) or looked up again (a touchpoint
        # created a moment ago must be found at once).
        self.keep_none = keep_none
        self._entries: dict[K, tuple[float, V | None]] = {}
        self._loading: dict[K, asyncio.Future[V | None]] = {}
        # Counts invalidations: a load that was in flight when one came may have read the old
        # row, so its result is returned but not kept.
        self._generation = 0

    def fresh(self, key: K) -> tuple[float, V | None] | None:
        """The entry for `key` while it lasts, (expiry, value), or None: a hit without a coroutine."""
        cached = self._entries.get(key)
        return cached if cached is not None and cached[0] > time.monotonic() else None

    async def get(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        now = time.monotonic()
        cached = self._entries.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        loading = self._loading.get(key)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        generation = self._generation
        try:
            found = await load()
        except BaseException as exc:
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # marked retrieved: the waiters, if any, get it too
            else:
                future.cancel()
            raise
        else:
            future.set_result(found)
        finally:
            if self._loading.get(key) is future:
                del self._loading[key]
        if generation == self._generation and (found is not None or self.keep_none):
            if len(self._entries) >= self.size:
                # Memory stays bounded; at worst everyone looks up once more.
                self._entries.clear()
            self._entries[key] = (now + self.ttl, found)
        return found

    def drop(self, key: K) -> None:
        """Forget `key`; a load of it in flight is not shared with later requests."""
        self._entries.pop(key, None)
        self._loading.pop(key, None)
        self._generation += 1

    def drop_where(self, stale: Callable[[V | None], bool]) -> None:
        """Forget the entries whose value is `stale` (a scan: for rare changes only)."""
        for key in [key for key, (_, value) in self._entries.items() if stale(value)]:
            del self._entries[key]
        # Which key a load in flight will find is not known yet: none is shared from now on.
        self._loading.clear()
        self._generation += 1

    def clear(self) -> None:
        self._entries.clear()
        self._loading.clear()
        self._generation += 1
