"""Every command of the rule book as a plain value: what to do, nothing about who or how.

Who asks, with which idempotency key and expected version, travels beside it as a `Call`
(ledger/service/call.py). `ledger.handle(command, call)` runs it: one handler per command
(ledger/service/handlers/), inside the pipeline of ledger/service/pipeline.py. Each command names
the roles that may ever issue it (`ALLOWED`, docs/rules.md §2); finer checks (a bank's own loan, a
party's own payment) are the handler's and the aggregates'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar
from uuid import UUID

from ledger.actors import Role
from ledger.domain.loan import Enrolment
from ledger.ids import claim_uuid, loan_uuid
from ledger.money import Money

BANK, GOVERNMENT, GUARANTOR, INSURER = Role.BANK, Role.GOVERNMENT, Role.GUARANTOR, Role.INSURER
FUND_MANAGER = Role.FUND_MANAGER


@dataclass(frozen=True)
class Command:
    ALLOWED: ClassVar[tuple[Role, ...]] = ()
    ACTION: ClassVar[str] = ""

    def subjects(self) -> tuple[UUID, ...]:
        """The loan and claim the command names, if any. A hint, nothing more: the pipeline reads
        a batch's subjects from the store in one query before running it (ledger/service/
        preload.py), and the handler still finds, and checks, whatever it uses."""
        return ()


# Schemes, parties and the pool's money.


@dataclass(frozen=True)
class CreateScheme(Command):
    ALLOWED = (FUND_MANAGER,)
    ACTION = "create a scheme"
    scheme_id: str
    name: str
    created_on: date
    demo: bool = False


@dataclass(frozen=True)
class RegisterParty(Command):
    ALLOWED = (FUND_MANAGER,)
    ACTION = "register a party"
    party_id: str
    role: str
    name: str
    registered_on: date


@dataclass(frozen=True)
class AdmitMember(Command):
    ALLOWED = (FUND_MANAGER,)
    ACTION = "admit a party to a scheme"
    scheme_id: str
    party_id: str
    admitted_on: date


@dataclass(frozen=True)
class PublishRules(Command):
    ALLOWED = (FUND_MANAGER,)
    ACTION = "publish a rule version"
    scheme_id: str
    document: Any  # a mapping, or YAML/JSON text
    published_on: date


@dataclass(frozen=True)
class SetTargets(Command):
    ALLOWED = (FUND_MANAGER,)
    ACTION = "set programme targets"
    scheme_id: str
    targets: list[dict[str, Any]]
    set_on: date


@dataclass(frozen=True)
class RecordContribution(Command):
    ALLOWED = (FUND_MANAGER, GOVERNMENT)
    ACTION = "record a contribution"
    scheme_id: str
    party_id: str
    amount: Money
    contributed_on: date


@dataclass(frozen=True)
class ResetBreaker(Command):
    ALLOWED = (FUND_MANAGER,)
    ACTION = "reset a circuit breaker"
    scheme_id: str
    breaker: str  # kind:party
    reason: str
    reset_on: date


@dataclass(frozen=True)
class Reverse(Command):
    ALLOWED = (FUND_MANAGER, BANK, GOVERNMENT, GUARANTOR, INSURER)  # narrowed by the fact's kind
    ACTION = "reverse a fact"
    scheme_id: str
    fact_id: str
    reason: str
    reversed_on: date


# Loans.


@dataclass(frozen=True)
class EnrolLoan(Command):
    ALLOWED = (BANK,)
    ACTION = "enrol a loan"
    scheme_id: str
    bank_id: str
    loan: Enrolment


@dataclass(frozen=True)
class EnrolTape(Command):
    """A bank's loan tape: every row enrolled in one save, or none. `rows` are (row number, the
    parsed enrolment or the error that refused parsing it), as ledger/tape.py reads them."""

    ALLOWED = (BANK,)
    ACTION = "enrol a loan tape"
    scheme_id: str
    bank_id: str
    rows: list[tuple[int, Any]] = field(hash=False, compare=False)


@dataclass(frozen=True)
class LoanCommand(Command):
    scheme_id: str
    bank_id: str
    loan_ref: str

    def subjects(self) -> tuple[UUID, ...]:
        return (loan_uuid(self.scheme_id, self.bank_id, self.loan_ref),)


@dataclass(frozen=True)
class Disburse(LoanCommand):
    ALLOWED = (BANK,)
    ACTION = "record a disbursement"
    amount: Money
    disbursed_on: date


@dataclass(frozen=True)
class Repay(LoanCommand):
    ALLOWED = (BANK,)
    ACTION = "record a repayment"
    principal: Money
    interest: Money
    repaid_on: date


@dataclass(frozen=True)
class DeclareDefault(LoanCommand):
    ALLOWED = (BANK,)
    ACTION = "declare a default"
    overdue_days: int
    defaulted_on: date


@dataclass(frozen=True)
class Withdraw(LoanCommand):
    ALLOWED = (BANK,)
    ACTION = "withdraw a loan"
    withdrawn_on: date
    reason: str = ""


@dataclass(frozen=True)
class WriteOff(LoanCommand):
    ALLOWED = (BANK, FUND_MANAGER)
    ACTION = "write off a loan"
    written_off_on: date


@dataclass(frozen=True)
class RecordPremium(LoanCommand):
    ALLOWED = (INSURER, FUND_MANAGER)
    ACTION = "record a premium"
    amount: Money
    paid_on: date
    insurer_id: str | None = None  # a fund manager names the insurer


@dataclass(frozen=True)
class RecordFee(LoanCommand):
    ALLOWED = (GUARANTOR, FUND_MANAGER)
    ACTION = "record a fee"
    amount: Money
    paid_on: date
    guarantor_id: str | None = None  # a fund manager names the guarantor


@dataclass(frozen=True)
class FileClaim(LoanCommand):
    ALLOWED = (BANK,)
    ACTION = "file a claim"
    claimed: Money
    filed_on: date


# Claims.


@dataclass(frozen=True)
class ClaimCommand(Command):
    scheme_id: str
    claim_id: str

    def subjects(self) -> tuple[UUID, ...]:
        bank_id, loan_ref, *_ = [*self.claim_id.split(":", 2), "", ""]
        return (claim_uuid(self.scheme_id, self.claim_id), loan_uuid(self.scheme_id, bank_id, loan_ref))


@dataclass(frozen=True)
class ApproveClaim(ClaimCommand):
    ALLOWED = (FUND_MANAGER,)
    ACTION = "approve a claim"
    amount: Money
    approved_on: date


@dataclass(frozen=True)
class RejectClaim(ClaimCommand):
    ALLOWED = (FUND_MANAGER,)
    ACTION = "reject a claim"
    reason: str
    rejected_on: date


@dataclass(frozen=True)
class PaySettlement(ClaimCommand):
    ALLOWED = (GUARANTOR, INSURER, GOVERNMENT, FUND_MANAGER)
    ACTION = "record a settlement payment"
    party_id: str
    amount: Money
    paid_on: date


@dataclass(frozen=True)
class RecordRecovery(ClaimCommand):
    ALLOWED = (BANK,)
    ACTION = "record a recovery"
    gross: Money
    costs: Money
    recovered_on: date


@dataclass(frozen=True)
class PayRecoveryPart(ClaimCommand):
    ALLOWED = (BANK,)
    ACTION = "pay a recovery part"
    party_id: str
    amount: Money
    paid_on: date


# API keys (issued and revoked by an operator at the command line).


@dataclass(frozen=True)
class IssueKey(Command):
    ALLOWED = tuple(Role)  # the operator at the terminal; the key's own role is `role`
    ACTION = "issue an API key"
    key_id: str
    role: str
    party_id: str | None
    name: str
    principal_id: str
    secret_hash: str = field(repr=False)
    issued_on: date | None = None


@dataclass(frozen=True)
class RevokeKey(Command):
    ALLOWED = tuple(Role)
    ACTION = "revoke an API key"
    key_id: str
    reason: str
