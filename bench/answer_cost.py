"""The worker's cost of one answer, in process: `python -m bench.answer_cost`.

The HTTP benchmark's figures swing by a fifth between identical runs on shared cores, more than
most changes to the ingest path are worth. This drives `POST /api/v1/responses` (with a comment
and an Idempotency-Key, as (b) in bench/run.py) straight into the served ASGI app, 32 at a time,
against a real PostgreSQL, and reports the process's CPU per answer. Under callgrind it counts
instructions for the timed answers alone, which repeat to within a percent whatever else the
machine is doing:

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.%p \
        .venv/bin/python -m bench.answer_cost

then `callgrind_annotate /tmp/cg.<pid> | head` (the total is the answers' instructions; the
script prints the count to divide by). ANSWERS (default 3,000) and CONNECTIONS (32) set the load.
uvicorn's own HTTP work is not in it: it is the same for every version of the app.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from contextlib import asynccontextmanager
from typing import Any

import httpx

from bench import harness
from bench.run import COMMENTS, _key, _make_db
from feedback.collection.writer import ResponseWriter
from feedback.service.app import create_app, served
from feedback.settings import load_settings


class _Flushes:
    """How the group commit ran: flushes, answers per flush, and each flush's time in PostgreSQL
    as the writer saw it (send to result read, so it includes waiting for the event loop)."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.seconds: list[float] = []
        commit = ResponseWriter._commit

        async def timed(writer: ResponseWriter, items: list[Any]) -> Any:
            started = time.perf_counter()
            try:
                return await commit(writer, items)
            finally:
                self.sizes.append(len(items))
                self.seconds.append(time.perf_counter() - started)

        ResponseWriter._commit = timed  # type: ignore[method-assign,assignment]

    def summary(self, wall: float) -> str:
        if not self.sizes:
            return "no flushes"
        busy = sum(self.seconds)
        return (f"{len(self.sizes)} flushes of {sum(self.sizes) / len(self.sizes):.1f} answers on average, "
                f"{busy / len(self.sizes) * 1e3:.2f} ms each; a flush in flight {busy / wall:.0%} of the time")


def _callgrind(on: bool) -> None:
    """Switch callgrind's instrumentation for this process (nothing when not under valgrind)."""
    if shutil.which("callgrind_control") and "vgpreload" in os.environ.get("LD_PRELOAD", ""):
        subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                       check=False, capture_output=True)


@asynccontextmanager
async def _running(app: Any) -> Any:
    async with app.lifespan():
        yield


async def _drive(url: str, answers: int, connections: int) -> None:
    settings = load_settings()
    app = create_app(settings, url)
    door = served(app)
    admin = {"Authorization": "Bearer " + await _key(url, "admin")}
    ingest = await _key(url, "ingest")
    async with _running(app):
        transport = httpx.ASGITransport(app=door)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client:
            tps = [t["key"] for t in await harness.catalogue(client, admin, owners=2, touchpoints_per_owner=2,
                                                            prefix="cost")]
        state = {"n": 0, "ok": 0}

        async def answer(n: int) -> None:
            body = (b'{"touchpoint":"%s","score":%d,"customer":"c-%d","comment":"%s"}'
                    % (tps[n % len(tps)].encode(), n % 11, n, COMMENTS[n % len(COMMENTS)].encode()))
            scope: Any = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                     "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 40000 + n % 1000),
                     "scheme": "http", "method": "POST", "root_path": "", "path": "/api/v1/responses",
                     "raw_path": b"/api/v1/responses", "query_string": b"", "state": {},
                     "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                                 (b"authorization", b"Bearer " + ingest.encode()),
                                 (b"idempotency-key", b"cost-%d" % n),
                                 (b"content-length", b"%d" % len(body))]}
            sent = False

            async def receive() -> Any:
                nonlocal sent
                if sent:
                    await asyncio.sleep(3600)
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: Any) -> None:
                if message["type"] == "http.response.start" and message["status"] < 300:
                    state["ok"] += 1

            await door(scope, receive, send)

        async def client_loop(total: int) -> None:
            while state["n"] < total:
                state["n"] += 1
                await answer(state["n"])

        # Warm-up: caches, prepared statements, the writer's connections.
        await asyncio.gather(*(client_loop(300) for _ in range(connections)))
        state["ok"] = 0
        flushes = _Flushes()
        _callgrind(True)
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(client_loop(300 + answers) for _ in range(connections)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        _callgrind(False)
        print(f"answers: {state['ok']} acknowledged of {answers}; {connections} at a time")
        print(f"CPU per answer: {cpu / answers * 1e6:.0f} µs (wall {wall / answers * 1e6:.0f} µs)")
        print("group commit: " + flushes.summary(wall))


def main() -> None:
    answers = int(os.environ.get("ANSWERS", "3000"))
    connections = int(os.environ.get("CONNECTIONS", "32"))
    pg = harness.PostgresInstance()
    pg.start()
    try:
        url = asyncio.run(_make_db(pg, "ingest"))
        asyncio.run(_drive(url, answers, connections))
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
