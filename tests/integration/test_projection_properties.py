"""The read models under random command sequences: after every step the trial balance is zero,
no debt is negative, each claim's allocations add up to its approved amount, every fund balance
is contributions − payments + recovery parts received (and equals the domain's), and the live
tables equal a fresh rebuild of the log."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import StaticPool

from projections import reports, tables as t
from projections.check import differences
from projections.runner import Runner
from projections.store import ProjectionStore
from tests.unit.test_ledger_properties import FUNDS, LedgerMachine, S


class ProjectedLedgerMachine(LedgerMachine):
    def runner(self) -> Runner:
        if not hasattr(self, "_runner"):
            engine = create_engine(
                "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
            store = ProjectionStore(engine)
            store.create()
            self._runner = Runner(self.app, store, batch=7)  # small batches: many commits per step
        self._runner.catch_up()
        return self._runner

    @invariant()
    def read_models_reconcile(self) -> None:
        if not hasattr(self, "app"):
            return
        runner = self.runner()
        with runner.store.engine.connect() as conn:
            assert reports.trial_balance(conn, S, in_full=True) == 0
            owed = reports.owed(conn, S)  # asserts that no debt is negative
            assert all(d.amount_fen > 0 for d in owed.totals + owed.net)
            allocated = dict(
                conn.execute(
                    select(t.claim_parties.c.claim_id, func.sum(t.claim_parties.c.allocated_fen)).group_by(
                        t.claim_parties.c.claim_id
                    )
                ).all()
            )
            approved = dict(
                conn.execute(
                    select(t.claims.c.claim_id, t.claims.c.approved_fen).where(
                        t.claims.c.approved_fen.is_not(None)
                    )
                ).all()
            )
            assert allocated == approved
            scheme = self.app.scheme(S)
            for fund in reports.funds(conn, S):  # asserts cash = contributions − payments + recoveries
                assert fund.balance_fen == scheme.fund_balance(fund.party_id)
                assert fund.contributions_fen == scheme.contributed.get(fund.party_id, 0)
            assert {f.party_id for f in reports.funds(conn, S)} == set(FUNDS)
            assert reports.scheme_row(conn, S)["exposure_fen"] == scheme.exposure_fen
        assert differences(self.app, runner.store) == []


TestReadModelInvariants = ProjectedLedgerMachine.TestCase
TestReadModelInvariants.settings = settings(
    max_examples=15,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
