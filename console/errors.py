"""The rule book's refusals, as the console says them: one sentence per error code (docs/rules.md,
"Error codes"), translated, followed by the ledger's own sentence, which names the offending value
and its figures. A code without a sentence here is shown by its ledger sentence alone."""

from __future__ import annotations

from console.i18n import N_, _
from ledger.text import REASON_CHARS_MAX

SENTENCES: dict[str, str] = {
    "invalid_amount": N_("The amount is not a valid yuan amount (at most two decimals)."),
    "invalid_date": N_("The date is malformed, in the future or out of order."),
    "invalid_uscc": N_("The unified social credit code fails its check (GB 32100-2015)."),
    "invalid_request": N_("The request is malformed."),
    "unknown_scheme": N_("No scheme by this id that you may see."),
    "unknown_party": N_("No party by this id that you may see."),
    "unknown_loan": N_("No loan by this reference that you may see."),
    "unknown_claim": N_("No claim by this id that you may see."),
    "unknown_fact": N_("No fact by this id that you may see."),
    "not_a_member": N_("The party is not a member of the scheme in that role."),
    "duplicate_loan": N_("This bank has already enrolled a loan with this reference."),
    "already_exists": N_("This id is already taken."),
    "ineligible_loan": N_("The loan is outside the rule version's eligibility."),
    "no_rules_in_force": N_("No rule version was in force on that date."),
    "leverage_exceeded": N_("The pool's exposure would exceed its leverage limit."),
    "circuit_breaker_open": N_("A tripped circuit breaker blocks this act."),
    "invalid_transition": N_("The loan or claim is in a state that forbids this."),
    "disbursement_mismatch": N_("The disbursement differs from the principal."),
    "not_yet_defaulted": N_("The loan is not yet overdue long enough to default."),
    "wrong_cover": N_("That party does not cover this loan."),
    "overpayment": N_("The payment is above what is outstanding or owed."),
    "claim_exceeds_outstanding": N_("The claim is above the principal outstanding at default."),
    "claim_window_closed": N_("The claim is filed too long after the default."),
    "claim_already_open": N_("The loan already has an open or approved claim."),
    "approval_exceeds_claim": N_("The approved amount is above the amount claimed."),
    "same_checker": N_("The second approval must be given by another principal than the first."),
    "reason_required": N_("A written reason is required, of at most %(reason_max)s characters."),
    "fund_insufficient": N_("The government fund's balance does not cover this payment."),
    "recovery_costs_exceed_cap": N_("The recovery costs are above the share of the gross the rules allow."),
    "recovery_exceeds_loss": N_("The net recoveries would be above the approved loss."),
    "already_reversed": N_("This fact has already been reversed."),
    "irreversible": N_("A later fact or a balance forbids this reversal."),
    "version_conflict": N_("Someone changed this since you opened the page: reload it and try again."),
    "idempotency_conflict": N_("This form was already submitted with other values: reload it."),
    "unauthenticated": N_("Your key is not valid any more: sign in again."),
    "forbidden": N_("Your role may not do this."),
    "rules_invalid": N_("The rule version fails the rule book's checks."),
    "payload_too_large": N_("The file is too large."),
    "projections_behind": N_("The reports are catching up with the ledger: try again in a moment."),
    "seal_refused": N_("The signer refused to sign this tree head."),
    "not_found": N_("There is no such page."),
    "internal_error": N_("An unexpected error; it has been logged."),
}


LIMITS = {"reason_max": f"{REASON_CHARS_MAX:,}"}  # the limits a sentence names, from where they are defined


def sentence(code: str) -> str | None:
    """The rule book's sentence for a code, in the user's language (None for a code it has none for)."""
    found = SENTENCES.get(code)
    if found is None:
        return None
    return _(found) % LIMITS if "%(" in found else _(found)


def explain(code: str, detail: str) -> str:
    said = sentence(code)
    if said is None:
        return detail
    return f"{said} ({detail})" if detail else said
