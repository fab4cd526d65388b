"""The application service: one method per command of the rule book."""

from ledger.service.base import Receipt
from ledger.service.claims import ClaimService
from ledger.service.loans import Enrolment, LoanService
from ledger.service.queries import QueryService
from ledger.service.reversals import ReversalService
from ledger.service.schemes import SchemeService


class Ledger(SchemeService, LoanService, ClaimService, ReversalService, QueryService):
    """The risk-pool ledger: validates each command, then records its facts atomically."""

    name = "Ledger"  # the eventsourcing application name (its environment prefix is LEDGER_)


__all__ = ["Enrolment", "Ledger", "Receipt"]
