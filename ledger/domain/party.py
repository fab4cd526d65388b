"""A party of the programme: a bank, guarantor, insurer or government fund (rule book §2)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from ledger.actors import Actor
from ledger.domain.events import FirstFact
from ledger.ids import party_uuid


class Party(Aggregate):
    if TYPE_CHECKING:  # its state, built by its events (declared for readers and type checkers:
        # the library would take class annotations for arguments of __init__)
        party_id: str
        role: str  # government, bank, guarantor or insurer
        name: str
        registered_on: str  # ISO date

    @classmethod
    def register(cls, actor: Actor, party_id: str, role: str, name: str, on: date) -> Party:
        return cls._create(
            cls.Registered,
            id=party_uuid(party_id),
            actor=actor,
            business_date=on,
            party_id=party_id,
            role=role,
            name=name,
        )

    class Registered(FirstFact):
        party_id: str
        role: str
        name: str

        def apply(self, party: Party) -> None:
            party.party_id = self.party_id
            party.role = self.role
            party.name = self.name
            party.registered_on = self.business_date.isoformat()
