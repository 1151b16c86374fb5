"""The API reference's quick start: one customer, from an API key to a score.

Each step is data: the page shows it as a curl command and tests/test_api_docs.py sends the
same path and body bytes through the app, so the page cannot drift from the API.
"""

from __future__ import annotations

import msgspec

# What `keys create` is run with; the key is the last line it prints.
KEY_COMMAND = ("keys", "create", "--role", "admin", "--name", "quickstart")


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One request of the quick start."""

    says: str
    method: str
    # Path and body may name shell variables set by earlier steps ($OWNER), nothing else.
    path: str
    body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    # The variable a later step needs, and where it is in this step's JSON answer.
    keep: tuple[str, tuple[str | int, ...]] | None = None
    status: int = 200
    # Top-level fields of the answer that `answers` talks about.
    fields: tuple[str, ...] = ()
    answers: str = ""


STEPS: tuple[Step, ...] = (
    Step(says="Create the team that answers for the touchpoint (an owner) and keep its id.",
         method="POST", path="/api/v1/owners",
         body='{"name": "Returns desk", "email": "returns@shop.example"}',
         keep=("OWNER", ("id",)), status=201, fields=("id", "name"),
         answers="201 with the owner; names are unique, so a second run is a 409 naming the one that exists."),
    Step(says="Create a journey with its stages in order and keep the id of the third stage.",
         method="POST", path="/api/v1/journeys",
         body='{"name": "Returns", "stages": ["Return requested", "Parcel collected", "Refund issued"]}',
         keep=("STAGE", ("stages", 2, "id")), status=201, fields=("id", "stages"),
         answers="201 with the journey and its `stages` (id, name, position each)."),
    Step(says="Create the touchpoint: a CSAT question sent by email when a refund is issued.",
         method="POST", path="/api/v1/touchpoints",
         body=('{"key": "refund-issued", "name": "Refund issued", "kind": "csat", "channel": "email",\n'
               ' "owner_id": $OWNER, "stage_id": $STAGE, "target": 85}'),
         status=201, fields=("key", "questions", "sample_rate"),
         answers="201 with the touchpoint, its default `questions` and `sample_rate` 1 (ask everyone)."),
    Step(says="When the refund is issued, your shop or CRM triggers an invitation for the customer and "
              "keeps its id. `event_id` is your id of the event: a retry with the same body returns the same link.",
         method="POST", path="/api/v1/touchpoints/refund-issued/invitations",
         body='{"customer": "crm-1842", "event_id": "refund-R-1001", "context": {"order": "R-1001"}}',
         keep=("INVITATION", ("id",)), status=201, fields=("id", "decision", "url", "email_html", "one_click_urls"),
         answers="201 with `decision: \"sent\"`, the survey `url` and `email_html` to paste into your email; "
                 "200 with `decision: \"skipped\"` and the reason when a contact rule says not to ask."),
    Step(says="If your app asks the question itself, it sends the answer with the invitation's id, so the "
              "invitation counts as answered, as through its link. The same `Idempotency-Key` with the "
              "same body returns the first answer again (keys are kept 48 hours).",
         method="POST", path="/api/v1/responses",
         headers=(("Idempotency-Key", "answer-R-1001"),),
         body=('{"touchpoint": "refund-issued", "score": 5, "comment": "Refund arrived the next day",\n'
               ' "customer": "crm-1842", "channel": "app", "invitation_id": "$INVITATION"}'),
         status=201, fields=("id", "invitation_id", "kind", "score", "band", "category", "sentiment"),
         answers="201 with the stored answer: its `band` on the kind's scale (`high`), the kind's word for "
                 "it (`category`: `satisfied`) and the comment's `sentiment`; the invitation now shows it "
                 "and its `answered_at`. `GET /api/v1/responses` lists it in the same shape."),
    Step(says="Pull the score for a dashboard.",
         method="GET", path="/api/v1/scores?touchpoint=refund-issued&bucket=week",
         fields=("kind", "series", "total", "status", "min_n"),
         answers="200 with the weekly `series`, the `total` over the period and its `status` against the "
                 "target: \"insufficient\" until `min_n` (30) answers. Send its `ETag` back in "
                 "`If-None-Match` to get a 304 while it is unchanged."),
)


def _jq(where: tuple[str | int, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in where)


def curl(step: Step, origin: str) -> str:
    """The step as a command for bash or zsh; `origin` is the service's scheme and host."""
    first = 'curl -sS -H "Authorization: Bearer $KEY"'
    # curl sends a GET, or a POST when given a body: any other method is named.
    if step.method != ("GET" if step.body is None else "POST"):
        first += f" -X {step.method}"
    if step.body is not None:
        first += " -H 'content-type: application/json'"
    lines = [first, *(f"-H '{name}: {value}'" for name, value in step.headers)]
    tail = ""
    if step.body is not None and "$" in step.body:
        if step.keep is not None:
            raise ValueError("a step that fills in variables keeps none: its here-document ends the command")
        # A here-document fills in the variables and keeps the JSON readable.
        lines.append("--data-binary @-")
        tail = f" <<EOF\n{step.body}\nEOF"
    elif step.body is not None:
        lines.append(f"--data-binary '{step.body}'")
    # Double quotes: the path may name a variable, and the origin holds no shell characters.
    lines.append(f'"{origin}{step.path}"')
    command = " \\\n     ".join(lines)
    if step.keep is not None:
        name, where = step.keep
        command = f"{name}=$({command} | jq -r '{_jq(where)}')"
    return command + tail
