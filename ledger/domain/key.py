"""An API key: the credential of one principal, stored as a keyed hash, revocable (rule book §2).

Issuing and revoking keys are recorded facts like any other, so the history shows who could act
as whom, and since when. The secret itself is never stored.
"""

from __future__ import annotations

import hmac
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.actors import Actor
from ledger.domain.events import Fact, FirstFact
from ledger.ids import NAMESPACE


def key_uuid(key_id: str) -> UUID:
    return uuid5(NAMESPACE, f"api-key:{key_id}")


class ApiKey(Aggregate):
    # Fields no read ever shows (the audit API's view of an aggregate leaves them out): the keyed hash
    # of the secret would let whoever reads it confirm a guessed secret against the pepper.
    SECRET_FIELDS = frozenset({"secret_hash"})

    if TYPE_CHECKING:  # its state, built by its events (declared for readers and type checkers:
        # the library would take class annotations for arguments of __init__)
        key_id: str
        principal_id: str
        role: str
        party_id: str | None
        name: str
        secret_hash: str
        issued_on: date
        revoked_on: date | None
        revoked_reason: str | None

    @classmethod
    def issue(
        cls,
        actor: Actor,
        key_id: str,
        principal_id: str,
        role: str,
        party_id: str | None,
        name: str,
        secret_hash: str,
        on: date,
    ) -> ApiKey:
        return cls._create(
            cls.Issued,
            id=key_uuid(key_id),
            actor=actor,
            business_date=on,
            key_id=key_id,
            principal_id=principal_id,
            role=role,
            party_id=party_id,
            name=name,
            secret_hash=secret_hash,
        )

    @property
    def standing(self) -> bool:
        """Whether the key may still act: it has not been revoked."""
        return self.revoked_on is None

    def admits(self, secret_hash: str) -> bool:
        """Whether a secret with this keyed hash acts as the key's principal: the key stands and
        the hashes match (compared in constant time)."""
        return hmac.compare_digest(secret_hash, self.secret_hash) and self.standing

    def revoke(self, actor: Actor, reason: str, on: date) -> None:
        self.trigger_event(self.Revoked, actor=actor, business_date=on, reason=reason)

    class Issued(FirstFact):
        key_id: str
        principal_id: str
        role: str
        party_id: str | None
        name: str
        secret_hash: str

        def apply(self, key: ApiKey) -> None:
            key.key_id, key.principal_id, key.role = self.key_id, self.principal_id, self.role
            key.party_id, key.name, key.secret_hash = self.party_id, self.name, self.secret_hash
            key.issued_on, key.revoked_on, key.revoked_reason = self.business_date, None, None

    class Revoked(Fact):
        reason: str

        def apply(self, key: ApiKey) -> None:
            key.revoked_on, key.revoked_reason = self.business_date, self.reason
