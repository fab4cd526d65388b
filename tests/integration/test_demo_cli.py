"""`riskpool demo`: deterministic for a seed, shown again when re-run, careful with real ledgers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from features.world import fund_manager
from ledger.service import Ledger
from riskpool.cli import app
from riskpool.demo import schemes_in

runner = CliRunner()


def _run(tmp: Path, *args: str):
    url = f"sqlite:///{tmp / 'riskpool.db'}"
    return runner.invoke(app, ["demo", *args], env={"RISKPOOL_DATABASE_URL": url, "COLUMNS": "200"})


def _facts(db: Path) -> list[tuple[str, dict]]:
    """The recorded facts without their recording times (which differ from run to run)."""
    ledger = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db)})
    rows = ledger.recorder.select_notifications(start=1, limit=1_000_000)
    facts = []
    for row in rows:
        state = json.loads(row.state)
        state.pop("timestamp", None)
        facts.append((row.topic, state))
    ledger.close()
    return facts


def test_the_demo_builds_a_pilot_and_prints_what_a_fund_manager_sees_first(tmp_path: Path) -> None:
    result = _run(tmp_path, "--seed", "2018")
    assert result.exit_code == 0, result.output
    for heading in ("Fund balances", "What each party owes", "Loss ratios", "Circuit breakers"):
        assert heading in result.output
    ledger = Ledger(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "riskpool.db")}
    )
    scheme = ledger.scheme("hebi-pilot-2018")
    assert scheme.demo and len(scheme.government_parties()) == 3
    assert sorted(p for p, m in scheme.members.items() if m["role"] == "bank") == [
        "chaoge-bank",
        "qihe-bank",
        "taihang-bank",
        "yunmeng-bank",
    ]
    tripped = [key for key, state in scheme.breakers.items() if state["tripped"]]
    assert tripped == ["bank_loss_rate:chaoge-bank"]
    assert (
        sum(
            1
            for _ in ledger.recorder.select_notifications(
                1, 100_000, topics=["ledger.domain.loan:Loan.Enrolled"]
            )
        )
        >= 200
    )
    topics = {row.topic.rsplit(".", 1)[-1] for row in ledger.recorder.select_notifications(1, 100_000)}
    for fact in (
        "Repaid",
        "Defaulted",
        "FirstApproved",
        "Approved",
        "Rejected",
        "SettlementPaid",
        "RecoveryRecorded",
        "RecoveryPartPaid",
        "WrittenOff",
        "PremiumRecorded",
        "GuaranteeFeeRecorded",
        "BreakerTripped",
        "ContributionRecorded",
    ):
        assert fact in topics, fact
    ledger.close()


def test_the_same_seed_records_the_same_pilot_to_the_fen(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert _run(tmp_path / "a", "--seed", "7").exit_code == 0
    assert _run(tmp_path / "b", "--seed", "7").exit_code == 0
    assert _facts(tmp_path / "a" / "riskpool.db") == _facts(tmp_path / "b" / "riskpool.db")


def test_running_the_demo_again_shows_the_ledger_as_it_stands(tmp_path: Path) -> None:
    assert _run(tmp_path, "--seed", "3").exit_code == 0
    before = _facts(tmp_path / "riskpool.db")
    again = _run(tmp_path, "--seed", "3")
    assert again.exit_code == 0 and "already in this ledger" in again.output
    assert _facts(tmp_path / "riskpool.db") == before


def test_the_demo_refuses_a_ledger_with_real_schemes_unless_forced(tmp_path: Path) -> None:
    db = tmp_path / "riskpool.db"
    ledger = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db)})
    ledger.create_scheme(fund_manager(), "real-pool", "A real pool", created_on=date(2020, 1, 1))
    ledger.close()
    before = _facts(db)
    refused = _run(tmp_path)
    assert refused.exit_code == 2 and "real-pool" in refused.output
    assert _facts(db) == before
    forced = _run(tmp_path, "--force")
    assert forced.exit_code == 0, forced.output
    ledger = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db)})
    assert schemes_in(ledger) == {"real-pool": False, "hebi-pilot-2018": True}
    ledger.close()


def test_projections_rebuild_and_check_and_an_as_of_report_on_the_demo(tmp_path: Path) -> None:
    env = {"RISKPOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'riskpool.db'}", "COLUMNS": "200"}
    assert runner.invoke(app, ["demo", "--seed", "11"], env=env).exit_code == 0
    assert (tmp_path / "riskpool.projections.db").exists()
    checked = runner.invoke(app, ["projections", "check"], env=env)
    assert checked.exit_code == 0 and "equal a fresh rebuild" in checked.output, checked.output
    rebuilt = runner.invoke(app, ["projections", "rebuild"], env=env)
    assert rebuilt.exit_code == 0 and "Rebuilt the projections" in rebuilt.output, rebuilt.output
    assert runner.invoke(app, ["projections", "check"], env=env).exit_code == 0
    then = runner.invoke(app, ["report", "hebi-pilot-11", "--as-of-date", "2018-12-31"], env=env)
    assert then.exit_code == 0, then.output
    assert "as of 2018-12-31" in then.output and "nobody owes anything" in then.output
    unknown = runner.invoke(app, ["report", "no-such-pool"], env=env)
    assert unknown.exit_code == 1 and "unknown_scheme" in unknown.output


def test_projections_check_reports_a_tampered_read_model(tmp_path: Path) -> None:
    import sqlite3

    env = {"RISKPOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'riskpool.db'}", "COLUMNS": "200"}
    assert runner.invoke(app, ["demo", "--seed", "12"], env=env).exit_code == 0
    with sqlite3.connect(tmp_path / "riskpool.projections.db") as db:
        db.execute("UPDATE rp_schemes SET exposure_fen = exposure_fen + 1")
    checked = runner.invoke(app, ["projections", "check"], env=env)
    assert checked.exit_code == 1 and "rp_schemes" in checked.output and "1 difference" in checked.output


def test_a_backup_restored_elsewhere_with_its_key_verifies_and_equals_a_rebuild(tmp_path: Path) -> None:
    live, restored = tmp_path / "live", tmp_path / "restored"
    live.mkdir()
    restored.mkdir()
    env = {"RISKPOOL_DATABASE_URL": f"sqlite:///{live / 'riskpool.db'}", "COLUMNS": "200"}
    assert runner.invoke(app, ["demo", "--seed", "5"], env=env).exit_code == 0
    taken = runner.invoke(app, ["backup", "--include-key", str(tmp_path / "backup")], env=env)
    assert taken.exit_code == 0 and "backed up" in taken.output
    assert runner.invoke(app, ["backup", str(tmp_path / "backup")], env=env).exit_code != 0  # no overwrite

    there = {"RISKPOOL_DATABASE_URL": f"sqlite:///{restored / 'riskpool.db'}", "COLUMNS": "200"}
    assert runner.invoke(app, ["restore", str(tmp_path / "backup")], env=there).exit_code == 0
    refused = runner.invoke(app, ["restore", str(tmp_path / "backup")], env=there)
    assert refused.exit_code == 2 and "--force" in refused.output
    verified = runner.invoke(app, ["audit", "verify"], env=there)
    assert verified.exit_code == 0 and "verified" in verified.output, verified.output
    assert runner.invoke(app, ["projections", "check"], env=there).exit_code == 0
    assert _facts(restored / "riskpool.db") == _facts(live / "riskpool.db")
    for secret in ("riskpool.audit-key", "riskpool.audit-key.heads"):
        assert (restored / secret).stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "backup" / secret.replace("riskpool.", "")).stat().st_mode & 0o777 == 0o600


def test_a_backup_leaves_the_signing_key_out_and_a_store_restored_without_it_is_not_vouched_for(
    tmp_path: Path,
) -> None:
    """Attack 3: whoever gets a backup should not get the key that signs tree heads with it."""
    live, restored = tmp_path / "live", tmp_path / "restored"
    live.mkdir()
    restored.mkdir()
    env = {"RISKPOOL_DATABASE_URL": f"sqlite:///{live / 'riskpool.db'}", "COLUMNS": "200"}
    assert runner.invoke(app, ["demo", "--seed", "5"], env=env).exit_code == 0
    taken = runner.invoke(app, ["backup", str(tmp_path / "backup")], env=env)
    assert taken.exit_code == 0 and "not in the backup" in taken.output
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == [
        "events.db",
        "manifest.json",
        "projections.db",
    ]
    assert all(p.stat().st_mode & 0o077 == 0 for p in (tmp_path / "backup").iterdir())
    there = {"RISKPOOL_DATABASE_URL": f"sqlite:///{restored / 'riskpool.db'}", "COLUMNS": "200"}
    assert runner.invoke(app, ["restore", str(tmp_path / "backup")], env=there).exit_code == 0
    verified = runner.invoke(app, ["audit", "verify"], env=there)
    assert verified.exit_code == 1 and "not in the signer's record" in verified.output, verified.output
    sealed = runner.invoke(app, ["audit", "seal"], env=there)
    assert sealed.exit_code == 1 and "no record of" in sealed.output, sealed.output


def test_every_file_the_ledger_writes_is_its_owners_alone(tmp_path: Path) -> None:
    """Attack 12: the databases, their -wal and -shm files and backups were created 0644. Run as a
    user would (`riskpool demo` in its own process, whatever the shell's umask), and in process with
    a permissive umask (the files are made 0600 before SQLite opens them)."""
    import os
    import subprocess
    import sys

    env = os.environ | {"RISKPOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'riskpool.db'}", "COLUMNS": "200"}
    made = subprocess.run(
        [sys.executable, "-c", "import os; os.umask(0o022); from riskpool.cli import main; main()", "demo"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    backed = subprocess.run(
        [sys.executable, "-c", "from riskpool.cli import main; main()", "backup", str(tmp_path / "b")],
        env=env,
        capture_output=True,
    )
    assert backed.returncode == 0
    written = [p for p in [*tmp_path.iterdir(), *(tmp_path / "b").iterdir()] if p.is_file()]
    assert {p.name for p in written} >= {"riskpool.db", "riskpool.projections.db", "riskpool.audit-key"}
    assert [(p.name, oct(p.stat().st_mode & 0o777)) for p in written if p.stat().st_mode & 0o077] == []
    assert (tmp_path / "b").stat().st_mode & 0o077 == 0

    inside = tmp_path / "in-process"
    inside.mkdir()
    previous = os.umask(0o022)
    try:
        assert _run(inside).exit_code == 0
    finally:
        os.umask(previous)
    for name in ("riskpool.db", "riskpool.projections.db"):
        for each in inside.glob(f"{name}*"):
            assert each.stat().st_mode & 0o077 == 0, (each.name, oct(each.stat().st_mode))


def test_the_report_never_cuts_a_figure_on_a_narrow_terminal(tmp_path: Path) -> None:
    """On an 80-column terminal the report once printed `13608532.…`: every amount and ratio of
    every table is now printed whole, whatever the width (names fold onto further lines instead)."""
    from projections import reports
    from riskpool.bootstrap import build_system
    from riskpool.settings import Settings

    url = f"sqlite:///{tmp_path / 'riskpool.db'}"
    assert runner.invoke(app, ["demo", "--seed", "2018"], env={"RISKPOOL_DATABASE_URL": url}).exit_code == 0
    system = build_system(Settings(database_url=url))
    with system.store.engine.connect() as conn:
        funds = list(reports.funds(conn, "hebi-pilot-2018"))
        ratios = list(reports.loss_ratios(conn, "hebi-pilot-2018"))
    system.close()
    from ledger.money import format_fen

    figures = [format_fen(f.balance_fen) for f in funds] + [format_fen(f.payments_fen) for f in funds]
    figures += [format_fen(r.loss_fen) for r in ratios] + [format_fen(r.base_fen) for r in ratios]
    assert any(len(f) >= 11 for f in figures)
    for width in ("80", "60"):
        shown = runner.invoke(
            app, ["report", "hebi-pilot-2018"], env={"RISKPOOL_DATABASE_URL": url, "COLUMNS": width}
        )
        assert shown.exit_code == 0, shown.output
        assert "…" not in shown.output
        for figure in figures:
            assert figure in shown.output, (width, figure)
        for fund in funds:  # no column is squeezed out: a fund's name of 12 characters shows whole
            assert fund.party_id in shown.output, (width, fund.party_id)
