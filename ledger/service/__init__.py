"""The application service: commands in through one pipeline, reads of single aggregates out.

A newcomer's path: a command value (ledger/commands.py) → `Ledger.handle` → the pipeline
(ledger/service/pipeline.py: group commit, idempotency, retries) → its handler
(ledger/service/handlers/) → the aggregates, where the rules live (ledger/domain/) → one save.
"""

from ledger.domain.loan import Enrolment
from ledger.errors import LoanTapeRefused
from ledger.service.call import Call, Receipt
from ledger.service.facade import Facade
from ledger.service.keys import IssuedKey, Keys, Unauthenticated
from ledger.service.queries import Queries


class Ledger(Queries, Keys, Facade):
    """The risk-pool ledger: validates each command, then records its facts atomically."""


__all__ = ["Call", "Enrolment", "IssuedKey", "Ledger", "LoanTapeRefused", "Receipt", "Unauthenticated"]
