"""How parties' and schemes' events move the read models."""

from __future__ import annotations

from typing import Any

from ledger.domain import Party, Scheme
from ledger.domain.key import ApiKey
from ledger.domain.request import Request
from projections import postings, tables as t
from projections.rows import Rows

Event = Any


def registered(rows: Rows, e: Event, position: int) -> None:
    rows.put(t.parties, {"party_id": e.party_id, "role": e.role, "name": e.name})


def created(rows: Rows, e: Event, position: int) -> None:
    rows.put(
        t.schemes,
        {
            "scheme_uuid": e.originator_id.hex,
            "scheme_id": e.scheme_id,
            "name": e.name,
            "demo": e.demo,
            "created_on": e.business_date,
            "rule_versions": 0,
            "targets": [],
        },
    )


def scheme(rows: Rows, e: Event) -> dict[str, Any]:
    return rows.require(t.schemes, e.originator_id.hex)


def admitted(rows: Rows, e: Event, position: int) -> None:
    rows.put(
        t.members,
        {
            "scheme_id": scheme(rows, e)["scheme_id"],
            "party_id": e.party_id,
            "role": e.role,
            "name": e.name,
            "admitted_on": e.business_date,
        },
    )


def rules_published(rows: Rows, e: Event, position: int) -> None:
    s = scheme(rows, e)
    rows.put(
        t.rule_versions,
        {
            "scheme_id": s["scheme_id"],
            "number": e.number,
            "effective_from": e.effective_from,
            "published_on": e.business_date,
            "leverage_multiple": e.document["leverage_multiple"],
            "document": e.document,
        },
    )
    s["rule_versions"] = e.number
    rows.changed(t.schemes, s)


def targets_set(rows: Rows, e: Event, position: int) -> None:
    s = scheme(rows, e)
    s["targets"] = e.targets
    rows.changed(t.schemes, s)


def contributed(rows: Rows, e: Event, position: int) -> None:
    s = scheme(rows, e)
    fact = rows.put(
        t.facts,
        {
            "scheme_id": s["scheme_id"],
            "fact_id": e.fact_id,
            "kind": "contribution",
            "party_id": e.party_id,
            "counterparty_id": "",
            "claim_id": "",
            "amount_fen": e.amount_fen,
            "details": {},
            "business_date": e.business_date,
            "position": position,
        },
    )
    _count_contribution(rows, s, fact, 1)
    postings.post(
        rows,
        position,
        s["scheme_id"],
        e.business_date,
        "ContributionRecorded",
        e.fact_id,
        postings.for_fact(fact),
    )


def contribution_reversed(rows: Rows, e: Event, position: int) -> None:
    s = scheme(rows, e)
    fact = reverse_fact(rows, s["scheme_id"], e, position)
    _count_contribution(rows, s, fact, -1)
    postings.post(
        rows,
        position,
        s["scheme_id"],
        e.business_date,
        "ContributionReversed",
        e.fact_id,
        postings.for_fact(fact),
        sign=-1,
    )


def _count_contribution(rows: Rows, s: dict[str, Any], fact: dict[str, Any], sign: int) -> None:
    s["paid_in_fen"] += sign * fact["amount_fen"]
    rows.changed(t.schemes, s)
    year = rows.get_or_new(t.lending, s["scheme_id"], fact["business_date"].year)
    year["contributed_fen"] += sign * fact["amount_fen"]
    rows.changed(t.lending, year)


def reverse_fact(rows: Rows, scheme_id: str, e: Event, position: int) -> dict[str, Any]:
    fact = rows.require(t.facts, scheme_id, e.fact_id)
    fact.update(reversed_position=position, reversed_on=e.business_date, reason=e.reason)
    rows.changed(t.facts, fact)
    return fact


def exposure(rows: Rows, e: Event, position: int) -> None:
    s = scheme(rows, e)
    if isinstance(e, Scheme.LoanEnrolled):
        s["exposure_fen"] += e.principal_fen
    elif isinstance(e, Scheme.TapeEnrolled):
        s["exposure_fen"] += e.total_fen
    else:
        s["exposure_fen"] -= e.amount_fen
    rows.changed(t.schemes, s)


def bank_figure(rows: Rows, e: Event, position: int) -> None:
    bank = rows.get_or_new(t.banks, scheme(rows, e)["scheme_id"], e.bank_id)
    if isinstance(e, Scheme.DisbursementCounted):
        bank["disbursed_fen"] += e.amount_fen
    else:
        bank["defaulted_fen"] += e.outstanding_fen
    rows.changed(t.banks, bank)


def breaker_tripped(rows: Rows, e: Event, position: int) -> None:
    rows.put(
        t.breakers,
        {
            "scheme_id": scheme(rows, e)["scheme_id"],
            "breaker": f"{e.breaker}:{e.party_id}",
            "kind": e.breaker,
            "party_id": e.party_id,
            "tripped": True,
            "figure_fen": e.figure_fen,
            "base_fen": e.base_fen,
            "threshold_bp": e.threshold_bp,
            "tripped_on": e.business_date,
            "trigger": e.trigger,
        },
    )


def breaker_reset(rows: Rows, e: Event, position: int) -> None:
    breaker = rows.require(t.breakers, scheme(rows, e)["scheme_id"], f"{e.breaker}:{e.party_id}")
    breaker.update(tripped=False, reset_on=e.business_date, reset_reason=e.reason)
    rows.changed(t.breakers, breaker)


def ignored(rows: Rows, e: Event, position: int) -> None:
    """The scheme's own copy of a figure whose fact the loan or claim projection posts; the record
    of an idempotent request; an API key's issue or revocation. None moves a reported figure."""


HANDLERS = {
    Party.Registered: registered,
    Scheme.Created: created,
    Scheme.PartyAdmitted: admitted,
    Scheme.RuleVersionPublished: rules_published,
    Scheme.TargetsSet: targets_set,
    Scheme.ContributionRecorded: contributed,
    Scheme.ContributionReversed: contribution_reversed,
    Scheme.LoanEnrolled: exposure,
    Scheme.TapeEnrolled: exposure,
    Scheme.ExposureReleased: exposure,
    Scheme.DisbursementCounted: bank_figure,
    Scheme.DefaultCounted: bank_figure,
    Scheme.CoverIncomeCounted: ignored,
    Scheme.AllocationCounted: ignored,
    Scheme.FundPaymentCounted: ignored,
    Scheme.FundRecoveryCounted: ignored,
    Scheme.BreakerTripped: breaker_tripped,
    Scheme.BreakerReset: breaker_reset,
    Request.Recorded: ignored,
    ApiKey.Issued: ignored,
    ApiKey.Revoked: ignored,
}
