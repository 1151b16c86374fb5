"""One answer, one vocabulary: what POST /api/v1/responses answers is what every read shows."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, get_args

import msgspec
import pytest

from feedback.collection.models import ResponseOut
from feedback.insight.models import ResponseFilter, Verbatim
from feedback.insight.service import CSV_COLUMNS, inert
from feedback.sentiment.models import SentimentOut
from feedback.sentiment.reading import SentimentLabel
from feedback.service.database import Connection
from surveys.kinds import SCALES, Band, SurveyKind, placing
from tests.test_collection_support import Client, Headers, invite, token_of, touchpoint, world

# The fields an answer shows in every output (written, listed, read one by one, in its
# invitation), and the CSV columns they flatten into.
SHARED = ("id", "touchpoint", "invitation_id", "kind", "score", "band", "category", "scale_min",
          "scale_max", "comment", "customer", "locale", "channel", "source", "context", "sentiment",
          "themes", "analyzer_version", "occurred_at", "created_at", "updated_at", "edits")


def _flat(item: dict[str, Any]) -> dict[str, str]:
    """A JSON item as its CSV row would write it."""
    row: dict[str, Any] = {}
    for name, value in item.items():
        if name == "context":  # the caller's own keys: one column, the object as JSON
            row[name] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        elif isinstance(value, dict):
            row |= {f"{name}_{k}": v for k, v in value.items()}
        elif isinstance(value, list):
            row[name] = ";".join(value)
        else:
            row[name] = value
    return {k: inert("" if v is None else str(v)) for k, v in row.items()}


async def _listed(client: Client, admin: Headers) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """Every answer by id, as GET /api/v1/responses answers it in JSON and in CSV."""
    r = await client.get("/api/v1/responses", headers=admin)
    assert r.status_code == 200, r.text
    items = {i["id"]: i for i in r.json()["items"]}
    r = await client.get("/api/v1/responses", headers={**admin, "Accept": "text/csv"})
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    return items, {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}


async def test_an_answer_reads_back_with_the_names_and_values_it_was_written_with(
        client: Client, admin: Headers) -> None:
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="nps")
    await touchpoint(client, admin, w, "delivery", kind="csat")
    written = []
    for score, comment, customer in ((10, "Quick and easy checkout", "crm-1"),
                                     (3, "The page was slow and the coupon failed", None),
                                     (8, None, "crm-2")):
        r = await client.post("/api/v1/responses", headers=admin, json={
            "touchpoint": "checkout", "score": score, "comment": comment, "customer": customer,
            "context": {"note": '=HYPERLINK("http://evil.example")', "vip": True} if customer else {}})
        assert r.status_code == 201, r.text
        written.append(r.json())
    # An answer through a survey link, shown again in its invitation.
    sent = (await invite(client, admin, "delivery", "crm-3")).json()
    r = await client.post(f"/s/{token_of(sent['url'])}", data={"score": "2", "comment": "Курьер опоздал"})
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/v1/invitations/{sent['id']}", headers=admin)
    assert r.status_code == 200, r.text
    written.append(r.json()["response"])

    assert [(a["band"], a["category"]) for a in written] == [
        ("high", "promoter"), ("low", "detractor"), ("middle", "passive"), ("low", "dissatisfied")]
    assert [a["customer"] for a in written] == ["crm-1", None, "crm-2", "crm-3"]
    assert written[0]["sentiment"]["label"] == "positive" and written[2]["sentiment"]["polarity"] is None
    items, rows = await _listed(client, admin)
    assert sorted(items) == sorted(rows) == sorted(a["id"] for a in written)
    for answer in written:
        item = items[answer["id"]]
        # Field by field, the list names and values the answer as its write did.
        assert list(item) == list(SHARED)
        assert {k: item[k] for k in SHARED} == {k: answer[k] for k in SHARED}, answer["id"]
        # And the CSV is the list's JSON flattened (a negative polarity made inert: '-0.5).
        assert rows[answer["id"]] == _flat(item)
        # One answer read by its id (as a pain point's quote names it) is the same again.
        one = await client.get(f"/api/v1/responses/{answer['id']}", headers=admin)
        assert one.status_code == 200 and one.json() == item, one.text
    # A formula in the context stays inside its JSON object: no cell starts with it.
    context = rows[written[0]["id"]]["context"]
    assert context.startswith("{") and json.loads(context) == written[0]["context"]
    assert all(not cell.startswith("=") for row in rows.values() for cell in row.values())
    assert items[written[3]["id"]]["invitation_id"] == sent["id"]
    assert "customer_ref" not in str(items) and "customer_ref" not in CSV_COLUMNS


def test_the_write_and_read_shapes_are_declared_alike() -> None:
    # One struct for the answer wherever it shows: a field added to the write cannot be left out
    # of the list, the CSV or the single read.
    assert tuple(f.encode_name for f in msgspec.structs.fields(ResponseOut)) == SHARED
    assert {f.encode_name: f.type for f in msgspec.structs.fields(Verbatim)}["sentiment"] is SentimentOut
    assert CSV_COLUMNS == ("id", "touchpoint", "invitation_id", "kind", "score", "band", "category",
                           "scale_min", "scale_max", "comment", "customer", "locale", "channel", "source",
                           "context", "sentiment_polarity", "sentiment_subjectivity", "sentiment_label",
                           "sentiment_language", "themes", "analyzer_version", "occurred_at", "created_at",
                           "updated_at", "edits")


async def test_the_answers_schemas_document_one_vocabulary(client: Client) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    schemas, paths = spec["components"]["schemas"], spec["paths"]
    answer = "#/components/schemas/ResponseOut"
    written = paths["/api/v1/responses"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    page = paths["/api/v1/responses"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    one = paths["/api/v1/responses/{response_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert written["$ref"] == answer and one["schema"]["$ref"] == answer
    listed = schemas[page["$ref"].rsplit("/", 1)[1]]["properties"]["items"]["items"]
    assert listed["$ref"] == answer
    out = schemas["ResponseOut"]["properties"]
    assert tuple(out) == SHARED and "ResponseItem" not in schemas
    assert out["band"]["description"].startswith("Where the score falls")
    assert "promoter" in out["category"]["description"]
    assert not any("customer_ref" in str(s) or "sentiment_label" in str(s.get("properties", {}))
                   for s in schemas.values())


async def test_the_sentiment_label_is_one_type_listing_its_four_values(
        client: Client, admin: Headers) -> None:
    # It was typed as free text: the document did not list the labels an answer shows, while the
    # `label` filter, typed apart, did.
    labels = ["negative", "neutral", "positive", "mixed"]
    assert [label.value for label in SentimentLabel] == labels
    shown = {f.encode_name: f.type for f in msgspec.structs.fields(SentimentOut)}["label"]
    filtered = {f.encode_name: f.type for f in msgspec.structs.fields(ResponseFilter)}["label"]
    assert SentimentLabel in get_args(get_args(shown)[0]) and filtered == SentimentLabel | None
    document = (await client.get("/schema/openapi.json")).json()
    label = document["components"]["schemas"]["SentimentOut"]["properties"]["label"]
    assert {"$ref": "#/components/schemas/SentimentLabel"} in label["oneOf"], label
    assert document["components"]["schemas"]["SentimentLabel"]["enum"] == labels
    parameters = document["paths"]["/api/v1/responses"]["get"]["parameters"]
    assert next(p for p in parameters if p["name"] == "label")["schema"]["oneOf"] == label["oneOf"]
    # Every output still writes the plain word: the answer, the list, its CSV, the reports.
    w = await world(client, admin)
    await touchpoint(client, admin, w, "checkout", kind="nps")
    comments = {"Quick and easy checkout": "positive", "The page was slow and the coupon failed":
                "negative", "The parcel came on Tuesday.": "neutral",
                "the courier was friendly but the parcel arrived two days late": "mixed"}
    written = {}
    for comment, expected in comments.items():
        r = await client.post("/api/v1/responses", headers=admin, json={
            "touchpoint": "checkout", "score": 5, "comment": comment})
        assert r.status_code == 201 and r.json()["sentiment"]["label"] == expected, r.text
        assert f'"label":"{expected}"' in r.text
        written[r.json()["id"]] = expected
    items, rows = await _listed(client, admin)
    assert {i: item["sentiment"]["label"] for i, item in items.items()} == written
    assert {i: row["sentiment_label"] for i, row in rows.items()} == written
    for label in labels:
        r = await client.get("/api/v1/responses", headers=admin, params={"label": label})
        assert [i["id"] for i in r.json()["items"]] == [i for i, x in written.items() if x == label]
    assert str(SentimentLabel.MIXED) == f"{SentimentLabel.MIXED}" == "mixed"  # as a page prints it


@pytest.mark.parametrize("kind", list(SurveyKind))
async def test_the_band_filter_bands_every_score_as_the_answers_show_it(
        conn: Connection, kind: SurveyKind) -> None:
    # GET /api/v1/responses?band= filters with the SQL score_band; the answers show placing().
    values = {-1: Band.LOW, 0: Band.MIDDLE, 1: Band.HIGH}
    for score in SCALES[kind].values:
        in_sql = await conn.fetchval("SELECT score_band($1, $2)", kind, score)
        assert values[in_sql] is placing(kind, score)[0], (kind, score)
