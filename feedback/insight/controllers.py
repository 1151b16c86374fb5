"""HTTP routes for scores, responses, reports, share links and the report pages."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, cast
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Response, Stream, Template
from litestar.status_codes import HTTP_200_OK

from feedback.access.models import Principal, Role
from feedback.access.service import require
from feedback.collection.models import ResponseOut
from feedback.insight import charts, service, sharing
from feedback.insight.models import (
    Bucket,
    JourneyMap,
    OwnerReport,
    PeriodChoice,
    Periods,
    ResponseFilter,
    Scores,
    Selection,
    ShareLink,
    ShareRevocation,
    ShareTarget,
    TouchpointReport,
    TouchpointScores,
)
from feedback.sentiment.reading import SentimentLabel
from feedback.service.conditional import ETAG_DOC, REVALIDATE, Conditional, ConditionalTemplate
from feedback.service.database import Pool
from feedback.service.dependencies import (
    Caller,
    CursorParam,
    Db,
    IdParam,
    KeyParam,
    LimitParam,
    PoolDep,
    QueryId,
    StageQuery,
    plain_ids,
)
from feedback.service.methods import get_and_head
from feedback.service.negotiation import MEDIA_TYPES, answers_in, best_media_type, refusal
from feedback.service.pages import PRIVATE_DATA, branding
from surveys.errors import NotFound, Unauthorized
from surveys.kinds import Band, SurveyKind
from surveys.models import KEY_PATTERN, NO_NUL, Channel, Page
from surveys.text import touchpoint_labels

SECURITY: list[dict[str, list[str]]] = [{"BearerAuth": []}]

# Dates arrive as text and are parsed by the service, so a 422 names `from` / `to`; the document
# gives their format, for clients generated from it.
_DAY = {"one_of": [Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE), Schema(type=OpenAPIType.NULL)]}
From = Annotated[str | None, QueryParameter(
    name="from", description="First UTC day, YYYY-MM-DD (default: 89 days before to, or before today when to is later).",
    schema_extra=_DAY)]
To = Annotated[str | None, QueryParameter(name="to", description="Last UTC day, YYYY-MM-DD (default: today).",
                                          schema_extra=_DAY)]
# No NUL: PostgreSQL text cannot hold one, and the CSV export must refuse it before it streams.
# A key no touchpoint can have is a 422 naming `touchpoint`, as in a path or a body.
TouchpointQuery = Annotated[str | None, QueryParameter(min_length=1, max_length=64, pattern=KEY_PATTERN)]
Text = Annotated[str | None, QueryParameter(min_length=1, max_length=200, pattern=NO_NUL)]
# Unbounded here: a token of any other length cannot open anything, and the page says so (404)
# as for a damaged one (sharing.read_token).
ShareToken = Annotated[str | None, QueryParameter()]
ShareDays = Annotated[int, QueryParameter(ge=1, le=sharing.MAX_DAYS)]
MapOwner = Annotated[int | None, QueryParameter(
    ge=1, le=2**63 - 1, description="An owner id: the map of that owner's touchpoints only, and of the "
                                    "stages that hold them, as the owner's share link shows it.")]


# The media types of the answers that come as CSV too (negotiation.MEDIA_TYPES).
ANSWER_TYPES = ("application/json", "text/csv")
# Two questions under one name: which touchpoints (scores are kept per touchpoint, so they can
# only be narrowed by where each touchpoint is configured), and which answers (each one records
# the channel it came through, shown as its `channel`).
TouchpointChannel = Annotated[Channel | None, QueryParameter(
    description="Touchpoints configured on this channel (a touchpoint's `channel`): the scores of "
                "all their answers, whatever channel each answer came through.")]
AnswerChannel = Annotated[Channel | None, QueryParameter(
    description="Answers that came through this channel, as each item's `channel` shows it (an "
                "answer sent with its own `channel`, else its touchpoint's), whatever the "
                "touchpoint's configured channel.")]
KindOfEach = Annotated[SurveyKind | None, QueryParameter(
    description="Only touchpoints scored on this kind (default: every kind, each on its own scale).")]


def _today() -> date:
    return datetime.now(UTC).date()


def _settings(state: State) -> Any:
    return state.settings


class ScoreController(Controller):
    """Scores over any selection of touchpoints, and the answers behind them."""

    path = "/api/v1"
    tags = ["Insight"]  # noqa: RUF012 - Litestar reads it as a class attribute
    security = SECURITY
    # Answers carry comments and customer references (the CSV export all of them): no browser
    # or proxy cache keeps a copy on disk.
    cache_control = PRIVATE_DATA

    # Scores are counts and rates, no customer's words or reference: a dashboard polling them
    # may keep a copy and revalidate it, an unchanged one costing a 304 (docs/scores.md).
    @get_and_head("/scores", summary="A score series with interval, previous period and KPI status",
                  response_class=Conditional, cache_control=REVALIDATE, response_headers=ETAG_DOC)
    async def scores(
        self, conn: Db, principal: Caller, state: State, journey: QueryId = None,
        stage: StageQuery = None, owner: QueryId = None, touchpoint: TouchpointQuery = None,
        channel: TouchpointChannel = None, kind: FromQuery[SurveyKind | None] = None,
        start: From = None, end: To = None, bucket: FromQuery[Bucket] = Bucket.WEEK,
    ) -> Scores:
        require(principal, Role.OWNER)
        today = _today()
        first, last = service.period_of(start, end, today)
        sel = Selection(journey=journey, stage=stage, owner=owner, touchpoint=touchpoint,
                        channel=channel, kind=kind, start=first, end=last,
                        scope=principal.owner_scope)
        return await service.scores(conn, sel, bucket=bucket, min_n=_settings(state).min_n,
                                    today=today)

    # One row per touchpoint for a dashboard's table, from one read of the rollups: the breakdown
    # of what /scores sums. Scores of several kinds side by side, each on its own scale.
    @get_and_head("/scores/touchpoints", response_class=Conditional, cache_control=REVALIDATE,
                  response_headers=ETAG_DOC, opt={MEDIA_TYPES: ANSWER_TYPES},
                  summary="Every selected touchpoint's score, one item each; Accept: text/csv for CSV")
    async def touchpoint_scores(
        self, request: Request[Any, Any, Any], conn: Db, principal: Caller, state: State,
        journey: QueryId = None, stage: StageQuery = None, owner: QueryId = None,
        channel: TouchpointChannel = None, kind: KindOfEach = None, start: From = None,
        end: To = None,
    ) -> Response[TouchpointScores]:
        require(principal, Role.OWNER)
        csv_wanted = _wants_csv(request)
        first, last = service.period_of(start, end, _today())
        sel = Selection(journey=journey, stage=stage, owner=owner, channel=channel, kind=kind,
                        start=first, end=last, scope=principal.owner_scope)
        scores = await service.touchpoint_scores(conn, sel, min_n=_settings(state).min_n)
        if not csv_wanted:
            return Conditional(scores, headers=VARY)
        # Documented as the JSON; the CSV is a Response too.
        return cast("Response[TouchpointScores]", Conditional(
            service.touchpoint_scores_csv(scores).encode(), media_type="text/csv; charset=utf-8",
            headers={**VARY, "content-disposition": f'attachment; filename="touchpoint-scores-{first}-{last}.csv"'}))

    @get_and_head("/responses", summary="Answers, newest first; Accept: text/csv streams them all as CSV",
                  opt={MEDIA_TYPES: ANSWER_TYPES})
    async def responses(
        self, request: Request[Any, Any, Any], pool: PoolDep, principal: Caller,
        journey: QueryId = None, stage: StageQuery = None, owner: QueryId = None,
        touchpoint: TouchpointQuery = None, channel: AnswerChannel = None,
        kind: FromQuery[SurveyKind | None] = None, start: From = None, end: To = None,
        customer: Text = None, band: FromQuery[Band | None] = None,
        has_comment: FromQuery[bool | None] = None, label: FromQuery[SentimentLabel | None] = None,
        theme: Text = None, cursor: CursorParam = None, limit: LimitParam = 50,
    ) -> Response[Page[ResponseOut]]:
        # Documented as the JSON page; a CSV request gets a Stream, which is a Response too.
        require(principal, Role.OWNER)
        first, last = service.period_of(start, end, _today())
        sel = Selection(journey=journey, stage=stage, owner=owner, touchpoint=touchpoint,
                        kind=kind, start=first, end=last, scope=principal.owner_scope)
        filters = ResponseFilter(customer=customer, channel=channel, band=band,
                                 has_comment=has_comment, label=label, theme=theme)
        csv_wanted = _wants_csv(request)  # a 406 before any query
        async with pool.acquire() as conn:
            if not csv_wanted:
                return Response(await service.list_responses(conn, sel, filters, cursor=cursor,
                                                             limit=limit), headers=VARY)
            await service.check_selection(conn, sel)
        headers = {"content-type": "text/csv; charset=utf-8", **VARY,
                   "content-disposition": f'attachment; filename="responses-{first}-{last}.csv"'}
        if request.method == "HEAD":  # the headers a GET would send, without running the export
            return cast("Response[Page[ResponseOut]]", Response(None, headers=headers))
        chunks = _csv(pool, sel, filters)
        try:  # the query runs before the 200 goes out: a failure is still a problem answer
            first_chunk = await anext(chunks)
        except BaseException:
            await chunks.aclose()
            raise
        return cast("Response[Page[ResponseOut]]", Stream(
            # Litestar prefers the route's media type to the Stream's: the header settles it.
            _after(first_chunk, chunks), media_type="text/csv; charset=utf-8", headers=headers,
        ))


    # Pain points and positive moments hand out `response_id`: this reads the answer behind one.
    @get_and_head("/responses/{response_id:uuid}", summary="Read one answer, as POST /api/v1/responses answered it")
    async def response(self, response_id: FromPath[UUID], conn: Db, principal: Caller) -> ResponseOut:
        require(principal, Role.OWNER)
        return await service.get_response(conn, response_id, principal.owner_scope)


# The same URL answers JSON or CSV: a cache must key on Accept.
VARY = {"vary": "Accept"}


def _wants_csv(request: Request[Any, Any, Any]) -> bool:
    """CSV when the client prefers it by its q-values: "application/json, text/csv;q=0.1" is JSON.

    406 when Accept refuses both ("text/csv;q=0" alone: q=0 is "not acceptable"); the app's
    acceptable_answers has said so already, before the handler ran.
    """
    offered = answers_in(request.route_handler)
    accept = ", ".join(request.headers.getall("accept", [])) or None
    chosen = best_media_type(accept, offered)
    if chosen is None:
        raise refusal(offered)
    return chosen == "text/csv"


async def _after(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def _csv(pool: Pool, sel: Selection, filters: ResponseFilter) -> AsyncGenerator[bytes, None]:
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        async for chunk in service.csv_chunks(conn, sel, filters):
            yield chunk.encode()


class ReportController(Controller):
    """The JSON behind the report pages, and share links to them."""

    path = "/api/v1"
    tags = ["Insight"]  # noqa: RUF012 - Litestar reads it as a class attribute
    security = SECURITY
    # Reports quote customers' comments, and a share link is a bearer secret.
    cache_control = PRIVATE_DATA
    before_request = staticmethod(plain_ids)

    @get_and_head("/touchpoints/{key:str}/report", summary="A touchpoint's report: score, funnel, pain points")
    async def touchpoint(self, key: KeyParam, conn: Db, principal: Caller, state: State,
                         start: From = None, end: To = None) -> TouchpointReport:
        require(principal, Role.OWNER)
        today = _today()
        first, last = service.period_of(start, end, today)
        return await service.touchpoint_report(conn, key, start=first, end=last, today=today,
                                               scope=principal.owner_scope,
                                               min_n=_settings(state).min_n)

    @get_and_head("/owners/{owner_id:int}/report", summary="An owner's report: every touchpoint, pain points")
    async def owner_report(self, owner_id: IdParam, conn: Db, principal: Caller, state: State,
                    start: From = None, end: To = None) -> OwnerReport:
        require(principal, Role.OWNER)
        today = _today()
        first, last = service.period_of(start, end, today)
        return await service.owner_report(conn, owner_id, start=first, end=last, today=today,
                                          scope=principal.owner_scope, min_n=_settings(state).min_n)

    # Counts, scores and sentiment means per stage and touchpoint: no customer's words or
    # reference, so kept and revalidated like the scores. The reports above quote comments.
    @get_and_head("/journeys/{journey_id:int}/map", summary="A journey map: stages, scores, emotion curve",
                  response_class=Conditional, cache_control=REVALIDATE, response_headers=ETAG_DOC)
    async def journey(self, journey_id: IdParam, conn: Db, principal: Caller, state: State,
                      owner: MapOwner = None, start: From = None, end: To = None) -> JourneyMap:
        require(principal, Role.OWNER)
        first, last = service.period_of(start, end, _today())
        return await service.journey_map(conn, journey_id, start=first, end=last, owner=owner,
                                         scope=principal.owner_scope, min_n=_settings(state).min_n)

    @get_and_head("/owners/{owner_id:int}/share-link", summary="A signed link to the owner's report (no key)")
    async def share_link(self, owner_id: IdParam, conn: Db, principal: Caller, state: State,
                         days: ShareDays = 7) -> ShareLink:
        require(principal)
        return await service.share_link(conn, _settings(state), "owner", owner_id, days)

    @get_and_head("/journeys/{journey_id:int}/share-link", summary="A signed link to the whole journey map (no key)")
    async def journey_share_link(self, journey_id: IdParam, conn: Db, principal: Caller, state: State,
                                 days: ShareDays = 7) -> ShareLink:
        require(principal)
        return await service.share_link(conn, _settings(state), "journey", journey_id, days)

    # Admin only, like making links: an owner key may neither make nor revoke them.
    @post("/owners/{owner_id:int}/share-links/revoke", status_code=HTTP_200_OK,
          summary="Revoke every share link to the owner's report made so far (other owners' keep working)")
    async def revoke_share_links(self, owner_id: IdParam, conn: Db, principal: Caller) -> ShareRevocation:
        require(principal)
        return await service.revoke_share_links(conn, "owner", owner_id)

    @post("/journeys/{journey_id:int}/share-links/revoke", status_code=HTTP_200_OK,
          summary="Revoke every share link to the whole journey map made so far (owners' links keep working)")
    async def revoke_journey_share_links(self, journey_id: IdParam, conn: Db,
                                         principal: Caller) -> ShareRevocation:
        require(principal)
        return await service.revoke_share_links(conn, "journey", journey_id)


# --- pages -------------------------------------------------------------------------------------

_WHAT = {"owner": "report", "journey": "journey map"}


def _error(request: Request[Any, Any, Any], status: int, title: str, message: str, advice: str | None = None) -> Template:
    return Template(template_name="report_error.html", status_code=status,
                    context={"title": title, "message": message, "advice": advice, "status": status,
                             **branding(request)},
                    headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)


def _private(request: Request[Any, Any, Any]) -> Template:
    return _error(request, 401, "This report is private",
                  "Open it with the share link you were sent, or with an API key (Authorization header).")


def _expired(request: Request[Any, Any, Any], target: ShareTarget, exc: sharing.ShareExpired) -> Template:
    what = _WHAT[target]
    return _error(request, 410, f"This {what} link has expired",
                  f"Share links open a {what} for a limited time; this one worked until "
                  f"{exc.expires_at:%d %b %Y, %H:%M} UTC.",
                  "Ask the person who shared it with you for a new link.")


def _not_opening(request: Request[Any, Any, Any], target: ShareTarget) -> Template:
    # A revoked link gets this page too, byte for byte as a damaged one: nobody learns from it
    # that a link existed (docs/reports.md), so it names both causes.
    what = _WHAT[target]
    return _error(request, 404, f"This {what} link does not open anything",
                  "Part of it may be missing, or it may have been withdrawn: links stop working when "
                  f"whoever looks after the {what} closes them.",
                  "Ask the person who shared it with you for a new link.")


async def _page_scope(request: Request[Any, Any, Any], pool: Pool, owner_id: int | None,
                      share: str | None) -> int | None:
    """The owner a page is limited to (None: everything), from a share token or an API key."""
    if share is not None and owner_id is not None:
        await _check_share(request, pool, "owner", owner_id, share)
        return owner_id
    principal: Principal = await request.app.state.key_cache.principal(
        pool, request.headers.get("authorization"))
    require(principal, Role.OWNER)
    return principal.owner_scope


async def _map_access(request: Request[Any, Any, Any], pool: Pool, journey_id: int,
                      owner: int | None, share: str | None) -> tuple[int | None, bool]:
    """The owner a journey map is limited to (None: everything), and whether the viewer may see
    every owner's touchpoints (an admin key or the journey's share link) even when `owner`
    narrows the map."""
    if share is None:
        scope = await _page_scope(request, pool, owner, None)
        return scope, scope is None
    if owner is not None:
        try:  # mostly the owner's link, from its report's links to the map
            await _check_share(request, pool, "owner", owner, share)
            return owner, False
        except NotFound:  # else the journey's, narrowed to one owner
            pass
    await _check_share(request, pool, "journey", journey_id, share)
    return None, True


async def _check_share(request: Request[Any, Any, Any], pool: Pool, target: ShareTarget,
                       target_id: int, share: str) -> None:
    async with pool.acquire() as conn:
        await service.check_share(conn, request.app.state.settings.secret_key, target, target_id, share)


class ReportPages(Controller):
    """Report pages a person reads and prints: inline SVG, no scripts."""

    path = "/reports"
    include_in_schema = False
    # Opened by a share token in the URL: a shared cache must not serve the report on.
    cache_control = PRIVATE_DATA
    before_request = staticmethod(plain_ids)

    # It quotes customers' comments: no-store, like the reports' JSON, so no ETag either.
    @get_and_head("/owners/{owner_id:int}", cache=False)
    async def owner_page(self, request: Request[Any, Any, Any], owner_id: IdParam, pool: PoolDep,
                    share: ShareToken = None, start: From = None, end: To = None) -> Template:
        try:
            scope = await _page_scope(request, pool, owner_id, share)
        except Unauthorized:
            return _private(request)
        except sharing.ShareExpired as exc:
            return _expired(request, "owner", exc)
        except NotFound:
            return _not_opening(request, "owner")
        today = _today()
        first, last = service.period_of(start, end, today)
        settings = request.app.state.settings
        async with pool.acquire() as conn:
            # The page quotes only the owner's pain points and positive moments.
            report = await service.owner_report(conn, owner_id, start=first, end=last, today=today,
                                                scope=scope, min_n=settings.min_n,
                                                touchpoint_quotes=False)
            # Named links: an owner in two journeys had two alike, "Journey map · Journey map".
            journeys = await service.report_journeys(conn, report)
        trends = {r.touchpoint.key: charts.trend(r) for r in report.touchpoints}
        # Quotes are signed with the touchpoint's name, as its card is headed, not its key; a
        # name two of them share (made before names were checked) has the key beside it.
        names = touchpoint_labels((r.touchpoint.key, r.touchpoint.name) for r in report.touchpoints)
        # Links to the map keep the owner, the access and the period this page was asked for:
        # the map opened from an owner's report is that owner's, with a key as with a share link.
        access = _query(owner=str(owner_id), share=share, start=start, end=end)
        return Template(template_name="report_owner.html", context={
            "report": report, "trends": trends, "names": names, "journeys": journeys, "access": access,
            "periods": _periods(request.url.path, today, first, last, share=share),
            **branding(request),
        })

    # The map quotes no one (unlike the owner page): a browser may keep it and revalidate it
    # by its ETag. Still `private`: a share token opens it.
    @get_and_head("/journeys/{journey_id:int}", cache=False, cache_control=REVALIDATE)
    async def journey(self, request: Request[Any, Any, Any], journey_id: IdParam, pool: PoolDep,
                      owner: MapOwner = None, share: ShareToken = None, start: From = None,
                      end: To = None) -> Template:
        # `owner` narrows the map to that owner's touchpoints for a key as for a share link: the
        # owner's (whose token it names) or the journey's, which opens the whole map without it.
        try:
            scope, whole_map = await _map_access(request, pool, journey_id, owner, share)
        except Unauthorized:
            return _private(request)
        except sharing.ShareExpired as exc:
            return _expired(request, "journey", exc)
        except NotFound:
            return _not_opening(request, "journey")
        today = _today()
        first, last = service.period_of(start, end, today)
        async with pool.acquire() as conn:
            journey = await service.journey_map(conn, journey_id, start=first, end=last, scope=scope,
                                                owner=owner, min_n=request.app.state.settings.min_n)
        curve = charts.emotion_curve(journey.stages, journey.worst, journey.best)
        # A journey's link does not open an owner report: no way back from it, but one out to
        # the whole map, which only those who may see every owner get.
        journey_link = whole_map and share is not None
        back = None if owner is None or journey_link else _with_query(
            f"/reports/owners/{owner}", _query(share=share, start=start, end=end))
        everyone = None if owner is None or not whole_map else _with_query(
            request.url.path, _query(share=share, start=start, end=end))
        names = touchpoint_labels((t.key, t.name) for s in journey.stages for t in s.touchpoints)
        return ConditionalTemplate(template_name="journey_map.html", context={
            "journey": journey, "curve": curve, "back": back, "everyone": everyone, "names": names,
            "curve_width": charts.curve_width(len(journey.stages)),
            # The template notes a map limited to one owner.
            "scope": scope if owner is None else owner,
            "periods": _periods(request.url.path, today, first, last, share=share,
                                owner=None if owner is None else str(owner)),
            **branding(request),
        })


def _periods(path: str, today: date, first: date, last: date, *, share: str | None,
             owner: str | None = None) -> Periods:
    """The switcher of a page at `path`: every link and the form keep its access (share token)."""
    keep = {k: v for k, v in (("owner", owner), ("share", share)) if v}
    choices = [PeriodChoice(label, f"{path}?{urlencode({**keep, 'from': a.isoformat(), 'to': b.isoformat()})}",
                            (a, b) == (first, last))
               for label, a, b in service.period_choices(today)]
    return Periods(choices, path, keep, first, last)


def _with_query(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


def _query(*, owner: str | None = None, share: str | None = None, start: str | None = None,
           end: str | None = None) -> str:
    """A page link's query: its access (owner and share token) and its period, as given."""
    pairs = {"owner": owner, "share": share, "from": start, "to": end}
    return urlencode({k: v for k, v in pairs.items() if v})


ROUTES = [ScoreController, ReportController, ReportPages]
