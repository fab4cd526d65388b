"""Bodies for loans and their facts."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Amount, Body, Day, Instant, Name, OptionalReason, Ref, Uscc, Yuan, YuanOrZero
from ledger.domain.loan import OVERDUE_DAYS_MAX, RATE_BP_MAX, TAGS_MAX, TERM_MONTHS_MAX


class LoanCreate(Body):
    loan_ref: Ref = Field(examples=["HB2019-0001"])
    borrower_name: Name = Field(examples=["鹤壁星河电子科技有限公司"])
    borrower_uscc: Uscc
    product: Ref = Field(examples=["tech_loan"])
    tags: list[Ref] = Field(default=[], max_length=TAGS_MAX, examples=[["ip_pledge"]])
    principal: Yuan
    rate_bp: int = Field(strict=True, ge=1, le=RATE_BP_MAX, examples=[435])
    term_months: int = Field(strict=True, ge=1, le=TERM_MONTHS_MAX, examples=[24])
    cover: str = Field(default="direct", examples=["guaranteed"], description="direct, guaranteed or insured")
    cover_party_id: Ref | None = Field(default=None, examples=["hebi-tech-guarantee"])
    enrolled_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "loan_ref": "HB2019-0001",
                    "borrower_name": "鹤壁星河电子科技有限公司",
                    "borrower_uscc": "91350100M000100Y43",
                    "product": "tech_loan",
                    "tags": ["ip_pledge"],
                    "principal": "2000000.00",
                    "rate_bp": 435,
                    "term_months": 24,
                    "cover": "guaranteed",
                    "cover_party_id": "hebi-tech-guarantee",
                    "enrolled_on": "2019-02-01",
                }
            ]
        }
    )


class LoanPublic(BaseModel):
    scheme_id: str
    bank_id: str
    loan_ref: str
    borrower_name: str | None = Field(
        description="the borrower; null for a key that may not see borrowers (a government party)"
    )
    borrower_uscc: str | None = Field(
        description="the borrower's USCC; null for a key that may not see borrowers (a government party)"
    )
    product: str
    tags: list[str]
    principal: Amount
    rate_bp: int
    term_months: int
    cover: str
    cover_party_id: str | None
    rule_version: int
    state: str
    enrolled_on: date
    disbursed_on: date | None
    defaulted_on: date | None
    principal_repaid: Amount
    interest_repaid: Amount
    outstanding: Amount
    outstanding_at_default: Amount | None
    current_claim_id: str | None
    version: int
    links: dict[str, str]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scheme_id": "hebi",
                    "bank_id": "bank-a",
                    "loan_ref": "L1",
                    "borrower_name": "鹤壁星河电子科技有限公司",
                    "borrower_uscc": "91350100M000100Y43",
                    "product": "tech_loan",
                    "tags": [],
                    "principal": "2000000.00",
                    "rate_bp": 450,
                    "term_months": 24,
                    "cover": "guaranteed",
                    "cover_party_id": "guar-a",
                    "rule_version": 1,
                    "state": "defaulted",
                    "enrolled_on": "2019-02-01",
                    "disbursed_on": "2019-02-02",
                    "defaulted_on": "2019-09-01",
                    "principal_repaid": "765432.11",
                    "interest_repaid": "0.00",
                    "outstanding": "1234567.89",
                    "outstanding_at_default": "1234567.89",
                    "current_claim_id": "bank-a:L1:claim:1",
                    "version": 6,
                    "links": {"self": "/v1/schemes/hebi/banks/bank-a/loans/L1"},
                }
            ]
        }
    )


class DisbursementCreate(Body):
    amount: Yuan
    disbursed_on: Day
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount": "2000000.00", "disbursed_on": "2019-02-03"}]}
    )


class RepaymentCreate(Body):
    principal: YuanOrZero
    interest: YuanOrZero
    repaid_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"principal": "100000.00", "interest": "7250.00", "repaid_on": "2019-05-03"}]
        }
    )


class DefaultCreate(Body):
    overdue_days: int = Field(strict=True, ge=0, le=OVERDUE_DAYS_MAX, examples=[92])
    defaulted_on: Day
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"overdue_days": 92, "defaulted_on": "2019-09-01"}]}
    )


class WithdrawalCreate(Body):
    reason: OptionalReason = ""
    withdrawn_on: Day


class WriteOffCreate(Body):
    written_off_on: Day
    model_config = ConfigDict(json_schema_extra={"examples": [{"written_off_on": "2020-03-31"}]})


class CoverIncomeCreate(Body):
    """A premium (by the loan's insurer) or guarantee fee (by its guarantor); a fund manager names
    the party."""

    amount: Yuan
    paid_on: Day
    party_id: Ref | None = None
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount": "50000.00", "paid_on": "2019-02-03"}]}
    )


class FactPublic(BaseModel):
    fact_id: str
    kind: str
    party_id: str
    counterparty_id: str
    claim_id: str
    amount: Amount
    business_date: date
    position: int
    reversed: bool
    reversed_on: date | None
    reason: str | None
    details: dict

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fact_id": "bank-a:L1:repayment:1",
                    "kind": "repayment",
                    "party_id": "bank-a",
                    "counterparty_id": "",
                    "claim_id": "",
                    "amount": "765432.11",
                    "business_date": "2019-05-02",
                    "position": 18,
                    "reversed": False,
                    "reversed_on": None,
                    "reason": None,
                    "details": {},
                }
            ]
        }
    )


class HistoryEntryPublic(BaseModel):
    version: int
    fact: str
    business_date: date
    recorded_at: Instant
    principal_id: str
    role: str
    party_id: str | None
    request_id: str
    data: dict
    figures: dict = Field(description="the loan's or claim's figures right after this fact")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 3,
                    "fact": "Repaid",
                    "business_date": "2019-05-02",
                    "recorded_at": "2019-05-02T09:13:44.123456+00:00",
                    "principal_id": "k-3f2a9c1b7d04",
                    "role": "bank",
                    "party_id": "bank-a",
                    "request_id": "9b1d…",
                    "data": {
                        "fact_id": "bank-a:L1:repayment:1",
                        "principal_fen": 76543211,
                        "interest_fen": 0,
                    },
                }
            ]
        }
    )
