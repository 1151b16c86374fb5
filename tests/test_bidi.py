"""Right-to-left names and direction controls cannot reorder the pages around them."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from feedback.insight.typeset import FSI, PDI, balanced, bdi, isolated, moves_text
from surveys.kinds import question_parts
from tests.test_collection_support import invite, token_of
from tests.test_insight_data import answer, at, days_ago
from tests.test_insight_reports import _period, support_story

Client = httpx.AsyncClient
Headers = dict[str, str]

RLO, PDF, LRI, RLI, LRM, RLM = "\u202e", "\u202c", "\u2066", "\u2067", "\u200e", "\u200f"
# What CX managers may type (format characters are no controls: surveys.models).
HEBREW_CALL = "שיחת תמיכה 24/7"
REVERSED_CHAT = f"Chat {RLO}tahc"
ARABIC_STAGE = "الحل"
HEBREW_OWNER = "צוות תמיכה"
HEBREW_JOURNEY = "מסע הלקוח"


# ---------------------------------------------------------------------------- the helpers


@pytest.mark.parametrize("text", ["Support call", "Доставка курьером", "Café crème", "😀 emoji", "", "x\u00a0y"])
def test_text_that_cannot_move_its_surroundings_is_left_as_it_is(text: str) -> None:
    assert not moves_text(text) and isolated(text) == text and balanced(text) == text


@pytest.mark.parametrize("text", [HEBREW_CALL, ARABIC_STAGE, "٣ items", REVERSED_CHAT, f"a{PDF}",
                                  f"a{LRI}b{PDI}", f"x{LRM}", f"x{RLM}", "\u202aembedded"])
def test_right_to_left_letters_digits_and_direction_controls_are_isolated(text: str) -> None:
    assert moves_text(text)
    assert isolated(text) == FSI + balanced(text) + PDI


def test_isolates_inside_are_paired_so_they_cannot_close_or_swallow_the_surroundings() -> None:
    # A stray PDI would close the isolate around the text early (the RLO after it then reverses
    # the rest of the sentence); it does nothing inside the text, so it is left out.
    assert balanced(f"a{PDI}{RLO}b") == f"a{RLO}b"
    assert isolated(f"{PDI}{RLO}evil") == f"{FSI}{RLO}evil{PDI}"
    # An isolate never closed would take in everything after the text: it is closed at its end.
    assert balanced(f"a{RLI}b") == f"a{RLI}b{PDI}"
    assert balanced(f"{LRI}{FSI}x") == f"{LRI}{FSI}x{PDI}{PDI}"
    # Paired ones, and everything else, are kept as typed.
    assert balanced(f"a{RLI}b{PDI}c{PDI}") == f"a{RLI}b{PDI}c"
    assert balanced(f"{RLO}ab{PDF}{PDF}") == f"{RLO}ab{PDF}{PDF}"


def test_bdi_escapes_and_may_say_a_language() -> None:
    assert bdi("<b>R&D</b>") == "<bdi>&lt;b&gt;R&amp;D&lt;/b&gt;</bdi>"
    assert bdi("Delivery", "en") == '<bdi lang="en">Delivery</bdi>'
    assert bdi(f"{PDI}x") == "<bdi>x</bdi>"


# ---------------------------------------------------------------------------- the pages


class _Page(HTMLParser):
    """Every text of a page with the elements around it, and every attribute value."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                      "source", "track", "wbr"})

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[tuple[tuple[str, dict[str, str | None]], ...], str]] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend((tag, name, value) for name, value in attrs if value)
        if tag not in self.VOID:
            self.open.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend((tag, name, value) for name, value in attrs if value)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                return

    def handle_data(self, data: str) -> None:
        self.texts.append((tuple(self.open), data))


def _title(page: str) -> str:
    return next(data for around, data in _Page(page).texts if around and around[-1][0] == "title")


def _occurrences(text: str, name: str) -> list[int]:
    found, at_ = [], text.find(name)
    while at_ >= 0:
        found.append(at_)
        at_ = text.find(name, at_ + 1)
    return found


def assert_isolated_everywhere(page: str, name: str, minimum: int = 1) -> int:
    """Each time the page prints `name`, it is the whole of a <bdi>, or between FSI and PDI
    (a title, an attribute, an SVG label); returns how many times it is printed."""
    parsed = _Page(page)
    shown = balanced(name)
    seen, loose = 0, []
    for around, data in parsed.texts:
        for i in _occurrences(data, shown):
            seen += 1
            whole_bdi = around and around[-1][0] == "bdi" and data == shown
            between = data[i - 1:i] == FSI and data[i + len(shown):i + len(shown) + 1] == PDI
            if not (whole_bdi or between):
                loose.append(f"<{'><'.join(tag for tag, _ in around[-3:])}> {data!r}")
    for tag, attribute, value in parsed.attributes:
        for i in _occurrences(value, shown):
            seen += 1
            if not (value[i - 1:i] == FSI and value[i + len(shown):i + len(shown) + 1] == PDI):
                loose.append(f"<{tag} {attribute}={value!r}>")
    assert not loose, (name, loose)
    assert seen >= minimum, (name, seen)
    return seen


