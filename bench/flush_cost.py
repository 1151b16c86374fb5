"""PostgreSQL's own CPU per ingested answer, without HTTP: the group commit's flushes, driven directly.

`python -m bench.flush_cost` starts a PostgreSQL of its own, builds a catalogue (two owners, four
NPS touchpoints, as the HTTP bench does), and writes API answers as `POST /api/v1/responses`
makes them (a comment read by the analyser, its themes, an Idempotency-Key with its ~600-byte
stored answer) through `ResponseWriter`, one batch of `--batch` rows per flush. Each measurement
runs on a fresh database cloned from the catalogue, after a warm-up, and reports the writer
backend's CPU per answer (/proc/<pid>/stat utime + stime, and /proc/<pid>/schedstat, which is
exact to the nanosecond where stat counts 10 ms ticks), WAL bytes per answer and wall time per
flush. Batch sizes take turns `--runs` times; the summary shows medians.

Options: --answers per measurement (4096), --batch (16 and 32; repeatable), --runs (3),
--warmup flushes (20), --fold (320: the answers a fold takes, as a service's folder does at about
3,000 answers a second; migration 0018). The folding backend's CPU per answer is reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import msgspec

from bench import harness
from bench.run import COMMENTS
from feedback.collection import tokens
from feedback.collection.repository import IdempotencyRecord, NewResponse
from feedback.collection.service import _out
from feedback.collection.writer import Pending, ResponseWriter
from feedback.sentiment import ANALYZER_VERSION, read_comment
from feedback.service import migrations
from feedback.service.database import connect, create_pool
from surveys import service as surveys
from surveys.kinds import scale_of
from surveys.models import JourneyCreate, OwnerCreate, Touchpoint, TouchpointCreate

TEMPLATE = "flush_cost_tpl"
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Measurement:
    """One run of one batch size."""

    batch: int
    answers: int
    cpu_us: float  # per answer, from utime + stime
    sched_us: float  # per answer, from schedstat
    wal_bytes: float  # per answer
    flush_ms: float  # median wall time of a flush
    client_us: float  # per answer, this process's CPU (the writer, asyncpg, msgspec)
    fold_us: float  # per answer, the folding backend's CPU (schedstat), folds of `fold` answers


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """A process's CPU: utime + stime in seconds, and schedstat's run time in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of proc(5)
    with open(f"/proc/{pid}/schedstat") as f:
        run_ns = int(f.read().split()[0])
    return ticks / _TICK, run_ns / 1e9


async def catalogue(url: str) -> list[Touchpoint]:
    async with connect(url) as conn:
        await migrations.migrate(conn)
        journey = await surveys.create_journey(conn, JourneyCreate(name="Flush journey"))
        made = []
        for o in range(2):
            owner = await surveys.create_owner(conn, OwnerCreate(name=f"Flush owner {o}"))
            for t in range(2):
                made.append(await surveys.create_touchpoint(conn, msgspec.convert({
                    "key": f"fl-{o}-{t}", "name": f"Touchpoint {o}/{t}",
                    "stage_id": journey.stages[(o + t) % len(journey.stages)].id, "channel": "web",
                    "owner_id": owner.id, "kind": "nps"}, TouchpointCreate)))
        # The fresh clones start from a checkpointed, analysed template, as a migrated database would.
        await conn.execute("ANALYZE")
        return made


def make_answers(touchpoints: list[Touchpoint], count: int, run: str) -> list[Pending]:
    """API answers as the service makes them: each with a comment, a customer and a key."""
    readings = {c: read_comment(c) for c in COMMENTS}
    made = []
    for n in range(count):
        tp = touchpoints[n % len(touchpoints)]
        comment = COMMENTS[n % len(COMMENTS)]
        insight = readings[comment]
        scale = scale_of(tp.kind)
        customer = f"{run}-{n}"
        now = datetime.now(UTC)
        row = NewResponse(
            touchpoint_id=tp.id, id=tokens.new_id(), journey_id=tp.journey_id, stage_id=tp.stage_id,
            owner_id=tp.owner_id, kind=tp.kind.value, scale_min=scale.low, scale_max=scale.high,
            score=n % 11, comment=comment, customer_ref=customer, locale="en", channel="api",
            source="api", context="{}", polarity=insight.sentiment.polarity,
            subjectivity=insight.sentiment.subjectivity, label=insight.sentiment.label,
            language=insight.sentiment.language, themes=insight.themes,
            analyzer_version=ANALYZER_VERSION, occurred_at=now, created_at=now)
        request = msgspec.json.encode(harness.response_body(tp.key, row.score, comment, customer))
        body = msgspec.json.encode(_out(tp, row, {}))
        made.append(Pending(row, IdempotencyRecord(1, customer, hashlib.sha256(request).digest(), 201, body)))
    return made


