"""What travels with a command (`Call`) and what comes back (`Receipt`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ledger.actors import Actor
from ledger.errors import InvalidRequest
from ledger.text import character_problem, shown

IDEMPOTENCY_KEY_CHARS_MAX = 200


@dataclass(frozen=True)
class Credential:
    """The API key a caller presented, recognised from memory: its aggregate id, and the version
    of the key at which its secret last matched. A command run with it is refused
    `unauthenticated` unless the key still stands when the command's facts are saved (a
    revocation by any process is a later fact of the key): see UnitOfWork.confirm_credential."""

    key_id: UUID
    version: int


@dataclass(frozen=True)
class Call:
    """Who asks, and how the command is to be run: passed beside every command as an argument.

    `idempotency_key`: a repeat with the same key and the same `fingerprint` (what the key stands
    for: the HTTP layer hashes the method, path and body) gets the first answer and records nothing;
    another fingerprint is `idempotency_conflict`. `expected_version`: the version of the loan,
    claim or scheme the caller read (If-Match); `version_conflict` if it moved. `credential`: the
    API key the actor was recognised by, still to be confirmed (None: confirmed, or no key).
    """

    actor: Actor
    idempotency_key: str | None = None
    fingerprint: str = ""
    expected_version: int | None = None
    credential: Credential | None = None

    def __post_init__(self) -> None:
        key = self.idempotency_key
        if key is None:
            return
        problem = character_problem(key) or (
            None if key.isprintable() else "holds a character that is not printable"
        )
        if problem is not None or not key or len(key) > IDEMPOTENCY_KEY_CHARS_MAX:
            raise InvalidRequest(
                f"Idempotency-Key {shown(key)} "
                + (problem or f"must be 1-{IDEMPOTENCY_KEY_CHARS_MAX} characters, not {len(key)}"),
                field="Idempotency-Key",
                limit=IDEMPOTENCY_KEY_CHARS_MAX,
            )


@dataclass(frozen=True)
class Receipt:
    """What a command returns: the log position it wrote and the ids of what it recorded.

    `replayed` is true when an idempotency key had already recorded this very request: the
    receipt is the original one and nothing new was recorded.
    """

    position: int = 0
    fact_id: str | None = None
    claim_id: str | None = None
    status: str | None = None
    tripped: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    replayed: bool = False

    def stored(self) -> dict[str, Any]:
        return {
            "fact_id": self.fact_id,
            "claim_id": self.claim_id,
            "status": self.status,
            "tripped": list(self.tripped),
            "details": dict(self.details),
        }

    @classmethod
    def from_stored(cls, data: Mapping[str, Any], position: int) -> Receipt:
        return cls(
            position=position,
            fact_id=data["fact_id"],
            claim_id=data["claim_id"],
            status=data["status"],
            tripped=tuple(data["tripped"]),
            details=data["details"],
            replayed=True,
        )
