"""What a scheme can say about itself: members, rules in force, funds, caps and breakers."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.domain import figures
from ledger.errors import CircuitBreakerOpen, NoRulesInForce, NotAMember
from ledger.money import ratio_percent
from ledger.rules import CapUsage, RuleVersion, rule_in_force
from ledger.rules.breakers import breaker_key


class SchemeView:
    """Read-only questions about a scheme's state, used by its commands and the service."""

    scheme_id: str
    founded_on: str  # ISO date: the business date of its creation
    members: dict[str, dict[str, str]]
    rule_effective: list[str]
    rule_documents: list[str]
    contributed: dict[str, int]
    fund_paid: dict[str, int]
    fund_recovered: dict[str, int]
    exposure_fen: int
    cover_income: dict[str, dict[str, Any]]
    allocated: dict[str, Any]
    allocated_by_bank: dict[str, Any]
    breakers: dict[str, dict[str, Any]]

    def role_of(self, party_id: str) -> str | None:
        member = self.members.get(party_id)
        return None if member is None else member["role"]

    def require_member(self, party_id: str, role: str, *, as_what: str) -> None:
        actual = self.role_of(party_id)
        if actual != role:
            detail = "is not a member" if actual is None else f"is a {actual}, not a {role}"
            raise NotAMember(
                f"{as_what} {party_id!r} {detail} of scheme {self.scheme_id!r}",
                party_id=party_id,
                role=role,
            )

    def government_parties(self) -> list[str]:
        return [p for p, m in self.members.items() if m["role"] == "government"]

    def rules(self, number: int) -> RuleVersion:
        return figures.parse_rules(self.rule_documents[number - 1])

    def rule_number_on(self, day: date) -> int | None:
        return rule_in_force(self.rule_effective, day.isoformat())

    def rule_number_for_enrolment(self, day: date) -> int:
        number = self.rule_number_on(day)
        if number is None:
            first = self.rule_effective[0] if self.rule_effective else "none published"
            raise NoRulesInForce(
                f"no rule version of scheme {self.scheme_id!r} is in force on {day} "
                f"(first effective: {first})",
                business_date=day.isoformat(),
            )
        return number

    def fund_balance(self, party_id: str) -> int:
        return (
            self.contributed.get(party_id, 0)
            - self.fund_paid.get(party_id, 0)
            + self.fund_recovered.get(party_id, 0)
        )

    def paid_in(self) -> int:
        """Cumulative contributions of all government parties (for leverage and drawdown)."""
        return sum(self.contributed.get(p, 0) for p in self.government_parties())

    def cap_usage(self, bank_id: str, year: int) -> CapUsage:
        y = str(year)
        return CapUsage(
            year_allocations={p: by_year.get(y, 0) for p, by_year in self.allocated.items()},
            bank_year_allocations={
                p: figures.get(by_bank, bank_id, y) for p, by_bank in self.allocated_by_bank.items()
            },
            year_premiums={p: v.get(y, 0) for p, v in self.cover_income["premium"].items()},
            year_fees={p: v.get(y, 0) for p, v in self.cover_income["fee"].items()},
        )

    def breaker_is_open(self, kind: str, party_id: str) -> bool:
        return bool(self.breakers.get(breaker_key(kind, party_id), {}).get("tripped"))

    def refuse_if_open(self, kind: str, party_id: str, *, what: str) -> None:
        if not self.breaker_is_open(kind, party_id):
            return
        state = self.breakers[breaker_key(kind, party_id)]
        figure = ratio_percent(state["figure_fen"], state["base_fen"]) or "no base"
        raise CircuitBreakerOpen(
            f"the {kind} breaker of {party_id!r} is open since {state['tripped_on']} "
            f"({figure}% against {state['threshold_bp']} bp), so it blocks {what}",
            breaker=breaker_key(kind, party_id),
            figure_percent=figure,
            threshold_bp=state["threshold_bp"],
        )

    def leverage_room(self, rules: RuleVersion) -> tuple[int, int]:
        """(limit, exposure) in fen: exposure may reach but not exceed the limit."""
        return rules.leverage_multiple * self.paid_in(), self.exposure_fen
