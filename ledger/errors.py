"""Refusals: one exception per error code of the rule book (§12).

A refusal names the offending value in its message and carries the figures involved, so a
caller (HTTP, CLI, a test) can show both. Raising one changes nothing: every command validates
before it triggers an event.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LedgerError(Exception):
    """A refused command. `code` is the rule book's machine-readable error code."""

    code: ClassVar[str] = "ledger_error"

    def __init__(self, message: str, **figures: Any) -> None:
        super().__init__(message)
        self.message = message
        self.figures = figures

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidAmount(LedgerError):
    """An amount that is not a valid yuan string (§1)."""

    code = "invalid_amount"


class InvalidDate(LedgerError):
    """A date that is malformed, in the future or out of order (§1)."""

    code = "invalid_date"


class InvalidUscc(LedgerError):
    """A unified social credit code that fails GB 32100-2015."""

    code = "invalid_uscc"


class InvalidRequest(LedgerError):
    """A malformed command §12 has no narrower code for (an extension: a bad id, a bad enum)."""

    code = "invalid_request"


class UnknownScheme(LedgerError):
    """The scheme id names nothing the caller may see."""

    code = "unknown_scheme"


class UnknownParty(LedgerError):
    """The party id names nothing the caller may see."""

    code = "unknown_party"


class UnknownLoan(LedgerError):
    """The loan names nothing the caller may see."""

    code = "unknown_loan"


class UnknownClaim(LedgerError):
    """The claim names nothing the caller may see."""

    code = "unknown_claim"


class UnknownFact(LedgerError):
    """The fact id names nothing the caller may see."""

    code = "unknown_fact"


class NotAMember(LedgerError):
    """A party that is not a member of the scheme in that role."""

    code = "not_a_member"


class DuplicateLoan(LedgerError):
    """A loan id already enrolled by the same bank."""

    code = "duplicate_loan"


class AlreadyExists(LedgerError):
    """A scheme or party id that is already taken (an extension: §12 names only loans)."""

    code = "already_exists"


class IneligibleLoan(LedgerError):
    """A loan outside the rule version's eligibility."""

    code = "ineligible_loan"


class NoRulesInForce(LedgerError):
    """An enrolment dated before the first rule version."""

    code = "no_rules_in_force"


class LeverageExceeded(LedgerError):
    """Exposure would exceed the leverage limit."""

    code = "leverage_exceeded"


class CircuitBreakerOpen(LedgerError):
    """A tripped circuit breaker blocks this act."""

    code = "circuit_breaker_open"


class InvalidTransition(LedgerError):
    """The loan or claim is in a state that forbids it."""

    code = "invalid_transition"


class DisbursementMismatch(LedgerError):
    """A disbursement unequal to the principal."""

    code = "disbursement_mismatch"


class NotYetDefaulted(LedgerError):
    """Fewer days overdue than the rule version needs."""

    code = "not_yet_defaulted"


class WrongCover(LedgerError):
    """A premium or fee on a loan not covered by that party."""

    code = "wrong_cover"


class Overpayment(LedgerError):
    """A payment above what is outstanding or owed."""

    code = "overpayment"


class ClaimExceedsOutstanding(LedgerError):
    """A claim above the outstanding principal at default."""

    code = "claim_exceeds_outstanding"


class ClaimWindowClosed(LedgerError):
    """A claim filed too long after the default."""

    code = "claim_window_closed"


class ClaimAlreadyOpen(LedgerError):
    """The loan already has an open or approved claim."""

    code = "claim_already_open"


class ApprovalExceedsClaim(LedgerError):
    """An approved amount above the claim."""

    code = "approval_exceeds_claim"


class SameChecker(LedgerError):
    """The second approval by the principal of the first."""

    code = "same_checker"


class ReasonRequired(LedgerError):
    """A rejection, reset or reversal without a reason."""

    code = "reason_required"


class FundInsufficient(LedgerError):
    """A government payment above its fund balance."""

    code = "fund_insufficient"


class RecoveryCostsExceedCap(LedgerError):
    """Recovery costs above the rule version's share of the gross."""

    code = "recovery_costs_exceed_cap"


class RecoveryExceedsLoss(LedgerError):
    """Net recoveries above the approved loss."""

    code = "recovery_exceeds_loss"


class AlreadyReversed(LedgerError):
    """A fact that has already been reversed."""

    code = "already_reversed"


class Irreversible(LedgerError):
    """A reversal that a later fact or a balance forbids."""

    code = "irreversible"


class VersionConflict(LedgerError):
    """The expected version is no longer the current one."""

    code = "version_conflict"


class IdempotencyConflict(LedgerError):
    """An idempotency key reused with a different request."""

    code = "idempotency_conflict"


class Unauthenticated(LedgerError):
    """A missing, unknown, malformed or revoked API key (401): the refusal never says which."""

    code = "unauthenticated"

    def __init__(self) -> None:
        super().__init__("a valid API key is required (Authorization: Bearer rpk_…)")


class Forbidden(LedgerError):
    """The caller's role may never do this."""

    code = "forbidden"


class RulesInvalid(LedgerError):
    """A rule version that fails §3's checks; `problems` lists every one of them."""

    code = "rules_invalid"

    def __init__(self, problems: list[str]) -> None:
        assert problems, "a refused rule version names at least one problem"
        super().__init__(
            f"the rule version has {len(problems)} problem(s): " + "; ".join(problems),
            problems=problems,
        )
        self.problems = problems


ROW_ERRORS_SHOWN_MAX = 1_000


class LoanTapeRefused(LedgerError):
    """A loan tape with refused rows: nothing was enrolled. `code` is the first row's code;
    `figures["rows"]` lists every refused row (1-based, as in the file) with its own."""

    def __init__(self, rows: list[dict[str, Any]], total: int) -> None:
        self.code = rows[0]["code"]  # type: ignore[misc]
        super().__init__(
            f"{total} of the tape's rows were refused, so none was enrolled; first, row {rows[0]['row']}: "
            f"{rows[0]['message']}",
            rows=rows[:ROW_ERRORS_SHOWN_MAX],
            refused_rows=total,
        )
