"""Comments read beside the event loop: sentiment and themes are CPU work that a request
would otherwise do on the loop every other request is waiting for."""

from __future__ import annotations

import asyncio
import logging
import sys
import time

import msgspec

from feedback.sentiment import CommentInsight, read_comment
from feedback.sentiment.child import FRAME

log = logging.getLogger("touchpulse.sentiment")






class CommentReader:
    """Sentiment and themes of the comments answers bring, many per round trip to a child process.

    The child (`feedback.sentiment.child`) runs on another core. A comment waits up to
    `max_wait` seconds for company, and one batch is in flight at a time while the next forms:
    a round trip wakes two processes, which costs tens of microseconds on a virtual machine,
    so it must carry many comments, not one.

    The child is a helper, never a dependency: not started (`offload=False`, the tests' default),
    not ready yet, crashed or slow, the batch is read here instead and the child restarted,
    so an answer neither waits on it nor fails for it. Blank comments never leave this process.
    """

    def __init__(self, *, offload: bool, max_wait: float = 0.002, max_batch: int = 256, timeout: float = 5.0,
                 restart_after: float = 1.0) -> None:
        self.offload = offload
        self.max_wait = max_wait
        self.max_batch = max_batch
        self.timeout = timeout
        self.restart_after = restart_after
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: list[tuple[str, asyncio.Future[CommentInsight]]] = []
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._starting: asyncio.Task[None] | None = None
        self._next_start = 0.0
        self._closed = False
        self._encode = msgspec.msgpack.Encoder().encode
        self._decode = msgspec.msgpack.Decoder(list[CommentInsight]).decode

    @property
    def child_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def start(self) -> None:
        """Start the child and read a comment through it; on failure answers are read here."""
        if self.offload:
            await self._spawn()

    async def read(self, text: str) -> CommentInsight:
        if not text or text.isspace():
            return read_comment(text)
        if self._proc is None:
            self._maybe_restart()
            return read_comment(text)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CommentInsight] = loop.create_future()
        self._pending.append((text, future))
        if self._task is None:  # else the round in flight takes this comment next
            if len(self._pending) >= self.max_batch:
                self._start()
            elif self._timer is None:
                self._timer = loop.call_later(self.max_wait, self._start)
        return await future

    def _start(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is None and self._pending:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
                texts = [text for text, _ in batch]
                proc = self._proc
                insights: list[CommentInsight] | None = None
                if proc is not None:
                    try:
                        insights = await asyncio.wait_for(self._round(proc, texts), self.timeout)
                        if len(insights) != len(texts):
                            raise ValueError(f"{len(insights)} answers for {len(texts)} comments")
                    except (OSError, EOFError, ValueError, TimeoutError,
                            msgspec.DecodeError) as exc:
                        log.warning("the comment-reading process failed (%s: %s); reading here and restarting it",
                                    type(exc).__name__, exc)
                        insights = None
                        await self._stop(proc)
                        self._maybe_restart()
                try:
                    if insights is None:
                        insights = [read_comment(text) for text in texts]
                except Exception as exc:  # every waiter learns of it, none waits forever
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), insight in zip(batch, insights, strict=True):
                    if not future.done():
                        future.set_result(insight)
        finally:
            self._task = None

    async def _round(self, proc: asyncio.subprocess.Process, texts: list[str]) -> list[CommentInsight]:
        assert proc.stdin is not None and proc.stdout is not None
        body = self._encode(texts)
        proc.stdin.write(FRAME.pack(len(body)) + body)
        await proc.stdin.drain()
        head = await proc.stdout.readexactly(FRAME.size)
        return self._decode(await proc.stdout.readexactly(FRAME.unpack(head)[0]))

    async def _spawn(self) -> None:
        self._next_start = time.monotonic() + self.restart_after
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "feedback.sentiment.child",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        except OSError as exc:
            log.warning("could not start the comment-reading process: %s; reading in the service", exc)
            return
        try:  # the first comment loads the lexicons: ready once it is answered
            await asyncio.wait_for(self._round(proc, ["Thank you, the courier was helpful"]), 30)
        except (OSError, EOFError, TimeoutError, msgspec.DecodeError) as exc:
            log.warning("the comment-reading process did not start (%s); reading in the service", exc)
            await self._stop(proc)
            return
        if self._closed:
            await self._stop(proc)
            return
        self._proc = proc

    def _maybe_restart(self) -> None:
        """Start a new child in the background, at most once per `restart_after` seconds."""
        if (not self.offload or self._closed or self._starting is not None
                or time.monotonic() < self._next_start):
            return

        async def restart() -> None:
            try:
                await self._spawn()
            finally:
                self._starting = None

        self._starting = asyncio.get_running_loop().create_task(restart())

    async def _stop(self, proc: asyncio.subprocess.Process) -> None:
        if self._proc is proc:
            self._proc = None
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 2)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        except ProcessLookupError:
            pass

    async def close(self) -> None:
        """Read what is queued, then end the child (it exits at the end of its input)."""
        self._closed = True
        self._start()
        if self._starting is not None:
            await asyncio.gather(self._starting, return_exceptions=True)
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._proc is not None:
            await self._stop(self._proc)
