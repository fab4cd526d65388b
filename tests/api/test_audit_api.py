"""The audit API: the history with its corrections, aggregates as they stood, tree heads and proofs
a regulator can check with the standalone verifier's own functions; and attribution no body can
forge."""

from __future__ import annotations

import json
import logging

import pytest

from api.logs import JsonLines
from tests.api.conftest import SCHEME, Api, uscc
from tools.verify_export import (
    head_hash,
    head_message,
    verify_consistency,
    verify_inclusion,
    verify_signature,
)

LOAN = f"/v1/schemes/{SCHEME}/banks/bank-a/loans/L1"


def loan_with_a_corrected_repayment(api: Api) -> str:
    api.post(
        "fm",
        f"/v1/schemes/{SCHEME}/contributions",
        {"party_id": "city-fund", "amount": "10000000.00", "contributed_on": "2018-02-01"},
    )
    api.post(
        "bank-a",
        f"/v1/schemes/{SCHEME}/banks/bank-a/loans",
        {
            "loan_ref": "L1",
            "borrower_name": "Fictional Co",
            "borrower_uscc": uscc(5),
            "product": "tech_loan",
            "principal": "1000000.00",
            "rate_bp": 450,
            "term_months": 24,
            "enrolled_on": "2019-01-02",
        },
    )
    api.post("bank-a", f"{LOAN}/disbursement", {"amount": "1000000.00", "disbursed_on": "2019-01-03"})
    wrong = api.post(
        "bank-a", f"{LOAN}/repayments", {"principal": "100000.00", "interest": "0", "repaid_on": "2019-02-01"}
    ).json()["fact_id"]
    api.post(
        "bank-a",
        f"/v1/schemes/{SCHEME}/reversals",
        {"fact_id": wrong, "reason": "keyed 100,000.00 for 10,000.00", "reversed_on": "2019-02-02"},
    )
    api.post(
        "bank-a", f"{LOAN}/repayments", {"principal": "10000.00", "interest": "0", "repaid_on": "2019-02-01"}
    )
    return wrong


def test_the_history_shows_each_reversal_with_the_fact_it_reverses_and_who_recorded_it(api: Api) -> None:
    wrong = loan_with_a_corrected_repayment(api)
    events = api.get("regulator", "/v1/audit/events", loan_ref="L1", scheme_id=SCHEME).json()["items"]
    facts = [(e["fact"], e["principal_id"]) for e in events]
    assert facts == [
        ("Enrolled", "bank-a"),
        ("Disbursed", "bank-a"),
        ("Repaid", "bank-a"),
        ("RepaymentReversed", "bank-a"),
        ("Repaid", "bank-a"),
    ]
    repaid, reversal = events[2], events[3]
    assert (
        reversal["reverses"] == wrong == repaid["fact_id"] and repaid["reversed_by"] == reversal["position"]
    )
    history = api.get("fm", f"{LOAN}/history").json()
    assert [h["figures"]["principal_repaid_fen"] for h in history] == [0, 0, 10_000_000, 0, 1_000_000]
    by_party = api.get("regulator", "/v1/audit/events", party_id="city-fund").json()["items"]
    assert [e["fact"] for e in by_party] == ["Registered", "PartyAdmitted", "Issued", "ContributionRecorded"]
    assert api.get("bank-a", "/v1/audit/events").status_code == 403


def test_an_aggregate_as_it_stood_at_a_version_and_on_a_business_date(api: Api) -> None:
    loan_with_a_corrected_repayment(api)
    originator = api.get("regulator", "/v1/audit/events", loan_ref="L1").json()["items"][0]["originator_id"]
    v3 = api.get("regulator", f"/v1/audit/aggregates/{originator}", version=3).json()
    assert v3["aggregate"] == "Loan" and v3["state"]["principal_repaid_fen"] == 10_000_000
    on_disbursement = api.get(
        "regulator", f"/v1/audit/aggregates/{originator}", business_date="2019-01-03"
    ).json()
    assert on_disbursement["version"] == 2 and on_disbursement["state"]["state"] == "disbursed"


def test_tree_heads_and_proofs_verify_with_the_regulators_own_functions(api: Api) -> None:
    loan_with_a_corrected_repayment(api)
    first = api.post("regulator", "/v1/audit/tree-heads").json()
    api.post(
        "fm",
        f"/v1/schemes/{SCHEME}/contributions",
        {"party_id": "city-fund", "amount": "1.00", "contributed_on": "2019-03-01"},
    )
    second = api.post("regulator", "/v1/audit/tree-heads").json()
    key = api.client.get("/v1/audit/public-key").json()["public_key"]
    for head in (first, second):
        assert head["public_key"] == key
        assert verify_signature(key, head_message(head), head["signature"])
    assert (second["sequence"], second["previous"]) == (first["sequence"] + 1, head_hash(first))
    position = api.get("regulator", "/v1/audit/events", loan_ref="L1").json()["items"][3]["position"]
    proof = api.get(
        "regulator", "/v1/audit/proofs/inclusion", position=position, tree_size=second["size"]
    ).json()
    assert verify_inclusion(
        proof["leaf_index"],
        proof["tree_size"],
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(p) for p in proof["path"]],
        bytes.fromhex(second["root"]),
    )
    grew = api.get(
        "regulator", "/v1/audit/proofs/consistency", from_size=first["size"], to_size=second["size"]
    ).json()
    assert verify_consistency(
        first["size"],
        second["size"],
        bytes.fromhex(first["root"]),
        bytes.fromhex(second["root"]),
        [bytes.fromhex(p) for p in grew["proof"]],
    )


def test_a_bank_cannot_forge_another_actor_through_the_request_body(api: Api) -> None:
    loan_with_a_corrected_repayment(api)
    forged = api.post(
        "bank-a",
        f"{LOAN}/repayments",
        {
            "principal": "1.00",
            "interest": "0",
            "repaid_on": "2019-03-01",
            "actor": {"principal_id": "fm", "role": "fund_manager"},
            "principal_id": "fm",
        },
    )
    assert forged.status_code == 422
    assert {e["field"] for e in forged.json()["errors"]} == {"body.actor", "body.principal_id"}
    events = api.get("regulator", "/v1/audit/events").json()["items"]
    bank_facts = [e for e in events if e["bank_id"] == "bank-a" and e["aggregate"] == "Loan"]
    assert {(e["principal_id"], e["role"], e["actor_party_id"]) for e in bank_facts} == {
        ("bank-a", "bank", "bank-a")
    }
    assert all(e["request_id"] for e in events)


def test_a_refused_request_leaves_a_structured_access_log_line_and_no_trace_in_the_ledger(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    before = api.written()
    with caplog.at_level(logging.INFO, logger="riskpool.access"):
        refused = api.post(
            "regulator",
            f"/v1/schemes/{SCHEME}/contributions",
            {"party_id": "city-fund", "amount": "1.00", "contributed_on": "2019-01-01"},
            **{"X-Request-Id": "req-42"},
        )
    assert refused.status_code == 403 and api.written() == before
    [record] = [r for r in caplog.records if r.name == "riskpool.access"]
    assert record.fields | {"client": None} == {
        "request_id": "req-42",
        "method": "POST",
        "path": f"/v1/schemes/{SCHEME}/contributions",
        "status": 403,
        "code": "forbidden",
        "principal_id": "regulator",
        "role": "regulator",
        "party_id": None,
        "client": None,
    }
    line = JsonLines().format(record)
    assert json.loads(line)["code"] == "forbidden" and api.tokens["regulator"] not in line
