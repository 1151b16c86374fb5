"""Comments read beside the event loop: sentiment and themes are CPU work that a request
would otherwise do on the loop every other request is waiting for."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections import deque

import msgspec

from feedback.sentiment import CommentInsight, read_comment
from feedback.sentiment.child import FRAME

log = logging.getLogger("touchpulse.sentiment")

Waiters = list[tuple[str, "asyncio.Future[CommentInsight]"]]


class CommentReader:
    """Sentiment and themes of the comments answers bring, read by a child process.

    The child (`feedback.sentiment.child`) runs on another core and answers frames in order.
    The comments that reach `read` in one turn of the event loop go out as one frame, with no
    timer: nothing waits for company, yet under load a frame carries many comments, so the
    pipe write that wakes the child (tens of microseconds on a virtual machine) is paid per
    frame, not per comment. Frames are pipelined: a new one does not wait for the answer to
    the last, so comments never queue behind a round trip, only behind the child's work.

    The child is a helper, never a dependency: not started (`offload=False`, the tests'
    default), not ready yet, crashed or stuck past `timeout` seconds, the comments in flight
    are read here instead and the child restarted, so an answer neither waits on it for long
    nor fails for it. Blank comments never leave this process.
    """

    def __init__(self, *, offload: bool, max_batch: int = 512, max_outstanding: int = 1024,
                 timeout: float = 5.0, restart_after: float = 1.0) -> None:
        self.offload = offload
        self.max_batch = max_batch
        # Comments sent and not yet answered, at most: beyond, new ones are read here, so a
        # busy child never falls `timeout` behind and a failed one leaves a bounded backlog.
        self.max_outstanding = max_outstanding
        self._outstanding = 0
        self.timeout = timeout
        self.restart_after = restart_after
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: Waiters = []
        self._sending = False
        # Frames written and not yet answered, oldest first, with the time each was written.
        self._inflight: deque[tuple[float, Waiters]] = deque()
        self._receiver: asyncio.Task[None] | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._starting: asyncio.Task[None] | None = None
        self._reaping: asyncio.Task[int] | None = None
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

    def read_here(self, text: str) -> CommentInsight | None:
        """The comment read in this process when no child takes it (`offload` off, the default),
        without a coroutine; None when `read` must decide."""
        return read_comment(text) if not self.offload else None

    async def read(self, text: str) -> CommentInsight:
        if not text or text.isspace():
            return read_comment(text)
        if self._proc is None:
            self._maybe_restart()
            return read_comment(text)
        if self._outstanding + len(self._pending) >= self.max_outstanding:
            # The child is behind: read here rather than queue comments toward its timeout.
            return read_comment(text)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CommentInsight] = loop.create_future()
        self._pending.append((text, future))
        if not self._sending:
            self._sending = True
            loop.call_soon(self._send)
        return await future

    def _send(self) -> None:
        """Write this turn's comments as frames (at most `max_batch` comments each)."""
        self._sending = False
        pending, self._pending = self._pending, []
        if not pending:
            return
        proc = self._proc
        if proc is None:
            _read_here(pending)
            return
        if proc.stdin is None or proc.stdin.is_closing():  # the pipe broke: the child is gone
            _read_here(pending)
            self._fail(proc, "its input pipe is closed")
            return
        now = time.monotonic()
        for start in range(0, len(pending), self.max_batch):
            waiters = pending[start:start + self.max_batch]
            body = self._encode([text for text, _ in waiters])
            self._inflight.append((now, waiters))
            self._outstanding += len(waiters)
            try:
                proc.stdin.write(FRAME.pack(len(body)) + body)
            except (OSError, RuntimeError) as exc:  # the pipe is gone: so is the child
                _read_here(pending[start + self.max_batch:])
                self._fail(proc, f"{type(exc).__name__}: {exc}")
                return
        if self._receiver is None:
            self._receiver = asyncio.get_running_loop().create_task(self._receive(proc))
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().call_later(self.timeout, self._check)

    async def _receive(self, proc: asyncio.subprocess.Process) -> None:
        """Answer the frames in flight in order, for as long as any are."""
        assert proc.stdout is not None
        try:
            while self._inflight:
                head = await proc.stdout.readexactly(FRAME.size)
                insights = self._decode(await proc.stdout.readexactly(FRAME.unpack(head)[0]))
                waiters = self._inflight[0][1]
                if len(insights) != len(waiters):  # still in flight: _fail reads them here
                    raise ValueError(f"{len(insights)} answers for {len(waiters)} comments")
                self._inflight.popleft()
                self._outstanding -= len(waiters)
                for (_, future), insight in zip(waiters, insights, strict=True):
                    if not future.done():
                        future.set_result(insight)
        except (OSError, EOFError, ValueError, msgspec.DecodeError) as exc:
            self._fail(proc, f"{type(exc).__name__}: {exc}")
        finally:
            if self._receiver is asyncio.current_task():
                self._receiver = None

    def _check(self) -> None:
        """Watchdog: a frame unanswered for `timeout` seconds means a stuck child."""
        self._watchdog = None
        if not self._inflight or self._proc is None:
            return
        oldest = self._inflight[0][0]
        if time.monotonic() - oldest >= self.timeout:
            self._fail(self._proc, f"no answer in {self.timeout:g} s")
            return
        self._watchdog = asyncio.get_running_loop().call_later(
            oldest + self.timeout - time.monotonic(), self._check)

    def _fail(self, proc: asyncio.subprocess.Process, why: str) -> None:
        """Give up on this child: read its unanswered comments here, end it, start another."""
        if self._proc is not proc:
            return
        log.warning("the comment-reading process failed (%s); reading in the service and restarting it", why)
        self._proc = None
        receiver, self._receiver = self._receiver, None
        if receiver is not None and receiver is not asyncio.current_task():
            receiver.cancel()
        while self._inflight:
            _read_here(self._inflight.popleft()[1])
        self._outstanding = 0
        # Dead, stuck or talking nonsense: it gets no second chance to answer.
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        self._reaping = asyncio.get_running_loop().create_task(proc.wait())
        self._maybe_restart()

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
            await asyncio.wait_for(self._warm(proc), 30)
        except (TimeoutError, OSError, EOFError, msgspec.DecodeError) as exc:
            log.warning("the comment-reading process did not start (%s); reading in the service", exc)
            await self._stop(proc)
            return
        if self._closed:
            await self._stop(proc)
            return
        self._proc = proc

    async def _warm(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        body = self._encode(["Thank you, the courier was helpful"])
        proc.stdin.write(FRAME.pack(len(body)) + body)
        await proc.stdin.drain()
        head = await proc.stdout.readexactly(FRAME.size)
        self._decode(await proc.stdout.readexactly(FRAME.unpack(head)[0]))

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

    @staticmethod
    async def _stop(proc: asyncio.subprocess.Process) -> None:
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 2)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        except ProcessLookupError:
            pass

    async def close(self) -> None:
        """Answer what is queued and in flight, then end the child (it exits at end of input)."""
        self._closed = True
        if self._starting is not None:
            await asyncio.gather(self._starting, return_exceptions=True)
        if self._pending:
            self._send()
        if self._receiver is not None:
            await asyncio.gather(self._receiver, return_exceptions=True)
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._reaping is not None:
            await asyncio.gather(self._reaping, return_exceptions=True)
        proc, self._proc = self._proc, None
        if proc is not None:
            await self._stop(proc)


def _read_here(waiters: Waiters) -> None:
    """Read comments in this process: the fallback when the child cannot."""
    for text, future in waiters:
        if future.done():
            continue
        try:
            future.set_result(read_comment(text))
        except Exception as exc:  # the waiter learns of it; none waits forever
            future.set_exception(exc)
