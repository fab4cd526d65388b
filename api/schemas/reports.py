"""Bodies of the reports (rule book §9) and of lists."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.claims import ClaimListed
from api.schemas.common import Amount, Percent
from api.schemas.loans import LoanPublic
from api.schemas.schemes import PartyPublic, SchemePublic


class ReportMeta(BaseModel):
    scheme_id: str = Field(examples=["hebi"])
    as_of_historical: bool = Field(
        examples=[False], description="true when asked as_of_date or as_of_position"
    )
    today: date = Field(examples=["2020-12-31"], description="the date ages and rules in force are taken on")


class PartyBalancesPublic(BaseModel):
    party_id: str = Field(examples=["guar-a"])
    role: str = Field(examples=["guarantor"])
    cash: Amount = Field(examples=["-493827.15"], description="net cash through the pool (a fund's balance)")
    contributions: Amount = Field(examples=["0.00"])
    owed_to_others: Amount = Field(examples=["0.00"])
    owed_by_others: Amount = Field(examples=["115061.73"])
    losses_borne: Amount = Field(examples=["493827.15"])
    recoveries: Amount = Field(examples=["115061.73"])
    premiums: Amount = Field(examples=["0.00"])
    fees: Amount = Field(examples=["0.00"])
    approved_losses: Amount = Field(examples=["0.00"], description="a bank's approved claims")


class BalancesReport(ReportMeta):
    parties: list[PartyBalancesPublic]
    trial_balance: Amount = Field(examples=["0.00"], description="always 0.00: checked when read")


class DebtPublic(BaseModel):
    debtor: str = Field(examples=["guar-a"])
    creditor: str = Field(examples=["bank-a"])
    amount: Amount = Field(examples=["493827.15"])
    claim_id: str = Field(default="", examples=["bank-a:L1:claim:1"])


class OwedReport(ReportMeta):
    per_claim: list[DebtPublic]
    totals: list[DebtPublic] = Field(description="per (debtor, creditor), over every claim")
    net: list[DebtPublic] = Field(description="per pair, what remains after the debts both ways")


class LossRatioPublic(BaseModel):
    subject: str = Field(examples=["hebi"])
    role: str = Field(examples=["scheme"])
    loss: Amount = Field(examples=["1234567.89"])
    recovered: Amount = Field(examples=["287654.32"])
    base: Amount = Field(examples=["2000000.00"], description="disbursed, premiums, fees or contributions")
    gross_percent: Percent | None = Field(examples=["61.73"])
    net_percent: Percent | None = Field(examples=["47.35"])


class LossRatiosReport(ReportMeta):
    ratios: list[LossRatioPublic]


class ExposureReport(ReportMeta):
    exposure: Amount = Field(examples=["99500000.00"])
    paid_in: Amount = Field(examples=["10000000.00"])
    leverage_multiple: int | None = Field(examples=[10])
    limit: Amount | None = Field(examples=["100000000.00"])
    headroom: Amount | None = Field(examples=["500000.00"])


class FundPublic(BaseModel):
    party_id: str = Field(examples=["city-fund"])
    contributions: Amount = Field(examples=["1500000.00"])
    payments: Amount = Field(examples=["600000.00"])
    recoveries_in: Amount = Field(examples=["0.00"])
    balance: Amount = Field(examples=["900000.00"])
    drawdown_percent: Percent | None = Field(examples=["40.00"])


class FundsReport(ReportMeta):
    funds: list[FundPublic]


class BreakerPublic(BaseModel):
    breaker: str = Field(examples=["bank_loss_rate:bank-b"])
    kind: str = Field(examples=["bank_loss_rate"])
    party_id: str = Field(examples=["bank-b"])
    tripped: bool
    figure: Amount = Field(examples=["1600000.00"])
    base: Amount = Field(examples=["50000000.00"])
    figure_percent: Percent | None = Field(examples=["3.20"])
    threshold_bp: int = Field(examples=[300])
    tripped_on: date = Field(examples=["2019-06-01"])
    trigger: str = Field(examples=["bank-b:L2:default"])
    reset_on: date | None = Field(examples=[None])
    reset_reason: str | None = Field(examples=[None])


class BreakersReport(ReportMeta):
    breakers: list[BreakerPublic]


class QueueStatusPublic(BaseModel):
    status: str = Field(examples=["awaiting_second_approval"])
    claims: int = Field(examples=[3])
    claimed: Amount = Field(examples=["3600000.00"])
    approved: Amount = Field(examples=["0.00"])
    oldest_age_days: int | None = Field(examples=[12])


class ClaimsQueueReport(ReportMeta):
    statuses: list[QueueStatusPublic]


class LoanBookGroup(BaseModel):
    bank_id: str = Field(examples=["bank-a"])
    state: str = Field(examples=["disbursed"])
    product: str = Field(examples=["tech_loan"])
    cover: str = Field(examples=["guaranteed"])
    loans: int = Field(examples=[42])
    principal: Amount = Field(examples=["84000000.00"])
    exposure: Amount = Field(examples=["61000000.00"])


class LoanBookReport(ReportMeta):
    groups: list[LoanBookGroup]


class TargetPublic(BaseModel):
    target_id: str = Field(examples=["lending-2020"])
    metric: str = Field(examples=["cumulative_lending"])
    goal: Amount | int = Field(examples=["1000000000.00"], description="yuan, or a count of firms")
    by: date = Field(examples=["2020-12-31"])
    reached_by_then: Amount | int = Field(examples=["1081700000.00"])
    reached_now: Amount | int = Field(examples=["1081700000.00"])
    percent: Percent | None = Field(examples=["108.17"])
    met: bool


class YearPublic(BaseModel):
    year: int = Field(examples=[2019])
    disbursed: Amount = Field(examples=["700400000.00"])
    loans: int = Field(examples=[120])
    firms_new: int = Field(examples=[110])
    contributed: Amount = Field(examples=["20000000.00"])


class TargetsReport(ReportMeta):
    targets: list[TargetPublic]
    years: list[YearPublic]


class FundMonthPublic(BaseModel):
    party_id: str = Field(examples=["city-fund"])
    month: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2019-06"], description="YYYY-MM")
    contributions: Amount = Field(examples=["500000.00"], description="paid in during the month")
    payments: Amount = Field(examples=["120000.00"], description="settlement payments from the fund")
    recoveries_in: Amount = Field(examples=["0.00"], description="recovery parts paid into the fund")
    balance: Amount = Field(examples=["1380000.00"], description="at the month's end")


class FundHistoryReport(ReportMeta):
    months: list[FundMonthPublic] = Field(
        description="by fund then month, every month from the scheme's first fund movement to today's"
    )


class BreakerFigurePublic(BaseModel):
    breaker: str = Field(examples=["fund_drawdown:city-fund"])
    kind: str = Field(examples=["fund_drawdown"])
    party_id: str = Field(examples=["city-fund"])
    figure: Amount = Field(examples=["600000.00"], description="the breaker's figure now (rule book §8)")
    base: Amount = Field(examples=["1500000.00"])
    figure_percent: Percent | None = Field(examples=["40.00"], description="null over a zero base")
    year: int | None = Field(examples=[None], description="an insurer's loss ratio: the year measured")
    rule_version: int | None = Field(examples=[2], description="the rule version in force today")
    threshold_bp: int | None = Field(examples=[5000], description="null: this breaker never trips")
    threshold_percent: Percent | None = Field(examples=["50.00"])
    over: bool = Field(description="the figure is over the threshold now")
    room: Amount | None = Field(
        examples=["149999.99"],
        description="how much the figure may still grow and stay clear; negative: over by that much; "
        "null with no threshold or over a zero base (any positive figure is over)",
    )
    room_percent: Percent | None = Field(
        examples=["10.00"], description="threshold minus figure, in percentage points"
    )
    tripped: bool
    tripped_on: date | None = Field(examples=[None])
    reset_on: date | None = Field(examples=[None])


class BreakerFiguresReport(ReportMeta):
    breakers: list[BreakerFigurePublic]


class SettlementPaymentPublic(BaseModel):
    fact_id: str = Field(examples=["bank-a:L1:claim:1:payment:1"])
    claim_id: str = Field(examples=["bank-a:L1:claim:1"])
    party_id: str = Field(examples=["city-fund"], description="who paid its share")
    bank_id: str = Field(examples=["bank-a"], description="the claim's bank, paid")
    amount: Amount = Field(examples=["123456.79"])
    paid_on: date = Field(examples=["2019-11-01"])
    reversed_on: date | None = Field(examples=[None])
    reason: str | None = Field(examples=[None], description="the reversal's reason")


class SettlementsReport(ReportMeta):
    payments: list[SettlementPaymentPublic] = Field(description="latest recorded first")
    next_cursor: str | None = Field(default=None, examples=["WzM3ODVd"])


class PartiesPublic(BaseModel):
    items: list[PartyPublic]
    next_cursor: str | None = Field(default=None, examples=["WyJiYW5rLWEiXQ"])


class SchemesPublic(BaseModel):
    items: list[SchemePublic]
    next_cursor: str | None = Field(default=None, examples=["WyJoZWJpIl0"])


class LoansPublic(BaseModel):
    items: list[LoanPublic]
    next_cursor: str | None = Field(default=None, examples=["WyJiYW5rLWEiLCJMMDAwMSJd"])


class ClaimsPublic(BaseModel):
    items: list[ClaimListed]
    next_cursor: str | None = Field(default=None, examples=["WyIyMDE5LTEwLTAxIiwiYmFuay1hOkwxOmNsYWltOjEiXQ"])

    model_config = ConfigDict(title="ClaimsPublic")
