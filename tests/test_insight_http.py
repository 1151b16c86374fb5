"""What dashboards expect of the HTTP API: conditional GET, CSV timestamps, content negotiation."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from feedback.service.conditional import entity_tag, none_match
from tests.conftest import MakeKey, bearer, problem_type
from tests.test_insight_data import answer, answers, at, catalogue, days_ago

Client = httpx.AsyncClient
Headers = dict[str, str]

SCORES = "/api/v1/scores"
SUPPORT = {"touchpoint": "support-call", "bucket": "week"}


async def test_scores_carry_an_etag_and_an_unchanged_score_is_a_304_without_a_body(
        client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    await answers(conn, "support-call", [5, 4, 2], day=days_ago(2))
    first = await client.get(SCORES, headers=admin, params=SUPPORT)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 34, tag
    # Counts and rates only: a client may keep them, but checks back each time.
    assert first.headers["cache-control"] == "no-cache, private"
    again = await client.get(SCORES, headers=admin, params=SUPPORT)
    assert again.headers["etag"] == tag and again.content == first.content

    for sent in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        r = await client.get(SCORES, headers={**admin, "If-None-Match": sent}, params=SUPPORT)
        assert r.status_code == 304, (sent, r.status_code)
        assert r.content == b"" and "content-type" not in r.headers, (sent, r.headers)
        assert r.headers["etag"] == tag and r.headers["cache-control"] == "no-cache, private"
    r = await client.get(SCORES, headers={**admin, "If-None-Match": '"other"'}, params=SUPPORT)
    assert r.status_code == 200 and r.content == first.content

    # HEAD says what GET says, and is conditional the same way.
    head = await client.head(SCORES, headers=admin, params=SUPPORT)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == tag
    assert head.headers["content-length"] == first.headers["content-length"]
    head = await client.head(SCORES, headers={**admin, "If-None-Match": tag}, params=SUPPORT)
    assert head.status_code == 304 and head.headers["etag"] == tag

    # Another selection, or a new answer, is another representation.
    other = await client.get(SCORES, headers=admin, params={**SUPPORT, "bucket": "day"})
    assert other.headers["etag"] != tag
    await answer(conn, "support-call", 1, when=at(days_ago(1)))
    r = await client.get(SCORES, headers={**admin, "If-None-Match": tag}, params=SUPPORT)
    assert r.status_code == 200 and r.headers["etag"] != tag
    assert r.json()["total"]["n"] == 4
    # The document says so.
    document = (await client.get("/schema/openapi.json")).json()
    scores = document["paths"][SCORES]["get"]["responses"]
    assert "ETag" in scores["200"]["headers"] and "ETag" in scores["304"]["headers"]


async def test_errors_and_answers_that_must_not_be_kept_carry_no_etag(
        client: Client, admin: Headers, conn: Any) -> None:
    # no-store answers (customers' words and references) are never revalidated: nothing to tag.
    cat = await catalogue(conn)
    await answer(conn, "support-chat", 2, when=at(days_ago(1)), comment="Slow", customer="c-1")
    owner = cat.owners["support"]
    # The reports and the owner page quote comments (their bytes do not change per request:
    # no nonce, no form token; it is what they hold that keeps them out of any cache).
    for path, accept in (("/api/v1/responses", "application/json"), ("/api/v1/responses", "text/csv"),
                         ("/api/v1/touchpoints/support-chat/report", "application/json"),
                         (f"/api/v1/owners/{owner}/report", "application/json"),
                         (f"/reports/owners/{owner}", "text/html")):
        r = await client.get(path, headers={**admin, "Accept": accept, "If-None-Match": "*"})
        assert r.status_code == 200, (path, r.text)
        assert "no-store" in r.headers["cache-control"] and "etag" not in r.headers, (path, accept)
    r = await client.get(SCORES, headers={**admin, "If-None-Match": "*"},
                         params={"touchpoint": "missing"})
    assert r.status_code == 404 and "etag" not in r.headers


async def test_journey_maps_carry_an_etag_and_an_unchanged_map_is_a_304_page_and_json_alike(
        client: Client, admin: Headers, conn: Any) -> None:
    # Stages' and touchpoints' scores, counts and sentiment means: nobody's words or reference.
    cat = await catalogue(conn)
    await answers(conn, "support-call", [5, 4, 2], day=days_ago(2))
    share = (await client.get(f"/api/v1/journeys/{cat.journey}/share-link", headers=admin)).json()["url"]
    for url, headers in ((f"/api/v1/journeys/{cat.journey}/map", admin),
                         (f"/reports/journeys/{cat.journey}", admin), (share, {})):
        first = await client.get(url, headers=headers)
        assert first.status_code == 200, (url, first.text)
        tag = first.headers["etag"]
        # Private: the page opens with a share token in its URL, the JSON with a key.
        assert first.headers["cache-control"] == "no-cache, private", url
        # The same bytes every time (a page carrying a per-request nonce could never match).
        again = await client.get(url, headers=headers)
        assert again.content == first.content and again.headers["etag"] == tag, url
        r = await client.get(url, headers={**headers, "If-None-Match": tag})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == tag, url
        assert r.headers["cache-control"] == "no-cache, private" and "content-type" not in r.headers
        head = await client.head(url, headers={**headers, "If-None-Match": tag})
        assert head.status_code == 304 and head.headers["etag"] == tag, url
    await answer(conn, "support-call", 1, when=at(days_ago(1)))
    for url, headers in ((f"/api/v1/journeys/{cat.journey}/map", admin), (share, {})):
        stale = (await client.get(url, headers=headers)).headers["etag"]
        await answer(conn, "support-call", 2, when=at(days_ago(1)))
        r = await client.get(url, headers={**headers, "If-None-Match": stale})
        assert r.status_code == 200 and r.headers["etag"] != stale, url
    # A revoked link gets its 404 page, never a 304 for the copy it opened before.
    tag = (await client.get(share)).headers["etag"]
    assert (await client.post(f"/api/v1/journeys/{cat.journey}/share-links/revoke", headers=admin)).status_code == 200
    r = await client.get(share, headers={"If-None-Match": tag})
    assert r.status_code == 404 and "etag" not in r.headers
    responses = (await client.get("/schema/openapi.json")).json()["paths"][
        "/api/v1/journeys/{journey_id}/map"]["get"]["responses"]
    assert "ETag" in responses["200"]["headers"] and "ETag" in responses["304"]["headers"]


def test_the_json_and_the_csv_of_one_url_never_share_an_etag() -> None:
    # Vary: Accept. Were the bytes equal, the media type still tells them apart.
    body = b"id\r\n"
    assert entity_tag("application/json", body) != entity_tag("text/csv; charset=utf-8", body)
    assert entity_tag("text/csv", body) == entity_tag("text/csv", bytes(body))
    tag = entity_tag("text/csv", body)
    assert not none_match(f" W/{tag} ", tag) and none_match(None, tag) and none_match('"x"', tag)


async def test_csv_timestamps_are_written_as_the_json_writes_them(
        client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    ids = [await answer(conn, "support-chat", 4, when=at(days_ago(1)).replace(microsecond=250000)),
           await answer(conn, "support-chat", 5, when=at(days_ago(2)))]
    listed = (await client.get("/api/v1/responses", headers=admin)).json()["items"]
    exported = await client.get("/api/v1/responses", headers={**admin, "Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {row["id"] for row in rows} == {str(i) for i in ids}
    json_times = {item["id"]: item["occurred_at"] for item in listed}
    for row in rows:
        assert row["occurred_at"].endswith("Z") and "+00:00" not in row["occurred_at"], row
        assert row["occurred_at"] == json_times[row["id"]], (row, json_times)


async def test_q_0_refuses_a_media_type_and_refusing_both_is_a_406_naming_them(
        client: Client, admin: Headers, conn: Any) -> None:
    await catalogue(conn)
    await answer(conn, "support-chat", 4, when=at(days_ago(1)))
    wanted = {"text/csv;q=0, application/json": "application/json",
              # The most specific range decides: text/* does not make text/csv;q=0 acceptable.
              "text/*, text/csv;q=0, application/json;q=0.5": "application/json",
              "*/*, text/csv;q=0": "application/json",
              "application/json;q=0, text/csv;q=0.3": "text/csv",
              "text/csv;q=0.5, application/json;q=0.4": "text/csv",
              "": "application/json"}
    for accept, media in wanted.items():
        r = await client.get("/api/v1/responses", headers={**admin, "Accept": accept})
        assert r.status_code == 200, (accept, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith(media), (accept, r.headers)
    for accept in ("text/csv;q=0", "text/csv;q=0.000, application/*;q=0", "image/png"):
        for method in ("GET", "HEAD"):
            r = await client.request(method, "/api/v1/responses", headers={**admin, "Accept": accept})
            assert r.status_code == 406, (accept, method, r.status_code, r.text[:200])
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.headers["vary"] == "Accept"
            if method == "GET":
                detail = r.json()["detail"]
                assert "application/json" in detail and "text/csv" in detail, detail
    # The operation documents it.
    document = (await client.get("/schema/openapi.json")).json()
    assert "406" in document["paths"]["/api/v1/responses"]["get"]["responses"]


async def test_every_api_operation_refuses_an_accept_it_cannot_answer(
        client: Client, admin: dict[str, str], conn: Any, make_key: MakeKey) -> None:
    """JSON-only operations said 200 in JSON to Accept: text/csv or image/png."""
    await catalogue(conn)
    await answers(conn, "support-call", [5, 4, 2], day=days_ago(2))
    scores = f"{SCORES}?touchpoint=support-call"
    # As negotiation.py reads Accept for the responses: a range, q-values, none at all.
    for accept in ("", "*/*", "application/*", "application/json", "text/csv;q=0.9, application/json;q=0.1",
                   "text/html, application/xhtml+xml, */*;q=0.8", "application/json, application/problem+json"):
        r = await client.get(scores, headers={**admin, "Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"] == "application/json", (accept, r.text[:200])
    for accept in ("text/csv", "image/png", "application/json;q=0", "*/*;q=0", "application/problem+json",
                   "text/*, application/xml"):
        for method in ("GET", "HEAD"):
            r = await client.request(method, scores, headers={**admin, "Accept": accept})
            assert r.status_code == 406, (accept, method, r.status_code)
            assert r.headers["content-type"] == "application/problem+json" and r.headers["vary"] == "Accept"
        r = await client.get(scores, headers={**admin, "Accept": accept})
        assert r.json()["detail"] == "Accept refuses every type this answers in: application/json.", r.text
        assert r.json()["type"] == problem_type("not-acceptable")
    # Changes are refused before they run: nothing is created, nothing stored.
    r = await client.post("/api/v1/owners", headers={**admin, "Accept": "text/csv"}, json={"name": "Refused"})
    assert r.status_code == 406
    key = await make_key("ingest")
    r = await client.post("/api/v1/responses", headers={**bearer(key), "Accept": "image/png"},
                          json={"touchpoint": "support-call", "score": 4})
    assert r.status_code == 406, r.text
    assert await conn.fetchval("SELECT count(*) FROM owners WHERE name = 'Refused'") == 0
    assert await conn.fetchval("SELECT count(*) FROM responses") == 3
    r = await client.post("/api/v1/responses", headers={**bearer(key), "Accept": "application/json"},
                          json={"touchpoint": "support-call", "score": 4})
    assert r.status_code == 201, r.text
    # An answer with no body has no type to refuse.
    made = await client.post("/api/v1/owners", headers=admin, json={"name": "Short-lived"})
    r = await client.delete(f"/api/v1/owners/{made.json()['id']}", headers={**admin, "Accept": "image/png"})
    assert r.status_code == 204
    # Every operation documents it, but those that answer with no body.
    document = (await client.get("/schema/openapi.json")).json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.startswith("/api/"):
                assert ("406" in operation["responses"]) == ("204" not in operation["responses"]), (method, path)


async def test_a_language_the_browser_gives_q_0_is_not_the_pages_language(client: Client) -> None:
    for header, title in (("ru;q=0", "This survey link is not valid"),
                          ("ru;q=0, de", "This survey link is not valid"),
                          ("en;q=0, ru;q=0.1", "Ссылка на опрос недействительна"),
                          ("ru-RU;q=0.9, en;q=0.8", "Ссылка на опрос недействительна")):
        r = await client.get("/s/" + "A" * 43, headers={"Accept-Language": header})
        assert r.status_code == 404 and title in r.text, (header, r.text[:300])
