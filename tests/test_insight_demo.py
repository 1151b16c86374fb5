"""On the demo data the reports tell the truth the demo seeded."""

from __future__ import annotations

import importlib
from typing import Any

import httpx
import pytest

from feedback.settings import Settings

Client = httpx.AsyncClient


def _seeded_truth() -> dict[str, dict[str, list[str]]]:
    try:
        module = importlib.import_module("feedback.demo.responses")
    except ImportError:
        pytest.skip("feedback.demo.responses is not written yet")
    truth = getattr(module, "SEEDED_TRUTH", None)
    if truth is None:
        pytest.skip("feedback.demo.responses.SEEDED_TRUTH does not exist yet")
    return dict(truth)


async def test_demo_reports_find_the_seeded_pain_points_and_positive_moments(
        client: Client, admin: dict[str, str], conn: Any, settings: Settings) -> None:
    truth = _seeded_truth()
    from feedback.demo.loader import load_demo

    assert (await load_demo(conn, settings)).created
    for key, seeded in truth.items():
        r = await client.get(f"/api/v1/touchpoints/{key}/report", headers=admin)
        assert r.status_code == 200, r.text
        report = r.json()
        pain = [p["theme"] for p in report["pain_points"]]
        delight = [p["theme"] for p in report["positive_moments"]]
        for theme in seeded["pain"]:
            assert theme in pain, (key, theme, pain)
            assert theme not in delight, (key, theme, delight)
        for theme in seeded["delight"]:
            assert theme in delight, (key, theme, delight)
            assert theme not in pain, (key, theme, pain)
        for item in report["pain_points"] + report["positive_moments"]:
            assert item["n"] >= 5 and len(item["comments"]) <= 3
        shown = report["pain_points"] + report["positive_moments"]
        for item in shown:
            # Up to three verbatims, each a different wording (the demo repeats its sentences).
            said = [c["comment"].strip().casefold() for c in item["comments"]]
            assert 1 <= len(said) <= 3 and len(set(said)) == len(said), (key, item)
    # The owner report agrees, and the pages render on real data.
    owners = await conn.fetch("SELECT DISTINCT owner_id FROM touchpoints")
    for row in owners:
        r = await client.get(f"/reports/owners/{row['owner_id']}", headers=admin)
        assert r.status_code == 200 and "<svg" in r.text, r.text[:500]
        # The demo's history covers the period before too: every row has its comparison.
        head = r.text.split("</h1>")[1].split("</p>")[0]
        assert "compared with" in head and "where both periods" not in head, head
        assert "no comparison" not in r.text and "previous period: too few answers" not in r.text
    journey = await conn.fetchval("SELECT min(id) FROM journeys")
    r = await client.get(f"/reports/journeys/{journey}", headers=admin)
    assert r.status_code == 200 and "Emotion curve" in r.text
