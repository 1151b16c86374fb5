"""Server-rendered pages: Jinja2 set-up, the page language and the friendly error page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from feedback.insight.typeset import TEMPLATE_GLOBALS
from feedback.service.negotiation import weighted

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

# For answers that show customers' words or references, or carry a bearer token: no browser
# or proxy cache keeps a copy.
PRIVATE_DATA = CacheControlHeader(no_store=True, private=True)

# The Russian follows feedback/collection/texts.py: «вы», «ё», a non-breaking space before «—».
_ERRORS = {
    "en": {
        404: ("Page not found", "This link does not lead anywhere. It may have been mistyped."),
        410: ("This link has expired", "Thank you for wanting to answer — this survey is closed now."),
        429: ("Too many attempts", "Please wait a little and try again."),
        422: ("Please check the request", "Something in it was not valid."),
        413: ("Too much was sent", "What was sent is larger than this page accepts."),
        403: ("Not allowed", "This link or key does not open this page."),
        401: ("A key or share link is needed", "This page opens with a share link or an API key."),
        400: ("Something is not right", "The request could not be understood."),
        503: ("We’ll be right back", "The service is busy for a moment. Please try again shortly."),
        500: ("Something went wrong", "We could not show this page. Please try again later."),
    },
    "ru": {
        404: ("Страница не найдена", "Эта ссылка никуда не ведёт. Возможно, в ней опечатка."),
        410: ("Срок действия ссылки истёк", "Спасибо, что хотели ответить, но опрос уже закрыт."),
        429: ("Слишком много попыток", "Пожалуйста, подождите немного и попробуйте снова."),
        422: ("Проверьте запрос", "Что-то в нём указано неверно."),
        413: ("Слишком много данных", "Отправлено больше, чем принимает эта страница."),
        403: ("Нет доступа", "По этой ссылке или с этим ключом страница не открывается."),
        401: ("Нужен ключ или ссылка", "Эта страница открывается по ссылке или с API-ключом."),
        400: ("Что-то не так", "Запрос не удалось понять."),
        503: ("Скоро вернёмся", "Сервис ненадолго занят. Попробуйте чуть позже."),
        500: ("Что-то пошло не так", "Не удалось показать страницу. Попробуйте позже."),
    },
}


_AGAIN = {"en": "Try again", "ru": "Попробовать снова"}


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine,
                          engine_callback=_add_globals)


def _add_globals(engine: JinjaTemplateEngine) -> None:
    engine.engine.globals.update(TEMPLATE_GLOBALS)


def preferred_locale(request: Request[Any, Any, Any], default: str = "en") -> str:
    """The first of en/ru the browser asks for, by Accept-Language quality order (q=0: refused)."""
    ranked = weighted(request.headers.get("accept-language", ""))
    for lang, quality in sorted(ranked, key=lambda item: -item[1]):
        if quality > 0 and lang[:2] in ("en", "ru"):
            return lang[:2]
    return default


def branding(request: Request[Any, Any, Any]) -> dict[str, Any]:
    settings = request.app.state.settings
    return {
        "company": settings.company_name,
        "brand_colour": settings.brand_colour,
        "logo_url": settings.logo_url,
    }


# Statuses whose page also says what exactly was wrong (the problem's detail, which names the
# field, in English: English pages only); a missing or expired link, too many attempts and
# server errors say no more than their title.
_DETAILED = frozenset({400, 401, 403, 413, 422})


def error_page(request: Request[Any, Any, Any], status: int, detail: str, locale: str | None = None,
               headers: dict[str, str] | None = None, wording: tuple[str, str] | None = None) -> Template:
    """`wording`: a title and message that say more than the status's own (already in `locale`)."""
    locale = locale or preferred_locale(request)
    # Often worded in the browser's language (a given locale may come from it too): a shared
    # cache must not serve one language's page to another.
    headers = {**(headers or {}), "Vary": "Accept-Language"}
    texts = _ERRORS[locale]
    title, message = wording or texts.get(status, texts[500] if status >= 500 else texts[400])
    return Template(
        # The widget lives in other sites' frames: its errors come without the site's header.
        template_name="widget_error.html" if request.url.path.startswith("/w/") else "error.html",
        context={"locale": locale, "title": title, "message": message, "status": status,
                 "detail": detail if status in _DETAILED and locale == "en" else "",
                 # Slowed down on a survey or widget: a way back to the question.
                 "again": request.url.path if status == 429 and request.url.path.startswith(("/s/", "/w/")) else None,
                 "again_text": _AGAIN[locale], **branding(request)},
        status_code=status, headers=headers,
    )
