"""A small cluster of real servers on one PostgreSQL schema, clients that retry with the same
Idempotency-Key, and the checks that nothing was lost, doubled or let through."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from ledger.actors import Actor, Role
from ledger.domain import Claim, Scheme
from ledger.domain.request import Request
from ledger.money import Money
from ledger.service import Ledger
from projections import reports, tables as t
from projections.audit.heads import Signer
from projections.audit.verify import verify_log
from projections.check import differences
from projections.runner import Runner
from projections.store import ProjectionStore, make_engine
from riskpool.settings import Settings
from tests.e2e.conftest import RISKPOOL, free_port

SCHEME = "load"
BANKS = ["bank-1", "bank-2", "bank-3", "bank-4"]
FUND = "city-fund"
OPERATOR = Actor("operator:reliability", Role.FUND_MANAGER)
KEY_PEPPER = "reliability-test-pepper-not-a-secret"  # the servers' and the key issuer's, as in production
RULES = {
    "effective_from": "2019-01-01",
    "eligibility": {"principal_max": "30000000.00", "term_months_max": 36},
    "default_after_overdue_days": 90,
    "claim_window_days": 365,
    "second_approval_from": "5000000.00",
    "leverage_multiple": 10,
    "recovery_costs_max_bp": 500,
    "covers": {"direct": {"split": {FUND: 4000, "bank": "remainder"}}},
}
CONTRIBUTION = "10000000.00"  # 10 x 10,000,000.00 of room: filled within the run, then contended
RETRY_SECONDS = 45.0


@dataclass
class Node:
    """One `riskpool` process: a server, or the projection runner on its own."""

    args: list[str]
    env: dict[str, str]
    port: int | None = None
    process: subprocess.Popen | None = None
    kills: int = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [*RISKPOOL, *self.args], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if self.port is None:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.args} did not start")

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, whatever was in flight is cut."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class Cluster:
    database_url: str
    tmp: Path
    servers: list[Node] = field(default_factory=list)
    runner: Node | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return os.environ | {
            "RISKPOOL_DATABASE_URL": self.database_url,
            "RISKPOOL_KEY_PEPPER": KEY_PEPPER,  # `riskpool serve` refuses to start without one
            "PYTHONPATH": os.getcwd(),
            "RISKPOOL_AUDIT_KEY_FILE": str(self.tmp / "audit-key"),
        }

    def add_server(self, *, runner: bool) -> Node:
        port = free_port()
        node = Node(["serve", "--port", str(port), *([] if runner else ["--no-runner"])], self.env(), port)
        self.servers.append(node)
        return node

    def add_runner(self) -> Node:
        self.runner = Node(["projections", "run"], self.env())
        return self.runner

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{s.port}" for s in self.servers]

    def stop(self) -> None:
        for node in [*self.servers, *([self.runner] if self.runner else [])]:
            node.stop()


def prepare(cluster: Cluster) -> None:
    """Parties, the scheme, its rules and a contribution, and a key for every client."""
    settings = Settings(database_url=cluster.database_url)
    ledger = Ledger(env=settings.event_store_env(), key_pepper=KEY_PEPPER.encode())
    fm = Actor("fm-setup", Role.FUND_MANAGER)
    day = date(2019, 1, 1)
    ledger.create_scheme(fm, SCHEME, "Load pool", created_on=day)
    for party, role in [*((b, "bank") for b in BANKS), (FUND, "government")]:
        ledger.register_party(fm, party, role, party, registered_on=day)
        ledger.admit_member(fm, SCHEME, party, admitted_on=day)
    ledger.publish_rules(fm, SCHEME, RULES, published_on=day)
    ledger.record_contribution(fm, SCHEME, FUND, Money.yuan(CONTRIBUTION), contributed_on=day)
    for name, role, party in [
        ("fm-a", "fund_manager", None),
        ("fm-b", "fund_manager", None),
        *((b, "bank", b) for b in BANKS),
    ]:
        cluster.tokens[name] = ledger.issue_key(
            OPERATOR, role=role, party_id=party, name=name, principal_id=name
        ).token
    ledger.close()


@dataclass
class Outcome:
    principal: str
    key: str
    status: int
    body: dict[str, Any]


class Client:
    """One client's session: each write carries an Idempotency-Key and is retried with it on a
    dropped connection or a 5xx until answered (a crashed server may or may not have recorded it)."""

    def __init__(
        self,
        name: str,
        principal: str,
        token: str,
        urls: list[str],
        outcomes: list[Outcome],
        lock: threading.Lock,
    ) -> None:
        self.name, self.principal, self.urls, self.outcomes, self.lock = name, principal, urls, outcomes, lock
        self.headers = {"Authorization": f"Bearer {token}"}
        self.http = httpx.Client(timeout=10)
        self.sequence = 0
        self.retries = 0

    def write(self, path: str, body: dict[str, Any]) -> httpx.Response | None:
        self.sequence += 1
        key = f"{self.name}-{self.sequence}"
        deadline = time.monotonic() + RETRY_SECONDS
        while time.monotonic() < deadline:
            url = random.choice(self.urls)
            try:
                answer = self.http.post(
                    f"{url}{path}", json=body, headers=self.headers | {"Idempotency-Key": key}
                )
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code < 500:
                with self.lock:
                    self.outcomes.append(Outcome(self.principal, key, answer.status_code, answer.json()))
                return answer
            self.retries += 1
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: {path} got no answer within {RETRY_SECONDS} s")

    def read(self, path: str, **params: Any) -> dict[str, Any] | None:
        try:
            answer = self.http.get(f"{random.choice(self.urls)}{path}", params=params, headers=self.headers)
        except httpx.HTTPError:
            return None
        return answer.json() if answer.status_code == 200 else None


def bank_work(client: Client, bank: str, until: float, rng: random.Random) -> None:
    """Until the deadline: enrol and disburse loans (competing for leverage), repay some (which
    frees leverage again), default and claim on others."""
    base = f"/v1/schemes/{SCHEME}/banks/{bank}/loans"
    n = 0
    while time.monotonic() < until:
        n += 1
        ref = f"{client.name}-L{n}"
        principal = f"{rng.choice([300, 500, 800, 1200]) * 1000}.00"
        enrolled = client.write(
            base,
            {
                "loan_ref": ref,
                "borrower_name": f"Fictional {ref}",
                "borrower_uscc": uscc(client.name, n),
                "product": "tech_loan",
                "principal": principal,
                "rate_bp": 450,
                "term_months": 24,
                "enrolled_on": "2019-02-01",
            },
        )
        if enrolled.status_code != 201:
            continue
        client.write(f"{base}/{ref}/disbursement", {"amount": principal, "disbursed_on": "2019-02-02"})
        if rng.random() < 0.4:
            client.write(
                f"{base}/{ref}/repayments",
                {"principal": "100000.00", "interest": "1000.00", "repaid_on": "2019-03-02"},
            )
        if rng.random() < 0.5:
            client.write(f"{base}/{ref}/default", {"overdue_days": 95, "defaulted_on": "2019-09-01"})
            client.write(f"{base}/{ref}/claims", {"claimed": "200000.00", "filed_on": "2019-09-05"})
            client.write(
                f"{base}/{ref}/claims", {"claimed": "150000.00", "filed_on": "2019-09-06"}
            )  # refused


def fund_manager_work(client: Client, stop: threading.Event) -> None:
    """Approve filed claims and pay the fund's share; two fund managers race for the same claims."""
    claims = f"/v1/schemes/{SCHEME}/claims"
    while not stop.is_set():
        filed = client.read(claims, status="filed", limit=50) or {"items": []}
        for claim in filed["items"]:
            client.write(
                f"{claims}/{claim['claim_id']}/approvals",
                {"amount": claim["claimed"], "approved_on": "2019-10-01"},
            )
        approved = client.read(claims, status="approved", limit=50) or {"items": []}
        for claim in approved["items"]:
            client.write(
                f"{claims}/{claim['claim_id']}/payments",
                {"party_id": FUND, "amount": "80000.00", "paid_on": "2019-11-01"},
            )
        stop.wait(0.05)


