"""The words of the survey pages and the email block, in English and Russian."""

from __future__ import annotations

from collections.abc import Mapping

# Russian: the customer is «вы» (lower case mid-sentence) in the polite plural, so no text assumes
# a gender; «ё» is always written; quotes are «», a dash is «—» with a non-breaking space before
# it (never at the start of a line); numbers of four digits are not split (2000), longer ones are.
TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "comment": "What is the main reason for your score?",
        "optional": "optional",
        "send": "Send",
        "choose": "Choose a score",
        "error": "Error",
        "bad_score": "Please choose a score from {low} to {high}.",
        "long_comment": "Please keep your comment to 2,000 characters at most (it has {count}).",
        "thanks_title": "Thank you!",
        "thanks_body": "Your answer has been recorded. It helps us do better.",
        "change": "Change my answer",
        "already_title": "Your answer is already recorded",
        "already_body": "Thank you — we have your answer, and it can no longer be changed.",
        "erased_title": "This answer was not kept",
        "erased_body": "The data of this survey was deleted at the customer’s request, so your answer was "
                       "not saved. This link no longer opens the survey.",
        "scale_hint": "{low} means “{low_label}”, {high} means “{high_label}”.",
        "email_intro": "Pick a score: the survey opens with it chosen, then press Send.",
        "picked": "You chose {score}. Add a comment if you like, then press Send to record your answer.",
        "answered": "You have answered already ({score}). You can change your answer below.",
        "rescaled": "This question has changed since it was sent to you. Please choose your answer again.",
        "rechosen": "You answered {earlier} before and chose {score} now. Press Send to change your answer.",
        "privacy": "We ask once; your answer goes to the team responsible for this step.",
        "unknown_title": "This survey link is not valid",
        "unknown_body": "Part of it may be missing. Please open the link again from the email or message "
                        "it came in, or copy the whole link into your browser. If it still does not open, "
                        "contact us and ask for a new one.",
        "expired_title": "This survey link has expired",
        "expired_body": "Survey links stay open for a limited time, and this one has closed, so it no longer "
                        "takes answers. Thank you for wanting to answer. If we have sent you a newer link, "
                        "please use that one.",
        "widget_missing_title": "This survey is not available",
        "widget_missing_body": "There is no survey to answer here right now, so there is nothing you need to do.",
    },
    "ru": {
        "comment": "Что больше всего повлияло на вашу оценку?",
        "optional": "необязательно",
        "send": "Отправить",
        "choose": "Выберите оценку",
        "error": "Ошибка",
        "bad_score": "Пожалуйста, выберите оценку от {low} до {high}.",
        "long_comment": "Пожалуйста, сократите комментарий до 2000 символов (сейчас в нём {count}).",
        "thanks_title": "Спасибо!",
        "thanks_body": "Ваш ответ записан. Он помогает нам стать лучше.",
        "change": "Изменить ответ",
        "already_title": "Ваш ответ уже записан",
        "already_body": "Спасибо\u00a0— мы получили ваш ответ. Изменить его уже нельзя.",
        "erased_title": "Этот ответ не сохранён",
        "erased_body": "Данные этого опроса удалены по просьбе клиента, поэтому ваш ответ не сохранён. "
                       "Эта ссылка больше не открывает опрос.",
        "scale_hint": "{low}\u00a0— «{low_label}», {high}\u00a0— «{high_label}».",
        "email_intro": "Выберите оценку: она будет отмечена в открывшемся опросе, останется нажать «Отправить».",
        "picked": "Вы выбрали оценку {score}. Если хотите, добавьте комментарий, затем нажмите «Отправить», чтобы записать ответ.",
        "answered": "Вы уже ответили: оценка {score}. Ниже ответ можно изменить.",
        "rescaled": "Этот вопрос изменился с тех пор, как мы его вам отправили. Пожалуйста, выберите ответ заново.",
        "rechosen": "Раньше вы поставили оценку {earlier}, а сейчас выбрали {score}. Нажмите «Отправить», чтобы изменить ответ.",
        "privacy": "Мы спрашиваем один раз; ваш ответ получит команда, которая отвечает за этот этап.",
        "unknown_title": "Ссылка на опрос недействительна",
        "unknown_body": "Возможно, часть ссылки потерялась. Откройте её ещё раз из письма или сообщения, "
                        "в котором она пришла, или скопируйте ссылку целиком в адресную строку браузера. "
                        "Если опрос всё равно не открывается, свяжитесь с нами и попросите новую ссылку.",
        "expired_title": "Срок действия ссылки на опрос истёк",
        "expired_body": "Ссылки на опросы действуют ограниченное время. Эта ссылка уже закрыта, и ответы по "
                        "ней больше не принимаются. Спасибо, что хотели ответить! Если мы прислали вам более "
                        "новую ссылку, воспользуйтесь ею.",
        "widget_missing_title": "Опрос недоступен",
        "widget_missing_body": "Сейчас здесь нет опроса, на который можно ответить, так что делать ничего не нужно.",
    },
}


def text(locale: str) -> Mapping[str, str]:
    return TEXTS.get(locale, TEXTS["en"])


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The Russian form of a noun after n: 1 символ, 2 символа, 5 символов (and 11–14 символов)."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def characters(locale: str, n: int) -> str:
    """A count of characters in the page's language: "2,001 characters", «2001 символ»."""
    if locale == "ru":
        # Russian typography splits numbers of five digits and more, with a non-breaking space.
        number = f"{n:,}".replace(",", "\u00a0") if n >= 10_000 else str(n)
        return f"{number} {plural_ru(n, 'символ', 'символа', 'символов')}"
    return f"{n:,} character{'' if n == 1 else 's'}"
