"""Body validation that lists every offending field, not only the first msgspec meets."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from decimal import Decimal
from enum import Enum
from typing import Any, get_args, get_origin

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from surveys.errors import ClientError, FieldError, InvalidInput, UnsupportedMediaType
from surveys.models import NO_NUL, ONE_LINE, PROSE
from surveys.text import CONTROL_MESSAGE, PROSE_CONTROL_MESSAGE

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# What a field holding NUL is told, rather than msgspec's "Expected `str` matching regex ...".
NUL_MESSAGE = "may not contain the NUL character"
# msgspec's message for a string outside a pattern that only lists its values, as Locale's
# ^(en|ru)$ does; the client is told the values instead of the regex.
_LISTED = re.compile(r"Expected `str` matching regex '\^\(([\w-]+(?:\|[\w-]+)*)\)\$'")
# A miss of a name's or a description's pattern is told as the check after trimming tells it;
# a parameter's miss of NO_NUL in words, as a body field's is.
_PATTERN_MESSAGES = {f"Expected `str` matching regex {ONE_LINE!r}": CONTROL_MESSAGE,
                     f"Expected `str` matching regex {PROSE!r}": PROSE_CONTROL_MESSAGE,
                     f"Expected `str` matching regex {NO_NUL!r}": NUL_MESSAGE}
# Reads every JSON float as a Decimal, so a number beyond a float's range (1e400) can be found.
_WIDE_NUMBERS = msgspec.json.Decoder(float_hook=Decimal)


def json_bodies(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: an API body is JSON, sent uncompressed, or it is refused with a 415.

    Without it, XML or a gzip body reached the JSON decoder and came back as "JSON is malformed
    (byte 0)". A body sent with no Content-Type is read as JSON, as before. An operation that
    takes no body (revoking share links) never reads one, so it refuses no Content-Type either:
    its OpenAPI entry lists no 415.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        reads_body = getattr(handler, "parsed_data_field", None) is not None
        if scope.get("method") in _WITH_BODY and scope["path"].startswith("/api/") and reads_body:
            for name, value in scope["headers"]:
                if name == b"content-type":
                    media = value.split(b";", 1)[0].strip().lower()
                    if media != b"application/json" and not media.endswith(b"+json"):
                        raise UnsupportedMediaType(
                            f"Content-Type {value.decode('latin-1')!r}: this API reads application/json.")
                elif name == b"content-encoding" and value.strip().lower() not in (b"", b"identity"):
                    raise UnsupportedMediaType(
                        f"Content-Encoding {value.decode('latin-1')!r}: send the body uncompressed.")
        await app(scope, receive, send)

    return middleware


def _describe(error: msgspec.ValidationError, value: Any, expected: Any = None) -> str:
    if _holds_nul(value):
        return NUL_MESSAGE
    # msgspec appends " - at `$.x`"; the field is named separately. "at `key`": a dict's key.
    text, _, at = str(error).partition(" - at `")
    text = _PATTERN_MESSAGES.get(text, text)
    return with_choices(text, expected, value, key=at.startswith("key`"))


def _where(field: str, error: msgspec.ValidationError, value: Any, expected: Any) -> str:
    """The field's part msgspec found wrong: `stages[1].name`, and `questions.en` for a value
    of an object, whose key msgspec leaves out (`$[...]`); the field itself for a key."""
    at = str(error).partition(" - at `$")[2].removesuffix("`")
    if at == "[...]" and isinstance(value, dict):
        item_type = next((get_args(t)[1] for t in (expected, *get_args(expected))
                          if get_origin(t) is dict), None)
        for key, item in value.items():
            try:
                msgspec.convert(item, type=item_type)
            except msgspec.ValidationError:
                return f"{field}.{key}"
    return field if "[...]" in at else field + at


def parameter_message(message: str, expected: Any) -> str:
    """What a path, query or header parameter is told for the framework's `message` about it."""
    return with_choices(_PATTERN_MESSAGES.get(message, message), expected)


def with_choices(message: str, expected: Any, value: Any = None, *, key: bool = False) -> str:
    """msgspec's "Invalid enum value 'x'" (or a miss of a pattern listing values, ^(en|ru)$), with
    the values the field takes: a client told only that its value is wrong has to go and read
    the schema to find the right one. `value`, if known, is what was sent (a dict, for `key`)."""
    listed = _LISTED.fullmatch(message)
    if listed:
        choices = listed[1].split("|")
        if key and isinstance(value, dict):
            value = next((k for k in value if k not in choices), None)
        sent = f" {value!r}" if isinstance(value, str) else ""
        return f"Invalid {'key' if key else 'value'}{sent}; expected one of: {', '.join(choices)}"
    if not message.startswith("Invalid enum value"):
        return message
    candidates = [expected, *get_args(expected)]
    choices = next((c for c in candidates if isinstance(c, type) and issubclass(c, Enum)), None)
    if choices is None:
        return message
    return f"{message}; expected one of: {', '.join(str(c.value) for c in choices)}"


