"""Survey-link tokens: 128 random bits (the stored nonce) sealed with the secret key, kept only as hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import threading
import time
import uuid

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_nonce() -> bytes:
    return os.urandom(16)


class _RandomBytes:
    """os.urandom read 4 kB at a time: an id's random bits without a system call per id."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._lock = threading.Lock()  # no two threads get the same bytes
        self._buffer = b""
        self._at = 0

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._at + n > len(self._buffer):
                self._buffer, self._at = os.urandom(4096), 0
            start, self._at = self._at, self._at + n
            return self._buffer[start:self._at]


_random = _RandomBytes()
# A child process (os.fork) must not hand out its parent's next bytes.
os.register_at_fork(after_in_child=_random.reset)


_VERSION_BITS = 0xF << 76 | 0x3 << 62
_VERSION_7 = 0x7 << 76 | 0x2 << 62  # version 7, RFC 9562 variant
_make = object.__new__
_set = object.__setattr__


def new_id() -> uuid.UUID:
    """A UUIDv7: time-ordered, so new rows land at the end of the index."""
    millis = time.time_ns() // 1_000_000
    value = ((millis & (2**48 - 1)) << 80 | int.from_bytes(_random.take(10), "big")) & ~_VERSION_BITS | _VERSION_7
    # As uuid.UUID(int=value) makes it, without re-checking a value built in range here: an
    # answer makes one, and UUID.__init__ is a third of the cost.
    made = _make(uuid.UUID)
    _set(made, "int", value)
    _set(made, "is_safe", uuid.SafeUUID.unknown)
    return made


def derive(secret_key: str, invitation_id: uuid.UUID, nonce: bytes) -> str:
    """Re-derivable from the stored nonce, so a replayed trigger can give the same link again."""
    mac = hmac.new(secret_key.encode(), b"survey-link:" + invitation_id.bytes + nonce, hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def well_formed(token: str) -> bool:
    return bool(_TOKEN.match(token))
