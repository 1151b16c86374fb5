"""Collection rules: who is asked, what a link shows, how answers are checked and stored."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jinja2
import msgspec

from feedback.access.models import Principal
from feedback.collection import clock, tokens
from feedback.collection import repository as repo
from feedback.collection.errors import (
    AlreadyAnswered,
    CustomerErased,
    EventIdReused,
    ExpiredLink,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    InvitationExpired,
    TouchpointPaused,
    UnknownLink,
    UnknownWidget,
)
from feedback.collection.models import (
    CONTEXT_MAX_BYTES,
    BatchCreate,
    BatchResult,
    BatchResults,
    BatchTrigger,
    Erasure,
    InvitationCreate,
    InvitationDetail,
    InvitationSent,
    InvitationSkipped,
    ItemProblem,
    ResponseCreate,
    ResponseOut,
    SurveyForm,
)
from feedback.collection.ratelimit import TokenBuckets
from feedback.collection.repository import (
    IdempotencyRecord,
    LinkInvitation,
    NewInvitation,
    NewResponse,
    TouchpointCache,
)
from feedback.collection.texts import characters, text
from feedback.collection.writer import LinkReader, Pending, ResponseWriter
from feedback.insight.typeset import TEMPLATE_GLOBALS
from feedback.sentiment import ANALYZER_VERSION, CommentInsight
from feedback.sentiment.models import stored_sentiment
from feedback.sentiment.reader import CommentReader
from feedback.service.database import Connection, Pool
from feedback.service.pages import TEMPLATES_DIR
from feedback.service.problems import problem_type
from feedback.service.validation import NUL_MESSAGE, far_numbers, invalid_fields
from feedback.settings import Settings
from surveys import repository as surveys_repo
from surveys.errors import (
    ApplicationError,
    FieldError,
    NotFound,
    TooManyRequests,
    invalid,
)
from surveys.kinds import Scale, name_language, placing, question_parts, scale_of
from surveys.models import KEY_PATTERN, Touchpoint
from surveys.text import blank

# The email block is rendered outside any request; autoescape and helpers as on the pages.
_EMAIL = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True)
_EMAIL.globals.update(TEMPLATE_GLOBALS)
CLOCK_SKEW = timedelta(minutes=5)
_SCORE = re.compile(r"^-?[0-9]{1,3}$")
OLDEST_ANSWER = timedelta(days=365)
# Times an answer tries to claim its Idempotency-Key while other requests with the key take it
# and leave nothing to replay; then it is told to retry (IdempotencyKeyInFlight).
_CLAIMS = 3


@dataclass(frozen=True, slots=True)
class Decision:
    """A trigger's answer: 201 with the link, or 200 with the reason nobody was asked."""

    status: int
    body: InvitationSent | InvitationSkipped


