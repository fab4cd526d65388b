"""Bodies for schemes, parties, members, rule versions, targets, contributions and breakers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Amount, Body, Day, Name, Reason, Ref, Strings, Yuan
from ledger.domain.loan import TAGS_MAX
from ledger.ids import ID_CHARS_MAX
from ledger.targets import TARGETS_MAX


class PartyCreate(Body):
    party_id: Ref
    role: str = Field(examples=["bank"], description="government, bank, guarantor or insurer")
    name: Name = Field(examples=["鹤壁市财政局"])
    registered_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"party_id": "icbc-hebi", "role": "bank", "name": "ICBC Hebi", "registered_on": "2018-09-30"}
            ]
        }
    )


class PartyPublic(BaseModel):
    party_id: str
    role: str
    name: str

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"party_id": "icbc-hebi", "role": "bank", "name": "ICBC Hebi"}]}
    )


class SchemeCreate(Body):
    scheme_id: Ref
    name: Name
    created_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"scheme_id": "hebi", "name": "鹤壁市科技贷款风险补偿资金池", "created_on": "2018-09-30"}
            ]
        }
    )


class SchemePublic(BaseModel):
    scheme_id: str
    name: str
    demo: bool
    created_on: date
    rule_versions: int
    exposure: Amount | None = Field(
        description="the scheme's exposure; null for a bank, guarantor or insurer key (its own figures only)"
    )
    paid_in: Amount | None = Field(
        description="contributions paid in; null for a bank, guarantor or insurer key (its own figures only)"
    )
    links: dict[str, str]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scheme_id": "hebi",
                    "name": "鹤壁市科技贷款风险补偿资金池",
                    "demo": False,
                    "created_on": "2018-09-30",
                    "rule_versions": 2,
                    "exposure": "471416665.64",
                    "paid_in": "80000000.00",
                    "links": {"self": "/v1/schemes/hebi"},
                }
            ]
        }
    )


class MemberCreate(Body):
    party_id: Ref
    admitted_on: Day
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"party_id": "icbc-hebi", "admitted_on": "2018-10-01"}]}
    )


class MemberPublic(BaseModel):
    party_id: str
    role: str
    name: str
    admitted_on: date

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "party_id": "hebi-finance",
                    "role": "government",
                    "name": "鹤壁市财政局",
                    "admitted_on": "2018-09-30",
                }
            ]
        }
    )


class RuleVersionCreate(Body):
    """A rule version document (docs/rules.md §3), as JSON; `published_on` is the business date."""

    document: Annotated[dict[str, Any], Strings]
    published_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "published_on": "2018-09-30",
                    "document": {
                        "effective_from": "2018-10-01",
                        "eligibility": {"principal_max": "30000000.00", "term_months_max": 36},
                        "default_after_overdue_days": 90,
                        "claim_window_days": 365,
                        "second_approval_from": "1000000.00",
                        "leverage_multiple": 10,
                        "recovery_costs_max_bp": 500,
                        "covers": {"direct": {"split": {"hebi-finance": 4000, "bank": "remainder"}}},
                        "circuit_breakers": {"bank_loss_rate_max_bp": 300},
                    },
                }
            ]
        }
    )


class RuleVersionPublic(BaseModel):
    number: int
    effective_from: date
    published_on: date
    document: dict[str, Any]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "number": 1,
                    "effective_from": "2018-10-01",
                    "published_on": "2018-09-30",
                    "document": {"effective_from": "2018-10-01", "leverage_multiple": 10},
                }
            ]
        }
    )


class TargetsUpdate(Body):
    targets: Annotated[list[dict[str, Any]], Field(max_length=TARGETS_MAX), Strings]
    set_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "set_on": "2018-09-30",
                    "targets": [
                        {
                            "target_id": "lending-2020",
                            "metric": "cumulative_lending",
                            "amount": "1000000000.00",
                            "by": "2020-12-31",
                        },
                        {
                            "target_id": "firms-2020",
                            "metric": "firms_served",
                            "count": 50,
                            "by": "2020-12-31",
                        },
                    ],
                }
            ]
        }
    )


class ContributionCreate(Body):
    party_id: Ref
    amount: Yuan
    contributed_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"party_id": "hebi-finance", "amount": "30000000.00", "contributed_on": "2018-10-10"}
            ]
        }
    )


class BreakerReset(Body):
    reason: Reason
    reset_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "the bank has provisioned the losses", "reset_on": "2019-08-01"}]
        }
    )


class ReversalCreate(Body):
    fact_id: str = Field(
        min_length=1, max_length=ID_CHARS_MAX, examples=["icbc-hebi:HB2019-0001:repayment:2"]
    )
    reason: Reason
    reversed_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fact_id": "icbc-hebi:HB2019-0001:repayment:2",
                    "reason": "keyed 100,000.00 for 10,000.00",
                    "reversed_on": "2019-06-03",
                }
            ]
        }
    )


class WhatIf(Body):
    """A claim that has not been filed: the allocation it would get, recording nothing. Name an
    enrolled loan (bank_id + loan_ref), or describe one (bank_id, principal, cover …)."""

    bank_id: Ref
    loan_ref: Ref | None = None
    principal: Yuan | None = None
    cover: str | None = Field(default=None, examples=["guaranteed"])
    cover_party_id: Ref | None = None
    tags: list[Ref] = Field(default=[], max_length=TAGS_MAX)
    amount: Yuan
    approved_on: Day
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bank_id": "icbc-hebi",
                    "loan_ref": "HB2019-0001",
                    "amount": "1234567.89",
                    "approved_on": "2019-10-01",
                }
            ]
        }
    )


class AllocationPartPublic(BaseModel):
    party_id: str
    key: str
    bp: int
    split: Amount
    cut: Amount
    overflow: Amount
    allocated: Amount

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "party_id": "guar-a",
                    "key": "guarantor",
                    "bp": 4000,
                    "split": "493827.15",
                    "cut": "0.00",
                    "overflow": "0.00",
                    "allocated": "493827.15",
                }
            ]
        }
    )


class WhatIfPublic(BaseModel):
    rule_version: int
    approved: Amount
    parts: list[AllocationPartPublic]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rule_version": 1,
                    "approved": "1234567.89",
                    "parts": [
                        {
                            "party_id": "guar-a",
                            "key": "guarantor",
                            "bp": 4000,
                            "split": "493827.15",
                            "cut": "0.00",
                            "overflow": "0.00",
                            "allocated": "493827.15",
                        }
                    ],
                }
            ]
        }
    )
