"""The tamper-evidence attacks of issue 11 (RELIABILITY.md, "attacks tried"), on SQLite and
PostgreSQL: an attacker who can write to the database edits an event, recomputes its leaf, deletes
the signed heads, rebuilds, truncates; the key's file is exposed; the key is rotated. `verify`,
`seal` and `projections rebuild` must exit non-zero and name what changed, and sign nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result

from features.world import SCHEME, TODAY, fund_manager, yuan
from ledger.service import Ledger
from projections.audit.heads import AuditKeyExposed, Signer
from projections.store import ProjectionStore
from riskpool.bootstrap import build_system
from riskpool.cli import app
from riskpool.settings import Settings
from tests.integration.test_audit import row, sql
from tests.integration.test_projections import busy_world, settle_and_recover
from tools.verify_export import canonical_bytes, leaf_hash

cli = CliRunner()


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A ledger with W1, its payments and a recovery, and 1,000 contributions (more than one
    sealing interval), projected and sealed by its own signer; the environment of its CLI."""
    env = {
        "RISKPOOL_DATABASE_URL": database_url,
        "RISKPOOL_AUDIT_KEY_FILE": str(tmp_path / "riskpool.audit-key"),
        "COLUMNS": "250",
    }
    settings = Settings(database_url=database_url, audit_key_file=tmp_path / "riskpool.audit-key")
    ledger = Ledger(env=settings.event_store_env(), clock=lambda: TODAY)
    settle_and_recover(busy_world(ledger))
    for _ in range(1000):
        ledger.record_contribution(
            fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2020, 1, 1)
        )
    ledger.close()
    assert run(env, "audit", "seal").exit_code == 0
    return env


def run(env: dict[str, str], *args: str) -> Result:
    return cli.invoke(app, list(args), env=env)


def store_env(env: dict[str, str]) -> dict[str, str]:
    return Settings(database_url=env["RISKPOOL_DATABASE_URL"]).event_store_env()


def read_models(env: dict[str, str], statement: str, **params: object) -> None:
    engine = create_engine(Settings(database_url=env["RISKPOOL_DATABASE_URL"]).read_models_url())
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def signed_heads(env: dict[str, str]) -> list[str]:
    """The signer's record of heads, as it stands."""
    return Path(env["RISKPOOL_AUDIT_KEY_FILE"] + ".heads").read_text().splitlines()


def position_of(env: dict[str, str], fact: str) -> int:
    ledger = Ledger(env=store_env(env))
    found = [n.id for n in ledger.recorder.select_notifications(1, 100_000) if n.topic.endswith(f".{fact}")]
    ledger.close()
    return found[0]


def raise_repaid_principal(env: dict[str, str]) -> int:
    """Edit a repayment's principal up by 1,000,000.00 yuan, as valid JSON, and recompute its
    row in rp_leaves, as a database administrator covering their tracks would."""
    position = position_of(env, "Repaid")
    originator_id, version, topic, state = row(store_env(env), position)
    edited = re.sub(
        rb'"principal_fen":(\d+)',
        lambda m: b'"principal_fen":%d' % (int(m.group(1)) + 100_000_000),
        bytes(state),
    )
    assert edited != bytes(state) and json.loads(edited)
    sql(
        store_env(env),
        [("UPDATE stored_events SET state = %s WHERE notification_id = %s", (edited, position))],
    )
    uuid = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    leaf = leaf_hash(canonical_bytes(position, uuid.bytes, version, topic, edited)).hex()
    read_models(
        env, "UPDATE rp_leaves SET hash = :leaf WHERE position = :position", leaf=leaf, position=position
    )
    return position


def within(output: str, position: int) -> bool:
    """The output names the position, or a range of at most 32 events holding it."""
    if re.search(rf"\bpositions? {position}\b", output):
        return True
    for low, high in re.findall(r"first difference lies between positions (\d+) and (\d+)", output):
        if int(low) <= position <= int(high) and int(high) - int(low) < 32:
            return True
    return False


def test_deleting_the_heads_no_longer_defeats_verify(store: dict[str, str]) -> None:
    """Attack 2: edit one event, recompute its leaf, `delete from rp_tree_heads`."""
    position = raise_repaid_principal(store)
    read_models(store, "DELETE FROM rp_signed_heads")
    verified = run(store, "audit", "verify")
    assert verified.exit_code == 1, verified.output
    assert "missing from the store: it was deleted" in verified.output
    assert within(verified.output, position), verified.output


