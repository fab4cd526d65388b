"""Schemathesis against the API, as the fund manager ("fm") and as a bank ("bank-a"): no operation
answers with a 5xx, and every answer is one the OpenAPI document describes (a documented status
code, a documented content type, a body and headers that validate against the documented schemas).

Bounded: one fresh, populated ledger per operation (on each store the `api` fixture runs on), a few
generated requests each (valid and invalid ones) besides the document's own examples, every one sent
with both keys, no shrinking, no coverage phase; then a few short stateful sequences per key, each on
a fresh in-memory ledger. Runs differ (new random data each time); a failure prints a curl command
that reproduces it, and the key it was sent with.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from ledger.actors import Actor, Role
from ledger.money import Money, parse_fen
from ledger.service import Enrolment
from ledger.uscc import make_uscc
from riskpool.bootstrap import build_system
from riskpool.settings import Settings
from tests.api.conftest import PARTIES, RULES, SCHEME, TODAY, Api, issue_keys

# Generated requests per operation, each sent with both keys; besides them, the document's examples.
# A longer fuzz run by hand: RISKPOOL_FUZZ_EXAMPLES=100 pytest tests/api/test_schemathesis.py
MAX_EXAMPLES = int(os.environ.get("RISKPOOL_FUZZ_EXAMPLES", "6"))
STATEFUL_SCENARIOS, STATEFUL_STEPS = max(5, MAX_EXAMPLES // 2), 6  # per key
WHO = ["fm", "bank-a"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Ids the seeded ledger holds; path parameters are drawn from these about half the time, so that the
# run reaches the handlers past their 404s (an id as generated almost never names anything).
KNOWN = {
    "scheme_id": [SCHEME],
    "bank_id": ["bank-a", "bank-b"],
    "loan_ref": ["L1", "L2", "L3", "B1"],
    "claim_id": ["bank-a:L1:claim:1", "bank-a:L3:claim:1"],
    "party_id": ["bank-a", "bank-b", "guar-a", "ins-a", "prov-reguarantee", "city-fund"],
    "number": [1],
    "breaker": ["bank_loss_rate:bank-a"],
}


def _load_schema() -> schemathesis.BaseSchema:
    """The document as the app serves it at /v1/openapi.json (an app that follows no log: the
    document does not depend on the ledger, and schemathesis keeps this app's lifespan)."""
    system = build_system(Settings(database_url="memory://"), clock=lambda: TODAY)
    config = schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "no-shrink": True,
                "database": "none",
            },
            # The coverage phase is not bounded by max-examples (it is dozens of requests per operation).
            "phases": {"coverage": {"enabled": False}},
        }
    )
    return schemathesis.openapi.from_asgi("/v1/openapi.json", create_app(system, follow=False), config=config)


schema = _load_schema()


@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict) -> st.SearchStrategy:
    names = [name for name in path_parameters or {} if name in KNOWN]
    if not names:
        return st.just(path_parameters)
    known = st.fixed_dictionaries({name: st.sampled_from(KNOWN[name]) for name in names})
    return st.one_of(st.just(path_parameters), known.map(lambda ids: {**path_parameters, **ids}))


def seed(api: Api) -> None:
    """Funds, four loans and targets, through the ledger (as the `api` fixture populates it): bank-a's
    L1 defaulted, its claim approved, part paid and a recovery recorded; L2 active and insured; L3
    defaulted, its claim awaiting review; bank-b's B1 active."""
    ledger = api.system.ledger
    fm, fm2 = Actor("fm", Role.FUND_MANAGER), Actor("fm2", Role.FUND_MANAGER)
    party = {p: Actor(p, Role(r), party_id=p) for p, r in PARTIES}
    for fund in ("prov-reguarantee", "city-fund"):
        ledger.record_contribution(fm, SCHEME, fund, yuan("10000000.00"), contributed_on=date(2018, 2, 1))

    def enrol(bank: str, ref: str, n: int, cover: str, cover_party: str | None) -> None:
        terms = Enrolment(
            ref,
            f"Borrower {n}",
            make_uscc(f"91410600MA000000{n}"),
            "tech_loan",
            yuan("2000000.00"),
            450,
            24,
            date(2019, 2, 1),
            cover,
            cover_party,
        )
        ledger.enrol_loan(party[bank], SCHEME, bank, terms)
        ledger.disburse(party[bank], SCHEME, bank, ref, yuan("2000000.00"), disbursed_on=date(2019, 2, 2))

    bank = party["bank-a"]
    enrol("bank-a", "L1", 1, "guaranteed", "guar-a")
    ledger.repay(
        bank,
        SCHEME,
        "bank-a",
        "L1",
        principal=yuan("1200000.00"),
        interest=yuan("0"),
        repaid_on=date(2019, 5, 2),
    )
    ledger.declare_default(bank, SCHEME, "bank-a", "L1", overdue_days=91, defaulted_on=date(2019, 9, 1))
    claim = ledger.file_claim(
        bank, SCHEME, "bank-a", "L1", yuan("800000.00"), filed_on=date(2019, 9, 10)
    ).claim_id
    assert claim == KNOWN["claim_id"][0]
    ledger.approve_claim(fm, SCHEME, claim, yuan("800000.00"), approved_on=date(2019, 10, 1))
    ledger.pay_settlement(
        party["guar-a"], SCHEME, claim, "guar-a", yuan("320000.00"), paid_on=date(2019, 11, 1)
    )
    ledger.record_recovery(
        bank, SCHEME, claim, gross=yuan("100000.00"), costs=yuan("1000.00"), recovered_on=date(2020, 1, 15)
    )

    enrol("bank-a", "L2", 2, "insured", "ins-a")
    ledger.record_premium(party["ins-a"], SCHEME, "bank-a", "L2", yuan("5000.00"), paid_on=date(2019, 2, 3))

    enrol("bank-a", "L3", 3, "guaranteed", "guar-a")
    ledger.declare_default(bank, SCHEME, "bank-a", "L3", overdue_days=120, defaulted_on=date(2019, 8, 1))
    claim = ledger.file_claim(
        bank, SCHEME, "bank-a", "L3", yuan("1500000.00"), filed_on=date(2019, 8, 10)
    ).claim_id
    assert claim == KNOWN["claim_id"][1]
    ledger.approve_claim(
        fm2, SCHEME, claim, yuan("1500000.00"), approved_on=date(2019, 9, 1)
    )  # awaits a checker

    enrol("bank-b", "B1", 4, "direct", None)
    targets = [
        {
            "target_id": "lending-2020",
            "metric": "cumulative_lending",
            "amount": "100000000.00",
            "by": "2020-12-31",
        },
        {"target_id": "firms-2020", "metric": "firms_served", "count": 50, "by": "2020-12-31"},
    ]
    ledger.set_targets(fm, SCHEME, targets, set_on=date(2018, 2, 1))
    # The reads see all of it before the first request.
    api.system.runner.wait_for(ledger.recorder.max_notification_id() or 0, timeout=10)