def uscc(name: str, n: int) -> str:
    from ledger.uscc import make_uscc

    return make_uscc(f"9141060000{abs(hash((name, n))) % 10**7:07d}")


def run_load(
    cluster: Cluster, *, clients_per_bank: int, seconds: float, fund_managers: int = 2, seed: int = 7
) -> tuple[list[Outcome], int]:
    """Run the clients for `seconds`; returns every answer they saw, and their retries."""
    until = time.monotonic() + seconds
    outcomes: list[Outcome] = []
    lock, stop = threading.Lock(), threading.Event()
    clients = []
    threads = []
    for i, bank in enumerate(b for b in BANKS for _ in range(clients_per_bank)):
        client = Client(f"{bank}-c{i}", bank, cluster.tokens[bank], cluster.urls(), outcomes, lock)
        clients.append(client)
        threads.append(
            threading.Thread(target=bank_work, args=(client, bank, until, random.Random(seed + i)))
        )
    managers = [
        Client(name, name, cluster.tokens[name], cluster.urls(), outcomes, lock)
        for name in ("fm-a", "fm-b")[:fund_managers]
    ]
    manager_threads = [threading.Thread(target=fund_manager_work, args=(m, stop)) for m in managers]
    for thread in [*threads, *manager_threads]:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    for thread in manager_threads:
        thread.join()
    return outcomes, sum(c.retries for c in [*clients, *managers])


