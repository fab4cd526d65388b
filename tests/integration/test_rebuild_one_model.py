"""`riskpool projections rebuild --model NAME` on SQLite and PostgreSQL: one model's tables dropped
and replayed, the others left exactly as they are; the audit model's own rebuild goes through the
same tamper checks as a rebuild of everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.world import TODAY
from ledger.service import Ledger
from riskpool.settings import Settings
from tests.integration.test_projections import busy_world, settle_and_recover
from tests.integration.test_tamper_attacks import (
    raise_repaid_principal,
    read_models,
    run,
    signed_heads,
    within,
)


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A ledger with W1, its payments and a recovery, projected and sealed; its CLI's environment."""
    env = {
        "RISKPOOL_DATABASE_URL": database_url,
        "RISKPOOL_AUDIT_KEY_FILE": str(tmp_path / "riskpool.audit-key"),
        "COLUMNS": "250",
    }
    ledger = Ledger(env=Settings(database_url=database_url).event_store_env(), clock=lambda: TODAY)
    settle_and_recover(busy_world(ledger))
    ledger.close()
    assert run(env, "audit", "seal").exit_code == 0
    return env


def test_rebuilding_one_model_replays_it_alone_and_leaves_the_others_as_they_were(
    store: dict[str, str],
) -> None:
    """A row of the loans model and one of the journal are spoiled; rebuilding the journal mends
    its own and leaves the loan as it was (the others are not touched), until the loans model's
    turn."""
    read_models(store, "UPDATE rp_loans SET rate_bp = 9999")
    read_models(store, "UPDATE rp_party_totals SET balance_fen = balance_fen + 1 WHERE kind = 'cash'")
    checked = run(store, "projections", "check")
    assert checked.exit_code == 1 and "rp_loans" in checked.output and "rp_party_totals" in checked.output

    rebuilt = run(store, "projections", "rebuild", "--model", "journal")
    assert rebuilt.exit_code == 0 and "Rebuilt the journal read model to position" in rebuilt.output
    checked = run(store, "projections", "check")
    assert checked.exit_code == 1 and "rp_loans" in checked.output and "rp_party_totals" not in checked.output

    assert run(store, "projections", "rebuild", "--model", "loans").exit_code == 0
    assert run(store, "projections", "check").exit_code == 0


def test_rebuilding_the_audit_model_alone_refuses_an_edited_history_and_drops_nothing(
    store: dict[str, str],
) -> None:
    position = raise_repaid_principal(store)
    read_models(store, "DELETE FROM rp_signed_heads")
    signed = signed_heads(store)
    rebuilt = run(store, "projections", "rebuild", "--model", "audit")
    assert rebuilt.exit_code == 1 and "nothing was dropped" in rebuilt.output, rebuilt.output
    assert within(rebuilt.output, position), rebuilt.output
    assert signed_heads(store) == signed  # nothing was signed
    # A model of figures has no tree to protect: it replays the log as the store holds it.
    assert run(store, "projections", "rebuild", "--model", "loans").exit_code == 0
    assert signed_heads(store) == signed


def test_rebuilding_the_audit_model_alone_signs_the_tree_it_replayed(store: dict[str, str]) -> None:
    before = signed_heads(store)
    rebuilt = run(store, "projections", "rebuild", "--model", "audit")
    assert rebuilt.exit_code == 0 and "Rebuilt the audit read model" in rebuilt.output, rebuilt.output
    assert signed_heads(store) == before  # the replayed tree is the one last signed: no new head
    assert run(store, "audit", "verify").exit_code == 0
    assert run(store, "projections", "check").exit_code == 0


def test_an_unknown_model_and_a_new_chain_for_a_model_of_figures_are_refused(store: dict[str, str]) -> None:
    unknown = run(store, "projections", "rebuild", "--model", "ledger")
    assert (
        unknown.exit_code == 1 and "no read model 'ledger'" in unknown.output and "journal" in unknown.output
    )
    chained = run(store, "projections", "rebuild", "--model", "loans", "--new-chain", "--reason", "why not")
    assert chained.exit_code == 1 and "rebuild the audit model" in chained.output
