"""Demo history: invitations and about 6,000 responses over the last 182 days, with known truths.

The history covers two 90-day periods, so the default report (the last 90 days against the 90
before) has something to compare. Seeded truth, by touchpoint (theme keys as
`feedback.sentiment.themes.extract_themes` reads the seeded comments; the same lists are in
`SEEDED_TRUTH`):

- courier-delivery (painful, and getting worse: significantly worse than the period before,
  and worse in the last 30 days than the 30 before):
  pain "late delivery", "damaged parcel", "courier" (courier didn't call, was rude).
- support-call (painful): pain "waiting time" (long hold), "transfer" (transferred several times).
- cancellation-call (painful): pain "cancellation" (hard to cancel), "retention" (pushy offers).
- first-login (delightful): delight "ease of use", "login", "setup" (smooth, easy, quick setup).
- support-chat (delightful): delight "friendly staff", "helpful staff".
- order-confirmation-email (delightful): delight "communication", "confirmation" (clear, fast).

The other seven touchpoints get middling scores. Every touchpoint has comments of its own, about
it (`COMMENTS`). Against the period before, some touchpoints improved and some got worse by a
little (not significant), as in `MOOD_BEFORE`. About half of the responses carry a comment,
about 10 % of those in Russian. Fixed seed, and answers dated from the start of today (UTC):
loads made the same day are alike.
"""

from __future__ import annotations

import functools
import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from feedback.collection import repository as repo
from feedback.collection.repository import NewResponse
from feedback.collection.tokens import new_id
from feedback.sentiment import ANALYZER_VERSION, read_comment
from surveys import repository as surveys_repo
from surveys.kinds import scale_of
from surveys.models import Channel, Touchpoint, TouchpointFilter
from surveys.repository import Conn

# Twelve touchpoints compared over two periods: chance alone makes one of them "significant"
# more often than not. This seed is one where only courier delivery's designed drop is (the next
# smallest p is 0.14); test_collection_demo.py holds it to that. The comments draw from a stream
# of their own (SEED + 1), so rewording them changes no score.
SEED = 20261127
DAYS = 182
# The default report period: answers older than this belong to the period before it.
PERIOD_DAYS = 90
TOTAL = 6000
CHUNK = 1000
# Channels whose answers come through an invitation's link; the others (app, web) ask in place.
INVITED = frozenset({Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.CHAT, Channel.STORE})
# The demo says the same few dozen sentences thousands of times: each is read once.
_read = functools.cache(read_comment)

SEEDED_TRUTH: dict[str, dict[str, list[str]]] = {
    "courier-delivery": {"pain": ["late delivery", "damaged parcel", "courier"], "delight": []},
    "support-call": {"pain": ["waiting time", "transfer"], "delight": []},
    "cancellation-call": {"pain": ["cancellation", "retention"], "delight": []},
    "first-login": {"pain": [], "delight": ["ease of use", "login", "setup"]},
    "support-chat": {"pain": [], "delight": ["friendly staff", "helpful staff"]},
    "order-confirmation-email": {"pain": [], "delight": ["communication", "confirmation"]},
}

