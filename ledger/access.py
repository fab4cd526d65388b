"""What each principal may see (docs/rules.md §2), decided in one place.

The service asks it before handing out a loan or a claim; the projections' queries turn its scopes
into SQL; the API asks it which reports a key may read and which rows of them. It reads no store:
it is plain data about roles and parties, so that every reader applies the same rule.

- A fund manager and a regulator see everything.
- A bank sees its own loans, its own claims and its own rows of the reports.
- A guarantor or an insurer sees the loans it covers and the claims it shares in (once allocated).
- A government party sees every loan's figures, without the borrower, and the claims it shares in.
- Nobody but the fund manager, the regulator and a government party sees a scheme-wide figure
  (exposure, contributions paid in), from which other banks' loans could be read.
- A loan or claim a principal may not see is answered as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.actors import Actor, Role, require_role

OVERSEERS = (Role.FUND_MANAGER, Role.REGULATOR)
SCHEME_FIGURE_READERS = (*OVERSEERS, Role.GOVERNMENT)
BORROWER_READERS = (*OVERSEERS, Role.BANK, Role.GUARANTOR, Role.INSURER)
COVER_PARTIES = (Role.GUARANTOR, Role.INSURER)
CLAIM_SHARERS = (Role.GUARANTOR, Role.INSURER, Role.GOVERNMENT)
AUDITORS = OVERSEERS


@dataclass(frozen=True)
class LoanScope:
    """The loans a principal may see, as data a query can turn into a filter: all of them, one
    bank's, or those one guarantor or insurer covers."""

    bank_id: str | None = None
    cover_party_id: str | None = None

    @property
    def everything(self) -> bool:
        return self.bank_id is None and self.cover_party_id is None

    def admits(self, bank_id: str, cover_party_id: str | None) -> bool:
        if self.bank_id is not None and bank_id != self.bank_id:
            return False
        return self.cover_party_id is None or cover_party_id == self.cover_party_id


@dataclass(frozen=True)
class ClaimScope:
    """The claims a principal may see: all of them, one bank's, or those a party shares in."""

    bank_id: str | None = None
    sharing_party_id: str | None = None

    def admits(self, bank_id: str, sharers: Iterable[str]) -> bool:
        if self.bank_id is not None:
            return bank_id == self.bank_id
        return self.sharing_party_id is None or self.sharing_party_id in sharers


def loans(actor: Actor) -> LoanScope:
    if actor.role is Role.BANK:
        return LoanScope(bank_id=actor.party_id)
    if actor.role in COVER_PARTIES:
        return LoanScope(cover_party_id=actor.party_id)
    return LoanScope()


def claims(actor: Actor) -> ClaimScope:
    """A bank sees its own claims; a guarantor, insurer or fund those allocated a share to it."""
    if actor.role is Role.BANK:
        return ClaimScope(bank_id=actor.party_id)
    if actor.role in CLAIM_SHARERS:
        return ClaimScope(sharing_party_id=actor.party_id)
    return ClaimScope()


def may_see_bank(actor: Actor, bank_id: str) -> bool:
    """Whether anything of this bank may be shown (a bank sees no other bank at all)."""
    return actor.role is not Role.BANK or actor.party_id == bank_id


def sees_scheme_figures(actor: Actor) -> bool:
    """Whether the actor may see a scheme's pool-wide figures (exposure, paid in)."""
    return actor.role in SCHEME_FIGURE_READERS


def sees_borrowers(actor: Actor) -> bool:
    """Whether the actor may see the borrower (name, USCC) of a loan it may see at all."""
    return actor.role in BORROWER_READERS


def require_auditor(actor: Actor) -> None:
    require_role(actor, *AUDITORS, action="read the audit trail")


# The reports of rule book §9: who may read each, and whether a party reads only its own rows.
REPORT_READERS: dict[str, tuple[Role, ...]] = {
    "balances": tuple(Role),
    "owed": tuple(Role),
    "loss-ratios": tuple(Role),
    "breakers": tuple(Role),
    "exposure": SCHEME_FIGURE_READERS,
    "funds": SCHEME_FIGURE_READERS,
    "targets": SCHEME_FIGURE_READERS,
    "claims-queue": OVERSEERS,
    "loan-book": (*OVERSEERS, Role.BANK),
}
REPORT_ACTIONS = {
    "exposure": "read the scheme's exposure",
    "funds": "read fund balances",
    "targets": "read the programme's targets",
    "claims-queue": "read the whole claims queue (list /claims for your own)",
    "loan-book": "read the loan book",
}


def report_rows(actor: Actor, report: str) -> str | None:
    """Refuse (`forbidden`) a report the actor's role may never read; otherwise the party whose
    rows alone it may see (None: every row)."""
    require_role(
        actor, *REPORT_READERS[report], action=REPORT_ACTIONS.get(report, f"read the {report} report")
    )
    return None if actor.role in OVERSEERS else actor.party_id
