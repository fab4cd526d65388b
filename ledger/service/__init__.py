"""The application service: one method per command of the rule book."""

from ledger.service.base import Receipt
from ledger.service.claims import ClaimService
from ledger.service.keys import IssuedKey, KeyService, Unauthenticated
from ledger.service.loans import Enrolment
from ledger.service.queries import QueryService
from ledger.service.reversals import ReversalService
from ledger.service.schemes import SchemeService
from ledger.service.tapes import LoanTapeRefused, TapeService


class Ledger(SchemeService, TapeService, ClaimService, ReversalService, KeyService, QueryService):
    """The risk-pool ledger: validates each command, then records its facts atomically."""

    name = "Ledger"  # the eventsourcing application name (its environment prefix is LEDGER_)


__all__ = ["Enrolment", "IssuedKey", "Ledger", "LoanTapeRefused", "Receipt", "Unauthenticated"]