# What customers say, by touchpoint and band (low, middle, high): English lines, Russian lines.
# Each touchpoint's lines are about it, as a real touchpoint's comments are: no courier under
# the checkout. The low lines of painful touchpoints and the high lines of delightful ones carry
# SEEDED_TRUTH's themes; no other line of theirs names those themes, so each is all low (or all
# high) answers, and the other lines stay clear of the seeded words (no "courier" in a good
# delivery, no "cancel" in a good cancellation call, no "email" in a poor order confirmation).
# Short lines, most naming one theme (their subject): each theme of an answer is a rollup row
# more, and the demo loads in about the time it did with shared, mostly theme-less lines.
Lines = tuple[list[str], list[str]]
COMMENTS: dict[str, dict[str, Lines]] = {
    "welcome-ad-landing": {
        "low": (["The landing page did not match the ad", "The landing page was slow to open",
                 "Nothing on the landing page matched what the ad said"],
                ["Страница из рекламы долго открывалась"]),
        "middle": (["The landing page was alright"], ["Страница из рекламы обычная"]),
        "high": (["Clear landing page, exactly as in the ad", "The landing page was great"],
                 ["Страница из рекламы понятная"]),
    },
    "product-search": {
        "low": (["The search found nothing useful", "The search could not find what I wanted",
                 "Search is hopeless for anything specific"],
                ["Поиск ничего не находит"]),
        "middle": (["Search is fine, could be smarter"], ["Поиск нормальный"]),
        "high": (["Found what I wanted in the search right away", "The search is brilliant"],
                 ["Поиск сразу нашёл то, что нужно"]),
    },
    "app-checkout": {
        "low": (["Checkout took forever", "The checkout kept crashing", "The checkout is far too long"],
                ["Приложение зависло на оформлении"]),
        "middle": (["Checkout was okay"], ["Оформление в приложении нормальное"]),
        "high": (["Quick and smooth checkout", "Checkout took a minute"], ["Оплатил в приложении за минуту"]),
    },
    "order-confirmation-email": {
        "low": (["The order summary came an hour late", "The order summary left out half my items",
                 "The order summary had the wrong address"],
                ["В сводке неверный адрес"]),
        "middle": (["The order summary was fine"], ["Сводка обычная"]),
        "high": (["Clear email with all the details", "Fast confirmation, clear and simple",
                  "Got the confirmation email instantly, very clear", "The email was clear"],
                 ["Письмо с подтверждением пришло сразу"]),
    },
    "courier-delivery": {
        "low": (["The courier was late again", "Late delivery, nobody told me anything",
                 "The courier didn't call before coming", "Courier did not call, just left a note",
                 "The parcel arrived damaged", "Box was damaged and the item broken", "Courier was rude"],
                ["Курьер опоздал на два часа", "Посылка пришла повреждённой"]),
        "middle": (["Delivery was okay"], ["Доставка нормальная"]),
        "high": (["Delivered right on time", "Delivery was quick and smooth"], ["Доставили вовремя"]),
    },
    "parcel-locker-pickup": {
        "low": (["The locker was full", "The locker would not open", "The locker code was wrong"],
                ["Постамат не открылся"]),
        "middle": (["Locker pick-up was fine"], ["Постамат нормальный"]),
        "high": (["Picked up from the locker in seconds", "The locker is so handy"],
                 ["Забрал из постамата за минуту"]),
    },
    "first-login": {
        "low": (["Got stuck on the first screen", "My first time was confusing"],
                ["В первый раз ничего не понял"]),
        "middle": (["First time was okay"], ["В первый раз всё нормально"]),
        "high": (["Smooth and easy first login", "Easy to log in and get started", "Setup was quick and easy",
                  "Very quick setup, everything just worked", "The first login was smooth"],
                 ["Первый вход и настройка заняли минуту"]),
    },
    "account-setup-call": {
        "low": (["The set-up call started 40 minutes late", "The set-up call was rushed"],
                ["На звонке ничего не объяснили"]),
        "middle": (["The set-up call was okay"], ["Звонок был обычный"]),
        "high": (["The set-up call got me ready in 15 minutes", "Great set-up call, everything explained"],
                 ["На звонке всё настроили за 15 минут"]),
    },
    "support-call": {
        "low": (["Waited on hold for 40 minutes", "Long waiting time before anyone answered",
                 "Waited too long on the phone", "I was transferred several times",
                 "They transferred me between departments several times",
                 "Transferred three times to different departments"],
                ["Долго ждал на линии"]),
        "middle": (["The agent on the phone sorted it out in the end"], ["По телефону помогли, но не сразу"]),
        "high": (["The agent on the phone solved it at once", "One call and it was sorted, great"],
                 ["Оператор по телефону сразу всё решил"]),
    },
    "support-chat": {
        "low": (["Nobody joined the chat for 20 minutes", "The chat dropped and I had to start over",
                 "The chat bot was useless"],
                ["Чат-бот не понял вопрос"]),
        "middle": (["The chat was okay"], ["В чате нормально"]),
        "high": (["Friendly and helpful agent in chat", "The chat agent was really helpful and friendly",
                  "The support agent in chat was friendly", "Helpful chat agent solved it fast"],
                 ["Вежливый и отзывчивый оператор в чате"]),
    },
    "plan-upgrade": {
        "low": (["Changing my plan was a maze", "My new plan was charged twice"], ["Тариф не сменился"]),
        "middle": (["Moving to the new plan was okay"], ["Тариф сменился не сразу"]),
        "high": (["The new plan was ready at once", "Upgraded my plan in a few taps"],
                 ["Тариф сменил за минуту"]),
    },
    "quarterly-relationship-nps": {
        "low": (["This shop has got worse", "I would not recommend the shop after this year",
                 "The shop used to be better"],
                ["Магазин стал хуже"]),
        "middle": (["The shop is fine, nothing special"], ["Магазин нормальный"]),
        "high": (["I recommend this shop to everyone", "The best online shop I use"],
                 ["Отличный магазин, всем советую"]),
    },
    "cancellation-call": {
        "low": (["So hard to cancel my subscription", "Pushy retention offers when I just wanted to cancel",
                 "Hard to cancel, the agent kept pushing retention offers"],
                ["Отменить подписку было очень сложно"]),
        "middle": (["Closing my account took a while"], ["Закрыть аккаунт получилось не сразу"]),
        "high": (["Ending my account on the call was quick and painless",
                  "The agent on the call closed my account without fuss"],
                 ["Аккаунт закрыли за пару минут"]),
    },
}

