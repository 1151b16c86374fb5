"""HTTP routes of collection: triggers, survey links, app answers, the widget and erasure."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes
from uuid import UUID

from litestar import Controller, Request, delete, post
from litestar.datastructures import ResponseHeader, State
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType
from litestar.params import Body, FromPath, FromQuery, HeaderParameter, JSONBody, PathParameter
from litestar.response import Response, Template
from litestar.response.base import ASGIResponse

from feedback.access.models import Role
from feedback.access.service import require
from feedback.collection import service
from feedback.collection.errors import ExpiredLink, UnknownLink, UnknownWidget
from feedback.collection.lane import answer_headers, ingest_lane
from feedback.collection.models import (
    BatchCreate,
    BatchResults,
    Erasure,
    InvitationCreate,
    InvitationDetail,
    InvitationSent,
    InvitationSkipped,
    ResponseCreate,
    ResponseOut,
)
from feedback.collection.texts import text
from feedback.collection.writer import Intake
from feedback.service.created import ANSWER_HEADERS, content_location_doc, created, location_doc
from feedback.service.dependencies import Caller, Db, KeyParam, PoolDep, authenticate
from feedback.service.methods import get_and_head
from feedback.service.pages import PRIVATE_DATA, branding, error_page, preferred_locale
from feedback.service.problems import application_error
from feedback.service.validation import WideNumbersRequest
from surveys.errors import ApplicationError, TooManyRequests, invalid

SECURITY: list[dict[str, list[str]]] = [{"BearerAuth": []}]
AnyRequest = Request[Any, Any, Any]
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
# Unbounded on the pages: a token or key that cannot exist gets the page of an unknown one (404).
TokenParam = Annotated[str, PathParameter(description="The survey link's token.")]
WidgetKey = Annotated[str, PathParameter(description="A touchpoint key.")]
# The bounds are the service's, which checks them on the ingest lane and here alike; documented
# as the header's text (a header is never null, as the optional `str | None` would show it).
IdempotencyKey = Annotated[str | None, HeaderParameter(
    name="Idempotency-Key", required=False,
    description="Makes a retry safe: any text of 1–255 characters, unique per API key. A request "
                "with a key this API key used in the last 48 hours gets that first answer again, "
                "status, body byte for byte and Location, when its body is the same; with a different body, "
                "a 422 of type `idempotency-key-reused`. Longer, empty or holding NUL: a 422 "
                "naming `Idempotency-Key`.",
    schema_extra={"one_of": None, "type": OpenAPIType.STRING, "min_length": 1, "max_length": 255})]
CustomerParam = Annotated[Path, PathParameter(
    description="A customer reference, percent-encoded: a `/` in it is sent as `%2F`. A blank one "
                "(spaces or characters that print nothing only), a longer one or one holding NUL "
                "is a 422 naming `customer`.",
    # Documented as the text it is: the path type only lets a "/" route here.
    schema_extra={"format": None, "min_length": 1, "max_length": 200})]
CUSTOMERS = "/api/v1/customers"
_ANSWER_URL = "/api/v1/responses/0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b"


def _render(request: AnyRequest, view: service.PageView) -> Template:
    return Template(template_name=view.template, context={**view.context, **branding(request)},
                    status_code=view.status)


# A customer with a broken, expired or retired link needs to know what happened and what to do,
# not only that a page is missing or gone: the title and message keys of texts.py for each.
_WORDING: dict[type[ApplicationError], tuple[str, str]] = {
    UnknownLink: ("unknown_title", "unknown_body"),
    ExpiredLink: ("expired_title", "expired_body"),
    UnknownWidget: ("widget_missing_title", "widget_missing_body"),
}


def _page_error(request: AnyRequest, exc: ApplicationError) -> Response[Any] | Template:
    # Link errors speak the invitation's language; the rest take the browser's.
    locale = getattr(exc, "locale", None)
    if isinstance(exc, ExpiredLink) and exc.answered and locale is not None:
        return _render(request, service.already_answered(locale, exc.status))
    wording = _WORDING.get(type(exc))
    if wording is not None and locale is not None:
        t = text(locale)
        return error_page(request, exc.status, exc.detail, locale, wording=(t[wording[0]], t[wording[1]]))
    if locale is not None:
        return error_page(request, exc.status, exc.detail, locale)
    return application_error(request, exc)


class InvitationController(Controller):
    """Touchpoint events in; survey invitations (or the reason for none) out."""

    path = "/api/v1"
    tags = ("Invitations",)
    security = SECURITY
    # An invitation holds its context, clicks' user agents and the answer; a new one its link.
    cache_control = PRIVATE_DATA

    # Two answers, two bodies: documented apart, not as one 201 of either.
    @post("/touchpoints/{key:str}/invitations", summary="Trigger a survey invitation", status_code=201,
          responses={
              201: ResponseSpec(data_container=InvitationSent,
                                description="Asked: send the customer `url`, or `email_html` in an email."),
              200: ResponseSpec(data_container=InvitationSkipped,
                                description="Not asked: `skipped` says which contact rule held it back."),
              409: ResponseSpec(None, description=(
                  "`event_id` was already used on this touchpoint for another customer or with other "
                  "fields; `errors` points at `event_id`. A retry sends what it sent before.")),
          }, response_headers=location_doc("/api/v1/invitations/01a2077f-84e0-70b2-9847-4d828bcea750"))
    async def trigger(self, key: KeyParam, data: JSONBody[InvitationCreate], conn: Db, principal: Caller,
                      state: State) -> Response[InvitationSent | InvitationSkipped]:
        require(principal, Role.INGEST)
        decision = await service.trigger(conn, state.settings, key, data)
        if isinstance(decision.body, InvitationSent):  # a retry of it too: the same invitation
            return created(decision.body, f"{self.path}/invitations/{decision.body.id}")
        return Response(decision.body, status_code=decision.status)

    # WideNumbersRequest: an item holding a number out of range gets its own 400, the others go ahead.
    @post("/invitations:batch", summary="Trigger up to 1,000 invitations", status_code=200,
          request_max_body_size=8 * 1024 * 1024, request_class=WideNumbersRequest)
    async def batch(self, data: JSONBody[BatchCreate], conn: Db, principal: Caller,
                    state: State) -> BatchResults:
        require(principal, Role.INGEST)
        return await service.trigger_batch(conn, state.settings, data)

    # The same, for clients whose tooling dislikes a colon in a path; undocumented twin.
    @post("/invitations/batch", status_code=200, request_max_body_size=8 * 1024 * 1024,
          request_class=WideNumbersRequest, include_in_schema=False)
    async def batch_alias(self, data: JSONBody[BatchCreate], conn: Db, principal: Caller,
                          state: State) -> BatchResults:
        require(principal, Role.INGEST)
        return await service.trigger_batch(conn, state.settings, data)

    @get_and_head("/invitations/{invitation_id:uuid}", summary="Read an invitation, its clicks and response")
    async def read(self, invitation_id: FromPath[UUID], conn: Db, principal: Caller) -> InvitationDetail:
        require(principal, Role.OWNER)
        return await service.get_invitation(conn, invitation_id, principal.owner_scope)


async def _ingest_caller(request: AnyRequest) -> None:
    """The ingest route's key check, before its body is read: a refused key is a 401 first.

    The hot path of ingest, so the key is checked here rather than by dependency injection,
    which costs two signature models per request.
    """
    principal = await authenticate(request, request.app.state)
    require(principal, Role.INGEST)
    request.state.principal = principal


class ResponseController(Controller):
    """Answers collected by apps and websites.

    An ordinary submission is served by `ingest_lane` before this handler runs; the handler
    answers what the lane passes on (other content types, bodies the strict decoder refuses).
    """

    path = "/api/v1/responses"
    tags = ("Responses",)
    security = SECURITY

    @post("/", summary="Submit an answer (Idempotency-Key makes retries safe)", status_code=201,
          responses={201: ResponseSpec(data_container=ResponseOut, description="The stored response"),
                     200: ResponseSpec(data_container=ResponseOut, description=(
                         "The answer to `invitation_id` given before, changed within the edit window "
                         "as through its survey link: the same `id`, `edits` counting the changes.")),
                     409: ResponseSpec(None, description=(
                         "The touchpoint is paused (`active: false`) and takes no new answers (an "
                         "answer naming its `invitation_id` still does, as its link); the invitation "
                         "was answered and its edit window has closed (`already-answered`); or the "
                         "customer was erased after this answer was received: it was not stored, and "
                         "its Idempotency-Key was not used.")),
                     410: ResponseSpec(None, description=(
                         "The invitation `invitation_id` names has expired, as its survey link has."))},
          opt={ANSWER_HEADERS: {201: location_doc(_ANSWER_URL), 200: content_location_doc(_ANSWER_URL)}},
          before_request=_ingest_caller, middleware=[ingest_lane])
    async def submit(self, request: AnyRequest, data: JSONBody[ResponseCreate], state: State,
                     idempotency_key: IdempotencyKey = None) -> ASGIResponse:
        # The stored answer's bytes go out as they are, with no response conversion.
        intake: Intake = state.intake
        stored = await service.submit_response(intake.pool, intake.writer, intake.comments, intake.touchpoints,
                                               request.state.principal, data, idempotency_key,
                                               edit_days=intake.edit_days)
        return ASGIResponse(body=stored.body, status_code=stored.status, media_type="application/json",
                            headers=answer_headers(stored))


class CustomerController(Controller):
    """Privacy: erase a customer."""

    path = CUSTOMERS
    tags = ("Privacy",)
    security = SECURITY

    # A path parameter, so that a reference holding "/" reaches this handler at all.
    @delete("/{customer:path}", summary="Erase every invitation, click and response of a customer", status_code=200)
    async def erase(self, request: AnyRequest, customer: CustomerParam, conn: Db, principal: Caller) -> Erasure:
        require(principal)
        return await service.erase_customer(conn, _customer_ref(request))


def _customer_ref(request: AnyRequest) -> str:
    """The reference exactly as the client encoded it, decoded from the raw path.

    The decoded path has lost the difference between "/" and "%2F", and routing trims a
    trailing "/": erasing "victim/" must never erase "victim".
    """
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    encoded = raw.partition(CUSTOMERS.encode() + b"/")[2]
    try:
        return unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("customer", "must be UTF-8 text (percent-encoded in the path)") from None


async def _guarding_guesses(request: AnyRequest, state: State, view: Coroutine[Any, Any, Any]) -> Any:
    """Run a link lookup; wrong tokens are counted per client address, and refused past the limit."""
    client = request.client.host if request.client else "unknown"
    limiter = state.guess_limiter
    if limiter.exhausted(client):
        view.close()
        raise TooManyRequests()
    try:
        return await view
    except (UnknownLink, ExpiredLink):
        limiter.allow(client)
        raise


class SurveyPages(Controller):
    """The survey page behind an invitation link: works without JavaScript."""

    path = "/s"
    include_in_schema = False
    # The page shows the customer's earlier answer and comment: no cache may keep a copy.
    cache_control = PRIVATE_DATA
    exception_handlers = {ApplicationError: _page_error}  # noqa: RUF012 - read once by Litestar

    @get_and_head("/{token:str}", cache=False)
    async def show(self, request: AnyRequest, token: TokenParam, pool: PoolDep, state: State,
                   score: FromQuery[str | None] = None, kind: FromQuery[str | None] = None) -> Template:
        view = await _guarding_guesses(request, state, service.open_link(
            pool, state.settings, token, score, request.headers.get("user-agent", ""),
            preferred_locale(request), picked_on=kind, count_click=request.method != "HEAD"))
        return _render(request, view)

    @post("/{token:str}", status_code=200)
    async def send(self, request: AnyRequest, token: TokenParam, data: Form, pool: PoolDep,
                   state: State) -> Template:
        view = await _guarding_guesses(request, state, service.submit_link(
            pool, state.intake.writer, state.link_reader, state.intake.comments, state.touchpoints,
            state.settings, token, service.read_form(data), preferred_locale(request)))
        return _render(request, view)


class WidgetPages(Controller):
    """The embeddable micro-survey for apps and websites: no cookies, no JavaScript."""

    path = "/w"
    include_in_schema = False
    # Its language follows the browser's: a shared cache in front must keep one copy per language.
    response_headers = [ResponseHeader(name="Vary", value="Accept-Language")]  # noqa: RUF012 - read once by Litestar
    exception_handlers = {ApplicationError: _page_error}  # noqa: RUF012 - read once by Litestar

    @get_and_head("/{key:str}", cache=False)
    async def show(self, request: AnyRequest, key: WidgetKey, pool: PoolDep) -> Template:
        return _render(request, await service.widget_page(pool, key, preferred_locale(request)))

    @post("/{key:str}", status_code=200)
    async def send(self, request: AnyRequest, key: WidgetKey, data: Form, pool: PoolDep,
                   state: State) -> Template:
        client = request.client.host if request.client else "unknown"
        view = await service.submit_widget(pool, state.intake.writer, state.intake.comments,
                                           state.widget_limiter, key, service.read_form(data), client,
                                           preferred_locale(request))
        return _render(request, view)


ROUTES = [InvitationController, ResponseController, CustomerController, SurveyPages, WidgetPages]
