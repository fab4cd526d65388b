"""An idempotent request: what a caller's idempotency key was first used for, and its answer.

Saved in the same atomic save as the facts the request recorded, so a retried request either
finds its record (and gets the original answer, recording nothing) or finds nothing was recorded
(and runs). Two concurrent requests with one key cannot both record: the second save conflicts.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain.events import FirstFact


class Request(Aggregate):
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
