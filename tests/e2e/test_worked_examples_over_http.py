"""W1, W4 and W11 played over HTTP against the real server, with keys of the right roles."""

from __future__ import annotations

import threading

import httpx

from ledger.uscc import make_uscc
from tests.e2e.conftest import Server

S = "/v1/schemes/w"
RULES = {
    "effective_from": "2019-01-01",
    "eligibility": {"principal_max": "30000000.00", "term_months_max": 36},
    "default_after_overdue_days": 90,
    "claim_window_days": 365,
    "second_approval_from": "1000000.00",
    "leverage_multiple": 10,
    "recovery_costs_max_bp": 500,
    "covers": {
        "guaranteed": {
            "split": {"guarantor": 4000, "prov-reguarantee": 3000, "bank": 2000, "city-fund": 1000}
        }
    },
}


def ok(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def found_w1(server: Server) -> dict[str, httpx.Client]:
    """The W1 pool over HTTP: parties, scheme, members, rules, contributions, the loan and its default."""
    fm = server.client(server.key("fund_manager", "maker", principal="fm-alice"))
    ok(fm.post("/v1/schemes", json={"scheme_id": "w", "name": "W1 pool", "created_on": "2019-01-01"}))
    for party, role in [
        ("bank-a", "bank"),
        ("guar-a", "guarantor"),
        ("prov-reguarantee", "government"),
        ("city-fund", "government"),
    ]:
        ok(
            fm.post(
                "/v1/parties",
                json={"party_id": party, "role": role, "name": party, "registered_on": "2019-01-01"},
            )
        )
        ok(fm.post(f"{S}/members", json={"party_id": party, "admitted_on": "2019-01-01"}))
    ok(fm.post(f"{S}/rule-versions", json={"document": RULES, "published_on": "2019-01-01"}))
    for fund in ("prov-reguarantee", "city-fund"):
        ok(
            fm.post(
                f"{S}/contributions",
                json={"party_id": fund, "amount": "10000000.00", "contributed_on": "2019-01-02"},
            )
        )
    clients = {
        "fm": fm,
        "fm2": server.client(server.key("fund_manager", "checker", principal="fm-bob")),
        "bank": server.client(server.key("bank", "bank-a loan system", party="bank-a")),
        "guar": server.client(server.key("guarantor", "guar-a", party="guar-a")),
        "regulator": server.client(server.key("regulator", "auditor")),
    }
    bank, loan = clients["bank"], f"{S}/banks/bank-a/loans/L1"
    ok(
        bank.post(
            f"{S}/banks/bank-a/loans",
            json={
                "loan_ref": "L1",
                "borrower_name": "Fictional Tech Co",
                "borrower_uscc": make_uscc("91410600MA0000001"),
                "product": "tech_loan",
                "principal": "2000000.00",
                "rate_bp": 450,
                "term_months": 24,
                "cover": "guaranteed",
                "cover_party_id": "guar-a",
                "enrolled_on": "2019-02-01",
            },
        )
    )
    ok(bank.post(f"{loan}/disbursement", json={"amount": "2000000.00", "disbursed_on": "2019-02-02"}))
    ok(
        bank.post(
            f"{loan}/repayments", json={"principal": "765432.11", "interest": "0", "repaid_on": "2019-05-02"}
        )
    )
    ok(bank.post(f"{loan}/default", json={"overdue_days": 91, "defaulted_on": "2019-09-01"}))
    return clients


def test_w1_w4_and_w11_over_http(server: Server) -> None:
    c = found_w1(server)
    claim = ok(
        c["bank"].post(
            f"{S}/banks/bank-a/loans/L1/claims", json={"claimed": "1234567.89", "filed_on": "2019-09-10"}
        )
    )
    claim_id = claim["claim_id"]
    first = ok(
        c["fm"].post(
            f"{S}/claims/{claim_id}/approvals", json={"amount": "1234567.89", "approved_on": "2019-10-01"}
        )
    )
    assert first["status"] == "awaiting_second_approval"
    same = c["fm"].post(
        f"{S}/claims/{claim_id}/approvals", json={"amount": "1234567.89", "approved_on": "2019-10-02"}
    )
    assert same.status_code == 409 and same.json()["code"] == "same_checker"
    assert same.headers["content-type"] == "application/problem+json"
    final = ok(
        c["fm2"].post(
            f"{S}/claims/{claim_id}/approvals", json={"amount": "1234567.89", "approved_on": "2019-10-02"}
        )
    )
    assert final["details"]["allocations"] == {
        "guar-a": "493827.15",
        "prov-reguarantee": "370370.37",
        "bank-a": "246913.58",
        "city-fund": "123456.79",
    }  # W1

    owed = ok(c["fm"].get(f"{S}/reports/owed", params={"after_position": final["position"]}), 200)  # W11
    assert [(d["debtor"], d["creditor"], d["amount"]) for d in owed["totals"]] == [
        ("city-fund", "bank-a", "123456.79"),
        ("guar-a", "bank-a", "493827.15"),
        ("prov-reguarantee", "bank-a", "370370.37"),
    ]

    ok(
        c["guar"].post(
            f"{S}/claims/{claim_id}/payments",
            json={"party_id": "guar-a", "amount": "493827.15", "paid_on": "2019-11-01"},
        )
    )
    for fund, amount in (("prov-reguarantee", "370370.37"), ("city-fund", "123456.79")):
        ok(
            c["fm"].post(
                f"{S}/claims/{claim_id}/payments",
                json={"party_id": fund, "amount": amount, "paid_on": "2019-11-01"},
            )
        )
    too_costly = c["bank"].post(
        f"{S}/claims/{claim_id}/recoveries",
        json={"gross": "300000.00", "costs": "15000.01", "recovered_on": "2020-01-15"},
    )
    assert too_costly.status_code == 422 and too_costly.json()["code"] == "recovery_costs_exceed_cap"
    recovery = ok(
        c["bank"].post(
            f"{S}/claims/{claim_id}/recoveries",
            json={"gross": "300000.00", "costs": "12345.68", "recovered_on": "2020-01-15"},
        )
    )
    assert recovery["details"]["parts"] == {
        "guar-a": "115061.73",
        "prov-reguarantee": "86296.30",
        "bank-a": "57530.86",
        "city-fund": "28765.43",
    }  # W4

    after = {"after_position": recovery["position"]}
    owed = ok(c["regulator"].get(f"{S}/reports/owed", params=after), 200)  # W11, after the recovery
    assert [(d["debtor"], d["creditor"], d["amount"]) for d in owed["totals"]] == [
        ("bank-a", "city-fund", "28765.43"),
        ("bank-a", "guar-a", "115061.73"),
        ("bank-a", "prov-reguarantee", "86296.30"),
    ]
    ratios = ok(c["regulator"].get(f"{S}/reports/loss-ratios", params=after), 200)["ratios"]
    scheme = next(r for r in ratios if r["role"] == "scheme")
    assert (scheme["gross_percent"], scheme["net_percent"]) == ("61.73", "47.35")
    as_of = ok(c["regulator"].get(f"{S}/reports/owed", params={"as_of_date": "2019-12-31"}), 200)
    assert as_of["totals"] == [] and as_of["as_of_historical"]  # everything owed on 2019-12-31 was paid


def test_two_concurrent_filings_for_one_loan_let_exactly_one_claim_in(server: Server) -> None:
    c = found_w1(server)
    answers: list[httpx.Response] = []
    barrier = threading.Barrier(2)

    def file() -> None:
        with server.client(c["bank"].headers["Authorization"].removeprefix("Bearer ")) as client:
            barrier.wait()
            answers.append(
                client.post(
                    f"{S}/banks/bank-a/loans/L1/claims",
                    json={"claimed": "1000000.00", "filed_on": "2019-09-10"},
                )
            )

    threads = [threading.Thread(target=file) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    assert next(r for r in answers if r.status_code == 409).json()["code"] == "claim_already_open"
    loan = ok(c["fm"].get(f"{S}/banks/bank-a/loans/L1"), 200)
    assert loan["current_claim_id"] == "bank-a:L1:claim:1"
    history = ok(c["fm"].get(f"{S}/banks/bank-a/loans/L1/history"), 200)
    assert [e["fact"] for e in history].count("ClaimFiled") == 1


def test_a_missing_or_revoked_key_is_refused(server: Server) -> None:
    import subprocess

    from tests.e2e.conftest import RISKPOOL

    token = server.key("regulator", "temporary auditor")
    assert server.client(token).get("/v1/schemes").status_code == 200
    assert server.client(None).get("/v1/schemes").status_code == 401
    key_id = token.split("_")[1]
    subprocess.run(
        [*RISKPOOL, "keys", "revoke", key_id, "--reason", "audit finished"],
        env=server.env,
        check=True,
        capture_output=True,
    )
    refused = server.client(token).get("/v1/schemes")
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