@dataclass(frozen=True, slots=True)
class PageView:
    """A page to render: template, its context and the HTTP status."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass(frozen=True, slots=True)
class Stored:
    """An API answer as bytes: what an Idempotency-Key replays; `id` the answer's where known
    without reading the body again (a replay's is in its body alone)."""

    status: int
    body: bytes
    id: UUID | None = None


def _context_json(context: dict[str, Any]) -> str:
    encoded = msgspec.json.encode(context)
    if len(encoded) > CONTEXT_MAX_BYTES:
        raise invalid("context", f"must be at most {CONTEXT_MAX_BYTES} bytes as JSON (got {len(encoded)})")
    # The bytes test is cheap, but it also meets a backslash written before "u0000" (a text
    # about escapes, stored as it is): only then are the values themselves searched.
    if b"\\u0000" in encoded and _holds_nul(context):
        raise invalid("context", NUL_MESSAGE)
    return encoded.decode()


def _holds_nul(context: dict[str, Any]) -> bool:
    return any("\x00" in k or (isinstance(v, str) and "\x00" in v) for k, v in context.items())


def _check_customer(customer: str) -> None:
    # Only a blank reference is refused: all blank ones would be one customer to the contact
    # rules. Any other is kept exactly as sent, spaces included: it is the caller's own id,
    # matched exactly by the contact rules and erasure, so trimming could merge two of theirs.
    if blank(customer):
        raise invalid("customer", "may not be blank (spaces or invisible characters only)")


# Triggers


def _sampled(touchpoint: Touchpoint, event_id: str | None) -> bool:
    if touchpoint.sample_rate >= 1:
        return True
    if event_id is None:
        return random.random() < touchpoint.sample_rate
    # The same event always gets the same draw, so retries cannot re-roll the dice.
    seed = hashlib.sha256(f"{touchpoint.id}:{event_id}".encode()).digest()
    return int.from_bytes(seed[:8], "big") / 2**64 < touchpoint.sample_rate


async def _decide(conn: Connection, settings: Settings, tp: Touchpoint, data: InvitationCreate) -> str:
    if not tp.active:
        return "touchpoint_inactive"
    if not _sampled(tp, data.event_id):
        return "sampled_out"
    if tp.recontact_days and await repo.asked_here(
            conn, customer_ref=data.customer, touchpoint_id=tp.id, days=tp.recontact_days):
        return "recently_asked_here"
    if settings.fatigue_days and await repo.asked_anywhere(
            conn, customer_ref=data.customer, days=settings.fatigue_days) >= settings.fatigue_max:
        return "recently_asked_anywhere"
    return "sent"


def _sent(settings: Settings, tp: Touchpoint, invitation_id: UUID, nonce: bytes, expires_at: datetime,
          locale: str) -> InvitationSent:
    token = tokens.derive(settings.secret_key, invitation_id, nonce)
    url = f"{settings.base_url}/s/{token}"
    scale = scale_of(tp.kind)
    # The kind travels with each score: should the touchpoint's kind change before the click,
    # the page does not read a 1–5 "5" as a 0–10 one.
    one_click = {str(n): f"{url}?score={n}&kind={tp.kind.value}" for n in scale.values}
    low_label, high_label = scale.labels.get(locale, scale.labels["en"])
    email_html = _EMAIL.get_template("email_block.html").render(
        wording=question_view(tp, locale), urls=one_click, low_label=low_label,
        high_label=high_label, t=text(locale), company=settings.company_name, colour=settings.brand_colour,
        locale=locale,
    )
    return InvitationSent(id=invitation_id, url=url, expires_at=expires_at, email_html=email_html,
                          one_click_urls=one_click)


def _differences(row: Any, data: InvitationCreate) -> list[str]:
    """The fields a repeated event gives with another value than the stored one.

    A field the retry leaves out (or sends as null) is not compared: the replay carries what was
    stored. Comparing it with its default instead could refuse an exact retry, as the channel's
    default is the touchpoint's channel, which may have changed since the first request; and one
    rule for every optional field is one a client can rely on (docs/collection.md)."""
    differ = []
    if data.locale is not None and data.locale != row["locale"]:
        differ.append("locale")
    if data.channel is not None and data.channel.value != row["channel"]:
        differ.append("channel")
    if data.context is not msgspec.UNSET and not row["same_context"]:
        differ.append("context")
    return differ


def _replay(settings: Settings, tp: Touchpoint, row: Any, data: InvitationCreate) -> Decision:
    """The first answer to this event again. An event id reused for another customer is refused,
    never answered with that customer's link; one reused with other fields is refused too: a
    retry sends what it sent before, and a different event needs its own id."""
    if row["customer_ref"] != data.customer:
        raise EventIdReused(f"event_id {data.event_id!r} on touchpoint {tp.key!r} was already used for "
                           "another customer; send a new event_id for a new event.",
                           errors=[FieldError("event_id", "was already used for another customer")])
    differ = _differences(row, data)
    if differ:
        fields = " and ".join(differ)
        raise EventIdReused(f"event_id {data.event_id!r} on touchpoint {tp.key!r} was already used with "
                            f"another {fields}; retry with the same fields, or send a new event_id for "
                            "a new event.",
                            errors=[FieldError("event_id", f"was already used with another {fields}")])
    if row["decision"] != "sent":
        return Decision(200, InvitationSkipped(id=row["id"], skipped=row["decision"]))
    return Decision(201, _sent(settings, tp, row["id"], row["token_nonce"], row["expires_at"], row["locale"]))


async def trigger(conn: Connection, settings: Settings, key: str, data: InvitationCreate) -> Decision:
    """Decide whether to ask this customer now; store the decision either way."""
    _check_customer(data.customer)
    tp = await surveys_repo.get_touchpoint(conn, key=key)
    if tp is None:
        raise NotFound(f"Touchpoint {key!r} does not exist.")
    context = _context_json({} if data.context is msgspec.UNSET else data.context)
    locale = data.locale or "en"
    async with conn.transaction():
        if data.event_id is not None:
            seen = await repo.invitation_by_event(conn, touchpoint_id=tp.id, event_id=data.event_id,
                                                  context=context)
            if seen is not None:
                return _replay(settings, tp, seen, data)
        # Serialises decisions per customer, so concurrent triggers cannot both spend the budget.
        await repo.lock_customer(conn, customer_ref=data.customer)
        decision = await _decide(conn, settings, tp, data)
        invitation_id = tokens.new_id()
        nonce = tokens.new_nonce() if decision == "sent" else None
        token_hash = None if nonce is None else tokens.digest(
            tokens.derive(settings.secret_key, invitation_id, nonce))
        expires_at = datetime.now(UTC) + timedelta(days=tp.expiry_days) if nonce else None
        created = await repo.insert_invitation(conn, NewInvitation(
            touchpoint_id=tp.id, id=invitation_id, customer_ref=data.customer, locale=locale,
            channel=data.channel or tp.channel, context=context, event_id=data.event_id,
            decision=decision, token_hash=token_hash, token_nonce=nonce, expires_at=expires_at))
        if not created:
            seen = await repo.invitation_by_event(conn, touchpoint_id=tp.id, event_id=data.event_id or "",
                                                  context=context)
            assert seen is not None
            return _replay(settings, tp, seen, data)
    if nonce is None or expires_at is None:
        return Decision(200, InvitationSkipped(id=invitation_id, skipped=decision))
    return Decision(201, _sent(settings, tp, invitation_id, nonce, expires_at, locale))


def _problem(exc: ApplicationError) -> ItemProblem:
    return ItemProblem(type=problem_type(exc.slug), title=exc.title, detail=exc.detail,
                       errors=[{"field": e.field, "message": e.message} for e in exc.errors])


def _batch_item(raw: Any) -> BatchTrigger | ApplicationError:
    """A batch's item as a trigger, or the problem it would have had sent on its own: a number
    beyond a float's range (read as a FarNumber) is a 400 naming its field, as for a body."""
    far = far_numbers(raw, "this item")
    if far is not None:
        return far
    try:
        return msgspec.convert(raw, BatchTrigger)
    except msgspec.ValidationError:
        return invalid_fields(BatchTrigger, raw)


async def trigger_batch(conn: Connection, settings: Settings, data: BatchCreate) -> BatchResults:
    """Each item decided on its own; a bad item gets its problem, the others go ahead.

    A body that cannot be read at all (bad JSON, not UTF-8) is refused before any item is
    decided; a number out of range only fails its item (validation.WideNumbersRequest). Each
    decision commits in its own transaction (`trigger`) before the next item is decided, so all
    that the answer acknowledges is committed when it leaves."""
    items = [_batch_item(raw) for raw in data.items]
    results: list[BatchResult] = []
    for item in items:
        if isinstance(item, ApplicationError):
            results.append(BatchResult(status=item.status, problem=_problem(item)))
            continue
        try:
            if await surveys_repo.get_touchpoint(conn, key=item.touchpoint) is None:
                raise invalid("touchpoint", f"no touchpoint has the key {item.touchpoint!r}")
            decision = await trigger(conn, settings, item.touchpoint, item.invitation())
            results.append(BatchResult(status=decision.status, body=decision.body))
        except ApplicationError as exc:
            results.append(BatchResult(status=exc.status, problem=_problem(exc)))
    return BatchResults(results=results)


async def get_invitation(conn: Connection, invitation_id: UUID, scope: int | None) -> InvitationDetail:
    found = await repo.get_invitation(conn, invitation_id=invitation_id, scope=scope)
    if found is None:
        raise NotFound(f"Invitation {invitation_id} does not exist.")
    return found


async def erase_customer(conn: Connection, customer_ref: str) -> Erasure:
    """Erase every trace of a customer in one transaction; the rollups follow by trigger.

    Answers received before the erasure may still wait in a writer's queue, here or on another
    instance. The tombstone, committed first, makes every later write skip them; waiting for
    the writes in flight then lets the deletion see whatever was written without it.
    """
    if not 1 <= len(customer_ref) <= 200:
        raise invalid("customer", f"must be 1–200 characters (it has {len(customer_ref)})")
    if "\x00" in customer_ref:
        raise invalid("customer", NUL_MESSAGE)
    # No trigger or answer stores a blank reference, so erasing one would only record a
    # tombstone for nobody: most likely a template that left the reference out.
    _check_customer(customer_ref)
    await repo.record_erasure(conn, customer_ref=customer_ref)
    await repo.await_writes(conn)
    async with conn.transaction():
        invitations, clicks, responses = await repo.erase_customer(conn, customer_ref=customer_ref)
    return Erasure(customer=customer_ref, invitations=invitations, clicks=clicks, responses=responses)


# Pages


@dataclass(frozen=True, slots=True)
class Question:
    """The question as shown: `name` is what a CX manager typed, isolated from the words around
    it (feedback.insight.typeset), and carries its own `lang` when it is not the page's (an
    English name in Russian copy), so a screen reader says it right."""

    before: str
    name: str = ""
    after: str = ""
    lang: str | None = None


def question_view(tp: Touchpoint, locale: str) -> Question:
    question = tp.questions.get(locale, tp.questions["en"])
    before, name, after = question_parts(tp.kind, locale, tp.name)
    if before + name + after != question:
        # The touchpoint's own wording, typed whole in the page's language: where a name is in
        # it, if anywhere, is unknown.
        return Question("", question)
    lang = name_language(name)
    return Question(before, name, after, None if lang == locale else lang)


def _scale_view(tp: Touchpoint, locale: str) -> dict[str, Any]:
    scale = scale_of(tp.kind)
    low_label, high_label = scale.labels.get(locale, scale.labels["en"])
    t = text(locale)
    return {
        "locale": locale, "t": t, "wording": question_view(tp, locale),
        "scores": list(scale.values), "low_label": low_label, "high_label": high_label,
        "kind": tp.kind.value,
        "scale_hint": t["scale_hint"].format(low=scale.low, high=scale.high, low_label=low_label,
                                             high_label=high_label),
    }


def _parse_score(raw: str, scale: Scale) -> int | None:
    raw = raw.strip()
    # ASCII digits only: str.isdigit() also accepts '²', which int() refuses.
    if not _SCORE.match(raw):
        return None
    score = int(raw)
    return score if scale.contains(score) else None


def read_form(data: dict[str, Any]) -> SurveyForm:
    """The form's two fields as text, whatever else a client sends."""
    def one(name: str) -> str:
        value = data.get(name, "")
        value = value[0] if isinstance(value, list) and value else value
        return value if isinstance(value, str) else ""
    return SurveyForm(score=one("score"), comment=one("comment").replace("\x00", "").replace("\r\n", "\n"),
                      kind=one("kind"))


@dataclass(frozen=True, slots=True)
class FormError:
    """What is wrong with a sent form, and the field it is about (`score` or `comment`)."""

    field: str
    message: str


def _check(form: SurveyForm, tp: Touchpoint, locale: str) -> tuple[int | None, FormError | None]:
    scale = scale_of(tp.kind)
    if form.kind and form.kind != tp.kind.value:
        return None, FormError("score", text(locale)["rescaled"])
    score = _parse_score(form.score, scale)
    if score is None:
        return None, FormError("score", text(locale)["bad_score"].format(low=scale.low, high=scale.high))
    if len(form.comment) > 2000:
        return score, FormError("comment", text(locale)["long_comment"].format(count=characters(locale, len(form.comment))))
    return score, None


def _row(tp: Touchpoint, score: int, comment: str | None, insight: CommentInsight, *, customer: str | None,
         locale: str, channel: str, source: str, context: str, occurred_at: datetime | None = None,
         invitation_id: UUID | None = None) -> NewResponse:
    scale = scale_of(tp.kind)
    now = clock.now()
    return NewResponse(
        touchpoint_id=tp.id, id=tokens.new_id(), journey_id=tp.journey_id, stage_id=tp.stage_id,
        owner_id=tp.owner_id, kind=tp.kind.value, scale_min=scale.low, scale_max=scale.high,
        score=score, comment=comment or None, customer_ref=customer, locale=locale, channel=channel,
        source=source, context=context, polarity=insight.sentiment.polarity,
        subjectivity=insight.sentiment.subjectivity, label=insight.sentiment.label,
        language=insight.sentiment.language if comment else None, themes=insight.themes,
        analyzer_version=ANALYZER_VERSION, occurred_at=occurred_at or now, created_at=now,
        invitation_id=invitation_id,
    )


async def _link_batched(pool: Pool, reader: LinkReader, touchpoints: TouchpointCache, token: str,
                        fallback_locale: str) -> tuple[LinkInvitation, Touchpoint]:
    """As _link, through the batched reader and the touchpoint cache: no pool round trip when warm."""
    if not tokens.well_formed(token):
        raise UnknownLink(fallback_locale)
    invitation = await reader.get(tokens.digest(token))
    if invitation is None:
        raise UnknownLink(fallback_locale)
    if invitation.expired:
        raise ExpiredLink(invitation.locale, answered=invitation.answered)
    tp = await touchpoints.get(pool, invitation.touchpoint)
    if tp is None:
        raise UnknownLink(invitation.locale)
    return invitation, tp


async def _link(pool: Pool, settings: Settings, token: str,
                fallback_locale: str) -> tuple[LinkInvitation, Touchpoint]:
    if not tokens.well_formed(token):
        raise UnknownLink(fallback_locale)
    async with pool.acquire() as conn:
        invitation = await repo.invitation_by_token(conn, token_hash=tokens.digest(token))
        if invitation is None:
            raise UnknownLink(fallback_locale)
        if invitation.expired:
            raise ExpiredLink(invitation.locale, answered=invitation.answered)
        tp = await surveys_repo.get_touchpoint(conn, key=invitation.touchpoint)
    if tp is None:
        raise UnknownLink(invitation.locale)
    return invitation, tp


def _survey(tp: Touchpoint, locale: str, action: str, *, selected: int | None, comment: str = "",
            error: FormError | None = None, status: int = 200, notice: str | None = None) -> PageView:
    return PageView("survey.html", {**_scale_view(tp, locale), "action": action, "selected": selected,
                                    "comment": comment, "error": error, "notice": notice}, status)


def already_answered(locale: str, status: int) -> PageView:
    t = text(locale)
    return PageView("thanks.html", {"locale": locale, "t": t, "title": t["already_title"],
                                    "body": t["already_body"], "change_url": None}, status)


def answer_not_kept(locale: str) -> PageView:
    """The customer was erased while the answer waited to be written: a 409, as the API's."""
    t = text(locale)
    return PageView("thanks.html", {"locale": locale, "t": t, "title": t["erased_title"],
                                    "body": t["erased_body"], "change_url": None}, 409)


async def open_link(pool: Pool, settings: Settings, token: str, score: str | None, user_agent: str,
                    fallback_locale: str, *, picked_on: str | None = None, count_click: bool = True,
                    ) -> PageView:
    """The survey page; a score in the URL (one click from an email) is pre-selected, not recorded.

    `picked_on` is the kind the email's scale showed: a score picked on another scale than the
    touchpoint's now is not pre-selected. `count_click=False` shows the page without logging
    an opening (a HEAD from a link checker).
    """
    invitation, tp = await _link(pool, settings, token, fallback_locale)
    rescaled = picked_on is not None and picked_on != tp.kind.value
    chosen = _parse_score(score, scale_of(tp.kind)) if score is not None and not rescaled else None
    async with pool.acquire() as conn:
        # A GET only logs the click: mail scanners follow links, people press Send.
        if count_click and not await repo.record_click(conn, invitation=invitation, score=chosen,
                                                       user_agent=user_agent[:500]):
            raise UnknownLink(invitation.locale)  # erased a moment ago: as if never sent
        answer = await repo.link_response(conn, invitation=invitation, edit_days=settings.edit_window_days)
    if answer is not None and not answer["editable"]:
        return already_answered(invitation.locale, 200)
    # An earlier answer on another scale is not shown as a choice on this one.
    rescaled = rescaled or (answer is not None and answer["kind"] != tp.kind.value)
    earlier = None if answer is None or rescaled else int(answer["score"])
    selected = chosen if chosen is not None else earlier
    comment = "" if answer is None else answer["comment"] or ""
    # Say what the page is: a score picked in the email is not recorded until Send, an answer
    # given before is changed, not added to, and a changed question needs a new choice.
    t = text(invitation.locale)
    if rescaled:
        notice: str | None = t["rescaled"]
    elif earlier is not None and chosen is not None and chosen != earlier:
        notice = t["rechosen"].format(earlier=earlier, score=chosen)  # a second email click
    elif earlier is not None:
        notice = t["answered"].format(score=earlier)
    else:
        notice = None if chosen is None else t["picked"].format(score=chosen)
    return _survey(tp, invitation.locale, f"/s/{token}", selected=selected, comment=comment,
                   notice=notice)


async def submit_link(pool: Pool, writer: ResponseWriter, reader: LinkReader, comments: CommentReader,
                      touchpoints: TouchpointCache, settings: Settings, token: str, form: SurveyForm,
                      fallback_locale: str) -> PageView:
    """Record (or, within the edit window, change) the invitation's one response.

    Through the group-commit writer: the answer and the invitation's answered mark commit
    together before the page thanks the customer.
    """
    invitation, tp = await _link_batched(pool, reader, touchpoints, token, fallback_locale)
    locale = invitation.locale
    score, error = _check(form, tp, locale)
    if score is None or error is not None:
        return _survey(tp, locale, f"/s/{token}", selected=score, comment=form.comment, error=error,
                       status=422)
    comment = form.comment.strip()
    row = _row(tp, score, comment, await comments.read(comment), customer=invitation.customer_ref,
               locale=locale, channel=invitation.channel, source="link", context=invitation.context)
    try:
        stored = await writer.write(Pending(row, link=invitation, edit_days=settings.edit_window_days))
    except CustomerErased:
        # The link went with its customer while the answer waited: say so, not that it expired.
        return answer_not_kept(locale)
    if not stored:
        return already_answered(locale, 409)
    # Stored means inserted now, or edited inside the window: editable while the window is open.
    editable = settings.edit_window_days > 0
    return _thanks(locale, f"/s/{token}" if editable else None)


def _thanks(locale: str, change_url: str | None) -> PageView:
    t = text(locale)
    return PageView("thanks.html", {"locale": locale, "t": t, "title": t["thanks_title"],
                                    "body": t["thanks_body"], "change_url": change_url})


# Widget


async def _active(pool: Pool, key: str, locale: str) -> Touchpoint:
    if not re.fullmatch(KEY_PATTERN, key):  # no touchpoint can have it: not worth a query
        raise UnknownWidget(locale)
    async with pool.acquire() as conn:
        tp = await surveys_repo.get_touchpoint(conn, key=key)
    if tp is None or not tp.active:
        raise UnknownWidget(locale)
    return tp


async def widget_page(pool: Pool, key: str, locale: str) -> PageView:
    tp = await _active(pool, key, locale)
    return PageView("widget.html", {**_scale_view(tp, locale), "action": f"/w/{key}", "selected": None,
                                    "comment": "", "error": None})


async def submit_widget(pool: Pool, writer: ResponseWriter, comments: CommentReader, limiter: TokenBuckets,
                        key: str, form: SurveyForm, client: str, locale: str) -> PageView:
    """An anonymous answer from an embedded page, rate-limited per client address."""
    if not limiter.allow(client):
        raise TooManyRequests()
    tp = await _active(pool, key, locale)
    score, error = _check(form, tp, locale)
    if score is None or error is not None:
        return PageView("widget.html", {**_scale_view(tp, locale), "action": f"/w/{key}", "selected": score,
                                        "comment": form.comment, "error": error}, 422)
    comment = form.comment.strip()
    row = _row(tp, score, comment, await comments.read(comment), customer=None, locale=locale,
               channel=tp.channel.value, source="widget", context="{}")
    await writer.write(Pending(row))
    return PageView("survey_widget_thanks.html", {"locale": locale, "t": text(locale)})


# Responses from apps and websites


def _out(tp: Touchpoint, row: NewResponse, context: dict[str, Any]) -> ResponseOut:
    band, category = placing(row.kind, row.score)
    return ResponseOut(
        id=row.id, touchpoint=tp.key, invitation_id=None, kind=row.kind, score=row.score,
        band=band, category=category, scale_min=row.scale_min, scale_max=row.scale_max,
        comment=row.comment, customer=row.customer_ref, locale=row.locale, channel=row.channel,
        source=row.source, context=context,
        sentiment=stored_sentiment(row.polarity, row.subjectivity, row.label, row.language, rounded=True),
        themes=row.themes, analyzer_version=row.analyzer_version, occurred_at=row.occurred_at,
        created_at=row.created_at, updated_at=row.created_at, edits=0,
    )


async def _replayed(pool: Pool, principal: Principal, key: str, request_hash: bytes) -> Stored | None:
    async with pool.acquire() as conn:
        found = await repo.get_idempotency_key(conn, api_key_id=principal.key_id, key=key)
    if found is None:
        return None
    if bytes(found["request_hash"]) != request_hash:
        message = "was already used with a different request body"
        raise IdempotencyKeyReused(f"Idempotency-Key: {message}", errors=[FieldError("Idempotency-Key", message)])
    return Stored(int(found["status"]), bytes(found["body"]))


def _when(occurred_at: datetime | None) -> datetime | None:
    if occurred_at is None:
        return None
    now = datetime.now(UTC)
    if occurred_at > now + CLOCK_SKEW:
        raise invalid("occurred_at", "may not be in the future")
    if occurred_at < now - OLDEST_ANSWER:
        raise invalid("occurred_at", "may be at most one year old")
    return occurred_at


async def _prepare(touchpoints: TouchpointCache, pool: Pool, comments: CommentReader, data: ResponseCreate,
                   ) -> tuple[Touchpoint, NewResponse, LinkInvitation | None]:
    if data.customer is not None:
        _check_customer(data.customer)
    tp = touchpoints.fresh(data.touchpoint) or await touchpoints.get(pool, data.touchpoint)
    if tp is None:
        raise invalid("touchpoint", f"no touchpoint has the key {data.touchpoint!r}")
    if isinstance(data.invitation_id, UUID):
        row, link = await _invitation_row(pool, comments, tp, data, data.invitation_id)
        return tp, row, link
    if not tp.active:
        # As a trigger for it asks nobody and its widget is gone; links sent before the pause
        # stay answerable, as their invitations promised.
        raise TouchpointPaused(f"Touchpoint {tp.key!r} is paused (active=false): it takes no new answers.",
                               errors=[FieldError("touchpoint", f"touchpoint {tp.key!r} is paused")])
    _checked_score(tp, data.score)
    occurred_at = _when(data.occurred_at)
    # Trimmed as on the survey page: a comment of nothing but spaces is none, not one that
    # counts in comment rates and matches has_comment=true.
    comment = (data.comment or "").strip()
    row = _row(tp, data.score, comment, comments.read_here(comment) or await comments.read(comment),
               customer=data.customer, locale=data.locale or "en",
               channel=(data.channel or tp.channel).value, source="api",
               context=_context_json(data.context), occurred_at=occurred_at)
    return tp, row, None


def _checked_score(tp: Touchpoint, score: int) -> None:
    scale = scale_of(tp.kind)
    if not scale.contains(score):
        raise invalid("score", f"must be between {scale.low} and {scale.high} on the {tp.kind.value} scale")


async def _invitation_row(pool: Pool, comments: CommentReader, tp: Touchpoint, data: ResponseCreate,
                          invitation_id: UUID) -> tuple[NewResponse, LinkInvitation]:
    """An API answer to an invitation, checked as its survey link would check it.

    As on the link, a paused touchpoint's invitation is still answered (the customer was asked),
    an expired one is refused, and what the answer leaves out is the invitation's.
    """
    _checked_score(tp, data.score)
    occurred_at = _when(data.occurred_at)
    async with pool.acquire() as conn:
        found = await repo.invitation_by_id(conn, invitation_id=invitation_id)
    if found is None:
        raise invalid("invitation_id", f"no invitation has the id {invitation_id}")
    invitation, decision = found
    if invitation.touchpoint != tp.key:
        raise invalid("invitation_id", f"is an invitation of touchpoint {invitation.touchpoint!r}, "
                                       f"not of {tp.key!r}")
    if decision != "sent":
        raise invalid("invitation_id", f"was not sent ({decision}): nobody was asked, so it takes no answer")
    if invitation.expired:
        raise InvitationExpired(f"Invitation {invitation_id} expired at {invitation.expires_at.isoformat()}: "
                                "it takes no more answers.",
                                errors=[FieldError("invitation_id", "has expired")])
    if data.customer is not None and data.customer != invitation.customer_ref:
        raise invalid("customer", f"is not the customer invitation {invitation_id} was sent to")
    comment = (data.comment or "").strip()
    row = _row(tp, data.score, comment, await comments.read(comment), customer=invitation.customer_ref,
               locale=data.locale or invitation.locale,
               channel=invitation.channel if data.channel is None else data.channel.value, source="api",
               context=_context_json(data.context) if data.context else invitation.context,
               occurred_at=occurred_at, invitation_id=invitation_id)
    return row, invitation


async def _answer_invitation(pool: Pool, writer: ResponseWriter, principal: Principal, row: NewResponse,
                             link: LinkInvitation, edit_days: int, idempotency_key: str | None,
                             request_hash: bytes) -> Stored | None:
    """Store (or, within the edit window, change) an invitation's answer, as the survey link does,
    with the same statement; None when another request holding the Idempotency-Key won.

    Its own transaction rather than the group commit: the answer (an edit keeps the first one's id)
    is known only once written, and the key is claimed and filled in with it in one commit. The
    statement heeds erasures as the writer's do (migration 0008).
    """
    async with pool.acquire() as conn, conn.transaction():
        # Explicit, as on the writer's connections: a 201 is never a lost answer.
        await conn.execute("SET LOCAL synchronous_commit = on")
        if idempotency_key is not None and not await repo.claim_idempotency_key(
                conn, api_key_id=principal.key_id, key=idempotency_key, request_hash=request_hash):
            return None
        shift = await repo.clock_shift(conn)  # erasures compare on the database's clock
        done, erased = await repo.upsert_link_responses(conn, [(row, link)], edit_days, shift=shift)
        if erased:
            raise CustomerErased()
        if link.id not in done:
            raise AlreadyAnswered(
                f"Invitation {link.id} was answered and its answer can no longer be changed "
                f"(edit window: {edit_days} days).",
                errors=[FieldError("invitation_id", "was already answered")])
        # The owner's alerts, in the answer's transaction, as the writer queues them.
        alerting = await writer.queue_alerts(conn, Pending(row, link=link, edit_days=edit_days))
        answer = await repo.invitation_answer(conn, invitation=link)
        assert answer is not None
        # Inserted now: 201, as any new answer; a change of the one given before: 200.
        status = 201 if answer.id == row.id else 200
        body = msgspec.json.encode(answer)
        if idempotency_key is not None:
            await repo.set_idempotency_answer(conn, api_key_id=principal.key_id, key=idempotency_key,
                                              status=status, body=body)
    if alerting:
        writer.alerts_queued()
    return Stored(status, body, answer.id)


async def submit_response(pool: Pool, writer: ResponseWriter, comments: CommentReader, touchpoints: TouchpointCache,
                          principal: Principal, data: ResponseCreate, idempotency_key: str | None,
                          *, edit_days: int = 0) -> Stored:
    """Check and store an app's answer through the group-commit writer; replays are byte-identical.

    An Idempotency-Key is claimed in the same transaction as the row: a key seen before loses
    the claim and the request replays the stored answer (or is refused for a different body).
    A request with a key still being stored by another waits for it: the claim waits on the
    other's commit, or in the writer's queue behind its flush.
    An answer whose customer was erased while it waited to be written is a CustomerErased (409),
    its key left unclaimed. An answer naming its invitation is that invitation's answer, changed
    within `edit_days` of the first as the survey link's is (_answer_invitation).
    """
    # Only a key's replays compare bodies: a request without one is not encoded again to hash it.
    request_hash = b"" if idempotency_key is None else hashlib.sha256(msgspec.json.encode(data)).digest()
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
        raise invalid("Idempotency-Key", "must be 1–255 characters")
    if idempotency_key is not None and "\x00" in idempotency_key:
        raise invalid("Idempotency-Key", NUL_MESSAGE)
    if writer.due():
        await writer.turn()
    try:
        tp, row, link = await _prepare(touchpoints, pool, comments, data)
    except ApplicationError:
        # A retry of an accepted request replays its answer even if the check would now fail.
        if idempotency_key is not None:
            replay = await _replayed(pool, principal, idempotency_key, request_hash)
            if replay is not None:
                return replay
        raise
    if link is not None:
        stored = await _answer_invitation(pool, writer, principal, row, link, edit_days, idempotency_key, request_hash)
        if stored is not None:
            return stored
        replay = await _replayed(pool, principal, idempotency_key or "", request_hash)
        if replay is None:
            raise IdempotencyKeyInFlight("Idempotency-Key: the concurrent request with this key did not finish")
        return replay
    body = msgspec.json.encode(_out(tp, row, data.context))
    record = None if idempotency_key is None else IdempotencyRecord(
        principal.key_id, idempotency_key, request_hash, 201, body)
    for _ in range(_CLAIMS):
        if await writer.write(Pending(row, record)):
            return Stored(201, body, row.id)
        # Another request with this key committed first: answer as it did.
        replay = await _replayed(pool, principal, idempotency_key or "", request_hash)
        if replay is not None:
            return replay
        # Nothing is stored under the key after all: the other request met it in the same flush
        # and was not kept (its customer erased), or its answer was deleted since. This answer
        # is written again on its own, with the time it was received: stored under the key now
        # free, or not kept for the same reason (CustomerErased).
    raise IdempotencyKeyInFlight("Idempotency-Key: the concurrent requests with this key did not finish")
