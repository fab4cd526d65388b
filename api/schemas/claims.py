"""Bodies for claims, reviews, settlement payments and recoveries."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Amount, Body, Day, Reason, Ref, Yuan, YuanOrZero


class ClaimCreate(Body):
    claimed: Yuan
    filed_on: Day
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"claimed": "1234567.89", "filed_on": "2019-09-10"}]}
    )


class ApprovalCreate(Body):
    """A fund manager's approval. At or above the rule version's second-approval threshold, the
    first approval awaits a second, different checker, who confirms the same amount."""

    amount: Yuan
    approved_on: Day
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount": "1234567.89", "approved_on": "2019-10-01"}]}
    )


class RejectionCreate(Body):
    reason: Reason
    rejected_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "collateral disposal papers incomplete", "rejected_on": "2019-10-01"}]
        }
    )


class PaymentCreate(Body):
    """A settlement payment of a party's share to the bank (a government share: that party's
    principal or a fund manager)."""

    party_id: Ref
    amount: Yuan
    paid_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"party_id": "hebi-finance", "amount": "123456.79", "paid_on": "2019-11-01"}]
        }
    )


class RecoveryCreate(Body):
    gross: Yuan
    costs: YuanOrZero
    recovered_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"gross": "300000.00", "costs": "12345.68", "recovered_on": "2020-01-15"}]
        }
    )


class RecoveryPaymentCreate(Body):
    party_id: Ref
    amount: Yuan
    paid_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"party_id": "hebi-finance", "amount": "28765.43", "paid_on": "2020-02-01"}]
        }
    )


class ClaimPartyPublic(BaseModel):
    party_id: str
    key: str = Field(description="the share's key in the rule version: bank, guarantor, a fund's party id …")
    bp: int = Field(description="the share in basis points")
    allocated: Amount
    paid: Amount
    owed_to_bank: Amount
    recovered: Amount
    owed_by_bank: Amount

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "party_id": "guar-a",
                    "key": "guarantor",
                    "bp": 4000,
                    "allocated": "493827.15",
                    "paid": "0.00",
                    "owed_to_bank": "493827.15",
                    "recovered": "0.00",
                    "owed_by_bank": "0.00",
                }
            ]
        }
    )


class FirstApprovalPublic(BaseModel):
    """The first checker's approval of a claim at or above the second-approval threshold."""

    principal_id: str
    amount: Amount
    approved_on: date


class ClaimPublic(BaseModel):
    scheme_id: str
    claim_id: str
    bank_id: str
    loan_ref: str
    status: str
    claimed: Amount
    approved: Amount | None
    filed_on: date
    approved_on: date | None
    first_approval: FirstApprovalPublic | None
    rule_version: int | None
    reason: str | None
    parties: list[ClaimPartyPublic]
    recovered_net: Amount
    version: int
    links: dict[str, str]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scheme_id": "hebi",
                    "claim_id": "bank-a:L1:claim:1",
                    "bank_id": "bank-a",
                    "loan_ref": "L1",
                    "status": "approved",
                    "claimed": "1234567.89",
                    "approved": "1234567.89",
                    "filed_on": "2019-09-10",
                    "approved_on": "2019-10-02",
                    "first_approval": {
                        "principal_id": "fm-alice",
                        "amount": "1234567.89",
                        "approved_on": "2019-10-01",
                    },
                    "rule_version": 1,
                    "reason": None,
                    "parties": [],
                    "recovered_net": "0.00",
                    "version": 3,
                    "links": {"self": "/v1/schemes/hebi/claims/bank-a:L1:claim:1"},
                }
            ]
        }
    )


class ClaimListed(BaseModel):
    claim_id: str
    bank_id: str
    loan_ref: str
    status: str
    claimed: Amount
    approved: Amount | None
    filed_on: date
    age_days: int
    links: dict[str, str]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "claim_id": "bank-a:L1:claim:1",
                    "bank_id": "bank-a",
                    "loan_ref": "L1",
                    "status": "filed",
                    "claimed": "1234567.89",
                    "approved": None,
                    "filed_on": "2019-09-10",
                    "age_days": 21,
                    "links": {"self": "/v1/schemes/hebi/claims/bank-a:L1:claim:1"},
                }
            ]
        }
    )
