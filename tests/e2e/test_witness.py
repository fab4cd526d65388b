"""Attack 4 of issue 11: an outside witness. A regulator runs `riskpool audit witness` against a
real `riskpool serve`; it keeps every head it accepts, follows an endorsed key rotation, and exits
non-zero, naming the sizes, when the ledger goes back (restored from an older backup), starts a new
chain, or changes its key without the old key's endorsement."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import RISKPOOL, Server, start_server, stop

STATE = "witness-state"


def riskpool(server: Server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*RISKPOOL, *args], env=server.env, capture_output=True, text=True)


def write_and_seal(server: Server, fm: str, regulator: str, scheme: str) -> dict:
    """Record a fact (a new scheme) and have the ledger sign a tree head of it."""
    created = server.client(fm).post(
        "/v1/schemes", json={"scheme_id": scheme, "name": f"pool {scheme}", "created_on": "2019-01-01"}
    )
    assert created.status_code == 201, created.text
    sealed = server.client(regulator).post("/v1/audit/tree-heads")
    assert sealed.status_code == 201, sealed.text
    return sealed.json()


def witness(server: Server, regulator: str, state: Path) -> subprocess.CompletedProcess:
    return riskpool(
        server, "audit", "witness", "--url", server.url, "--key", regulator, "--state", str(state)
    )


def restart(server: Server, tmp_path: Path) -> Server:
    stop(server)
    return start_server(server.env["RISKPOOL_DATABASE_URL"], tmp_path)


def test_a_witness_keeps_each_head_that_extends_the_last_and_verify_accepts_its_store(
    server_on_each_store: Server, tmp_path: Path
) -> None:
    server = server_on_each_store
    fm, regulator = server.key("fund_manager", "desk"), server.key("regulator", "auditor")
    state = tmp_path / STATE
    first = write_and_seal(server, fm, regulator, "w1")
    kept = witness(server, regulator, state)
    assert kept.returncode == 0 and "first head kept" in kept.stdout, kept.stdout + kept.stderr
    assert (state / "public-key").read_text().strip() == first["public_key"]
    second = write_and_seal(server, fm, regulator, "w2")
    grown = witness(server, regulator, state)
    assert grown.returncode == 0 and f"extends the kept head of size {first['size']}" in grown.stdout
    heads = [json.loads(line) for line in (state / "heads.jsonl").read_text().splitlines()]
    assert [h["sequence"] for h in heads] == [first["sequence"], second["sequence"]]
    verified = riskpool(server, "audit", "verify", "--digest", str(state))
    assert verified.returncode == 0 and "extends the 2 kept head(s)" in verified.stdout, verified.stdout


def test_the_server_appends_every_head_to_a_plain_file_outside_the_database(tmp_path: Path) -> None:
    heads_file = tmp_path / "worm" / "heads.jsonl"
    heads_file.parent.mkdir()
    server = start_server(
        f"sqlite:///{tmp_path / 'riskpool.db'}", tmp_path, RISKPOOL_AUDIT_HEADS_FILE=str(heads_file)
    )
    try:
        fm, regulator = server.key("fund_manager", "desk"), server.key("regulator", "auditor")
        for scheme in ("a", "b"):
            write_and_seal(server, fm, regulator, scheme)
        served = server.client(regulator).get("/v1/audit/tree-heads").json()
    finally:
        stop(server)
    kept = [json.loads(line) for line in heads_file.read_text().splitlines()]
    assert kept == served and len(kept) == 2


def test_a_witness_refuses_a_ledger_restored_from_an_older_backup(tmp_path: Path) -> None:
    server = start_server(f"sqlite:///{tmp_path / 'riskpool.db'}", tmp_path)
    fm, regulator = server.key("fund_manager", "desk"), server.key("regulator", "auditor")
    write_and_seal(server, fm, regulator, "a")
    stop(server)
    assert riskpool(server, "backup", "--include-key", str(tmp_path / "older")).returncode == 0
    server = start_server(server.env["RISKPOOL_DATABASE_URL"], tmp_path)
    newer = write_and_seal(server, fm, regulator, "b")
    state = tmp_path / STATE
    assert witness(server, regulator, state).returncode == 0
    stop(server)
    assert riskpool(server, "restore", "--force", str(tmp_path / "older")).returncode == 0
    server = start_server(server.env["RISKPOOL_DATABASE_URL"], tmp_path)
    try:
        refused = witness(server, regulator, state)
    finally:
        stop(server)
    assert refused.returncode == 1 and "rollback" in refused.stdout, refused.stdout
    assert f"size {newer['size']}" in refused.stdout.replace("\n", " ")


def test_a_witness_follows_an_endorsed_key_rotation_and_refuses_a_key_swapped_behind_its_back(
    tmp_path: Path,
) -> None:
    server = start_server(f"sqlite:///{tmp_path / 'riskpool.db'}", tmp_path)
    fm, regulator = server.key("fund_manager", "desk"), server.key("regulator", "auditor")
    first = write_and_seal(server, fm, regulator, "a")
    state = tmp_path / STATE
    assert witness(server, regulator, state).returncode == 0
    stop(server)
    rotated = riskpool(server, "audit", "rotate-key")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    server = start_server(server.env["RISKPOOL_DATABASE_URL"], tmp_path)
    write_and_seal(server, fm, regulator, "b")
    followed = witness(server, regulator, state)
    assert followed.returncode == 0 and "followed the key rotation" in followed.stdout, followed.stdout
    assert (state / "public-key").read_text().strip() != first["public_key"]
    stop(server)

    # An operator (or an intruder on the host) swaps in a key of their own and starts over.
    key = Path(server.env["RISKPOOL_AUDIT_KEY_FILE"])
    key.unlink()
    Path(f"{key}.heads").unlink()
    started = riskpool(server, "audit", "seal", "--new-chain", "--reason", "lost the key")
    assert started.returncode == 0, started.stdout + started.stderr
    server = start_server(server.env["RISKPOOL_DATABASE_URL"], tmp_path)
    try:
        refused = witness(server, regulator, state)
    finally:
        stop(server)
    assert refused.returncode == 1 and "did not endorse" in refused.stdout.replace("\n", " "), refused.stdout


@pytest.mark.parametrize("reason", ["rebuilt after a disk failure"])
def test_a_witness_refuses_a_new_chain_naming_its_reason(tmp_path: Path, reason: str) -> None:
    server = start_server(f"sqlite:///{tmp_path / 'riskpool.db'}", tmp_path)
    fm, regulator = server.key("fund_manager", "desk"), server.key("regulator", "auditor")
    write_and_seal(server, fm, regulator, "a")
    state = tmp_path / STATE
    assert witness(server, regulator, state).returncode == 0
    stop(server)
    assert riskpool(server, "projections", "rebuild", "--new-chain", "--reason", reason).returncode == 0
    server = start_server(server.env["RISKPOOL_DATABASE_URL"], tmp_path)
    try:
        refused = witness(server, regulator, state)
    finally:
        stop(server)
    assert (
        refused.returncode == 1
        and "new chain" in refused.stdout
        and reason in refused.stdout.replace("\n", " ")
    )
