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
    waits for that load instead of each taking a pool connection.
    """

    def __init__(self, ttl: float, size: int = 10_000, *, keep_none: bool) -> None:
        self.ttl = ttl
        self.size = size
        # Whether "not found" is remembered too (a bad API key) or looked up again (a touchpoint
        # created a moment ago must be found at once).
        self.keep_none = keep_none
        self._entries: dict[K, tuple[float, V | None]] = {}
        self._loading: dict[K, asyncio.Future[V | None]] = {}

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
            del self._loading[key]
        if found is not None or self.keep_none:
            if len(self._entries) >= self.size:
                # Memory stays bounded; at worst everyone looks up once more.
                self._entries.clear()
            self._entries[key] = (now + self.ttl, found)
        return found
