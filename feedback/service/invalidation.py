"""Per-process caches learn of a change at once: PostgreSQL NOTIFY on one listening connection.

Migration 0009's triggers send `touchpulse_caches` notifications in the changing transaction,
so one arrives only if the change commits. The payload names what changed: `key:<api key id>`,
`touchpoint:<touchpoint key>`; a topic alone (`key`, `touchpoint`) means all of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Protocol

import asyncpg

from feedback.service.database import SESSION

log = logging.getLogger("touchpulse.invalidation")

CHANNEL = "touchpulse_caches"
# How an operator tells the listening connection in pg_stat_activity.
APPLICATION_NAME = "touchpulse cache listener"


class Invalidated(Protocol):
    """A cache that forgets entries by the name a notification gives."""

    def drop(self, name: str) -> None: ...

    def clear(self) -> None: ...


class InvalidationListener:
    """One connection per process that LISTENs and drops the cache entries a notification names.

    Its own connection, not one of the request pool's, so a busy pool never delays it. While it
    is not connected the caches fall back on their TTL; it clears them when the connection is
    lost and again once it is back, because notifications sent in between are gone.
    """

    def __init__(self, url: str, caches: Mapping[str, Invalidated], *, ping: float = 10.0,
                 first_retry: float = 0.2, last_retry: float = 5.0, connect_timeout: float = 5.0) -> None:
        self.url = url
        self.caches = caches
        # A connection that died without a word (a network cut) is noticed by a ping after this
        # long without news, which gets as long again to be answered.
        self.ping = ping
        self.first_retry = first_retry
        self.last_retry = last_retry
        self.connect_timeout = connect_timeout
        self.connected = asyncio.Event()
        # The backend's pid while connected: tests terminate it to check the reconnect.
        self.backend_pid: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Listen in the background: start-up never waits for (or fails on) the connection."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="cache invalidation listener")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def clear(self) -> None:
        for cache in self.caches.values():
            cache.clear()

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        topic, _, name = str(payload).partition(":")
        cache = self.caches.get(topic)
        if cache is None:
            return  # a topic of a newer version of the service
        try:
            if name:
                cache.drop(name)
            else:
                cache.clear()
        except Exception as exc:  # a payload this version cannot read: forget everything of it
            log.warning("cache invalidation: unreadable notification %r (%s); cache cleared", payload, exc)
            cache.clear()

    async def _run(self) -> None:
        delay = self.first_retry
        while True:
            try:
                conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
                    self.url, timeout=self.connect_timeout,
                    server_settings={**SESSION, "application_name": APPLICATION_NAME})
            except Exception as exc:
                log.warning("cache invalidation: cannot connect (%s: %s); caches rely on their TTL, "
                            "retrying in %.1f s", type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.last_retry)
                continue
            try:
                await self._listen(conn)
            except Exception as exc:
                log.warning("cache invalidation: listening connection lost (%s: %s); caches cleared, "
                            "relying on their TTL until it is back", type(exc).__name__, exc)
            finally:
                self.connected.clear()
                self.backend_pid = None
                self.clear()
                await self._close(conn)
            # A moment's pause, so a connection that keeps being cut cannot spin this loop.
            delay = self.first_retry
            await asyncio.sleep(delay)

    async def _listen(self, conn: asyncpg.Connection[asyncpg.Record]) -> None:
        """Listen until the connection is lost (then raise)."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, self._notified)
        # Whatever changed before LISTEN took effect sent no notification here.
        self.clear()
        self.backend_pid = conn.get_server_pid()
        self.connected.set()
        log.info("cache invalidation: listening on %s", CHANNEL)
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), self.ping)
            except TimeoutError:
                try:
                    await conn.execute("SELECT 1", timeout=self.ping)
                except TimeoutError:
                    conn.terminate()  # no answer: a goodbye would wait in vain too
                    raise
        raise ConnectionError("the connection was closed")

    @staticmethod
    async def _close(conn: asyncpg.Connection[asyncpg.Record]) -> None:
        if conn.is_closed():
            return
        try:
            await conn.close(timeout=2)
        except Exception:
            conn.terminate()