# Share of low / middle answers (the rest are high) by touchpoint over the last 90 days;
# unlisted ones are middling.
MOOD: dict[str, tuple[float, float]] = {
    "courier-delivery": (0.45, 0.25),
    "support-call": (0.55, 0.25),
    "cancellation-call": (0.65, 0.2),
    "first-login": (0.05, 0.1),
    "support-chat": (0.05, 0.1),
    "order-confirmation-email": (0.04, 0.12),
}
MIDDLING = (0.2, 0.3)
# The 90 days before: what the default report compares with. Courier delivery was much better
# (the one significant change); the others moved a little either way, as real ones do.
MOOD_BEFORE: dict[str, tuple[float, float]] = {
    "courier-delivery": (0.25, 0.25),
    "support-call": (0.6, 0.22),
    "cancellation-call": (0.6, 0.2),
    "first-login": (0.05, 0.12),
    "support-chat": (0.07, 0.1),
    "order-confirmation-email": (0.04, 0.12),
    "product-search": (0.26, 0.3),
    "app-checkout": (0.24, 0.3),
    "plan-upgrade": (0.16, 0.3),
    "parcel-locker-pickup": (0.17, 0.3),
    "account-setup-call": (0.24, 0.3),
}
# Courier delivery got worse lately: its last 30 days are worse than the 60 before.
LATELY: dict[str, tuple[float, float]] = {"courier-delivery": (0.65, 0.2)}
LATELY_DAYS = 30
# How many answers each touchpoint gets, relative to the others.
WEIGHT = {"courier-delivery": 2.0, "support-call": 1.6, "support-chat": 1.6, "order-confirmation-email": 1.4,
          "first-login": 1.2, "cancellation-call": 0.8}


def _score(rng: random.Random, tp: Touchpoint, low_share: float, mid_share: float) -> int:
    scale = scale_of(tp.kind)
    draw = rng.random()
    if draw < low_share:
        return rng.randint(scale.low, scale.low_to)
    if draw < low_share + mid_share:
        return rng.randint(scale.low_to + 1, scale.high_from - 1)
    return rng.randint(scale.high_from, scale.high)


def _comment(rng: random.Random, key: str, band: str) -> tuple[str, str] | None:
    if rng.random() >= 0.5:
        return None
    english, russian = COMMENTS[key][band]
    if rng.random() < 0.1 and russian:
        return rng.choice(russian), "ru"
    return rng.choice(english), "en"


def _mood(key: str, days_ago: int) -> tuple[float, float]:
    """The shares of an answer given `days_ago` days before today (the period ends today)."""
    if days_ago >= PERIOD_DAYS:
        return MOOD_BEFORE.get(key, MIDDLING)
    if days_ago <= LATELY_DAYS and key in LATELY:
        return LATELY[key]
    if key in LATELY:
        # The rest of the period makes up the period's share in MOOD.
        low, mid = MOOD[key]
        late_low, late_mid = LATELY[key]
        rest = PERIOD_DAYS - LATELY_DAYS
        return ((low * PERIOD_DAYS - late_low * LATELY_DAYS) / rest,
                (mid * PERIOD_DAYS - late_mid * LATELY_DAYS) / rest)
    return MOOD.get(key, MIDDLING)