def test_verify_never_passes_on_zero_heads_for_a_log_longer_than_one_sealing_interval(
    store: dict[str, str], tmp_path: Path
) -> None:
    """Attack 2, with the signer's record gone as well (an attacker on the application host)."""
    read_models(store, "DELETE FROM rp_signed_heads")
    (tmp_path / "riskpool.audit-key.heads").unlink()
    verified = run(store, "audit", "verify")
    assert (
        verified.exit_code == 1 and "no_heads" in verified.output and "no signed tree head" in verified.output
    )


def test_a_deleted_head_in_the_middle_of_the_chain_is_a_named_gap(store: dict[str, str]) -> None:
    for day in (2, 3):  # heads #2 and #3
        ledger = Ledger(env=store_env(store), clock=lambda: TODAY)
        ledger.record_contribution(
            fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2020, 1, day)
        )
        ledger.close()
        assert run(store, "audit", "seal").exit_code == 0
    read_models(store, "DELETE FROM rp_signed_heads WHERE sequence = 2")
    verified = run(store, "audit", "verify")
    assert verified.exit_code == 1 and "head #2 " in verified.output and "was deleted" in verified.output
    sealed = run(store, "audit", "seal")
    assert sealed.exit_code == 1 and "lost tree head(s) #2 " in sealed.output, sealed.output


def test_the_signers_last_head_lost_by_a_crash_before_it_was_stored_is_stored_again(
    store: dict[str, str],
) -> None:
    ledger = Ledger(env=store_env(store), clock=lambda: TODAY)
    ledger.record_contribution(
        fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2020, 1, 2)
    )
    ledger.close()
    assert run(store, "audit", "seal").exit_code == 0
    read_models(store, "DELETE FROM rp_signed_heads WHERE sequence = 2")
    assert run(store, "audit", "seal").exit_code == 0
    assert run(store, "audit", "verify").exit_code == 0


def test_a_rebuild_refuses_to_sign_an_edited_history_and_names_where(store: dict[str, str]) -> None:
    """Attack 3: edit an event, delete the heads, `riskpool projections rebuild`."""
    position = raise_repaid_principal(store)
    read_models(store, "DELETE FROM rp_signed_heads")
    signed = signed_heads(store)
    rebuilt = run(store, "projections", "rebuild")
    assert rebuilt.exit_code == 1 and "refused" in rebuilt.output, rebuilt.output
    assert within(rebuilt.output, position), rebuilt.output
    assert signed_heads(store) == signed  # nothing was signed


def test_read_models_dropped_and_replayed_from_an_edited_log_are_not_signed(store: dict[str, str]) -> None:
    """Attack 3, by hand: edit an event and drop the read models, so that the next start replays
    the edited log into a fresh tree; sealing it is refused, naming where the log differs."""
    position = raise_repaid_principal(store)
    signed = signed_heads(store)
    store_engine = create_engine(Settings(database_url=store["RISKPOOL_DATABASE_URL"]).read_models_url())
    ProjectionStore(store_engine).drop()
    store_engine.dispose()
    sealed = run(store, "audit", "seal")
    assert sealed.exit_code == 1 and "refused to sign" in sealed.output, sealed.output
    assert within(sealed.output, position), sealed.output
    assert signed_heads(store) == signed


def test_a_rebuild_refuses_a_log_whose_last_unsealed_event_was_deleted(store: dict[str, str]) -> None:
    """Attack 3: delete the last, unsealed event and rebuild: the rebuild signs the tree it held,
    unsealed events included, before it drops anything, and the shorter log no longer verifies."""
    ledger = Ledger(env=store_env(store), clock=lambda: TODAY)
    ledger.record_contribution(
        fund_manager(), SCHEME, "city-fund", yuan("7.00"), contributed_on=date(2020, 1, 3)
    )
    last = ledger.recorder.max_notification_id()
    ledger.close()
    assert run(store, "report", SCHEME).exit_code == 0  # projected, not yet sealed
    sql(store_env(store), [("DELETE FROM stored_events WHERE notification_id = %s", (last,))])
    rebuilt = run(store, "projections", "rebuild")
    assert rebuilt.exit_code == 1 and f"position {last}" in rebuilt.output, rebuilt.output
    assert "nothing was dropped" in rebuilt.output


