"""The words of the survey pages and the email block, in English and Russian."""

from __future__ import annotations

from collections.abc import Mapping

TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "comment": "What is the main reason for your score?",
        "optional": "optional",
        "send": "Send",
        "choose": "Choose a score",
        "error": "Error",
        "bad_score": "Please choose a score from {low} to {high}.",
        "long_comment": "Please keep your comment under 2,000 characters (it has {n}).",
        "thanks_title": "Thank you!",
        "thanks_body": "Your answer has been recorded. It helps us do better.",
        "change": "Change my answer",
        "already_title": "Your answer is already recorded",
        "already_body": "Thank you — we have your answer, and it can no longer be changed.",
        "scale_hint": "{low} means “{low_label}”, {high} means “{high_label}”.",
        "score_of": "{score} of {high}",
        "email_intro": "Pick a score: the survey opens with it chosen, then press Send.",
        "picked": "You chose {score}. Add a comment if you like, then press Send to record your answer.",
        "answered": "You have answered already ({score}). You can change your answer below.",
        "rescaled": "This question has changed since it was sent to you. Please choose your answer again.",
        "rechosen": "You answered {earlier} before and chose {score} now. Press Send to change your answer.",
        "privacy": "We ask once; your answer goes to the team responsible for this step.",
    },
    "ru": {
        "comment": "Что главное повлияло на вашу оценку?",
        "optional": "необязательно",
        "send": "Отправить",
        "choose": "Выберите оценку",
        "error": "Ошибка",
        "bad_score": "Пожалуйста, выберите оценку от {low} до {high}.",
        "long_comment": "Комментарий должен быть короче 2000 символов (сейчас {n}).",
        "thanks_title": "Спасибо!",
        "thanks_body": "Ваш ответ записан. Он помогает нам стать лучше.",
        "change": "Изменить ответ",
        "already_title": "Ваш ответ уже записан",
        "already_body": "Спасибо — ваш ответ у нас, и изменить его уже нельзя.",
        "scale_hint": "{low} — «{low_label}», {high} — «{high_label}».",
        "score_of": "{score} из {high}",
        "email_intro": "Выберите оценку: опрос откроется с ней, останется нажать «Отправить».",
        "picked": "Вы выбрали {score}. Добавьте комментарий, если хотите, и нажмите «Отправить», чтобы сохранить ответ.",
        "answered": "Вы уже ответили ({score}). Ниже ответ можно изменить.",
        "rescaled": "С тех пор как вам отправили этот вопрос, он изменился. Пожалуйста, выберите ответ заново.",
        "rechosen": "Раньше вы ответили {earlier}, сейчас выбрали {score}. Нажмите «Отправить», чтобы изменить ответ.",
        "privacy": "Мы спрашиваем один раз; ответ получит команда, отвечающая за этот этап.",
    },
}


def text(locale: str) -> Mapping[str, str]:
    return TEXTS.get(locale, TEXTS["en"])
