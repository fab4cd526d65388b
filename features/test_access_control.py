"""Steps of access_control.feature, through the HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import httpx
import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, scenarios, then, when

from api.app import create_app
from features.world import DEFAULT_RULES, TODAY, yuan
from ledger.actors import Actor, Role
from ledger.uscc import make_uscc
from riskpool.bootstrap import System, build_system
from riskpool.settings import Settings

scenarios("access_control.feature")
P = "/v1/schemes/pool"
OPERATOR = Actor("operator:features", Role.FUND_MANAGER)


@dataclass
class Http:
    system: System
    client: TestClient
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # who -> (key id, token)
    answer: httpx.Response | None = None
    events_before: int = 0
    written: int = 0  # the last position a write answered with (for read-your-writes)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who][1]}"}

    def send(self, who: str, method: str, path: str, body: dict | None = None) -> httpx.Response:
        self.events_before = self.system.ledger.recorder.max_notification_id()
        self.answer = self.client.request(method, path, json=body, headers=self.headers(who))
        if method != "GET" and self.answer.status_code < 300:
            self.written = self.answer.json()["position"]
        return self.answer


@pytest.fixture
def http(database_url: str) -> Iterator[Http]:
    system = build_system(Settings(database_url=database_url), clock=lambda: TODAY)
    with TestClient(create_app(system)) as client:
        yield Http(system, client)
    system.close()


@given(parsers.parse('a pool served over HTTP with the banks "{a}" and "{b}" and the fund "{fund}"'))
def pool(http: Http, a: str, b: str, fund: str) -> None:
    ledger = http.system.ledger
    for who, role, party in [
        ("fm-alice", "fund_manager", None),
        ("fm-bob", "fund_manager", None),
        ("regulator", "regulator", None),
        (a, "bank", a),
        (b, "bank", b),
    ]:
        if party:
            ledger.register_party(OPERATOR, party, role, party, registered_on=date(2019, 1, 1))
        key = ledger.issue_key(OPERATOR, role=role, party_id=party, name=who, principal_id=who)
        http.keys[who] = (key.key_id, key.token)
    ledger.register_party(OPERATOR, fund, "government", fund, registered_on=date(2019, 1, 1))
    fm = "fm-alice"
    assert (
        http.send(
            fm, "POST", "/v1/schemes", {"scheme_id": "pool", "name": "Pool", "created_on": "2019-01-01"}
        ).status_code
        == 201
    )
    for party in (a, b, fund):
        assert (
            http.send(
                fm, "POST", f"{P}/members", {"party_id": party, "admitted_on": "2019-01-01"}
            ).status_code
            == 201
        )
    rules = DEFAULT_RULES | {
        "effective_from": "2019-01-01",
        "covers": {"direct": {"split": {fund: 4000, "bank": "remainder"}}},
    }
    assert (
        http.send(
            fm, "POST", f"{P}/rule-versions", {"document": rules, "published_on": "2019-01-01"}
        ).status_code
        == 201
    )
    assert (
        http.send(
            fm,
            "POST",
            f"{P}/contributions",
            {"party_id": fund, "amount": "10000000.00", "contributed_on": "2019-01-01"},
        ).status_code
        == 201
    )


@given(parsers.parse('"{bank}" has enrolled and disbursed loan "{loan}" of {amount} over HTTP'))
def enrolled(http: Http, bank: str, loan: str, amount: str) -> None:
    principal = str(yuan(amount))
    body = {
        "loan_ref": loan,
        "borrower_name": f"Fictional {loan}",
        "borrower_uscc": make_uscc(f"914106000000{ord(loan[0]):05d}"),
        "product": "tech_loan",
        "principal": principal,
        "rate_bp": 450,
        "term_months": 24,
        "enrolled_on": "2019-02-01",
    }
    assert http.send(bank, "POST", f"{P}/banks/{bank}/loans", body).status_code == 201
    assert (
        http.send(
            bank,
            "POST",
            f"{P}/banks/{bank}/loans/{loan}/disbursement",
            {"amount": principal, "disbursed_on": "2019-02-02"},
        ).status_code
        == 201
    )


@given(
    parsers.parse('loan "{loan}" of "{bank}" has defaulted and "{bank2}" has filed a claim of {amount} on it')
)
def defaulted_and_claimed(http: Http, loan: str, bank: str, bank2: str, amount: str) -> None:
    path = f"{P}/banks/{bank}/loans/{loan}"
    assert (
        http.send(
            bank, "POST", f"{path}/default", {"overdue_days": 95, "defaulted_on": "2019-08-01"}
        ).status_code
        == 201
    )
    assert (
        http.send(
            bank2, "POST", f"{path}/claims", {"claimed": str(yuan(amount)), "filed_on": "2019-08-10"}
        ).status_code
        == 201
    )


@given(parsers.parse('the key of "{who}" has been revoked'))
def revoked(http: Http, who: str) -> None:
    http.system.ledger.revoke_key(OPERATOR, http.keys[who][0], "the bank replaced its loan system")


@when(parsers.parse('"{who}" lists the loans of the pool'))
@when(parsers.parse("the {who} lists the loans of the pool"))
def lists_loans(http: Http, who: str) -> None:
    http.send(who, "GET", f"{P}/loans?after_position={http.written}")


@when(parsers.parse('"{who}" asks for loan "{loan}" of "{bank}"'))
def asks_for_loan(http: Http, who: str, loan: str, bank: str) -> None:
    http.send(who, "GET", f"{P}/banks/{bank}/loans/{loan}")


@when(parsers.parse('"{who}" records a repayment of {amount} on loan "{loan}" of "{bank}"'))
def repays(http: Http, who: str, amount: str, loan: str, bank: str) -> None:
    http.send(
        who,
        "POST",
        f"{P}/banks/{bank}/loans/{loan}/repayments",
        {"principal": str(yuan(amount)), "interest": "0", "repaid_on": "2019-03-01"},
    )


@when(parsers.parse('the {who} approves the claim on loan "{loan}" for {amount}'))
@when(parsers.parse('checker "{who}" approves the claim on loan "{loan}" for {amount}'))
def approves(http: Http, who: str, loan: str, amount: str) -> None:
    claim = f"bank-a:{loan}:claim:1"
    http.send(
        who,
        "POST",
        f"{P}/claims/{claim}/approvals",
        {"amount": str(yuan(amount)), "approved_on": "2019-09-01"},
    )


@then(parsers.parse('it sees only the loans "{loans}"'))
def sees_only(http: Http, loans: str) -> None:
    assert http.answer.status_code == 200, http.answer.text
    assert [item["loan_ref"] for item in http.answer.json()["items"]] == loans.split(", ")


@then(parsers.parse('the answer is {status:d} "{code}"'))
def answer_is(http: Http, status: int, code: str) -> None:
    assert http.answer.status_code == status, http.answer.text
    assert http.answer.headers["content-type"] == "application/problem+json"
    assert http.answer.json()["code"] == code


@then("nothing was recorded")
def nothing_recorded(http: Http) -> None:
    assert http.system.ledger.recorder.max_notification_id() == http.events_before


@then(parsers.parse("the answer is {status:d} and the claim awaits a second approval"))
def awaits(http: Http, status: int) -> None:
    assert http.answer.status_code == status and http.answer.json()["status"] == "awaiting_second_approval"


@then(parsers.parse("the answer is {status:d} and the claim is approved"))
def approved(http: Http, status: int) -> None:
    assert http.answer.status_code == status and http.answer.json()["status"] == "approved"
