"""An API over an in-memory ledger, a populated pool, and a key for every role (TestClient)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.actors import Actor, Role
from riskpool.bootstrap import System, build_system
from riskpool.settings import Settings

TODAY = date(2026, 11, 27)
SCHEME = "pool"
RULES = {
    "effective_from": "2018-01-02",
    "eligibility": {"principal_max": "30000000.00", "term_months_max": 36},
    "default_after_overdue_days": 90,
    "claim_window_days": 365,
    "second_approval_from": "1000000.00",
    "leverage_multiple": 10,
    "recovery_costs_max_bp": 500,
    "covers": {
        "guaranteed": {
            "split": {"guarantor": 4000, "prov-reguarantee": 3000, "bank": 2000, "city-fund": 1000}
        },
        "direct": {"split": {"city-fund": 4000, "bank": "remainder"}},
        "insured": {"split": {"bank": 2000, "insurer": 8000}},
    },
}
PARTIES = [
    ("bank-a", "bank"),
    ("bank-b", "bank"),
    ("guar-a", "guarantor"),
    ("ins-a", "insurer"),
    ("prov-reguarantee", "government"),
    ("city-fund", "government"),
]
OPERATOR = Actor("operator:test", Role.FUND_MANAGER)


@dataclass
class Api:
    client: TestClient
    system: System
    tokens: dict[str, str]  # "fm", "fm2", "regulator", and each party id

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def post(self, who: str, path: str, body: dict | None = None, **headers: str):
        return self.client.post(path, json=body, headers=self.as_(who) | headers)

    def written(self) -> int:
        return self.system.ledger.recorder.max_notification_id() or 0

    def get(self, who: str, path: str, **params: object):
        """A read that waits until the read models have applied everything written so far."""
        return self.client.get(
            path, params={"after_position": self.written()} | params, headers=self.as_(who)
        )


def issue_keys(system: System) -> dict[str, str]:
    tokens = {}
    for name, role, party in [
        ("fm", "fund_manager", None),
        ("fm2", "fund_manager", None),
        ("regulator", "regulator", None),
        *[(p, r, p) for p, r in PARTIES],
    ]:
        tokens[name] = system.ledger.issue_key(
            OPERATOR, role=role, party_id=party, name=name, principal_id=name
        ).token
    return tokens


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """A ledger on each store with the pool's parties registered and admitted, the rules published."""
    system = build_system(Settings(database_url=database_url), clock=lambda: TODAY)
    fm = Actor("fm", Role.FUND_MANAGER)
    ledger = system.ledger
    ledger.create_scheme(fm, SCHEME, "API pool", created_on=date(2018, 1, 2))
    for party, role in PARTIES:
        ledger.register_party(fm, party, role, party.upper(), registered_on=date(2018, 1, 2))
        ledger.admit_member(fm, SCHEME, party, admitted_on=date(2018, 1, 2))
    ledger.publish_rules(fm, SCHEME, RULES, published_on=date(2018, 1, 2))
    tokens = issue_keys(system)
    with TestClient(create_app(system)) as client:
        yield Api(client, system, tokens)
    system.close()


def uscc(n: int) -> str:
    from ledger.uscc import make_uscc

    return make_uscc(f"9141060000{n:07d}")