async def _rtl_story(client: Client, admin: Headers, conn: Any) -> Any:
    """The support story, its names typed in Hebrew and Arabic or with an RLO inside."""
    cat = await support_story(conn)
    for path, body in ((f"/api/v1/owners/{cat.owners['support']}", {"name": HEBREW_OWNER}),
                       ("/api/v1/touchpoints/support-call", {"name": HEBREW_CALL}),
                       ("/api/v1/touchpoints/support-chat", {"name": REVERSED_CHAT})):
        r = await client.patch(path, json=body, headers=admin)
        assert r.status_code == 200, r.text
    journey = (await client.get(f"/api/v1/journeys/{cat.journey}", headers=admin)).json()
    plan = [{"id": s["id"], "name": ARABIC_STAGE if s["name"] == "Solution" else s["name"]}
            for s in journey["stages"]]
    r = await client.patch(f"/api/v1/journeys/{cat.journey}", headers=admin,
                           json={"name": HEBREW_JOURNEY, "stages": plan})
    assert r.status_code == 200, r.text
    return cat


async def test_names_in_right_to_left_scripts_or_with_direction_controls_are_isolated_on_the_report_pages(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await _rtl_story(client, admin, conn)
    report = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=_period())
    assert report.status_code == 200, report.text
    # The title, the heading, the glance table, the card, the chart's name, the quotes' signature.
    assert assert_isolated_everywhere(report.text, HEBREW_CALL, 5)
    assert assert_isolated_everywhere(report.text, REVERSED_CHAT, 4)
    assert assert_isolated_everywhere(report.text, HEBREW_OWNER, 2)
    assert assert_isolated_everywhere(report.text, ARABIC_STAGE, 2)
    assert _title(report.text).startswith(f"{FSI}{HEBREW_OWNER}{PDI} · report · "), _title(report.text)
    # Themes are typed too (by the reader of comments): isolated as the names are.
    assert assert_isolated_everywhere(report.text, "waiting time", 3)

    page = await client.get(f"/reports/journeys/{cat.journey}", headers=admin, params=_period())
    assert page.status_code == 200, page.text
    assert assert_isolated_everywhere(page.text, HEBREW_JOURNEY, 2)  # title and heading
    # The stage's heading (beside its number) and its label on the curve.
    assert assert_isolated_everywhere(page.text, ARABIC_STAGE, 2)
    # Each card, and the curve's worst and best.
    assert assert_isolated_everywhere(page.text, HEBREW_CALL, 2)
    assert assert_isolated_everywhere(page.text, REVERSED_CHAT, 2)
    assert assert_isolated_everywhere(page.text, HEBREW_OWNER, 2)  # on both cards


async def test_a_stray_direction_control_in_a_comment_stays_inside_its_quote(
        client: Client, admin: Headers, conn: Any) -> None:
    cat = await support_story(conn)
    # The most negative comment is quoted first. Its PDI would close the quote's isolate, and the
    # RLO after it would then reverse the signature after the quote: "— score 1, Support call".
    await answer(conn, "support-call", 1, when=at(days_ago(1)), comment=f"{PDI}{RLO}on hold forever",
                 themes=["waiting time"], polarity=-1.0, label="negative")
    page = await client.get(f"/reports/owners/{cat.owners['support']}", headers=admin, params=_period())
    quotes = [(dict(around[-1][1]), data, around) for around, data in _Page(page.text).texts
              if around and around[-1][0] == "q"]
    ours = [(attrs, data) for attrs, data, _ in quotes if "on hold forever" in data]
    assert ours, quotes
    for attrs, data in ours:
        # An isolate of its own, in its own direction; the RLO kept in it, the stray PDI left out.
        assert attrs.get("dir") == "auto", attrs
        assert data == f"{RLO}on hold forever", repr(data)
    # Every quote isolates its words.
    assert all(attrs.get("dir") == "auto" for attrs, _, _ in quotes)


async def test_names_are_isolated_on_the_survey_page_the_widget_and_the_email_block(
        client: Client, admin: Headers) -> None:
    journey = (await client.post("/api/v1/journeys", json={"name": HEBREW_JOURNEY}, headers=admin)).json()
    owner = (await client.post("/api/v1/owners", json={"name": HEBREW_OWNER}, headers=admin)).json()
    names = {"call": HEBREW_CALL, "chat": REVERSED_CHAT}
    for key, name in names.items():
        r = await client.post("/api/v1/touchpoints", headers=admin, json={
            "key": key, "name": name, "stage_id": journey["stages"][4]["id"], "channel": "email",
            "owner_id": owner["id"], "kind": "csat"})
        assert r.status_code == 201, r.text
    for key, name in names.items():
        shown = question_parts("csat", "en", name)[1]  # inside the sentence, as the page says it
        sent = (await invite(client, admin, key, f"customer-{key}")).json()
        survey = await client.get(f"/s/{token_of(sent['url'])}")
        widget = await client.get(f"/w/{key}")
        for page in (survey, widget):
            assert page.status_code == 200, page.text
            # The heading and the title.
            assert assert_isolated_everywhere(page.text, shown, 2) == 2, page.request.url
        # A mail app may not know <bdi>: the email block isolates by characters.
        email = _Page(sent["email_html"])
        assert any(f"{FSI}{balanced(shown)}{PDI}" in data for _, data in email.texts), email.texts
        assert assert_isolated_everywhere(sent["email_html"], shown) == 1
    # A touchpoint's own wording is typed whole: isolated whole, on the page and in the title.
    r = await client.patch("/api/v1/touchpoints/call", headers=admin,
                           json={"questions": {"en": f"How was {HEBREW_CALL} today?"}})
    assert r.status_code == 200, r.text
    assert assert_isolated_everywhere((await client.get("/w/call")).text, f"How was {HEBREW_CALL} today?", 2) == 2
