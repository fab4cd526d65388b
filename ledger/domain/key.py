"""An API key: the credential of one principal, stored as a keyed hash, revocable (rule book §2).

Issuing and revoking keys are recorded facts like any other, so the history shows who could act
as whom, and since when. The secret itself is never stored.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from ledger.domain.events import Fact, FirstFact


class ApiKey(Aggregate):
    # Fields no read ever shows (the audit API's view of an aggregate leaves them out): the keyed hash
    # of the secret would let whoever reads it confirm a guessed secret against the pepper.
    SECRET_FIELDS = frozenset({"secret_hash"})

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