def _holds_nul(value: Any) -> bool:
    """Whether a NUL is in the string, or in any key or string of the list or object."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False


def field_errors(struct_type: type[msgspec.Struct], raw: Any, prefix: str = "") -> list[FieldError]:
    """Every problem with `raw` as an instance of `struct_type`, one per field."""
    if not isinstance(raw, dict):
        return [FieldError(prefix.rstrip(".") or "body", "must be a JSON object")]
    errors: list[FieldError] = []
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct_type)}
    for key in raw:
        if key not in fields:
            errors.append(FieldError(f"{prefix}{key}", "unknown field"))
    for name, info in fields.items():
        if name not in raw:
            if info.required:
                errors.append(FieldError(f"{prefix}{name}", "is required"))
            continue
        try:
            msgspec.convert(raw[name], type=info.type)
        except msgspec.ValidationError as exc:
            errors.append(FieldError(_where(f"{prefix}{name}", exc, raw[name], info.type),
                                     _describe(exc, raw[name], info.type)))
    if not errors:
        # Cross-field rules live in __post_init__; they surface only on the whole object.
        try:
            msgspec.convert(raw, type=struct_type)
        except msgspec.ValidationError as exc:
            errors.append(FieldError(prefix.rstrip(".") or "body", _describe(exc, None)))
    return errors


def decode(struct_type: type[msgspec.Struct], body: bytes) -> Any:
    """Decode a JSON body into `struct_type`, or raise naming every offending field."""
    try:
        return msgspec.json.decode(body, type=struct_type)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError as exc:
        raise ClientError(f"The body is not valid JSON: {exc}") from None
    raise problem_for(struct_type, body)


def body_problem(struct_type: type[msgspec.Struct], body: bytes) -> ClientError | None:
    """The error to answer for `body` as a `struct_type`; None when it decodes."""
    try:
        msgspec.json.decode(body, type=struct_type)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return problem_for(struct_type, body)
    return None


def problem_for(struct_type: type[msgspec.Struct], body: bytes) -> ClientError:
    """The error to answer for a body that does not decode into `struct_type`."""
    try:
        raw = msgspec.json.decode(body)
    except msgspec.ValidationError as exc:  # valid JSON, but a number beyond a float's range
        return numbers_out_of_range(body) or ClientError(f"The body could not be read: {exc}")
    except msgspec.DecodeError as exc:
        return ClientError(f"The body is not valid JSON: {exc}")
    except RecursionError:
        return ClientError("The body is nested too deeply to be read.")
    return invalid_fields(struct_type, raw)


def invalid_fields(struct_type: type[msgspec.Struct], raw: Any) -> InvalidInput:
    """The 422 for decoded JSON `raw` that is not a valid `struct_type`, naming each field."""
    errors = field_errors(struct_type, raw)
    if not errors:
        errors = [FieldError("body", "does not match the expected shape")]
    summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    return InvalidInput(f"Invalid fields: {summary}", errors=errors)


def numbers_out_of_range(body: bytes) -> ClientError | None:
    """The 400 for a JSON body holding numbers beyond a float's range (1e400), naming each one's
    field; None if it holds none. msgspec's own message elides object keys (`$.context[...]`)."""
    try:
        fields = list(_out_of_range(_WIDE_NUMBERS.decode(body), ""))
    except (msgspec.DecodeError, RecursionError):  # not JSON, or nested deeper than the walk goes
        return None
    if not fields:
        return None
    errors = [FieldError(field, "is a number out of range (beyond ±1.8e308)") for field in fields]
    return ClientError(f"A number in the body is out of range: {', '.join(fields)}", errors=errors)


def _out_of_range(value: Any, at: str) -> Iterator[str]:
    """Where in `value` a float would overflow, as field names: `context.x`, `items[0].score`."""
    if isinstance(value, Decimal) and not math.isfinite(float(value)):
        yield at or "body"
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _out_of_range(item, f"{at}[{index}]")
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _out_of_range(item, f"{at}.{name}" if at else name)
