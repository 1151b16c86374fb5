"""Re-read stored comments with the current analyser: resumable batches, service keeps running.

Each batch, in (touchpoint_id, id) order, is one short transaction: one UPDATE ... FROM
unnest(...) whose statement-level triggers keep the rollups exact. Progress is the
analyzer_version itself, so an interrupted run resumes where it stopped. `touchpulse rescore`
and the service's own catch-up (feedback/insight/catchup.py) both walk with `rescore_next`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO
from uuid import UUID

from feedback.insight import repository as repo
from feedback.sentiment import ANALYZER_VERSION, read_comment
from surveys.repository import Conn

BATCH = 1_000
START = (-(2**63), UUID(int=0))
# Comments read between two yields to the event loop (at most about 1 ms each): requests served by the
# same loop never wait behind a whole batch of analysis.
_SLICE = 10

Key = tuple[int, UUID]


def progress_bar(done: int, total: int, width: int = 30) -> str:
    """A plain-text bar: [#######.......]  700/1000  70%."""
    share = 1.0 if total <= 0 else min(1.0, done / total)
    filled = round(width * share)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:>{len(str(total))}}/{total} {share:4.0%}"


async def rescore_next(conn: Conn, *, after: Key = START, batch: int = BATCH, everything: bool = False,
                       version: int = ANALYZER_VERSION) -> tuple[int, Key | None]:
    """Re-read the next `batch` stale responses after `after` in one transaction; returns how
    many were read and the key to continue after (None: nothing was left)."""
    rows = await repo.rescore_batch(conn, everything=everything, version=version, after=after, limit=batch)
    if not rows:
        return 0, None
    updates: list[tuple[Any, ...]] = []
    for n, (touchpoint_id, response_id, comment) in enumerate(rows, 1):
        insight = read_comment(comment or "")
        s = insight.sentiment
        updates.append((touchpoint_id, response_id, s.polarity, s.subjectivity, s.label,
                        s.language if comment else None, insight.themes, comment))
        if n % _SLICE == 0:
            await asyncio.sleep(0)
    async with conn.transaction():
        await repo.rescore_update(conn, rows=updates, version=version)
    return len(rows), (rows[-1][0], rows[-1][1])


async def rescore(conn: Conn, *, everything: bool = False, batch: int = BATCH,
                  out: TextIO | None = sys.stderr, version: int = ANALYZER_VERSION) -> int:
    """Recompute sentiment and themes of responses older than `version` (all with everything);
    returns how many were rewritten."""
    total = await repo.rescore_count(conn, everything=everything, version=version)
    done = 0
    after: Key | None = START
    if out is not None:
        out.write("\r" + progress_bar(0, total))
        out.flush()
    while after is not None:
        n, after = await rescore_next(conn, after=after, batch=batch, everything=everything, version=version)
        done += n
        if out is not None and n:
            out.write("\r" + progress_bar(done, max(total, done)))
            out.flush()
    if out is not None:
        out.write("\n")
        out.flush()
    return done