def test_a_new_chain_is_an_explicit_act_that_verify_reports(store: dict[str, str]) -> None:
    raise_repaid_principal(store)
    assert run(store, "projections", "rebuild", "--new-chain").exit_code == 1  # no reason, no new chain
    reason = "restored from the backup of 2020-01-02 after a disk failure"
    rebuilt = run(store, "projections", "rebuild", "--new-chain", "--reason", reason)
    assert rebuilt.exit_code == 0, rebuilt.output
    verified = run(store, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "a new chain was started" in verified.output and reason in verified.output.replace("\n", " ")


def test_a_signing_key_readable_by_others_is_refused_naming_the_file_and_the_fix(
    store: dict[str, str], tmp_path: Path
) -> None:
    """Attack 1: a key file of mode 0644 (as the one once committed to the repository)."""
    key = tmp_path / "riskpool.audit-key"
    key.chmod(0o644)
    refused = run(store, "audit", "verify")
    assert refused.exit_code == 1 and str(key) in refused.output.replace("\n", "")
    assert f"chmod 600 {key}" in refused.output.replace("\n", "")
    with pytest.raises(AuditKeyExposed):
        Signer.from_file(key)
    key.chmod(0o600)
    (tmp_path / "riskpool.audit-key.heads").chmod(0o640)
    assert run(store, "audit", "verify").exit_code == 1


def test_the_repository_holds_no_signing_key_and_ignores_them() -> None:
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    assert not [f for f in tracked if "audit-key" in f]
    for name in ("riskpool.audit-key", "x/riskpool.audit-key.heads", "riskpool.projections.db.runner-lock"):
        assert subprocess.run(["git", "check-ignore", "-q", name]).returncode == 0, name


def test_a_rotated_key_is_followed_by_a_verifier_pinned_to_the_old_one(
    store: dict[str, str], tmp_path: Path
) -> None:
    old = Signer.from_file(tmp_path / "riskpool.audit-key").public_hex
    rotated = run(store, "audit", "rotate-key")
    assert rotated.exit_code == 0, rotated.output
    new = Signer.from_file(tmp_path / "riskpool.audit-key").public_hex
    assert new != old and not (tmp_path / "riskpool.audit-key.new").exists()
    verified = run(store, "audit", "verify")
    assert verified.exit_code == 0 and "rotated" in verified.output, verified.output
    exported = run(store, "audit", "export", "--output", str(tmp_path / "export.jsonl"))
    assert exported.exit_code == 0, exported.output
    checked = subprocess.run(
        ["python", "tools/verify_export.py", str(tmp_path / "export.jsonl"), "--public-key", old],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": os.getcwd()},
    )
    assert checked.returncode == 0 and "signed by the pinned key" in checked.stdout, checked.stdout
    # A head signed by another key that the old one never endorsed is not followed.
    head = json.loads((tmp_path / "export.jsonl").read_text().splitlines()[-1])
    forged = head | {"rotations": [r | {"endorsement": "00" * 64} for r in head["rotations"]]}
    lines = [*(tmp_path / "export.jsonl").read_text().splitlines()[:-1], json.dumps(forged)]
    (tmp_path / "forged.jsonl").write_text("\n".join(lines) + "\n")
    refused = subprocess.run(
        ["python", "tools/verify_export.py", str(tmp_path / "forged.jsonl"), "--public-key", old],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1 and "not endorsed" in refused.stdout


def test_a_store_that_went_back_to_an_older_state_is_refused_and_a_new_chain_recorded(
    database_url: str, tmp_path: Path
) -> None:
    """The signer's record is newer than the store (restored from an older backup, or heads and
    events rolled back together): sealing is refused until the operator starts a new chain."""
    system = build_system(
        Settings(database_url=database_url, audit_key_file=tmp_path / "k"), clock=lambda: TODAY
    )
    settle_and_recover(busy_world(system.ledger))
    system.runner.catch_up()
    first = system.runner.seal()
    system.ledger.record_contribution(
        fund_manager(), SCHEME, "city-fund", yuan("1.00"), contributed_on=date(2020, 1, 1)
    )
    system.runner.catch_up()
    system.runner.seal()
    system.close()
    env = {
        "RISKPOOL_DATABASE_URL": database_url,
        "RISKPOOL_AUDIT_KEY_FILE": str(tmp_path / "k"),
        "COLUMNS": "250",
    }
    sql(store_env(env), [("DELETE FROM stored_events WHERE notification_id > %s", (first.size,))])
    read_models(env, "DELETE FROM rp_signed_heads WHERE sequence > 1")
    rebuilt = run(env, "projections", "rebuild")
    assert rebuilt.exit_code == 1 and "truncated" in rebuilt.output, rebuilt.output