def yuan(text: str) -> Money:
    return Money(parse_fen(text, allow_zero=True))


@pytest.fixture
def seeded(api: Api) -> Api:
    seed(api)
    return api


@pytest.fixture
def session(seeded: Api) -> asgi.ASGIClient:
    """The app the fixture started (its projections following the log), reached in-process. Not entered
    as a context manager, so schemathesis does not start the app's lifespan a second time."""
    return asgi.get_client(seeded.client.app)


SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking, no replay of earlier failures
    # One ledger serves every example of an operation, as a server would; the others are about how
    # fast or how often data is generated, never about the API's answers.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@schema.parametrize()
@SETTINGS
def test_api_conforms_to_its_openapi_document(
    case: schemathesis.Case, seeded: Api, session: asgi.ASGIClient
) -> None:
    # Every generated request is sent with each key in turn (one ledger per operation, not per key:
    # half the set-up of a run per key, for the same requests).
    for who in WHO:
        try:
            case.call_and_validate(session=session, headers=seeded.as_(who), checks=CHECKS)
        except Exception as error:
            error.add_note(f"(sent with the {who!r} key: Authorization: Bearer <its token>)")
            raise


@contextmanager
def pool_api() -> Iterator[Api]:
    """A fresh app, built as the `api` fixture builds it (in memory), and seeded."""
    system = build_system(Settings(database_url="memory://"), clock=lambda: TODAY)
    fm = Actor("fm", Role.FUND_MANAGER)
    system.ledger.create_scheme(fm, SCHEME, "API pool", created_on=date(2018, 1, 2))
    for party, role in PARTIES:
        system.ledger.register_party(fm, party, role, party.upper(), registered_on=date(2018, 1, 2))
        system.ledger.admit_member(fm, SCHEME, party, admitted_on=date(2018, 1, 2))
    system.ledger.publish_rules(fm, SCHEME, RULES, published_on=date(2018, 1, 2))
    try:
        with TestClient(create_app(system)) as client:
            api = Api(client, system, issue_keys(system))
            seed(api)
            yield api
    finally:
        system.close()


@pytest.mark.parametrize("who", WHO)
def test_stateful_sequences_conform_too(who: str) -> None:
    """Short sequences that feed one answer's ids into the next request (links schemathesis infers
    from the document), with the same checks at every step. Each sequence starts from a fresh ledger:
    one left over from an earlier sequence would make hypothesis's replays differ from its runs."""

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.stack = ExitStack()
            self.api = self.stack.enter_context(pool_api())
            self.session = asgi.get_client(self.api.client.app)

        def teardown(self) -> None:
            self.stack.close()

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"session": self.session, "headers": self.api.as_(who)}

        def validate_response(
            self,
            response: schemathesis.Response,
            case: schemathesis.Case,
            additional_checks: list | None = None,
            **kwargs: Any,
        ) -> None:
            # The same checks as above, and only those (schemathesis's defaults add others).
            case.validate_response(
                response, checks=CHECKS, headers=kwargs.get("headers"), recorder=self.recorder
            )

    Workflow.run(
        settings=hypothesis.settings(
            SETTINGS, max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS
        )
    )
