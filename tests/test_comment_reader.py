"""Comments read in a child process: the same insight as in-process, batched, and never a
dependency (a dead or missing child means reading in the service, then a restart)."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from feedback.sentiment import CommentInsight, read_comment
from feedback.sentiment.reader import CommentReader
from feedback.settings import Settings
from tests.test_collection_support import touchpoint, world

COMMENTS = [
    "The courier was late and the box arrived damaged",
    "Quick delivery, friendly courier, thank you!",
    "Курьер опоздал, но поддержка помогла, спасибо",
    "Support never answered my emails about the refund 😡",
    "<script>alert(1)</script> =HYPERLINK(\"x\") \u202e",
    "😀" * 2000,
    "ok",
]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie counts as gone: asyncio reaps it when it notices.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


async def _replaced(reader: CommentReader, first: int) -> None:
    """Wait (reading meanwhile, as the service would) until a new child has taken over."""
    deadline = asyncio.get_running_loop().time() + 20
    while reader.child_pid in (None, first):
        assert asyncio.get_running_loop().time() < deadline, "the child was not replaced"
        await reader.read("still here")
        await asyncio.sleep(0.05)


async def test_the_child_reads_as_the_service_does_in_batches() -> None:
    reader = CommentReader(offload=True)
    await reader.start()
    try:
        pid = reader.child_pid
        assert pid is not None and pid != os.getpid()
        frames: list[int] = []
        encode = reader._encode

        def counting(texts: list[str]) -> bytes:
            frames.append(len(texts))
            return encode(texts)

        reader._encode = counting
        texts = COMMENTS * 30
        got = await asyncio.gather(*(reader.read(t) for t in texts))
        assert got == [read_comment(t) for t in texts]
        assert frames == [len(texts)]  # read in one turn of the loop: one frame, one wake-up
        reader.max_batch = 50
        got = await asyncio.gather(*(reader.read(t) for t in texts))
        assert got == [read_comment(t) for t in texts]
        assert frames[1:] == [50, 50, 50, 50, 10]  # pipelined, answered in order
        assert await reader.read("") == read_comment("")
        assert await reader.read("   ") == read_comment("   ")
    finally:
        await reader.close()
    assert not _alive(pid)


async def test_a_killed_child_costs_no_answer_and_is_restarted() -> None:
    reader = CommentReader(offload=True, restart_after=0.2)
    await reader.start()
    try:
        first = reader.child_pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        # Every read still answers, correctly: in the service while the child is gone.
        for _ in range(3):
            got = await asyncio.gather(*(reader.read(t) for t in COMMENTS))
            assert got == [read_comment(t) for t in COMMENTS]
        await _replaced(reader, first)
        assert await reader.read(COMMENTS[0]) == read_comment(COMMENTS[0])
    finally:
        await reader.close()


async def test_a_broken_pipe_to_the_child_means_reading_here_and_a_new_child() -> None:
    reader = CommentReader(offload=True, restart_after=0.1)
    await reader.start()
    try:
        first = reader.child_pid
        assert first is not None and reader._proc is not None and reader._proc.stdin is not None
        reader._proc.stdin.close()  # as the transport does once it sees the child gone
        assert await reader.read(COMMENTS[0]) == read_comment(COMMENTS[0])
        await _replaced(reader, first)
    finally:
        await reader.close()


async def test_a_child_that_answers_wrongly_costs_no_answer() -> None:
    reader = CommentReader(offload=True, restart_after=60)
    await reader.start()
    try:
        decode = reader._decode

        def short(body: Any) -> list[CommentInsight]:
            return decode(body)[:-1]  # one answer missing

        reader._decode = short
        got = await asyncio.wait_for(asyncio.gather(*(reader.read(t) for t in COMMENTS)), 10)
        assert got == [read_comment(t) for t in COMMENTS]
        assert reader.child_pid is None  # given up on; reads stay here until a restart
    finally:
        await reader.close()


async def test_a_child_far_behind_gets_no_more_comments() -> None:
    reader = CommentReader(offload=True, max_outstanding=4, timeout=1.0, restart_after=60)
    await reader.start()
    try:
        pid = reader.child_pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # busy, as far as this process can tell
        texts = COMMENTS[:4]
        stuck = [asyncio.ensure_future(reader.read(t)) for t in texts]
        await asyncio.sleep(0)  # those four are in flight
        started = asyncio.get_running_loop().time()
        assert await reader.read(COMMENTS[5]) == read_comment(COMMENTS[5])  # read here at once
        assert asyncio.get_running_loop().time() - started < 0.5
        assert await asyncio.wait_for(asyncio.gather(*stuck), 10) == [read_comment(t) for t in texts]
    finally:
        await reader.close()


async def test_a_hung_child_times_out_into_reading_here() -> None:
    reader = CommentReader(offload=True, timeout=0.5, restart_after=60)
    await reader.start()
    try:
        pid = reader.child_pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        got = await asyncio.wait_for(reader.read(COMMENTS[1]), 10)
        assert got == read_comment(COMMENTS[1])
        assert reader.child_pid is None  # killed; reads stay here until a restart
        deadline = asyncio.get_running_loop().time() + 10
        while _alive(pid):
            assert asyncio.get_running_loop().time() < deadline, "the stuck child was not killed"
            await asyncio.sleep(0.05)
    finally:
        await reader.close()


async def test_without_offload_no_child_is_started() -> None:
    reader = CommentReader(offload=False)
    await reader.start()
    assert reader.child_pid is None
    assert await reader.read(COMMENTS[0]) == read_comment(COMMENTS[0])
    await reader.close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """This module's app reads comments in the child, as `touchpulse serve` does."""
    return msgspec.structs.replace(settings, sentiment_process=True)


async def test_answers_through_the_child_carry_its_reading(
        app: Litestar, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    pid = app.state.intake.comments.child_pid
    assert pid is not None
    w = await world(client, admin)
    await touchpoint(client, admin, w, "courier")
    answers = await asyncio.gather(*(client.post("/api/v1/responses", headers=admin, json={
        "touchpoint": "courier", "score": 1 + n % 5, "comment": text}) for n, text in enumerate(COMMENTS)))
    for text, answer in zip(COMMENTS, answers, strict=True):
        assert answer.status_code == 201, answer.text
        body = answer.json()
        expected = read_comment(text)
        assert (body["sentiment"]["polarity"], body["sentiment"]["label"], body["themes"]) == (
            expected.sentiment.polarity, expected.sentiment.label, expected.themes)
    listed = await client.get("/api/v1/responses", params={"touchpoint": "courier", "limit": 50}, headers=admin)
    assert listed.status_code == 200, listed.text
    stored = {r["comment"]: r["themes"] for r in listed.json()["items"]}
    assert stored == {text: read_comment(text).themes for text in COMMENTS}


async def test_the_child_ends_with_the_app(app: Litestar) -> None:
    async with app.lifespan():
        pid = app.state.intake.comments.child_pid
        assert pid is not None and _alive(pid)
    assert not _alive(pid)
