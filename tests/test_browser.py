"""A real browser answers a one-click email link against a real server; a phone screenshot."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from feedback.service.app import create_app
from feedback.service.database import Connection
from feedback.settings import Settings
from tests.conftest import MakeKey, bearer
from tests.test_insight_data import answer, at, days_ago
from tests.test_insight_reports import support_story

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser


def _chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        reason = "Chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The service on a loopback port, in a thread of its own."""
    # The socket is bound here and handed over, so no other process can take the port between.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=database_url, data_dir=tmp_path, secret_key="browser-" + "k" * 40,
                        base_url=base)
    config = uvicorn.Config(create_app(settings, database_url), log_level="warning", ws="none",
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


class Browser:
    """Just enough of the Chrome DevTools Protocol to drive one page."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        await self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        got = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return got.get("result", {}).get("value")

    async def wait_for(self, expression: str, seconds: float = 15) -> None:
        deadline = time.monotonic() + seconds
        while not await self.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(expression)
            await asyncio.sleep(0.1)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    binary = _chromium()
    # Chromium's helpers may still be writing to the profile as it is removed.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        # Port 0: Chromium picks a free one and writes it to DevToolsActivePort (no race).
        process = await asyncio.create_subprocess_exec(
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            page = await _page_target(Path(profile) / "DevToolsActivePort")
            async with connect(page, max_size=64 * 1024 * 1024) as ws:
                yield Browser(ws)
        finally:
            # The whole group: the browser and its renderer, GPU and crash-handler processes.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()


async def _page_target(port_file: Path) -> str:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as http:
        while True:
            try:
                port = int((await asyncio.to_thread(port_file.read_text)).split()[0])
                targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    url: str = pages[0]["webSocketDebuggerUrl"]
                    return url
            # Not written yet, half written, or the endpoint not answering JSON yet.
            except (OSError, IndexError, ValueError, httpx.HTTPError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("Chromium's DevTools endpoint did not come up")
            await asyncio.sleep(0.2)


async def test_one_click_link_from_email_answered_in_a_real_browser(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    admin = bearer(await make_key("admin"))
    async with httpx.AsyncClient(base_url=live_server, headers=admin) as api:
        journey = (await api.post("/api/v1/journeys", json={"name": "Shop"})).json()
        owner = (await api.post("/api/v1/owners", json={"name": "Delivery"})).json()
        created = await api.post("/api/v1/touchpoints", json={
            "key": "courier-delivery", "name": "Courier delivery", "stage_id": journey["stages"][4]["id"],
            "channel": "email", "owner_id": owner["id"], "kind": "nps"})
        assert created.status_code == 201, created.text
        sent = (await api.post("/api/v1/touchpoints/courier-delivery/invitations",
                               json={"customer": "browser-1", "context": {"order": "B-1"}})).json()
    link = next(part.split('"')[0] for part in sent["email_html"].split('href="')[1:] if "score=3" in part)
    assert link.startswith(live_server + "/s/")

    await browser.call("Page.enable")
    await browser.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2,
                       mobile=True)
    await browser.call("Page.navigate", url=link)
    await browser.wait_for("document.readyState === 'complete' && !!document.querySelector('form')")
    assert await browser.evaluate("document.querySelector('input[name=score]:checked').value") == "3"
    shot = await browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "survey-phone.png").write_bytes(base64.b64decode(shot["data"]))

    # Type the way a person does: focus the box, insert text, press the button.
    await browser.evaluate("document.getElementById('comment').focus()")
    await browser.call("Input.insertText", text="The courier was late & didn't call <b>")
    box = await browser.evaluate(
        "(() => { const b = document.querySelector('button[type=submit]'); b.scrollIntoView();"
        " const r = b.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
    for kind in ("mousePressed", "mouseReleased"):
        await browser.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left",
                           clickCount=1)
    await browser.wait_for("document.body && document.body.innerText.includes('Thank you!')")

    row = await conn.fetchrow("SELECT score, comment, source, context::text AS context FROM responses")
    assert row is not None
    assert (row["score"], row["comment"], row["source"]) == (3, "The courier was late & didn't call <b>", "link")
    assert row["context"] == '{"order": "B-1"}'
    assert await conn.fetchval("SELECT count(*) FROM invitation_clicks WHERE score = 3") == 1


# The smallest text, in CSS pixels, of the charts a reader sees (a hidden layout is skipped).
_CHART_TEXT = """(() => {
  const sizes = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    if (!box.width) continue;
    const scale = box.width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll('text')) sizes.push(scale * parseFloat(t.getAttribute('font-size')));
  }
  return sizes.length ? Math.min(...sizes) : 0;
})()"""


async def _open(browser: Browser, url: str, key: str, ready: str) -> None:
    await browser.call("Page.enable")
    await browser.call("Network.enable")
    await browser.call("Network.setExtraHTTPHeaders", headers=bearer(key))
    await browser.call("Page.navigate", url=url)
    await browser.wait_for(f"document.readyState === 'complete' && !!document.querySelector('{ready}')")


async def _shot(browser: Browser, name: str) -> None:
    shot = await browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / name).write_bytes(base64.b64decode(shot["data"]))


async def test_report_charts_are_readable_on_a_phone(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    cat = await support_story(conn)
    key = await make_key("admin")
    await browser.call("Emulation.setDeviceMetricsOverride", width=375, height=812, deviceScaleFactor=1,
                       mobile=True)
    await _open(browser, f"{live_server}/reports/owners/{cat.owners['support']}", key, "svg.chart")
    await _shot(browser, "owner-report-phone.png")
    # Scaled to a 300 px column, the desktop chart's 11-unit labels came out at about 6 px.
    assert await browser.evaluate(_CHART_TEXT) >= 10
    assert await browser.evaluate("document.documentElement.scrollWidth") <= 375

    await _open(browser, f"{live_server}/reports/journeys/{cat.journey}", key, "svg.chart")
    await _shot(browser, "journey-map-phone.png")
    assert await browser.evaluate(_CHART_TEXT) >= 10
    # The curve keeps its size and scrolls, and the page says so.
    assert await browser.evaluate(
        "(() => { const s = document.querySelector('.scroll'); return s.scrollWidth > s.clientWidth; })()")
    assert await browser.evaluate("getComputedStyle(document.querySelector('.scroll-hint')).display") != "none"



# Each chart a reader sees: how many CSS pixels it draws a unit of its viewBox in, and its text's
# smallest and largest size in CSS pixels.
_CHART_SCALES = """[...document.querySelectorAll('svg.chart')].filter(svg => svg.getBoundingClientRect().width)
  .map(svg => { const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    const sizes = [...svg.querySelectorAll('text')].map(t => scale * parseFloat(t.getAttribute('font-size')));
    return [svg.viewBox.baseVal.width, scale, Math.min(...sizes), Math.max(...sizes)]; })"""


async def test_a_chart_is_never_stretched_so_the_curve_of_few_stages_has_the_text_of_eight(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    cat = await support_story(conn)
    key = await make_key("admin")
    async with httpx.AsyncClient(base_url=live_server, headers=bearer(key)) as api:
        returns = (await api.post("/api/v1/journeys", json={
            "name": "Returns", "stages": ["Request", "Pickup", "Refund"]})).json()
    # Eight stages, three, and one owner's map of one stage (Solution).
    maps = [f"/reports/journeys/{cat.journey}", f"/reports/journeys/{returns['id']}",
            f"/reports/journeys/{cat.journey}?owner={cat.owners['support']}"]
    await browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1,
                       mobile=False)
    sizes = []
    for path in maps:
        await _open(browser, live_server + path, key, "svg.chart")
        [(width, scale, smallest, largest)] = await browser.evaluate(_CHART_SCALES)
        # At width="100%" the 560-unit curves of one and three stages were drawn 1,206 px wide.
        assert scale == 1, (path, width, scale)
        sizes.append((smallest, largest))
    await _shot(browser, "journey-map-one-stage-1280.png")
    assert sizes == [(11, 11)] * 3, sizes
    # The trend charts neither: at 700 px a card's one column is wider than the wide chart.
    for width in (1280, 700, 500, 375):
        await browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                           mobile=width < 600)
        await _open(browser, f"{live_server}/reports/owners/{cat.owners['support']}", key, "svg.chart")
        charts = await browser.evaluate(_CHART_SCALES)
        assert len(charts) == 2 and all(0.5 < scale <= 1 for _, scale, _, _ in charts), (width, charts)
        # Nor wider than its column: a narrower one shrinks it.
        assert await browser.evaluate("document.documentElement.scrollWidth") <= width


# The curve in its card: the room left of it and right of it, whether its box scrolls, and
# whether the page says so.
_CURVE_PLACE = """(() => { const box = document.querySelector('.scroll'), svg = box.querySelector('svg.chart');
  const a = box.getBoundingClientRect(), b = svg.getBoundingClientRect();
  return [Math.round(b.left - a.left), Math.round(a.right - b.right), box.scrollWidth > box.clientWidth,
    getComputedStyle(document.querySelector('.scroll-hint')).display !== 'none']; })()"""


async def test_the_emotion_curve_is_centred_in_a_wide_card_and_scrolls_in_a_narrow_one(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    cat = await support_story(conn)
    key = await make_key("admin")
    async with httpx.AsyncClient(base_url=live_server, headers=bearer(key)) as api:
        returns = (await api.post("/api/v1/journeys", json={
            "name": "Returns", "stages": ["Request", "Pickup", "Refund"]})).json()
    eight, three = f"/reports/journeys/{cat.journey}", f"/reports/journeys/{returns['id']}"
    one = f"{eight}?owner={cat.owners['support']}"
    # At 1280 a curve of one or three stages sat at the card's left, 600 px of white to its right.
    await browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1,
                       mobile=False)
    for path in (one, three, eight):
        await _open(browser, live_server + path, key, "svg.chart")
        left, right, scrolls, hint = await browser.evaluate(_CURVE_PLACE)
        assert abs(left - right) <= 1 and not scrolls and not hint, (path, left, right, scrolls, hint)
    await _shot(browser, "journey-map-curve-centred-1280.png")
    # From 768 to about 1,100 px the eight stages' curve (1,020 wide) shrank to its card, its
    # text to 8–10 px: it keeps its size and scrolls, as on a phone, and the page says so.
    for width in (1100, 900, 800, 375):
        await browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                           mobile=width < 600)
        await _open(browser, live_server + eight, key, "svg.chart")
        [(_, scale, smallest, _)] = await browser.evaluate(_CHART_SCALES)
        left, right, scrolls, hint = await browser.evaluate(_CURVE_PLACE)
        assert scale == 1 and smallest >= 11 and scrolls and hint and left == 0, (width, scale, smallest, scrolls, hint)
        assert await browser.evaluate("document.documentElement.scrollWidth") <= width
        await _shot(browser, f"journey-map-curve-{width}.png")
    # The one-stage curve (560 wide) fits at 900: no scroll, no hint.
    await browser.call("Emulation.setDeviceMetricsOverride", width=900, height=900, deviceScaleFactor=1, mobile=False)
    await _open(browser, live_server + one, key, "svg.chart")
    left, right, scrolls, hint = await browser.evaluate(_CURVE_PLACE)
    assert abs(left - right) <= 1 and not scrolls and not hint, (left, right, scrolls, hint)
    # On paper there is no scrolling: the curve fits the sheet.
    await _open(browser, live_server + eight, key, "svg.chart")
    await browser.call("Emulation.setEmulatedMedia", media="print")
    left, right, scrolls, hint = await browser.evaluate(_CURVE_PLACE)
    assert not scrolls and not hint, (left, right, scrolls, hint)


# Each quote's signature as drawn: the left edge of each character of "score" after the quote,
# and of the date after the touchpoint's name. Left to right, each is further right.
_SIGNATURES = """[...document.querySelectorAll('.quotes li')].map(li => {
  const edges = (node, from, to) => [...Array(to - from).keys()].map(k => {
    const r = document.createRange(); r.setStart(node, from + k); r.setEnd(node, from + k + 1);
    return r.getBoundingClientRect().left; });
  const sig = li.querySelector('span.muted'), lead = sig.firstChild, date = sig.querySelector('.nowrap').firstChild;
  const at = lead.textContent.indexOf('score');
  return [li.textContent, edges(lead, at, at + 5), edges(date, 0, date.textContent.length)]; })"""


async def test_direction_controls_in_a_comment_or_a_name_do_not_reverse_the_words_after_them(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    cat = await support_story(conn)
    # The most negative comment is quoted first: a stray PDI that would close the quote's isolate,
    # then an RLO; and the touchpoint's name, which signs each quote, with an RLO of its own.
    await answer(conn, "support-call", 1, when=at(days_ago(1)), comment="\u2069\u202eon hold forever",
                 themes=["waiting time"], polarity=-1.0, label="negative")
    await conn.execute("UPDATE touchpoints SET name = 'Support \u202ecall' WHERE key = 'support-call'")
    key = await make_key("admin")
    await browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1,
                       mobile=False)
    await _open(browser, f"{live_server}/reports/owners/{cat.owners['support']}", key, ".quotes li")
    signatures = await browser.evaluate(_SIGNATURES)
    assert any("on hold forever" in text for text, _, _ in signatures), signatures
    for text, score, date in signatures:
        assert score == sorted(score) and len(set(score)) == 5, (text, score)
        assert date == sorted(date) and len(set(date)) == len(date), (text, date)

# The period form's two dates and its button as laid out: left, right, top and height of each.
_PERIOD_FORM = """[...document.querySelectorAll('.periods form input[type=date], .periods form button')]
  .map(e => { const r = e.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.right), Math.round(r.top), Math.round(r.height)]; })"""


async def test_the_period_form_lines_up_on_a_phone_and_takes_one_row_at_a_desk(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    cat = await support_story(conn)
    key = await make_key("admin")
    await browser.call("Emulation.setDeviceMetricsOverride", width=375, height=812, deviceScaleFactor=1,
                       mobile=True)
    await _open(browser, f"{live_server}/reports/owners/{cat.owners['support']}", key, ".periods form")
    await _shot(browser, "owner-report-period-375.png")
    # "From" and "to" put the dates at different places and the button beside the second: the
    # dates and the button now make one column, each under the other, as tall as a fingertip.
    (start, end, button) = await browser.evaluate(_PERIOD_FORM)
    assert start[:2] == end[:2] == button[:2], (start, end, button)
    assert start[2] < end[2] < button[2] and min(start[3], end[3], button[3]) >= 44, (start, end, button)
    assert await browser.evaluate("document.documentElement.scrollWidth") <= 375
    await browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1,
                       mobile=False)
    (start, end, button) = await browser.evaluate(_PERIOD_FORM)
    assert start[2] == end[2] == button[2] and start[1] < end[0] < end[1] < button[0], (start, end, button)



# Each stage as laid out: its number, its name, and its box; and the narrowest touchpoint card.
_STAGES = """({stages: [...document.querySelectorAll('.stage')].map(s => { const r = s.getBoundingClientRect();
    return [s.querySelector('.step')?.textContent, s.querySelector('h3').textContent.trim(), r.x, r.y, r.width]; }),
  card: Math.min(...[...document.querySelectorAll('.tp')].map(c => c.getBoundingClientRect().width)),
  page: document.documentElement.scrollWidth})"""


async def test_journey_map_stages_are_wide_enough_to_read_and_come_in_journey_order(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    cat = await support_story(conn)
    key = await make_key("admin")
    names = [r["name"] for r in await conn.fetch(
        "SELECT s.name FROM stages s WHERE s.journey_id = $1 ORDER BY s.position", cat.journey)]
    assert len(names) == 8
    await _open(browser, f"{live_server}/reports/journeys/{cat.journey}", key, ".stage")
    # Eight columns side by side left a card about 130 px at 1280: every name and badge broke.
    for width, mobile, columns, narrowest in ((1280, False, 4, 260), (375, True, 1, 300)):
        await browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                           mobile=mobile)
        laid = await browser.evaluate(_STAGES)
        await _shot(browser, f"journey-map-{width}.png")
        assert laid["page"] <= width and laid["card"] >= narrowest, (width, laid)
        assert len({x for _, _, x, _, _ in laid["stages"]}) == columns, (width, laid)
        # Numbered, and read row by row, left to right, the stages come in the journey's order.
        by_place = sorted(laid["stages"], key=lambda s: (round(s[3]), s[2]))
        assert [(n, h) for n, h, *_ in by_place] == [(str(i), f"{i} {name}") for i, name in enumerate(names, 1)]
    # On paper: two rows of four, as at a desk.
    await browser.call("Emulation.setDeviceMetricsOverride", width=710, height=950, deviceScaleFactor=1,
                       mobile=False)
    await browser.call("Emulation.setEmulatedMedia", media="print")
    laid = await browser.evaluate(_STAGES)
    assert len({x for _, _, x, _, _ in laid["stages"]}) == 4 and laid["page"] <= 710, laid

# Each stage's totals as laid out: how many lines its figures take, its smallest text, and
# whether it fits its card.
_TOTALS = """[...document.querySelectorAll('.stage')].map(s => { const d = s.querySelector('.totals');
  const tops = new Set([...d.querySelectorAll('dd')].map(e => Math.round(e.getBoundingClientRect().top)));
  const sizes = [...d.querySelectorAll('dt, dd')].map(e => parseFloat(getComputedStyle(e).fontSize));
  return [s.querySelector('h3').textContent.trim(), tops.size, Math.min(...sizes),
    d.getBoundingClientRect().right <= s.getBoundingClientRect().right, [...d.querySelectorAll('dt, dd')].map(e => e.textContent).join(' ')]; })"""


async def test_journey_map_stage_totals_take_one_line_at_a_desk_a_tablet_and_a_phone(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    cat = await support_story(conn)
    # A busy stage, as in the demo: four-digit counts and a negative sentiment are the widest figures.
    await conn.execute("""
        INSERT INTO responses (touchpoint_id, id, journey_id, stage_id, owner_id, kind, scale_min, scale_max,
            score, channel, source, sentiment_polarity, sentiment_label, themes, analyzer_version, occurred_at)
        SELECT t.id, gen_random_uuid(), s.journey_id, t.stage_id, t.owner_id, t.kind, 1, 5, 1 + g % 5,
            t.channel, 'api', -0.55, 'negative', '{}', 1, now() - (g % 20) * interval '1 day'
        FROM touchpoints t JOIN stages s ON s.id = t.stage_id, generate_series(1, 1100) g
        WHERE t.key = 'support-call'""")
    key = await make_key("admin")
    await _open(browser, f"{live_server}/reports/journeys/{cat.journey}", key, ".stage")
    # "n = 1,138 · 45.1 % high-band answers · sentiment +0.11" broke over three lines at 1280.
    for width in (1280, 1024, 768, 375):
        await browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                           mobile=width < 600)
        stages = await browser.evaluate(_TOTALS)
        await _shot(browser, f"journey-map-totals-{width}.png")
        assert len(stages) == 8 and all(lines == 1 and fits for _, lines, _, fits, _ in stages), (width, stages)
        assert min(size for _, _, size, _, _ in stages) >= 12, (width, stages)
        # No figure breaks over lines: "−1…" / "1 to 0…1" did at 375.
        assert await browser.evaluate(
            "[...document.querySelectorAll('.nowrap')].filter(e => e.getClientRects().length > 1).length") == 0
    solution = next(text for name, *_, text in stages if name.endswith("Solution"))
    assert re.match(r"answers 1,\d{3} satisfied \d+\.\d % sentiment −0\.\d\d$", solution), solution


# The dates under the x axis of each trend chart a reader sees: its width in its own units, and
# each date's text and left and right edges as drawn (the year's line included).
_AXIS = """[...document.querySelectorAll('svg.chart-wide, svg.chart-narrow')]
  .filter(svg => svg.getBoundingClientRect().width)
  .map(svg => [svg.viewBox.baseVal.width, [...svg.querySelectorAll('text[text-anchor=middle]')]
    .filter(t => /^(\\d\\d )?[A-Z][a-z]{2}(\\d{4})?$/.test(t.textContent))
    .map(t => { const b = t.getBBox(); return [t.textContent, b.x, b.x + b.width]; })])"""


async def test_a_year_long_trend_names_its_years_and_its_dates_do_not_overlap_on_a_phone(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    cat = await support_story(conn)
    key = await make_key("admin")
    # 400 days always reach into the year before.
    start = (datetime.now(UTC).date() - timedelta(days=400)).isoformat()
    await browser.call("Emulation.setDeviceMetricsOverride", width=375, height=812, deviceScaleFactor=1,
                       mobile=True)
    await _open(browser, f"{live_server}/reports/owners/{cat.owners['support']}?from={start}", key, "svg.chart")
    await _shot(browser, "owner-report-year-phone.png")
    for width in (375, 1280):
        await browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                           mobile=width < 600)
        charts = await browser.evaluate(_AXIS)
        assert len(charts) == 2, charts
        for chart_width, dates in charts:
            years = [text[-4:] for text, *_ in dates if text[-4:].isdigit()]
            assert len(years) >= 2 and years == sorted(years), dates
            # Measured as drawn: every date inside the chart, and clear of the next one.
            assert all(left >= 0 and right <= chart_width for _, left, right in dates), (width, dates)
            assert all(a[2] < b[1] for a, b in pairwise(dates)), (width, dates)


async def test_owner_report_on_paper_puts_several_whole_cards_on_a_sheet(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    cat = await support_story(conn)
    key = await make_key("admin")
    # A Letter sheet with 14 mm margins, at 96 CSS pixels an inch: about 710 x 950.
    await browser.call("Emulation.setDeviceMetricsOverride", width=710, height=950, deviceScaleFactor=1,
                       mobile=False)
    await browser.call("Emulation.setEmulatedMedia", media="print")
    await _open(browser, f"{live_server}/reports/owners/{cat.owners['support']}", key, "section.card")
    cards = await browser.evaluate(
        "[...document.querySelectorAll('section.card')].map(c => [c.getBoundingClientRect().height,"
        " getComputedStyle(c).breakInside])")
    assert len(cards) == 2
    # Two cards and their gap fit on one sheet; none is split.
    assert all(height < 0.45 * 950 and avoid == "avoid" for height, avoid in cards), cards
    assert await browser.evaluate(_CHART_TEXT) >= 9
    assert await browser.evaluate("getComputedStyle(document.querySelector('.noprint')).display") == "none"
    # The funnel bars are backgrounds: printed even with "background graphics" off.
    assert await browser.evaluate("getComputedStyle(document.querySelector('.bar')).printColorAdjust") == "exact"
    pdf = await browser.call("Page.printToPDF", paperWidth=8.5, paperHeight=11, printBackground=False)
    (ROOT / "test-output").mkdir(exist_ok=True)
    (ROOT / "test-output" / "owner-report.pdf").write_bytes(base64.b64decode(pdf["data"]))


# Each funnel row as laid out: the right edges of its count and its rate, and how far the rate's
# middle is from its bar's; and every figure kept on one line (.nowrap) that is on more than one.
_FUNNEL = """({rows: [...document.querySelectorAll('table.funnel tr')].map(tr => {
    const [count, bars, rate] = tr.querySelectorAll('td'); const bar = bars.querySelector('.bar').getBoundingClientRect();
    const text = document.createRange(); text.selectNodeContents(rate); const r = text.getBoundingClientRect();
    return [count.getBoundingClientRect().right, rate.textContent ? r.right : null,
            rate.textContent ? Math.abs((r.top + r.bottom) / 2 - (bar.top + bar.bottom) / 2) : 0]; }),
  split: [...document.querySelectorAll('.nowrap')].filter(e => e.getClientRects().length > 1).map(e => e.textContent)})"""


async def test_owner_report_funnel_figures_line_up_and_no_figure_breaks_over_lines(
        browser: Browser, live_server: str, make_key: MakeKey, conn: Connection) -> None:
    cat = await support_story(conn)
    key = await make_key("admin")
    await _open(browser, f"{live_server}/reports/owners/{cat.owners['support']}", key, "table.funnel")
    for width in (375, 1280):
        await browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                           mobile=width < 600)
        laid = await browser.evaluate(_FUNNEL)
        rows = laid["rows"]
        assert len(rows) == 3, laid
        # Counts right-aligned in one column, rates in another; on a phone a rate fell under its bar.
        assert max(r[0] for r in rows) - min(r[0] for r in rows) < 1, (width, rows)
        assert rows[0][1] is None and abs(rows[1][1] - rows[2][1]) < 1, (width, rows)
        assert all(off < 4 for *_, off in rows), (width, rows)
        # "95 % CI 70.9–" / "78.5 %" broke inside the interval on a phone.
        assert laid["split"] == [], (width, laid)


# The Send button's border as drawn (style, width, colour) and the page's background.
_EDGE = """(() => { const c = getComputedStyle(document.querySelector('.button'));
  return [c.borderTopStyle, parseFloat(c.borderTopWidth), c.borderTopColor, getComputedStyle(document.body).backgroundColor]; })()"""


_SCORES = """[...document.querySelectorAll('.scale span')].map(s => { const r = s.getBoundingClientRect();
  const c = getComputedStyle(s); return [s.previousElementSibling.checked, r.width, r.height, c.backgroundColor]; })"""


async def _survey_links(live_server: str, admin: dict[str, str], touchpoints: list[tuple[str, str, str]],
                        customer: str, **invitation: str) -> dict[str, str]:
    """One journey and owner, a touchpoint per (key, name, kind), and a survey link to each."""
    links: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=live_server, headers=admin) as api:
        journey = (await api.post("/api/v1/journeys", json={"name": "Shop"})).json()
        owner = (await api.post("/api/v1/owners", json={"name": "Success"})).json()
        for key, name, kind in touchpoints:
            created = await api.post("/api/v1/touchpoints", json={
                "key": key, "name": name, "stage_id": journey["stages"][4]["id"],
                "channel": "email", "owner_id": owner["id"], "kind": kind})
            assert created.status_code == 201, created.text
            links[key] = (await api.post(f"/api/v1/touchpoints/{key}/invitations",
                                         json={"customer": f"{customer}-{key}", **invitation})).json()["url"]
    return links


async def test_the_nps_scale_on_a_phone_fits_is_big_enough_and_shows_the_choice_in_forced_colours(
        browser: Browser, live_server: str, make_key: MakeKey) -> None:
    admin = bearer(await make_key("admin"))
    sent = {"url": (await _survey_links(live_server, admin, [("relationship", "Relationship", "nps")],
                                        "a11y"))["relationship"]}
    await browser.call("Page.enable")
    for width in (375, 320):  # a phone, and 1280 px at 400 % zoom
        await browser.call("Emulation.setDeviceMetricsOverride", width=width, height=800, deviceScaleFactor=1,
                           mobile=True)
        await browser.call("Page.navigate", url=sent["url"] + "?score=7&kind=nps")
        await browser.wait_for("document.readyState === 'complete' && !!document.querySelector('.scale')")
        assert await browser.evaluate("document.documentElement.scrollWidth") <= width
        scores = await browser.evaluate(_SCORES)
        # WCAG 2.5.8: every one of the eleven targets at least 24 x 24 CSS pixels.
        assert len(scores) == 11 and all(w >= 24 and h >= 24 for _, w, h, _ in scores), scores
    await browser.call("Emulation.setEmulatedMedia", features=[{"name": "forced-colors", "value": "active"}])
    scores = await browser.evaluate(_SCORES)
    chosen = {colour for checked, _, _, colour in scores if checked}
    others = {colour for checked, _, _, colour in scores if not checked}
    assert len(chosen) == 1 and chosen.isdisjoint(others), scores
    # Send keeps an outline of its own there: with no border, its dropped background left a line of text.
    edge = await browser.evaluate(_EDGE)
    assert edge[0] == "solid" and edge[1] >= 1 and edge[2] != edge[3], edge

    # An error moves focus to the scale without any script.
    await browser.call("Emulation.setEmulatedMedia", features=[])
    await browser.evaluate("document.querySelector('input:checked').checked = false; document.forms[0].submit()")
    await browser.wait_for("document.title.startsWith('Error: ') && document.activeElement.name === 'score'")
    assert await browser.evaluate("document.activeElement.value") == "0"

    # The widget's Send the same.
    await browser.call("Emulation.setEmulatedMedia", features=[{"name": "forced-colors", "value": "active"}])
    await browser.call("Page.navigate", url=f"{live_server}/w/relationship")
    await browser.wait_for("document.readyState === 'complete' && !!document.querySelector('.button')")
    edge = await browser.evaluate(_EDGE)
    assert edge[0] == "solid" and edge[1] >= 1 and edge[2] != edge[3], edge


_TARGETS = """[...document.querySelectorAll('.scale span')].map(s => { const r = s.getBoundingClientRect();
  return [Number(s.textContent), Math.round(r.y), r.x, r.width, r.height]; })"""


async def test_every_scale_on_a_phone_has_fingertip_targets_in_scale_order_and_so_has_the_change_link(
        browser: Browser, live_server: str, make_key: MakeKey) -> None:
    admin = bearer(await make_key("admin"))
    links = await _survey_links(live_server, admin, [(kind, kind.upper(), kind) for kind in ("csat", "ces", "nps")],
                                "fingers")
    await browser.call("Page.enable")
    # Common phone widths, from a 360 px Android up; the 1–7 scale was 38 px wide at 375.
    for width in (360, 375, 414):
        await browser.call("Emulation.setDeviceMetricsOverride", width=width, height=800, deviceScaleFactor=1,
                           mobile=True)
        for kind, url in links.items():
            await browser.call("Page.navigate", url=url)
            await browser.wait_for("document.readyState === 'complete' && !!document.querySelector('.scale')")
            assert await browser.evaluate("document.documentElement.scrollWidth") <= width
            targets = await browser.evaluate(_TARGETS)
            assert all(w >= 44 and h >= 44 for *_, w, h in targets), (kind, width, targets)
            # Read row by row, left to right, the scores come in order: a second row continues the first.
            assert [n for n, *_ in sorted(targets, key=lambda t: (t[1], t[2]))] == sorted(n for n, *_ in targets)

    await browser.evaluate("document.querySelector('input[value=\"7\"]').checked = true; document.forms[0].submit()")
    await browser.wait_for("!!document.querySelector('.card a')")
    height = await browser.evaluate("document.querySelector('.card a').getBoundingClientRect().height")
    assert height >= 44


# The scale as laid out: its rows, its narrowest and lowest face, the first face's left edge and
# the first end label's, the last face's right edge and the last label's, and the page's width.
_ROW = """(() => { const faces = [...document.querySelectorAll('.scale span')].map(s => s.getBoundingClientRect());
  const ends = [...document.querySelectorAll('.ends span')].map(s => s.getBoundingClientRect());
  return [new Set(faces.map(r => Math.round(r.top))).size, Math.min(...faces.map(r => r.width)),
    Math.min(...faces.map(r => r.height)), faces[0].left - ends[0].left, faces.at(-1).right - ends.at(-1).right,
    document.documentElement.scrollWidth]; })()"""


async def test_ces_and_csat_take_one_row_on_a_phone_with_their_end_labels_under_their_end_scores(
        browser: Browser, live_server: str, make_key: MakeKey) -> None:
    admin = bearer(await make_key("admin"))
    kinds = [(kind, kind.upper(), kind) for kind in ("csat", "ces", "nps")]
    links = {(kind, "en"): url for kind, url in (await _survey_links(live_server, admin, kinds, "row")).items()}
    async with httpx.AsyncClient(base_url=live_server, headers=admin) as api:
        for kind in ("csat", "ces", "nps"):
            links[kind, "ru"] = (await api.post(f"/api/v1/touchpoints/{kind}/invitations",
                                                json={"customer": f"row-ru-{kind}", "locale": "ru"})).json()["url"]
    links["ces", "widget"] = f"{live_server}/w/ces"
    await browser.call("Page.enable")
    # 320: 1280 px at 400 % zoom, where 44 px cannot fit seven; WCAG 2.2 AA asks 24, we keep 40.
    for width, least in ((320, 40), (360, 44), (375, 44), (414, 44)):
        await browser.call("Emulation.setDeviceMetricsOverride", width=width, height=800, deviceScaleFactor=1,
                           mobile=True)
        for (kind, page), url in links.items():
            await browser.call("Page.navigate", url=url)
            await browser.wait_for("document.readyState === 'complete' && !!document.querySelector('.ends')")
            rows, narrowest, lowest, left, right, scrolled = await browser.evaluate(_ROW)
            if width == 375 and page != "en":
                await _shot(browser, f"survey-{kind}-{page}-375.png")
            assert scrolled <= width and narrowest >= least and lowest >= 44, (kind, page, width)
            # 1–7 took two rows at 375, "7 — Strongly agree" under the empty cell after 7; 0–10 keeps
            # its two rows, 0–5 and 6–10, where eleven cannot fit.
            assert rows == (2 if kind == "nps" else 1), (kind, page, width, rows)
            assert abs(left) < 1 and (abs(right) < 1 or kind == "nps"), (kind, page, width, left, right)


# The focused score: its value, and the outline drawn around its label and on its face.
_RING = """(() => { const i = document.activeElement; if (i.name !== 'score') return null;
  const ring = e => { const c = getComputedStyle(e); return c.outlineStyle === 'none' ? 'none' : c.outlineStyle + ' ' + c.outlineWidth; };
  return [i.value, ring(i.closest('label')), ring(i.nextElementSibling)]; })()"""


async def _key(browser: Browser, key: str, code: int, modifiers: int = 0) -> None:
    for kind in ("rawKeyDown", "keyUp"):
        await browser.call("Input.dispatchKeyEvent", type=kind, key=key, code=key,
                           windowsVirtualKeyCode=code, modifiers=modifiers)


async def test_a_tapped_score_wears_no_focus_ring_and_a_keyboard_user_sees_one(
        browser: Browser, live_server: str, make_key: MakeKey) -> None:
    admin = bearer(await make_key("admin"))
    url = (await _survey_links(live_server, admin, [("relationship", "Relationship", "nps")], "rings"))["relationship"]
    await browser.call("Page.enable")
    await browser.call("Emulation.setDeviceMetricsOverride", width=375, height=812, deviceScaleFactor=2, mobile=True)
    await browser.call("Emulation.setTouchEmulationEnabled", enabled=True, maxTouchPoints=1)
    await browser.call("Page.navigate", url=url)
    await browser.wait_for("document.readyState === 'complete' && !!document.querySelector('.scale')")
    seven = await browser.evaluate(
        "(() => { const r = document.querySelector('input[value=\"7\"] + span').getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
    for kind, points in (("touchStart", [{"x": seven[0], "y": seven[1]}]), ("touchEnd", [])):
        await browser.call("Input.dispatchTouchEvent", type=kind, touchPoints=points)
    await browser.wait_for("document.querySelector('input[value=\"7\"]').checked")
    # Chosen and focused by the tap, with no ring: the filled face shows the choice.
    assert await browser.evaluate(_RING) == ["7", "none", "none"]

    # Away to the comment and back by the keyboard: the ring is on the chosen score's face.
    await _key(browser, "Tab", 9)
    assert await browser.evaluate("document.activeElement.id") == "comment"
    await _key(browser, "Tab", 9, modifiers=8)  # Shift+Tab
    assert await browser.evaluate(_RING) == ["7", "none", "solid 3px"]
    await _key(browser, "ArrowRight", 39)
    assert await browser.evaluate(_RING) == ["8", "none", "solid 3px"]


async def test_a_long_one_word_touchpoint_name_does_not_push_the_survey_sideways_at_320_px(
        browser: Browser, live_server: str, make_key: MakeKey) -> None:
    admin = bearer(await make_key("admin"))
    sent = {"url": (await _survey_links(live_server, admin, [("portal", "Selfservicecustomeraccountportal", "ces")],
                                        "long", locale="ru"))["portal"]}
    await browser.call("Page.enable")
    await browser.call("Emulation.setDeviceMetricsOverride", width=320, height=800, deviceScaleFactor=1, mobile=True)
    for url in (sent["url"], f"{live_server}/w/portal"):
        await browser.call("Page.navigate", url=url)
        await browser.wait_for("document.readyState === 'complete' && !!document.querySelector('h1')")
        heading = await browser.evaluate("document.querySelector('h1').textContent")
        assert "selfservicecustomeraccountportal" in heading.lower()
        assert await browser.evaluate("document.documentElement.scrollWidth") <= 320, url


async def _radios(browser: Browser) -> list[tuple[str, str, str, str]]:
    """The score group and its radios as a screen reader gets them: role, name, description, invalid."""
    tree = await browser.call("Accessibility.getFullAXTree")
    found = []
    for node in tree["nodes"]:
        role = node.get("role", {}).get("value")
        if node.get("ignored") or role not in ("group", "radio"):
            continue
        invalid = next((p["value"]["value"] for p in node.get("properties", []) if p["name"] == "invalid"), "")
        found.append((role, node.get("name", {}).get("value", ""), node.get("description", {}).get("value", ""),
                      invalid))
    return found


# The focused element: its tag, its name or text, and whether the ring is drawn (on a score's face).
_FOCUSED = """(() => { const e = document.activeElement; const face = e.name === 'score' ? e.nextElementSibling : e;
  return [e.tagName, e.name || e.textContent.trim(), getComputedStyle(face).outlineStyle]; })()"""


async def _enter(browser: Browser) -> None:
    # keyDown with its text, as a keyboard sends it: the focused button is pressed.
    for kind in ("keyDown", "keyUp"):
        await browser.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                           windowsVirtualKeyCode=13, text="\r" if kind == "keyDown" else "")


async def test_the_scale_by_keyboard_and_screen_reader_names_its_ends_and_is_in_error_only_after_a_send(
        browser: Browser, live_server: str, make_key: MakeKey) -> None:
    admin = bearer(await make_key("admin"))
    url = (await _survey_links(live_server, admin, [("chat", "Support chat", "csat")], "keys"))["chat"]
    await browser.call("Page.enable")
    await browser.call("Accessibility.enable")
    await browser.call("Emulation.setDeviceMetricsOverride", width=375, height=812, deviceScaleFactor=1, mobile=True)
    await browser.call("Page.navigate", url=url)
    await browser.wait_for("document.readyState === 'complete' && !!document.querySelector('.scale')")
    question = await browser.evaluate("document.querySelector('legend').textContent.trim()")
    hint = "1 means “Very dissatisfied”, 5 means “Very satisfied”."
    # The ends were named "1" and "5" (their labels a description some readers skip), and every
    # radio was "invalid" before anything was sent: Chromium's reading of a required radio.
    assert await _radios(browser) == [
        ("group", question, hint, "false"), ("radio", "1, Very dissatisfied", "", "false"),
        *[("radio", str(n), "", "false") for n in (2, 3, 4)], ("radio", "5, Very satisfied", "", "false")]

    # Tab into the scale, on past the comment to Send, each with its ring; Enter sends no score.
    await _key(browser, "Tab", 9)
    assert await browser.evaluate(_FOCUSED) == ["INPUT", "score", "solid"]
    await _key(browser, "Tab", 9)
    assert await browser.evaluate(_FOCUSED) == ["TEXTAREA", "comment", "solid"]
    await _key(browser, "Tab", 9)
    assert await browser.evaluate(_FOCUSED) == ["BUTTON", "Send", "solid"]
    await _enter(browser)
    await browser.wait_for("document.title.startsWith('Error: ') && document.activeElement.name === 'score'")
    # Every radio is in error, and the one focused says what the error is.
    error = "Please choose a score from 1 to 5."
    assert await _radios(browser) == [
        ("group", question, hint, "false"), ("radio", "1, Very dissatisfied", error, "true"),
        *[("radio", str(n), error, "true") for n in (2, 3, 4)], ("radio", "5, Very satisfied", error, "true")]

    # An arrow chooses the next score; Send by the keyboard; the change link is reached the same way.
    await _key(browser, "ArrowRight", 39)
    assert await browser.evaluate("document.querySelector('input:checked').value") == "2"
    for _ in range(2):
        await _key(browser, "Tab", 9)
    assert await browser.evaluate(_FOCUSED) == ["BUTTON", "Send", "solid"]
    await _enter(browser)
    await browser.wait_for("document.title.startsWith('Thank you!')")
    await _key(browser, "Tab", 9)
    assert await browser.evaluate(_FOCUSED) == ["A", "Change my answer", "solid"]


# Where an entry's fields are: its fold's state, and whether the fold is on screen.
_FOLD = """((id) => { const t = document.getElementById(id), r = t.getBoundingClientRect();
  return {open: t.closest('details').open, visible: r.height > 0 && r.top >= 0 && r.top < innerHeight}; })"""


async def _docs(browser: Browser, url: str, width: int) -> None:
    await browser.call("Page.enable")
    await browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                       mobile=width < 600)
    # From a blank page: a fragment is followed as the page loads, not by scrolling within it.
    await browser.call("Page.navigate", url="about:blank")
    await browser.wait_for("location.href === 'about:blank' && document.readyState === 'complete'")
    await browser.call("Page.navigate", url=url)
    await browser.wait_for("document.readyState === 'complete' && !!document.getElementById('schemas')")


async def test_the_api_reference_is_short_enough_to_read_and_its_links_open_the_folded_schemas(
        browser: Browser, live_server: str) -> None:
    # Every field once, the schemas folded: 46,000 px tall at 1280 px when each was tabled twice
    # (about 1,500 px an operation), about 20,500 since (about 660 px each of 31 operations). The
    # bound is per operation, so a new operation does not move it; tabling fields twice again
    # fails it.
    await _docs(browser, f"{live_server}/docs", 1280)
    height = await browser.evaluate("document.documentElement.scrollHeight")
    operations = await browser.evaluate("document.querySelectorAll('[id^=\"op-\"]').length")
    assert operations >= 30 and height / operations < 750, (height, operations)
    assert await browser.evaluate("document.querySelectorAll('details[open]').length") == 0
    # A click on an answer's schema opens its entry where the fields are, with no script of the page's.
    assert await browser.evaluate(f"{_FOLD}('schema-owner')") == {"open": False, "visible": False}
    await browser.evaluate("document.querySelector('#op-get-api-v1-owners-owner-id a[href=\"#schema-owner\"]').click()")
    await browser.wait_for(f"{_FOLD}('schema-owner').open")
    assert await browser.evaluate(f"{_FOLD}('schema-owner')") == {"open": True, "visible": True}
    # So does a link from elsewhere (a client's bookmark, another page), to an entry nested in another.
    await _docs(browser, f"{live_server}/docs#schema-scorevalue", 1280)
    await browser.wait_for(f"{_FOLD}('schema-scorevalue').open")
    assert await browser.evaluate(f"{_FOLD}('schema-scorevalue')") == {"open": True, "visible": True}

    await _docs(browser, f"{live_server}/docs", 375)
    assert await browser.evaluate("document.documentElement.scrollWidth") <= 375
    await _shot(browser, "api-docs-phone.png")


# The end labels of an email block's scale as drawn, and the buttons' row edges.
_EMAIL_SCALE = """(() => { const faces = [...document.querySelectorAll('a[href*="score="] > span:first-child')]
  .map(f => f.getBoundingClientRect());
  const labels = [...document.querySelectorAll('a[href*="score="] > span + span')].map(l => {
    const r = l.firstElementChild.getBoundingClientRect(); return [r.left, r.right, r.top, parseFloat(getComputedStyle(l).fontSize)]; });
  return {faces: faces.map(r => [r.left, r.right, r.top, r.width, r.height]), labels,
          page: document.documentElement.scrollWidth}; })()"""


async def _link_names(browser: Browser) -> list[str]:
    tree = await browser.call("Accessibility.getFullAXTree")
    # Spaces as plain ones: Russian copy keeps a non-breaking space before a short word.
    return [" ".join(n.get("name", {}).get("value", "").split()) for n in tree["nodes"]
            if not n.get("ignored") and n.get("role", {}).get("value") == "link"]


async def test_the_email_blocks_score_links_are_named_by_what_they_show_and_its_end_labels_stay_apart(
        browser: Browser, live_server: str, make_key: MakeKey) -> None:
    admin = bearer(await make_key("admin"))
    emails: dict[tuple[str, str], str] = {}
    async with httpx.AsyncClient(base_url=live_server, headers=admin) as api:
        journey = (await api.post("/api/v1/journeys", json={"name": "Shop"})).json()
        owner = (await api.post("/api/v1/owners", json={"name": "Success"})).json()
        for kind in ("csat", "ces", "nps"):
            created = await api.post("/api/v1/touchpoints", json={
                "key": kind, "name": kind.upper(), "stage_id": journey["stages"][4]["id"], "channel": "email",
                "owner_id": owner["id"], "kind": kind})
            assert created.status_code == 201, created.text
            for locale in ("en", "ru"):
                sent = await api.post(f"/api/v1/touchpoints/{kind}/invitations",
                                      json={"customer": f"mail-{kind}-{locale}", "locale": locale})
                emails[kind, locale] = sent.json()["email_html"]
    ends = {("csat", "en"): ("Very dissatisfied", "Very satisfied"), ("nps", "en"): ("Not at all likely", "Extremely likely"),
            ("ces", "en"): ("Strongly disagree", "Strongly agree"), ("csat", "ru"): ("Очень недовольны", "Очень довольны"),
            ("nps", "ru"): ("Крайне маловероятно", "Очень вероятно"), ("ces", "ru"): ("Полностью не согласны", "Полностью согласны")}
    await browser.call("Page.enable")
    await browser.call("Accessibility.enable")
    # A phone's mail app: about 340 px for the message at 375, less its margins.
    await browser.call("Emulation.setDeviceMetricsOverride", width=375, height=800, deviceScaleFactor=1, mobile=True)
    for (kind, locale), email in emails.items():
        page = (f'<!doctype html><html><head><meta name="viewport" content="width=device-width"></head>'
                f'<body style="margin:16px">{email}</body></html>')
        await browser.call("Page.navigate", url="data:text/html;charset=utf-8;base64," + base64.b64encode(page.encode()).decode())
        await browser.wait_for("document.readyState === 'complete' && !!document.querySelector('a')")
        low, high = ends[kind, locale]
        scores = {"csat": range(1, 6), "ces": range(1, 8), "nps": range(0, 11)}[kind]
        # What a screen reader lists, with aria-label and title gone (they are): the text shown.
        assert await _link_names(browser) == [
            f"{n} {low}" if n == scores[0] else f"{n} {high}" if n == scores[-1] else str(n) for n in scores]
        laid = await browser.evaluate(_EMAIL_SCALE)
        assert laid["page"] <= 375 and all(w >= 40 and h >= 44 for *_, w, h in laid["faces"]), (kind, locale, laid)
        (low_left, low_right, low_top, low_size), (high_left, high_right, high_top, high_size) = laid["labels"]
        first, last = laid["faces"][0], laid["faces"][-1]
        # Each label under its end, from its button's edge inwards, and the two clear of each other.
        assert low_top > first[2] and high_top > last[2] and min(low_size, high_size) >= 12, laid
        assert abs(low_left - first[0]) < 1 and abs(high_right - last[1]) < 1, (kind, locale, laid)
        assert low_top != high_top or low_right + 8 <= high_left, (kind, locale, laid)
