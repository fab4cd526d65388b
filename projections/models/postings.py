"""Double-entry postings: which accounts each money-moving fact debits and credits (the rules of
the journal model, projections/models/journal.py, as pure functions).

Amounts are signed fen: a debit is positive, a credit negative; every entry sums to zero. Each
party keeps its own accounts in the scheme: `cash` (a government party's is its fund),
`contributions`, `loss_borne`, `loan_loss` (the bank's approved loss), `receivable` and `payable`
(per counterparty and claim: what others owe it, what it owes others), `recoveries`, `premiums`
and `fees`.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Line(NamedTuple):
    party_id: str
    kind: str
    counterparty_id: str
    claim_id: str
    amount_fen: int


def contribution(party: str, amount: int) -> list[Line]:
    return [Line(party, "cash", "", "", amount), Line(party, "contributions", "", "", -amount)]


def cover_income(party: str, kind: str, amount: int) -> list[Line]:
    income = "premiums" if kind == "premium" else "fees"
    return [Line(party, "cash", "", "", amount), Line(party, income, "", "", -amount)]


def allocation(claim: str, bank: str, approved: int, allocations: dict[str, int]) -> list[Line]:
    """The bank's approved loss, shared: the bank bears its part and is owed the others'."""
    lines = [
        Line(bank, "loan_loss", "", claim, -approved),
        Line(bank, "loss_borne", "", claim, allocations[bank]),
    ]
    for party, fen in allocations.items():
        if party != bank:
            lines += [
                Line(bank, "receivable", party, claim, fen),
                Line(party, "loss_borne", "", claim, fen),
                Line(party, "payable", bank, claim, -fen),
            ]
    return lines


def payment(claim: str, payer: str, payee: str, amount: int) -> list[Line]:
    """`payer` settles `amount` of what it owes `payee` on the claim (either direction)."""
    return [
        Line(payer, "payable", payee, claim, amount),
        Line(payer, "cash", "", "", -amount),
        Line(payee, "cash", "", "", amount),
        Line(payee, "receivable", payer, claim, -amount),
    ]


def recovery(claim: str, bank: str, net: int, parts: dict[str, int]) -> list[Line]:
    """The bank's net recovery: it keeps its own part and owes every other party theirs."""
    lines = [Line(bank, "cash", "", "", net), Line(bank, "recoveries", "", claim, -parts.get(bank, 0))]
    for party, fen in parts.items():
        if party != bank:
            lines += [
                Line(bank, "payable", party, claim, -fen),
                Line(party, "receivable", bank, claim, fen),
                Line(party, "recoveries", "", claim, -fen),
            ]
    return lines


def for_fact(fact: dict[str, Any]) -> list[Line]:
    """The posting of a reversible fact, rebuilt from its row (a reversal posts its negation)."""
    kind, party, other, claim, amount = (
        fact[k] for k in ("kind", "party_id", "counterparty_id", "claim_id", "amount_fen")
    )
    if kind == "contribution":
        return contribution(party, amount)
    if kind in ("premium", "fee"):
        return cover_income(party, kind, amount)
    if kind in ("payment", "recovery-payment"):
        return payment(claim, party, other, amount)
    if kind == "recovery":
        return recovery(claim, party, amount, fact["details"]["parts"])
    return []  # repayments move no pool money