def check_everything(cluster: Cluster, outcomes: list[Outcome]) -> dict[str, int]:
    """Every invariant of the reliability issue; returns the figures for RELIABILITY.md."""
    settings = Settings(database_url=cluster.database_url)
    ledger = Ledger(env=settings.event_store_env())
    store = ProjectionStore(make_engine(settings.read_models_url()))
    store.create()
    runner = Runner(ledger, store, signer=Signer.from_file(cluster.tmp / "audit-key"))
    runner.catch_up()
    events = [ledger.mapper.to_domain_event(n) for n in ledger.recorder.select_notifications(1, 10_000_000)]

    # Every acknowledged write is recorded exactly once; every refused one is not recorded at all.
    requests = Counter((e.principal_id, e.idempotency_key) for e in events if isinstance(e, Request.Recorded))
    receipts = {
        (e.principal_id, e.idempotency_key): e.receipt for e in events if isinstance(e, Request.Recorded)
    }
    accepted = [o for o in outcomes if o.status < 300]
    refused = [o for o in outcomes if o.status >= 400]
    lost = [o for o in accepted if requests[(o.principal, o.key)] == 0]
    doubled = [k for k, n in requests.items() if n > 1]
    leaked = [o for o in refused if requests[(o.principal, o.key)]]
    mismatched = [o for o in accepted if receipts[(o.principal, o.key)]["fact_id"] != o.body["fact_id"]]
    assert not lost and not doubled and not leaked and not mismatched, (lost[:3], doubled[:3], leaked[:3])

    # Leverage was never exceeded: exposure after every enrolment within 10 x contributions.
    exposure = paid_in = 0
    for e in events:
        if isinstance(e, Scheme.ContributionRecorded):
            paid_in += e.amount_fen
        elif isinstance(e, Scheme.LoanEnrolled):
            exposure += e.principal_fen
            assert exposure <= 10 * paid_in, f"leverage exceeded at {e.loan_ref}: {exposure} > {10 * paid_in}"
        elif isinstance(e, Scheme.ExposureReleased):
            exposure -= e.amount_fen

    # No claim allocated twice; no loan with two live claims; no payment above what was owed.
    approvals = Counter(e.originator_id for e in events if isinstance(e, Claim.Approved))
    assert all(n == 1 for n in approvals.values())
    with store.engine.connect() as conn:
        live = conn.execute(
            select(t.claims.c.bank_id, t.claims.c.loan_ref, func.count())
            .where(t.claims.c.status != "rejected")
            .group_by(t.claims.c.bank_id, t.claims.c.loan_ref)
            .having(func.count() > 1)
        ).all()
        assert live == []
        overpaid = conn.execute(
            select(t.claim_parties).where(t.claim_parties.c.paid_fen > t.claim_parties.c.allocated_fen)
        ).all()
        assert overpaid == []
        assert reports.trial_balance(conn, SCHEME, in_full=True) == 0
        for fund in reports.funds(conn, SCHEME):
            assert fund.balance_fen >= 0

    # The projections equal a fresh rebuild, and the log verifies against every signed tree head.
    assert differences(ledger, store) == []
    runner.seal()
    signer = runner.signer
    verified = verify_log(
        ledger.recorder,
        store.engine,
        public_key=signer.public_hex,
        signed=signer.signed(),
        blocks=signer.blocks(),
    )
    assert verified.ok, [str(f) for f in verified.findings]
    figures = {
        "writes acknowledged": len(accepted),
        "writes refused": len(refused),
        "refusals": dict(Counter(o.body.get("code") for o in refused).most_common()),
        "events": len(events),
        "approvals": sum(approvals.values()),
        "lost": len(lost),
        "duplicated": len(doubled),
        "refused but recorded": len(leaked),
        "tree heads verified": verified.heads_checked,
    }
    store.engine.dispose()
    ledger.close()
    return figures
