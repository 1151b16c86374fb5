"""Body validation that lists every offending field, not only the first msgspec meets."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, get_args, get_origin

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException
from litestar.types import ASGIApp, Empty, Receive, Scope, Send

from surveys.errors import ClientError, FieldError, InvalidInput, UnsupportedMediaType
from surveys.models import EMAIL_PATTERN, KEY_MESSAGE, KEY_PATTERN, NO_NUL, ONE_LINE, PROSE
from surveys.text import CONTROL_MESSAGE, PROSE_CONTROL_MESSAGE

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# What a field holding NUL is told, rather than msgspec's "Expected `str` matching regex ...".
NUL_MESSAGE = "may not contain the NUL character"
# msgspec's message for a string outside a pattern that only lists its values, as Locale's
# ^(en|ru)$ does; the client is told the values instead of the regex.
_LISTED = re.compile(r"Expected `str` matching regex '\^\(([\w-]+(?:\|[\w-]+)*)\)\$'")
# A miss of a pattern is told as the rule it stands for, never as the regex: a name's or a
# description's as the check after trimming tells it, a parameter's miss of NO_NUL in words.
_PATTERN_MESSAGES = {f"Expected `str` matching regex {ONE_LINE!r}": CONTROL_MESSAGE,
                     f"Expected `str` matching regex {PROSE!r}": PROSE_CONTROL_MESSAGE,
                     f"Expected `str` matching regex {NO_NUL!r}": NUL_MESSAGE,
                     f"Expected `str` matching regex {KEY_PATTERN!r}": KEY_MESSAGE,
                     f"Expected `str` matching regex {EMAIL_PATTERN!r}": "must be an email address (name@example.com)"}
# msgspec's other words, each told as the rule the value broke (`plainly`).
_LENGTH = re.compile(r"Expected `(str|array|object)` of length (<=|>=) (\d+)")
_BOUND = re.compile(r"Expected `(int|float)` (<=|>=|<|>) (\S+)")
_TYPE = re.compile(r"Expected `([^`]+)`, got `([^`]+)`")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`")
_UNITS = {"str": ("character", "characters"), "array": ("item", "items"), "object": ("key", "keys")}
# What a field takes, and (_SENT) what was sent instead, by msgspec's name of the JSON type.
_TAKES = {"str": "text", "float": "a number", "int": "a whole number", "decimal": "a number",
          "datetime": "a date and time", "date": "a date", "time": "a time", "uuid": "a UUID",
          "bytes": "base64 text", "bool": "true or false", "array": "an array", "object": "an object",
          "null": "null"}
_SENT = {**_TAKES, "float": "a decimal number"}
_FIXED = {
    "Expected `datetime` with a timezone component": "must give its time zone (Z, or an offset such as +02:00)",
    "Invalid RFC3339 encoded datetime": "must be a date and time as RFC 3339 writes it (2026-11-22T10:15:00Z)",
    "Invalid RFC3339 encoded date": "must be a date written YYYY-MM-DD",
    "Invalid RFC3339 encoded time": "must be a time written hh:mm:ss",
    "Invalid UUID": "must be a UUID",
    "Number out of range": "is a number out of range (beyond ±1.8e308)",
}
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
    return plainly(text, expected, value, key=at.startswith("key`"))


def _where(field: str, error: msgspec.ValidationError, value: Any, expected: Any) -> str:
    """The field's part msgspec found wrong: `stages[1].name`, and `questions.en` for a value
    of an object, whose key msgspec leaves out (`$[...]`); the field itself for a key. A field
    missing from an object inside it, or unknown there, is named too: `stages[0].name`."""
    text, _, at = str(error).partition(" - at `$")
    at = at.removesuffix("`")
    named = _MISSING.fullmatch(text) or _UNKNOWN.fullmatch(text)
    inner = f".{named[1]}" if named else ""
    if at == "[...]" and isinstance(value, dict):
        item_type = next((get_args(t)[1] for t in (expected, *get_args(expected))
                          if get_origin(t) is dict), None)
        for key, item in value.items():
            try:
                msgspec.convert(item, type=item_type)
            except msgspec.ValidationError:
                return f"{field}.{key}{inner}"
    return field if "[...]" in at else field + at + inner


def parameter_message(message: str, expected: Any, ranges: Sequence[tuple[Any, Any]] = (),
                      value: Any = None) -> str:
    """What a path, query or header parameter is told for the framework's `message` about it.
    `ranges` are the (ge, le) bounds its declaration gives, `value` what was sent, if known."""
    if _holds_nul(value):
        return NUL_MESSAGE
    return plainly(message, expected, parameter=True, ranges=ranges)


def plainly(message: str, expected: Any = None, value: Any = None, *, key: bool = False,
            parameter: bool = False, ranges: Sequence[tuple[Any, Any]] = ()) -> str:
    """msgspec's words about a bad value ("Expected `str` of length <= 64", a regex) as the rule
    it broke, in the words of the service's own checks: "must be at most 64 characters".

    `expected` is the field's type (its bounds give a range whole: "a number from 0 to 1"),
    `value` what was sent; `key`: the message is about a key of the object sent; `parameter`:
    the value came in a path, query or header, which cannot be null."""
    text = _PATTERN_MESSAGES.get(message)
    if text is None and (_LISTED.fullmatch(message) or message.startswith("Invalid enum value")):
        return with_choices(message, expected, value, key=key)
    text = text or _FIXED.get(message) or _length(message) or _bound(message, expected, ranges) or _type(
        message, expected, parameter=parameter)
    if text is None:
        missing, unknown = _MISSING.fullmatch(message), _UNKNOWN.fullmatch(message)
        text = "is required" if missing else "unknown field" if unknown else message
    if "`" in text:  # a message of msgspec's none of the above knows: its gist, without its markup
        text = "is not a value this field takes"
    return f"each key {text}" if key else text


def _length(message: str) -> str | None:
    found = _LENGTH.fullmatch(message)
    if found is None:
        return None
    kind, op, size = found[1], found[2], int(found[3])
    one, many = _UNITS[kind]
    if op == ">=" and size == 1:
        return "may not be empty"
    return f"must {'be' if kind == 'str' else 'hold'} {'at most' if op == '<=' else 'at least'} {size} " \
           f"{one if size == 1 else many}"


def _bound(message: str, expected: Any, ranges: Sequence[tuple[Any, Any]]) -> str | None:
    """A number outside its bounds, told with both of them when the type has both."""
    found = _BOUND.fullmatch(message)
    if found is None:
        return None
    kind, op, limit = found[1], found[2], float(found[3])
    what = "a whole number" if kind == "int" else "a number"
    for low, high in (*ranges, *_ranges(expected)):
        if low is not None and high is not None and limit == float(low if ">" in op else high):
            return f"must be {what} from {_number(low)} to {_number(high)}"
    words = {"<=": "at most", ">=": "at least", "<": "less than", ">": "more than"}[op]
    return f"must be {what} {words} {_number(limit)}"


def _number(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _ranges(expected: Any) -> list[tuple[Any, Any]]:
    """The (ge, le) bounds of every number inside the type `expected`, nested ones included."""
    try:
        stack: list[Any] = [msgspec.inspect.type_info(expected)]
    except (TypeError, ValueError):  # a type msgspec cannot describe has no bounds to give
        return []
    found: list[tuple[Any, Any]] = []
    seen: set[type] = set()
    while stack:
        t = stack.pop()
        if isinstance(t, (msgspec.inspect.IntType, msgspec.inspect.FloatType)):
            found.append((t.ge, t.le))
        elif isinstance(t, msgspec.inspect.Metadata):
            stack.append(t.type)
        elif isinstance(t, msgspec.inspect.UnionType):
            stack.extend(t.types)
        elif isinstance(t, (msgspec.inspect.ListType, msgspec.inspect.SetType, msgspec.inspect.VarTupleType)):
            stack.append(t.item_type)
        elif isinstance(t, msgspec.inspect.DictType):
            stack.extend((t.key_type, t.value_type))
        elif isinstance(t, msgspec.inspect.StructType) and t.cls not in seen:
            seen.add(t.cls)
            stack.extend(f.type for f in t.fields)
    return found


def _type(message: str, expected: Any = None, *, parameter: bool) -> str | None:
    """"Expected `int | null`, got `str`" as "must be a whole number or null, not text"; a number
    with bounds gives them, "must be a number from 0 to 1, not text", as its other misses do."""
    found = _TYPE.fullmatch(message)
    if found is None:
        return None
    bounds = {r for r in _ranges(expected) if None not in r}
    if len(bounds) == 1 and len(set(_ranges(expected))) == 1:  # the field's range, no other's
        low, high = bounds.pop()
        numbers = {"a number": f"a number from {_number(low)} to {_number(high)}",
                   "a whole number": f"a whole number from {_number(low)} to {_number(high)}"}
    else:
        numbers = {}
    # Ordered as a person would list them: "text, a number, true, false or null".
    names = sorted((n for n in found[1].split(" | ") if not (parameter and n == "null")),
                   key=lambda n: list(_TAKES).index(n) if n in _TAKES else len(_TAKES))
    if "float" in names and "int" in names:  # "a number" takes in whole ones
        names.remove("int")
    words: list[str] = []
    for name in names:
        # Among others, true and false are two of the choices: "text, a number, true, false or null".
        word = _TAKES.get(name, name)
        words.extend(("true", "false") if name == "bool" and len(names) > 1 else [numbers.get(word, word)])
    takes = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
    return f"must be {takes}, not {_SENT.get(found[2], found[2])}"


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
    message = message.replace("Invalid enum value", "Invalid value", 1)
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
        return far_numbers(_WIDE_NUMBERS.decode(body), "the body")
    except (msgspec.DecodeError, RecursionError):  # not JSON, or nested deeper than the walk goes
        return None


def far_numbers(value: Any, where: str) -> ClientError | None:
    """The 400 for decoded JSON `value` (`where`: "the body", "this item") holding numbers beyond
    a float's range, read as Decimal or FarNumber, naming each one's field; None if it holds none."""
    fields = list(_out_of_range(value, ""))
    if not fields:
        return None
    errors = [FieldError(field, "is a number out of range (beyond ±1.8e308)") for field in fields]
    return ClientError(f"A number in {where} is out of range: {', '.join(fields)}", errors=errors)


@dataclass(frozen=True, slots=True)
class FarNumber:
    """A JSON number beyond a float's range (1e400), as WideNumbersRequest reads it."""

    text: str


