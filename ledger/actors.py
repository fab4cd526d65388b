"""Who may do what (rule book §2): roles, principals, and the checks every command makes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import Transcoding

from ledger.errors import Forbidden, InvalidRequest


class Role(StrEnum):
    GOVERNMENT = "government"
    BANK = "bank"
    GUARANTOR = "guarantor"
    INSURER = "insurer"
    FUND_MANAGER = "fund_manager"
    REGULATOR = "regulator"


PARTY_ROLES = (Role.GOVERNMENT, Role.BANK, Role.GUARANTOR, Role.INSURER)


@dataclass(frozen=True)
class Actor:
    """The principal behind a command, recorded on every event it causes (rule book §10).

    A bank, guarantor, insurer or government principal acts for exactly one party; a fund
    manager or regulator for none. `request_id` ties the event to the request that caused it.
    """

    principal_id: str
    role: Role
    party_id: str | None = None
    request_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))
        if not self.request_id:  # a principal acting outside any request: name this invocation
            object.__setattr__(self, "request_id", f"local-{uuid4().hex[:16]}")
        if (self.role in PARTY_ROLES) != (self.party_id is not None):
            raise InvalidRequest(
                f"a {self.role} principal {'needs' if self.role in PARTY_ROLES else 'has no'} party",
                principal_id=self.principal_id,
            )

    def is_party(self, party_id: str) -> bool:
        return self.party_id == party_id


def require_role(actor: Actor, *roles: Role, action: str) -> None:
    """Refuse with `forbidden` when the actor's role may never do `action`."""
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(
            f"a {actor.role} principal may not {action} (allowed: {allowed})",
            role=actor.role.value,
            action=action,
        )


class ActorAsDict(Transcoding):
    """Stores the attribution of an event as a plain JSON object."""

    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, Any]:
        return {
            "principal_id": obj.principal_id,
            "role": obj.role.value,
            "party_id": obj.party_id,
            "request_id": obj.request_id,
        }

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor(**data)
