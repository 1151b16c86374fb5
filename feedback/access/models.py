"""API keys and the principal a request acts as."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import msgspec

from surveys.models import ONE_LINE

# The longest key name: the type's limit, checked by the service too (the CLI builds a NewKey
# without decoding one).
MAX_NAME = 200
KeyName = Annotated[str, msgspec.Meta(
    max_length=MAX_NAME, pattern=ONE_LINE,
    description="What the key is for, one line (may be empty). No control characters: tab, "
                "newline and the other whitespace ones are trimmed around it like spaces and "
                "refused inside it.")]


class Role(enum.StrEnum):
    """What a key may do."""

    ADMIN = "admin"  # everything
    OWNER = "owner"  # read what belongs to its owner
    INGEST = "ingest"  # trigger invitations and submit responses


class Principal(msgspec.Struct, frozen=True):
    """Who is asking: the key's id, role and, for owner keys, the owner."""

    key_id: int
    role: Role
    owner_id: int | None = None

    @property
    def owner_scope(self) -> int | None:
        """The owner whose objects alone this principal may see; None means all."""
        return self.owner_id if self.role is Role.OWNER else None


class ApiKey(msgspec.Struct, frozen=True):
    """An API key as listed: never the key itself."""

    id: int
    name: str
    role: Role
    owner_id: int | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class NewKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A key to create."""

    role: Role
    owner_id: int | None = None
    name: KeyName = ""
