"""A loan enrolled in a scheme, through its lifecycle (rule book §4).

States: enrolled → disbursed → (repaid | defaulted → written_off); enrolled → withdrawn.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from ledger.domain.events import Fact, FirstFact
from ledger.domain.loan_commands import LoanCommands


def state_after_repayment(state: str, principal_fen: int, repaid_fen: int) -> str:
    """A disbursed loan is `repaid` once its principal is repaid in full, and `disbursed` again if
    a reversal undoes that. The loan and its read model both ask this."""
    if state == "disbursed" and repaid_fen == principal_fen:
        return "repaid"
    if state == "repaid" and repaid_fen < principal_fen:
        return "disbursed"
    return state


class Loan(LoanCommands, Aggregate):
    class Enrolled(FirstFact):
        scheme_id: str
        bank_id: str
        loan_ref: str
        borrower_name: str
        borrower_uscc: str
        product: str
        tags: list[str]
        principal_fen: int
        rate_bp: int
        term_months: int
        cover: str
        cover_party_id: str | None
        rule_version: int

        def apply(self, loan: Loan) -> None:
            for name in (
                "scheme_id",
                "bank_id",
                "loan_ref",
                "borrower_name",
                "borrower_uscc",
                "product",
                "principal_fen",
                "rate_bp",
                "term_months",
                "cover",
                "cover_party_id",
                "rule_version",
            ):
                setattr(loan, name, getattr(self, name))
            loan.tags = list(self.tags)
            loan.state = "enrolled"
            loan.enrolled_on = self.business_date
            loan.disbursed_on = loan.defaulted_on = loan.closed_on = None
            loan.principal_repaid_fen = loan.interest_repaid_fen = 0
            loan.repayments = {}
            loan.cover_income = {}
            loan.overdue_days = loan.outstanding_at_default_fen = None
            loan.claims_filed = 0
            loan.current_claim_id = None
            loan.claim_filed_on = None

    class Disbursed(Fact):
        amount_fen: int

        def apply(self, loan: Loan) -> None:
            loan.state = "disbursed"
            loan.disbursed_on = self.business_date

    class Repaid(Fact):
        fact_id: str
        principal_fen: int
        interest_fen: int

        def apply(self, loan: Loan) -> None:
            loan.repayments[self.fact_id] = {
                "principal_fen": self.principal_fen,
                "interest_fen": self.interest_fen,
                "business_date": self.business_date,
                "reversed": False,
            }
            loan.principal_repaid_fen += self.principal_fen
            loan.interest_repaid_fen += self.interest_fen
            loan.state = state_after_repayment(loan.state, loan.principal_fen, loan.principal_repaid_fen)

    class RepaymentReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, loan: Loan) -> None:
            repayment = loan.repayments[self.fact_id]
            repayment["reversed"] = True
            loan.principal_repaid_fen -= repayment["principal_fen"]
            loan.interest_repaid_fen -= repayment["interest_fen"]
            loan.state = state_after_repayment(loan.state, loan.principal_fen, loan.principal_repaid_fen)

    class Defaulted(Fact):
        overdue_days: int
        outstanding_fen: int

        def apply(self, loan: Loan) -> None:
            loan.state = "defaulted"
            loan.defaulted_on = self.business_date
            loan.overdue_days = self.overdue_days
            loan.outstanding_at_default_fen = self.outstanding_fen

    class Withdrawn(Fact):
        reason: str

        def apply(self, loan: Loan) -> None:
            loan.state = "withdrawn"
            loan.closed_on = self.business_date

    class WrittenOff(Fact):
        outstanding_fen: int

        def apply(self, loan: Loan) -> None:
            loan.state = "written_off"
            loan.closed_on = self.business_date

    class PremiumRecorded(Fact):
        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, loan: Loan) -> None:
            loan.record_income(self, "premium")

    class GuaranteeFeeRecorded(Fact):
        fact_id: str
        party_id: str
        amount_fen: int

        def apply(self, loan: Loan) -> None:
            loan.record_income(self, "fee")

    class PremiumReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, loan: Loan) -> None:
            loan.cover_income[self.fact_id]["reversed"] = True

    class GuaranteeFeeReversed(Fact):
        fact_id: str
        reason: str

        def apply(self, loan: Loan) -> None:
            loan.cover_income[self.fact_id]["reversed"] = True

    class ClaimFiled(Fact):
        claim_id: str

        def apply(self, loan: Loan) -> None:
            loan.claims_filed += 1
            loan.current_claim_id = self.claim_id
            loan.claim_filed_on = self.business_date

    def record_income(self, event: PremiumRecorded | GuaranteeFeeRecorded, kind: str) -> None:
        self.cover_income[event.fact_id] = {
            "kind": kind,
            "party_id": event.party_id,
            "amount_fen": event.amount_fen,
            "business_date": event.business_date,
            "reversed": False,
        }
