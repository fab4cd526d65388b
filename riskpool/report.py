"""What a fund manager wants to see first, read from the ledger's aggregates.

Fund balances, breaker states and the pool's figures come from the scheme; what each party owes
comes from the claims named. (The projections issue replaces this with read models that need no
list of claims.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from ledger.actors import Actor, Role
from ledger.domain import Claim
from ledger.money import format_fen, ratio_percent
from ledger.service import Ledger

AUDITOR = Actor("report", Role.REGULATOR)


@dataclass
class PoolReport:
    scheme_id: str
    name: str
    funds: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    owed: dict[tuple[str, str], int] = field(default_factory=dict)
    disbursed_fen: int = 0
    approved_fen: int = 0
    net_recovered_fen: int = 0
    exposure_fen: int = 0
    limit_fen: int = 0
    breakers: list[tuple[str, str, str]] = field(default_factory=list)
    claims_by_status: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, app: Ledger, scheme_id: str, claim_ids: Iterable[str]) -> PoolReport:
        scheme = app.scheme(scheme_id)
        report = cls(scheme_id, scheme.name)
        for party in scheme.government_parties():
            report.funds.append(
                (
                    party,
                    scheme.contributed.get(party, 0),
                    scheme.fund_paid.get(party, 0),
                    scheme.fund_recovered.get(party, 0),
                    scheme.fund_balance(party),
                )
            )
        report.disbursed_fen = sum(scheme.bank_disbursed.values())
        report.exposure_fen = scheme.exposure_fen
        latest = scheme.rules(len(scheme.rule_documents))
        report.limit_fen = latest.leverage_multiple * scheme.paid_in()
        for key, state in sorted(scheme.breakers.items()):
            figure = ratio_percent(state["figure_fen"], state["base_fen"]) or "-"
            status = "TRIPPED" if state["tripped"] else "clear (reset)"
            report.breakers.append(
                (key, status, f"{figure}% vs {state['threshold_bp']} bp on {state['tripped_on']}")
            )
        owed: dict[tuple[str, str], int] = defaultdict(int)
        statuses: dict[str, int] = defaultdict(int)
        for claim_id in claim_ids:
            claim: Claim = app.claim(AUDITOR, scheme_id, claim_id)
            statuses[claim.status] += 1
            if claim.approved_fen is None:
                continue
            report.approved_fen += claim.approved_fen
            report.net_recovered_fen += sum(claim.recovered.values())
            for party in claim.party_order():
                owed[(party, claim.bank_id)] += claim.owed_to_bank(party)
                owed[(claim.bank_id, party)] += claim.owed_by_bank(party)
        report.owed = {pair: fen for pair, fen in owed.items() if fen}
        report.claims_by_status = dict(statuses)
        return report

    def render(self, console: Console) -> None:
        console.print(f"[bold]{self.name}[/bold] ({self.scheme_id})")
        console.print(
            f"Exposure {format_fen(self.exposure_fen)} of a leverage limit {format_fen(self.limit_fen)}; "
            f"claims: {', '.join(f'{n} {s}' for s, n in sorted(self.claims_by_status.items()))}"
        )
        funds = Table(
            "fund",
            "contributed",
            "paid out",
            "recoveries in",
            "balance",
            "drawdown",
            title="Fund balances (yuan)",
        )
        for party, contributed, paid, recovered, balance in self.funds:
            funds.add_row(
                party,
                format_fen(contributed),
                format_fen(paid),
                format_fen(recovered),
                format_fen(balance),
                f"{ratio_percent(paid, contributed) or '-'}%",
            )
        console.print(funds)
        owed = Table(
            "who owes", "whom", "gross", "net of the reverse debt", title="What each party owes (yuan)"
        )
        for (debtor, creditor), fen in sorted(self.owed.items()):
            net = fen - self.owed.get((creditor, debtor), 0)
            owed.add_row(debtor, creditor, format_fen(fen), format_fen(max(net, 0)))
        console.print(owed)
        ratios = Table("figure", "value", title="Loss ratios")
        ratios.add_row(
            "scheme gross (approved / disbursed)",
            f"{ratio_percent(self.approved_fen, self.disbursed_fen) or '-'}%",
        )
        net = self.approved_fen - self.net_recovered_fen
        ratios.add_row(
            "scheme net (approved − net recoveries)", f"{ratio_percent(net, self.disbursed_fen) or '-'}%"
        )
        console.print(ratios)
        breakers = Table("breaker", "state", "figure at trip", title="Circuit breakers")
        for row in self.breakers or [("none has tripped", "", "")]:
            breakers.add_row(*row)
        console.print(breakers)
