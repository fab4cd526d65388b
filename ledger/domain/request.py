"""An idempotent request: what a caller's idempotency key was first used for, and its answer.

Saved in the same atomic save as the facts the request recorded, so a retried request either
finds its record (and gets the original answer, recording nothing) or finds nothing was recorded
(and runs). Two concurrent requests with one key cannot both record: the second save conflicts.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.actors import Actor
from ledger.domain.events import FirstFact
from ledger.ids import NAMESPACE


class Request(Aggregate):
    if TYPE_CHECKING:  # its state, built by its events (declared for readers and type checkers:
        # the library would take class annotations for arguments of __init__)
        principal_id: str
        idempotency_key: str
        request_hash: str  # what the key stands for (the HTTP layer's hash of the method, path and body)
        receipt: dict[str, Any]

    @staticmethod
    def id_for(principal_id: str, idempotency_key: str) -> UUID:
        """One request per principal and key: a second save of it conflicts in the store."""
        return uuid5(NAMESPACE, f"request:{principal_id}:{idempotency_key}")

    @classmethod
    def record(cls, actor: Actor, key: str, fingerprint: str, receipt: dict[str, Any], on: date) -> Request:
        return cls._create(
            cls.Recorded,
            id=cls.id_for(actor.principal_id, key),
            actor=actor,
            business_date=on,
            principal_id=actor.principal_id,
            idempotency_key=key,
            request_hash=fingerprint,
            receipt=receipt,
        )

    class Recorded(FirstFact):
        principal_id: str
        idempotency_key: str
        request_hash: str
        receipt: dict[str, Any]

        def apply(self, request: Request) -> None:
            request.principal_id = self.principal_id
            request.idempotency_key = self.idempotency_key
            request.request_hash = self.request_hash
            request.receipt = self.receipt
