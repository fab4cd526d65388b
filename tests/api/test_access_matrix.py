"""Every route × every role (docs/rules.md §2): who may act, who is forbidden (403), and who is told
a resource does not exist because it is not theirs (404). Without a key, every route is 401."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qsl

import pytest

from ledger.actors import Actor, Role
from ledger.money import Money
from ledger.service import Enrolment
from tests.api.conftest import SCHEME, Api, uscc

ROLES = ["fm", "regulator", "bank-a", "bank-b", "guar-a", "ins-a", "city-fund"]
ALL = set(ROLES)
S = f"/v1/schemes/{SCHEME}"
L1 = f"{S}/banks/bank-a/loans/L1"
I1 = f"{S}/banks/bank-a/loans/I1"
CLAIM = f"{S}/claims/bank-a:L1:claim:1"
DAY = "2020-06-01"


def prepare(api: Api) -> None:
    """A pool with a defaulted, claimed and approved guaranteed loan of bank-a, an insured loan of
    bank-a, and a loan of bank-b."""
    ledger, fm = api.system.ledger, Actor("fm", Role.FUND_MANAGER)
    for fund in ("city-fund", "prov-reguarantee"):
        ledger.record_contribution(fm, SCHEME, fund, Money.yuan("10000000"), contributed_on=date(2018, 2, 1))
    for bank, ref, cover, party in [
        ("bank-a", "L1", "guaranteed", "guar-a"),
        ("bank-a", "I1", "insured", "ins-a"),
        ("bank-b", "B1", "direct", None),
    ]:
        actor = Actor(f"{bank}-ops", Role.BANK, bank)
        ledger.enrol_loan(
            actor,
            SCHEME,
            bank,
            Enrolment(
                ref,
                "Fictional Co",
                uscc(len(ref) + ord(ref[0])),
                "tech_loan",
                Money.yuan("500000"),
                450,
                24,
                date(2019, 1, 2),
                cover,
                party,
            ),
        )
        ledger.disburse(actor, SCHEME, bank, ref, Money.yuan("500000"), disbursed_on=date(2019, 1, 3))
    bank_a = Actor("bank-a-ops", Role.BANK, "bank-a")
    ledger.declare_default(bank_a, SCHEME, "bank-a", "L1", overdue_days=95, defaulted_on=date(2019, 6, 1))
    receipt = ledger.file_claim(
        bank_a, SCHEME, "bank-a", "L1", Money.yuan("500000"), filed_on=date(2019, 6, 5)
    )
    ledger.approve_claim(fm, SCHEME, receipt.claim_id, Money.yuan("500000"), approved_on=date(2019, 6, 10))


# (method, path, body, roles that may do it; the rest of ROLES are refused with 403 unless listed
# in `hidden`, who get 404 because the resource is not theirs to see)
ROUTES: list[tuple[str, str, dict | None, set[str], set[str]]] = [
    (
        "POST",
        "/v1/parties",
        {"party_id": "p-new", "role": "bank", "name": "New", "registered_on": DAY},
        {"fm"},
        set(),
    ),
    ("GET", "/v1/parties", None, ALL, set()),
    ("GET", "/v1/parties/bank-a", None, ALL, set()),
    ("POST", "/v1/schemes", {"scheme_id": "s-new", "name": "New pool", "created_on": DAY}, {"fm"}, set()),
    ("GET", "/v1/schemes", None, ALL, set()),
    ("GET", S, None, ALL, set()),
    ("POST", f"{S}/members", {"party_id": "bank-a", "admitted_on": DAY}, {"fm"}, set()),
    ("GET", f"{S}/members", None, ALL, set()),
    ("POST", f"{S}/rule-versions", {"document": {}, "published_on": DAY}, {"fm"}, set()),
    ("GET", f"{S}/rule-versions", None, ALL, set()),
    ("GET", f"{S}/rule-versions/1", None, ALL, set()),
    (
        "POST",
        f"{S}/what-if",
        {"bank_id": "bank-a", "loan_ref": "L1", "amount": "1000.00", "approved_on": DAY},
        {"fm", "regulator", "bank-a"},
        {"bank-b"},
    ),
    ("PUT", f"{S}/targets", {"targets": [], "set_on": DAY}, {"fm"}, set()),
    (
        "POST",
        f"{S}/contributions",
        {"party_id": "city-fund", "amount": "1.00", "contributed_on": DAY},
        {"fm", "city-fund"},
        set(),
    ),
    ("POST", f"{S}/breakers/bank_loss_rate:bank-a/reset", {"reason": "r", "reset_on": DAY}, {"fm"}, set()),
    (
        "POST",
        f"{S}/reversals",
        {"fact_id": "city-fund:contribution:1", "reason": "r", "reversed_on": DAY},
        {"fm", "city-fund"},
        set(),
    ),
    (
        "POST",
        f"{S}/banks/bank-a/loans",
        {
            "loan_ref": "M1",
            "borrower_name": "F",
            "borrower_uscc": uscc(99),
            "product": "tech_loan",
            "principal": "1000.00",
            "rate_bp": 400,
            "term_months": 12,
            "enrolled_on": DAY,
        },
        {"bank-a"},
        set(),
    ),
    ("GET", f"{S}/loans", None, ALL, set()),
    ("GET", L1, None, {"fm", "regulator", "bank-a", "guar-a", "city-fund"}, {"bank-b", "ins-a"}),
    ("GET", f"{L1}/history", None, {"fm", "regulator", "bank-a", "guar-a", "city-fund"}, {"bank-b", "ins-a"}),
    ("POST", f"{L1}/disbursement", {"amount": "1.00", "disbursed_on": DAY}, {"bank-a"}, {"bank-b"}),
    (
        "POST",
        f"{L1}/repayments",
        {"principal": "1.00", "interest": "0", "repaid_on": DAY},
        {"bank-a"},
        {"bank-b"},
    ),
    ("POST", f"{L1}/default", {"overdue_days": 95, "defaulted_on": DAY}, {"bank-a"}, {"bank-b"}),
    ("POST", f"{L1}/withdrawal", {"withdrawn_on": DAY}, {"bank-a"}, {"bank-b"}),
    ("POST", f"{L1}/write-off", {"written_off_on": DAY}, {"bank-a", "fm"}, {"bank-b"}),
    (
        "POST",
        f"{I1}/premiums",
        {"amount": "1.00", "paid_on": DAY, "party_id": "ins-a"},
        {"ins-a", "fm"},
        set(),
    ),
    ("POST", f"{L1}/fees", {"amount": "1.00", "paid_on": DAY, "party_id": "guar-a"}, {"guar-a", "fm"}, set()),
    ("POST", f"{L1}/claims", {"claimed": "1.00", "filed_on": DAY}, {"bank-a"}, {"bank-b"}),
    ("GET", f"{S}/claims", None, ALL, set()),
    ("GET", CLAIM, None, {"fm", "regulator", "bank-a", "guar-a", "city-fund"}, {"bank-b", "ins-a"}),
    (
        "GET",
        f"{CLAIM}/history",
        None,
        {"fm", "regulator", "bank-a", "guar-a", "city-fund"},
        {"bank-b", "ins-a"},
    ),
    ("POST", f"{CLAIM}/approvals", {"amount": "1.00", "approved_on": DAY}, {"fm"}, set()),
    ("POST", f"{CLAIM}/rejection", {"reason": "r", "rejected_on": DAY}, {"fm"}, set()),
    (
        "POST",
        f"{CLAIM}/payments",
        {"party_id": "city-fund", "amount": "1.00", "paid_on": DAY},
        {"fm", "city-fund"},
        set(),
    ),
    (
        "POST",
        f"{CLAIM}/recoveries",
        {"gross": "1.00", "costs": "0", "recovered_on": DAY},
        {"bank-a"},
        {"bank-b"},
    ),
    (
        "POST",
        f"{CLAIM}/recovery-payments",
        {"party_id": "city-fund", "amount": "1.00", "paid_on": DAY},
        {"bank-a"},
        {"bank-b"},
    ),
    ("GET", f"{S}/reports/balances", None, ALL, set()),
    ("GET", f"{S}/reports/owed", None, ALL, set()),
    ("GET", f"{S}/reports/loss-ratios", None, ALL, set()),
    ("GET", f"{S}/reports/breakers", None, ALL, set()),
    ("GET", f"{S}/reports/exposure", None, {"fm", "regulator", "city-fund"}, set()),
    ("GET", f"{S}/reports/funds", None, {"fm", "regulator", "city-fund"}, set()),
    ("GET", f"{S}/reports/targets", None, {"fm", "regulator", "city-fund"}, set()),
    ("GET", f"{S}/reports/claims-queue", None, {"fm", "regulator"}, set()),
    ("GET", f"{S}/reports/loan-book", None, {"fm", "regulator", "bank-a", "bank-b"}, set()),
    ("GET", f"{S}/reports/fund-history", None, {"fm", "regulator", "city-fund"}, set()),
    ("GET", f"{S}/reports/breaker-figures", None, ALL, set()),
    ("GET", f"{S}/reports/settlements", None, ALL, set()),
    ("GET", "/v1/audit/events", None, {"fm", "regulator"}, set()),
    ("GET", "/v1/audit/aggregates/" + "0" * 32, None, {"fm", "regulator"}, set()),
    ("GET", "/v1/audit/tree-heads", None, {"fm", "regulator"}, set()),
    ("GET", "/v1/audit/tree-heads/latest", None, {"fm", "regulator"}, set()),
    ("POST", "/v1/audit/tree-heads", None, {"fm", "regulator"}, set()),
    ("GET", "/v1/audit/proofs/inclusion?position=1&tree_size=1", None, {"fm", "regulator"}, set()),
    ("GET", "/v1/audit/proofs/consistency?from_size=1&to_size=1", None, {"fm", "regulator"}, set()),
    ("GET", "/v1/audit/verification", None, {"fm", "regulator"}, set()),
    ("GET", "/v1/audit/export", None, {"regulator"}, set()),
]


def test_the_matrix_names_every_route_of_the_api(api: Api) -> None:
    paths = api.client.get("/v1/openapi.json").json()["paths"]
    every = {(method.upper(), template) for template, ops in paths.items() for method in ops}
    covered = {
        (method, template)
        for method, path, *_ in ROUTES
        for template in paths
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path.split("?")[0])
    }
    exempt = {
        ("GET", "/v1/health"),
        ("GET", "/v1/audit/public-key"),
        ("POST", "/v1/schemes/{scheme_id}/banks/{bank_id}/loan-tapes"),
    }
    assert every - exempt == covered


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "hidden"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES]
)
def test_each_role_gets_what_rules_md_section_2_says(
    api: Api, method: str, path: str, body: dict | None, allowed: set[str], hidden: set[str]
) -> None:
    prepare(api)
    for role in ROLES:
        route, _, query = path.partition("?")
        params = dict(parse_qsl(query)) | ({"after_position": api.written()} if method == "GET" else {})
        answer = api.client.request(method, route, json=body, headers=api.as_(role), params=params)
        if role in allowed:
            assert answer.status_code not in (401, 403) and not _hidden(answer), (role, answer.text)
        elif role in hidden:
            assert answer.status_code == 404 and answer.json()["code"].startswith("unknown_"), (
                role,
                answer.text,
            )
        else:
            assert answer.status_code == 403 and answer.json()["code"] == "forbidden", (role, answer.text)
    anonymous = api.client.request(method, path, json=body)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"


def _hidden(answer) -> bool:
    """A 404 for a resource that exists but is not the caller's (an absent aggregate id is not)."""
    return answer.status_code == 404 and answer.json()["code"] in (
        "unknown_loan",
        "unknown_claim",
        "unknown_scheme",
    )


def test_a_party_reads_only_its_own_figures(api: Api) -> None:
    prepare(api)
    owed = api.get("guar-a", f"{S}/reports/owed").json()
    assert {(d["debtor"], d["creditor"]) for d in owed["totals"]} == {("guar-a", "bank-a")}
    balances = api.get("bank-b", f"{S}/reports/balances").json()["parties"]
    assert [b["party_id"] for b in balances] == ["bank-b"]
    loans = api.get("bank-b", f"{S}/loans").json()["items"]
    assert [loan["loan_ref"] for loan in loans] == ["B1"]
    assert [loan["loan_ref"] for loan in api.get("ins-a", f"{S}/loans").json()["items"]] == ["I1"]
    assert api.get("bank-b", f"{S}/claims").json()["items"] == []
    assert [c["claim_id"] for c in api.get("city-fund", f"{S}/claims").json()["items"]] == [
        "bank-a:L1:claim:1"
    ]