async def seed_responses(conn: Conn, *, total: int = TOTAL) -> int:
    """Insert the demo history (one multi-row INSERT per chunk); returns the responses made."""
    rng = random.Random(SEED)
    # The comments draw from a stream of their own: rewording them leaves every score as it was.
    words = random.Random(SEED + 1)
    # Counted back from the start of today, not from now: a reload later the same day puts
    # every answer on the same day, so the pages show the same numbers.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    tps = await _touchpoints(conn)
    if not tps:
        return 0
    weights = [WEIGHT.get(tp.key, 1.0) for tp in tps]
    invitations: list[tuple[Any, ...]] = []
    responses: list[NewResponse] = []
    for n in range(total):
        tp = rng.choices(tps, weights)[0]
        when = today - timedelta(seconds=rng.uniform(60, DAYS * 86400))
        low_share, mid_share = _mood(tp.key, (today.date() - when.date()).days)
        score = _score(rng, tp, low_share, mid_share)
        band = scale_of(tp.kind).band(score).value
        comment = _comment(words, tp.key, band)
        customer = f"demo-{rng.randint(1, 2500):05d}"
        invitation_id = None
        if tp.channel in INVITED:
            invitation_id = new_id()
            sent_at = when - timedelta(minutes=rng.randint(5, 600))
            invitations.append(_invitation(tp, invitation_id, customer, comment, sent_at, when, n))
        responses.append(_response(tp, score, comment, customer, when, invitation_id))
    # Invitations nobody answered, so the funnel has a shape.
    for n in range(total // 3):
        tp = rng.choice([tp for tp in tps if tp.channel in INVITED])
        sent_at = today - timedelta(seconds=rng.uniform(3600, DAYS * 86400))
        clicked = sent_at + timedelta(minutes=3) if rng.random() < 0.25 else None
        invitations.append(_invitation(tp, new_id(), f"demo-{rng.randint(1, 2500):05d}", None, sent_at,
                                       None, total + n, clicked))
    for start in range(0, len(invitations), CHUNK):
        await repo.insert_invitations(conn, invitations[start:start + CHUNK])
    for start in range(0, len(responses), CHUNK):
        await repo.insert_responses(conn, responses[start:start + CHUNK])
    return len(responses)


async def _touchpoints(conn: Conn) -> list[Touchpoint]:
    found = await surveys_repo.list_touchpoints(conn, after=0, limit=1000, filters=TouchpointFilter())
    return sorted(found, key=lambda tp: tp.id)


def _invitation(tp: Touchpoint, invitation_id: Any, customer: str, comment: tuple[str, str] | None,
                sent_at: datetime, answered: datetime | None, n: int,
                clicked: datetime | None = None) -> tuple[Any, ...]:
    # A token nobody holds: demo links are not openable (the start-up banner makes a live one).
    token_hash = hashlib.sha256(b"demo-invitation-%d" % n).digest()
    locale = comment[1] if comment else "en"
    return (tp.id, invitation_id, customer, locale, tp.channel.value, "sent", token_hash,
            token_hash[:16], sent_at + timedelta(days=tp.expiry_days),
            sent_at, answered or clicked, answered)


def _response(tp: Touchpoint, score: int, comment: tuple[str, str] | None, customer: str, when: datetime,
              invitation_id: Any) -> NewResponse:
    text, locale = comment if comment else ("", "en")
    insight = _read(text)
    scale = scale_of(tp.kind)
    return NewResponse(
        touchpoint_id=tp.id, id=new_id(), journey_id=tp.journey_id, stage_id=tp.stage_id,
        owner_id=tp.owner_id, kind=tp.kind.value, scale_min=scale.low, scale_max=scale.high, score=score,
        comment=text or None, customer_ref=customer, locale=locale, channel=tp.channel.value,
        source="link" if invitation_id else "api", context="{}", polarity=insight.sentiment.polarity,
        subjectivity=insight.sentiment.subjectivity, label=insight.sentiment.label,
        language=insight.sentiment.language if text else None, themes=insight.themes,
        analyzer_version=ANALYZER_VERSION, occurred_at=when, created_at=when, invitation_id=invitation_id,
    )