async def measure(server: str, name: str, touchpoints: list[Touchpoint], *, batch: int, answers: int,
                  warmup: int, fold: int = 320, template: str = TEMPLATE) -> Measurement:
    """Write `answers` (after `warmup` flushes) in flushes of `batch` to a clone of `template`,
    folding the rollups (migration 0018) on a connection of their own after every `fold` answers."""
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    url = server.rsplit("/", 1)[0] + "/" + name
    pool = await create_pool(url, min_size=1, max_size=2)
    folder = await asyncpg.connect(url)
    writer = ResponseWriter(pool, max_rows=batch, max_wait=0.001)
    try:
        await writer.warm()  # takes a connection and keeps it between flushes: the backend measured
        async with pool.acquire() as conn:
            pid: int = await conn.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
        rows = make_answers(touchpoints, warmup * batch + answers, name)
        groups = [rows[i:i + batch] for i in range(0, len(rows), batch)]
        for group in groups[:warmup]:
            await asyncio.gather(*(writer.write(p) for p in group))
        await folder.fetchval("SELECT fold_rollups()")  # the warm-up's rows: not counted
        folder_pid: int = folder.get_server_pid()
        fold_cpu = 0.0
        unfolded = 0
        async with pool.acquire() as conn:
            wal_before: str = await conn.fetchval("SELECT pg_current_wal_insert_lsn()::text")
        cpu_before, sched_before = _cpu_seconds(pid)
        client_before = time.process_time()
        times = []
        for group in groups[warmup:]:
            start = time.perf_counter()
            stored = await asyncio.gather(*(writer.write(p) for p in group))
            times.append(time.perf_counter() - start)
            assert all(stored), "every answer of the bench is new: all are stored"
            unfolded += len(group)
            if unfolded >= fold or group is groups[-1]:
                before = _cpu_seconds(folder_pid)[1]
                assert await folder.fetchval("SELECT fold_rollups()") == unfolded
                fold_cpu += _cpu_seconds(folder_pid)[1] - before
                unfolded = 0
        client = time.process_time() - client_before
        cpu_after, sched_after = _cpu_seconds(pid)
        async with pool.acquire() as conn:
            wal: float = await conn.fetchval(
                "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::text::pg_lsn)", wal_before)
            assert await conn.fetchval("SELECT count(*) FROM responses") == len(rows)
    finally:
        await writer.close()
        await pool.close()
        await folder.close()
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    return Measurement(batch, answers, (cpu_after - cpu_before) / answers * 1e6,
                       (sched_after - sched_before) / answers * 1e6, float(wal) / answers,
                       statistics.median(times) * 1e3, client / answers * 1e6, fold_cpu / answers * 1e6)


async def _main(args: argparse.Namespace) -> None:
    pg = harness.PostgresInstance()
    pg.start()
    try:
        admin = await asyncpg.connect(pg.url)
        await admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
        version: str = await admin.fetchval("SHOW server_version")
        await admin.close()
        touchpoints = await catalogue(pg.url.rsplit("/", 1)[0] + "/" + TEMPLATE)
        print(f"PostgreSQL {version}; {args.answers} answers per measurement after {args.warmup} "
              f"flushes of warm-up; load average {os.getloadavg()[0]:.2f}", flush=True)
        print("run  batch  CPU µs/answer (stat)  (schedstat)  WAL bytes/answer  flush ms (median)"
              f"  client µs/answer  fold µs/answer (every {args.fold})", flush=True)
        found: dict[int, list[Measurement]] = {b: [] for b in args.batch}
        for run in range(args.runs):
            for batch in args.batch:
                m = await measure(pg.url, f"flush_{batch}_{run}", touchpoints, batch=batch,
                                   answers=args.answers, warmup=args.warmup, fold=args.fold)
                found[batch].append(m)
                print(f"{run:>3}  {batch:>5}  {m.cpu_us:>20.1f}  {m.sched_us:>11.1f}  {m.wal_bytes:>16.0f}"
                      f"  {m.flush_ms:>17.2f}  {m.client_us:>16.1f}  {m.fold_us:>14.1f}", flush=True)
        print("median over runs:")
        for batch, ms in found.items():
            print(f"  batch {batch}: {statistics.median(m.cpu_us for m in ms):.1f} µs CPU per answer "
                  f"(stat), {statistics.median(m.sched_us for m in ms):.1f} (schedstat), "
                  f"{statistics.median(m.wal_bytes for m in ms):.0f} WAL bytes per answer, "
                  f"{statistics.median(m.flush_ms for m in ms):.2f} ms per flush; this process "
                  f"{statistics.median(m.client_us for m in ms):.1f} µs per answer; folding "
                  f"{statistics.median(m.fold_us for m in ms):.1f} µs per answer", flush=True)
    finally:
        pg.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--answers", type=int, default=4096)
    parser.add_argument("--batch", type=int, action="append")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--fold", type=int, default=320)
    args = parser.parse_args()
    args.batch = args.batch or [16, 32]
    asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
