"""Posting queued alerts: a worker per process, signed JSON bodies, retries with backoff.

Each process runs one worker. It claims due deliveries with FOR UPDATE SKIP LOCKED (two
instances never claim one row), posts them concurrently from threads (the standard library's
HTTP client: no dependency, and a slow endpoint never blocks the event loop), then records each
outcome. A failure (no answer within the timeout, a refused connection, any status but 2xx)
is tried again after 1, 2, 4 … minutes, at most 6 hours apart, up to `attempts` posts (about
20 hours with the defaults); then the delivery is failed. The answers themselves never wait
for any of this: the writer only queues a row (feedback/collection/writer.py).

Signature: `Touchpulse-Signature: t=<unix seconds>,v1=<hex>`, where hex is
HMAC-SHA256(secret, "<t>.<body>"); a receiver recomputes it over the raw body and compares
in constant time, and refuses a `t` far from its own clock (a replay).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar

from feedback.alerts import repository as repo
from feedback.alerts.models import AlertPayload, AlertSource, AlertTouchpoint, AlertTrigger, Named
from feedback.alerts.repository import AlertRules, Outcome
from feedback.collection.repository import stored_response
from feedback.insight import sharing
from feedback.service.database import Pool
from feedback.settings import Settings

log = logging.getLogger("touchpulse.alerts")

SIGNATURE_HEADER = "Touchpulse-Signature"
# The longest wait between two posts of one delivery.
MAX_BACKOFF = 6 * 3600.0
# Delivered and failed rows are kept this long for GET …/deliveries, then deleted.
KEEP_DAYS = 30
PURGE_EVERY = 3600.0
# What of an endpoint's answer (or an error) is kept for an engineer to read.
ERROR_CHARS = 300
REPORT_LINK_DAYS = 7


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` posted at `timestamp`."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def backoff(attempts: int, first: float) -> float:
    """Seconds to wait after the `attempts`-th failed post: doubling from `first`, capped."""
    return float(min(first * 2 ** (attempts - 1), MAX_BACKOFF))


def _escape(text: str) -> str:
    # Slack's and Mattermost's markup: these three characters are its control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_WHY = {AlertTrigger.LOW_SCORE: "Low score", AlertTrigger.NEGATIVE_COMMENT: "Negative comment"}


def payload(row: asyncpg.Record, settings: Settings) -> AlertPayload:
    """The body of one delivery, from its row of delivery-details."""
    answer = stored_response(row)
    reason = AlertTrigger(row["reason"])
    link = sharing.share_link(settings, row["owner_id"], REPORT_LINK_DAYS, epoch=row["share_epoch"])
    scale = f"{answer.score} of {answer.scale_max}"
    said = f": “{_escape(answer.comment)}”" if answer.comment else " (no comment)"
    text = (f"{_WHY[reason]} at {_escape(row['touchpoint_name'])} ({_escape(row['stage_name'])}, "
            f"{_escape(row['owner_name'])}): {answer.kind.upper()} {scale}, {answer.category}{said} "
            f"<{link.url}|Open the report>")
    return AlertPayload(
        text=text,
        alert=AlertSource(id=row["alert_id"], delivery_id=row["delivery_id"], reason=reason),
        answer=answer,
        touchpoint=AlertTouchpoint(id=row["touchpoint_id"], key=row["touchpoint"], name=row["touchpoint_name"]),
        stage=Named(id=row["stage_id"], name=row["stage_name"]),
        journey=Named(id=row["journey_id"], name=row["journey_name"]),
        owner=Named(id=row["owner_id"], name=row["owner_name"]),
        report_url=link.url,
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: a POST is not silently turned into a GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str | None]:
    """POST `body`; (status, None) for a 2xx, else (status or None, what went wrong). Blocking."""
    # The URL is http(s): the service checked it when the subscription was made (and the table).
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            status = int(answer.status)
            answer.read(64 * 1024)  # let the endpoint finish its answer; the rest is ignored
            return status, None
    except urllib.error.HTTPError as exc:
        try:
            said = exc.read(ERROR_CHARS * 4).decode("utf-8", "replace")
        except Exception:
            said = ""
        detail = f"HTTP {exc.code}" + (f": {said}" if said.strip() else "")
        return exc.code, detail[:ERROR_CHARS]
    except TimeoutError:
        return None, f"no answer within {timeout:g} s"
    except urllib.error.URLError as exc:
        return None, str(exc.reason)[:ERROR_CHARS]
    except Exception as exc:  # a reset connection, a malformed answer, …
        return None, f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]


class AlertWorker:
    """Delivers the outbox of this database, side by side with the other instances' workers."""

    def __init__(self, pool: Pool, settings: Settings, rules: AlertRules, *, batch: int = 10) -> None:
        self.pool = pool
        self.settings = settings
        self.rules = rules
        self.batch = batch
        self.poll = settings.alert_poll_seconds
        self.timeout = settings.alert_timeout_seconds
        # Longer than a whole batch of posts takes: a row is not claimed twice while one is posted.
        self.lease = 6 * self.timeout + 30
        self._next_purge = 0.0
        self._stopping = False

    def stop(self) -> None:
        """Finish the round in flight (its outcomes are recorded), then return from `run`."""
        self._stopping = True
        self.rules.queued.set()

    async def run(self) -> None:
        """Deliver until stopped: at once when this process queued something, else every `poll` s."""
        while not self._stopping:
            self.rules.queued.clear()
            try:
                claimed = await self.deliver_due()
                await self._purge()
            except Exception as exc:  # the database may be away for a while: try again soon
                log.warning("alerts: delivery round failed: %s: %s", type(exc).__name__, exc)
                claimed = 0
            if claimed >= self.batch or self._stopping:
                continue  # more may be due (or: stopping)
            with suppress(TimeoutError):
                await asyncio.wait_for(self.rules.queued.wait(), self.poll)

    async def deliver_due(self) -> int:
        """Claim, post and record one batch; returns how many were claimed."""
        async with self.pool.acquire() as conn:
            claimed = await repo.claim_deliveries(conn, limit=self.batch, lease=self.lease)
            if not claimed:
                return 0
            details = await repo.delivery_details(conn, claimed)
        outcomes = await asyncio.gather(*(self._deliver(row) for row in details))
        async with self.pool.acquire() as conn:
            await repo.record_outcomes(conn, list(outcomes))
        return len(claimed)

    async def _deliver(self, row: asyncpg.Record) -> Outcome:
        status: int | None
        error: str | None
        try:
            body = msgspec.json.encode(payload(row, self.settings))
        except Exception as exc:  # a stored row this version cannot show: failed, told, not retried forever
            log.exception("alerts: delivery %s cannot be written", row["delivery_id"])
            status, error = None, f"the body could not be written: {type(exc).__name__}"
        else:
            headers = {"Content-Type": "application/json", "User-Agent": "Touchpulse-Alerts/1",
                       "Touchpulse-Delivery": str(row["delivery_id"])}
            if row["secret"] is not None:
                headers[SIGNATURE_HEADER] = sign(row["secret"], int(time.time()), body)
            status, error = await asyncio.to_thread(post, row["url"], body, headers, self.timeout)
        delivered = error is None and status is not None and 200 <= status < 300
        if not delivered and error is None:
            error = f"HTTP {status}"
        attempts = int(row["attempts"])
        final = not delivered and attempts >= self.settings.alert_attempts
        if not delivered:
            log.info("alerts: delivery %s to alert %s failed (attempt %d%s): %s", row["delivery_id"],
                     row["alert_id"], attempts, ", giving up" if final else "", error)
        return Outcome(touchpoint_id=row["delivery_touchpoint_id"], delivery_id=row["delivery_id"],
                       attempts=attempts, delivered=delivered, status=status,
                       error=None if delivered else error, final=final,
                       retry_in=backoff(attempts, self.settings.alert_retry_seconds))

    async def _purge(self) -> None:
        now = time.monotonic()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        async with self.pool.acquire() as conn:
            while await repo.purge_deliveries(conn, days=KEEP_DAYS, batch=1000) == 1000:
                pass


@asynccontextmanager
async def alerts_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Lifespan hook: this process's delivery worker, stopped before the pool closes."""
    worker = AlertWorker(app.state.pool, app.state.settings, app.state.alert_rules)
    app.state.alert_worker = worker
    task = asyncio.create_task(worker.run(), name="alert delivery")
    try:
        yield
    finally:
        # Posts in flight finish and are recorded (else each would be posted again after its
        # lease); a round that outlasts the timeout is cancelled, and retried by someone later.
        worker.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), worker.timeout + 1)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
