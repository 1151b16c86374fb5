"""The demo journey's owners and touchpoints, created through the same rules as the API."""

from __future__ import annotations

from surveys import service
from surveys.kinds import SurveyKind
from surveys.models import Channel, JourneyCreate, OwnerCreate, TouchpointCreate
from surveys.repository import Conn

OWNERS = {
    "marketing": ("Marketing", "marketing@shop.example"),
    "sales": ("Sales", "sales@shop.example"),
    "onboarding": ("Onboarding", "onboarding@shop.example"),
    "support": ("Customer Support", "support@shop.example"),
    "delivery": ("Delivery & Logistics", "delivery@shop.example"),
}

# key, name, stage, channel, owner, kind, target
TOUCHPOINTS: list[tuple[str, str, str, Channel, str, SurveyKind, float]] = [
    ("welcome-ad-landing", "Landing page from an ad", "Acquisition", Channel.WEB, "marketing", SurveyKind.CES, 5.5),
    ("product-search", "Product search", "Selection", Channel.WEB, "marketing", SurveyKind.CES, 5.5),
    ("app-checkout", "App checkout", "Sale", Channel.APP, "sales", SurveyKind.CES, 5.5),
    ("order-confirmation-email", "Order confirmation email", "Sale", Channel.EMAIL, "sales",
     SurveyKind.CSAT, 85.0),
    ("courier-delivery", "Courier delivery", "Solution", Channel.PHONE, "delivery", SurveyKind.CSAT, 85.0),
    ("parcel-locker-pickup", "Parcel locker pick-up", "Solution", Channel.STORE, "delivery",
     SurveyKind.CSAT, 85.0),
    ("first-login", "First login", "Onboarding", Channel.APP, "onboarding", SurveyKind.CES, 5.5),
    ("account-setup-call", "Account set-up call", "Onboarding", Channel.PHONE, "onboarding",
     SurveyKind.CSAT, 85.0),
    ("support-call", "Support call", "Solution", Channel.PHONE, "support", SurveyKind.CSAT, 85.0),
    ("support-chat", "Support chat", "Solution", Channel.CHAT, "support", SurveyKind.CSAT, 85.0),
    ("plan-upgrade", "Plan upgrade", "Evolution", Channel.APP, "sales", SurveyKind.CES, 5.5),
    ("quarterly-relationship-nps", "Quarterly relationship NPS", "Loyalty", Channel.EMAIL, "marketing",
     SurveyKind.NPS, 30.0),
    ("cancellation-call", "Cancellation call", "Offboarding", Channel.PHONE, "support", SurveyKind.CES, 5.5),
]


async def has_data(conn: Conn) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM journeys)"))


async def create_catalogue(conn: Conn) -> dict[str, int]:
    """Create the demo journey, owners and touchpoints; returns owner ids by short name."""
    journey = await service.create_journey(conn, JourneyCreate(
        name="Online shop customer journey",
        description="From the first ad to the last call: every moment a shop customer meets us.",
    ))
    stage_ids = {s.name: s.id for s in journey.stages}
    owner_ids: dict[str, int] = {}
    for short, (name, email) in OWNERS.items():
        owner_ids[short] = (await service.create_owner(conn, OwnerCreate(name=name, email=email))).id
    for key, name, stage, channel, owner, kind, target in TOUCHPOINTS:
        await service.create_touchpoint(conn, TouchpointCreate(
            key=key, name=name, stage_id=stage_ids[stage], channel=channel, owner_id=owner_ids[owner],
            kind=kind, target=target, sample_rate=1.0, recontact_days=30,
        ))
    return owner_ids
