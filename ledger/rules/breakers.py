"""Circuit breakers (rule book §8): which figure each watches and when it counts as over."""

from __future__ import annotations

from ledger.rules.document import BP_FULL, RuleVersion

BANK_LOSS_RATE = "bank_loss_rate"
INSURER_LOSS_RATIO = "insurer_loss_ratio"
FUND_DRAWDOWN = "fund_drawdown"
KINDS = (BANK_LOSS_RATE, INSURER_LOSS_RATIO, FUND_DRAWDOWN)


def threshold_bp(rules: RuleVersion, kind: str) -> int | None:
    return getattr(rules.circuit_breakers, f"{kind}_max_bp")


def is_over(kind: str, figure_fen: int, base_fen: int, max_bp: int) -> bool:
    """Exact integer comparison (figure / base against max_bp, as figure x 10000 against max_bp x base).

    The bank loss rate is over when strictly greater than its maximum; the insurer loss ratio
    and the fund drawdown when they reach it. A figure over a zero base counts as over any
    threshold when it is positive, and as a ratio of zero otherwise (§8).
    """
    assert kind in KINDS, kind
    if base_fen == 0:
        if figure_fen > 0:
            return True
        scaled, limit = 0, max_bp
    else:
        scaled, limit = figure_fen * BP_FULL, max_bp * base_fen
    return scaled > limit if kind == BANK_LOSS_RATE else scaled >= limit


def breaker_key(kind: str, party_id: str) -> str:
    return f"{kind}:{party_id}"
