"""A party of the programme: a bank, guarantor, insurer or government fund (rule book §2)."""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from ledger.domain.events import FirstFact


class Party(Aggregate):
    class Registered(FirstFact):
        party_id: str
        role: str
        name: str

        def apply(self, party: Party) -> None:
            party.party_id = self.party_id
            party.role = self.role
            party.name = self.name
            party.registered_on = self.business_date.isoformat()