def _float(text: str) -> float | FarNumber:
    value = float(text)
    return value if math.isfinite(value) else FarNumber(text)


_FAR_NUMBERS = msgspec.json.Decoder(float_hook=_float)


def body_type(handler: Any) -> type[msgspec.Struct] | None:
    """The Struct the route `handler` reads its body into; None for one that reads none, or a form."""
    annotation = getattr(getattr(handler, "parsed_data_field", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


class _Refused:
    """A JSON body the strict conversion refused: the framework's own conversion fails on it
    too, so the error map names the body's faults (body_problem) beside any parameter's."""


class StrictBodiesRequest(Request[Any, Any, Any]):
    """The app's request: a JSON body is converted into its route's Struct as msgspec decodes
    JSON, strictly. The framework converts it with strict=False, which took "85" for a number
    and "true" for true; a client sending them has a bug that a 422 should tell it about.
    Query and path parameters are text by nature and are left to the framework."""

    async def json(self) -> Any:
        raw = await self.read_json()
        target = body_type(self.route_handler)
        if target is None:
            return raw
        try:
            # The Struct itself: the framework's conversion passes it through as it is.
            return msgspec.convert(raw, type=target)
        except msgspec.ValidationError:
            return _Refused()

    async def read_json(self) -> Any:
        """The body as JSON values, before any conversion."""
        return await Request.json(self)


class WideNumbersRequest(StrictBodiesRequest):
    """A request whose JSON body reads a number beyond a float's range as a FarNumber, where the
    framework's reader refuses the whole body: a batch's routes take it, so that only the item
    holding one fails. Any other fault (bad JSON, not UTF-8, too deep) still refuses the body."""

    async def read_json(self) -> Any:
        if self._json is Empty:
            if self._connection_state.json is not Empty:
                self._json = self._connection_state.json
            else:
                try:
                    read = _FAR_NUMBERS.decode(await self.body() or b"null")
                except msgspec.DecodeError as exc:  # told as the framework's reader tells it
                    raise SerializationException(str(exc)) from exc
                self._json = self._connection_state.json = read
        return self._json


def _out_of_range(value: Any, at: str) -> Iterator[str]:
    """Where in `value` a float would overflow, as field names: `context.x`, `items[0].score`."""
    if isinstance(value, FarNumber) or (isinstance(value, Decimal) and not math.isfinite(float(value))):
        yield at or "body"
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _out_of_range(item, f"{at}[{index}]")
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _out_of_range(item, f"{at}.{name}" if at else name)
