"""Attack 5 of issue 11: the standalone export verifier once passed dropped, duplicated, swapped
and truncated lines, edited readable fields, and forged exports without a key. Each is refused
here, naming the line, on exports taken from SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from features.world import SCHEME
from ledger.actors import Actor, Role
from projections.audit.export import export
from tests.integration.test_audit import audited
from tools import verify_export
from tools.verify_export import Failed, head_message, leaf_hash, root, schemes_root

Lines = list[str]


@pytest.fixture
def exports(store_env: dict[str, str], read_models_url: str) -> tuple[Lines, Lines, str]:
    """A whole-log export, a one-scheme export, and the ledger's public key."""
    ledger, store, runner = audited(store_env, read_models_url)
    issued = ledger.issue_key(
        Actor("operator", Role.FUND_MANAGER), role="regulator", party_id=None, name="auditor"
    )
    ledger.revoke_key(Actor("operator", Role.FUND_MANAGER), issued.key_id, "audit finished")
    runner.catch_up()
    head = runner.seal()
    taken = []
    for scheme in (None, SCHEME):
        out = io.StringIO()
        export(ledger.recorder, store.engine, head, out, scheme_id=scheme)
        taken.append(out.getvalue().splitlines())
    store.engine.dispose()
    ledger.close()
    return taken[0], taken[1], runner.signer.public_hex


def line_of(lines: Lines, fact: str) -> int:
    return next(i for i, line in enumerate(lines) if json.loads(line).get("fact") == fact)


def test_both_exports_verify_with_the_pinned_key(exports: tuple[Lines, Lines, str]) -> None:
    whole, scheme, key = exports
    assert "(the whole log)" in verify_export.verify(whole, key)
    assert f"(all of scheme {SCHEME})" in verify_export.verify(scheme, key)


def dropped(lines: Lines) -> Lines:
    i = line_of(lines, "Approved")
    return lines[:i] + lines[i + 1 :]


def duplicated(lines: Lines) -> Lines:
    i = line_of(lines, "Approved")
    return [*lines[: i + 1], lines[i], *lines[i + 1 :]]


def swapped(lines: Lines) -> Lines:
    i = line_of(lines, "Approved")
    return [*lines[:i], lines[i + 1], lines[i], *lines[i + 2 :]]


def head_only(lines: Lines) -> Lines:
    return lines[-1:]


def readable_edit(field: str, change: Callable[[dict], None]) -> Callable[[Lines], Lines]:
    def edit(lines: Lines) -> Lines:
        i = line_of(lines, "Repaid")
        line = json.loads(lines[i])
        change(line)
        return [*lines[:i], json.dumps(line), *lines[i + 1 :]]

    edit.__name__ = f"edited_{field}"
    return edit


def raise_principal(line: dict) -> None:
    line["state"]["principal_fen"] += 100_000_000  # 1,000,000.00 yuan more repaid, in the readable state


ATTACKS = [
    (dropped, "line"),
    (duplicated, "repeats"),
    (swapped, "line"),
    (head_only, "missing"),
    (readable_edit("state", raise_principal), "readable state"),
    (
        readable_edit("actor", lambda line: line["actor"].update(principal_id="fm-someone-else")),
        "readable actor",
    ),
    (readable_edit("fact", lambda line: line.update(fact="RepaymentReversed")), "fact"),
    (readable_edit("business_date", lambda line: line.update(business_date="2019-01-01")), "business_date"),
    (
        readable_edit("recorded_at", lambda line: line.update(recorded_at="2019-01-01T00:00:00+00:00")),
        "recorded_at",
    ),
]


@pytest.mark.parametrize("kind", ["whole", "scheme"])
@pytest.mark.parametrize(("attack", "named"), ATTACKS, ids=[a.__name__ for a, _ in ATTACKS])
def test_an_altered_export_is_refused_naming_what_changed(
    exports: tuple[Lines, Lines, str], kind: str, attack: Callable[[Lines], Lines], named: str
) -> None:
    whole, scheme, key = exports
    lines = whole if kind == "whole" else scheme
    with pytest.raises(Failed, match=named):
        verify_export.verify(attack(lines), key)


def forge(lines: Lines) -> Lines:
    """Raise a repayment and recompute everything a forger can: the line's bytes and leaf hash,
    the root, and a head signed with the forger's own key."""
    events = [json.loads(line) for line in lines[:-1]]
    i = next(n for n, line in enumerate(events) if line["fact"] == "Repaid")
    state = json.loads(bytes.fromhex(events[i]["state_hex"]))
    state["principal_fen"] += 100_000_000
    stored = json.dumps(state, separators=(",", ":")).encode()
    events[i] |= {"state_hex": stored.hex(), "state": state}
    uuid = bytes.fromhex(events[i]["originator_id"])
    data = verify_export.canonical_bytes(
        events[i]["position"], uuid, events[i]["version"], events[i]["topic"], stored
    )
    events[i]["leaf_hash"] = leaf_hash(data).hex()
    head = json.loads(lines[-1])
    head["root"] = root([bytes.fromhex(e["leaf_hash"]) for e in events]).hex()
    trees: dict[str, list[bytes]] = {}
    for e in events:
        trees.setdefault(e["scheme_id"], []).append(bytes.fromhex(e["leaf_hash"]))
    head["schemes_root"] = schemes_root({s: (len(t), root(t).hex()) for s, t in trees.items()}).hex()
    forger = Ed25519PrivateKey.generate()
    head["public_key"] = forger.public_key().public_bytes_raw().hex()
    head["signature"] = forger.sign(head_message(head)).hex()
    return [*(json.dumps(e) for e in events), json.dumps(head)]


def test_a_forged_export_is_refused_without_a_key_and_with_the_pinned_one(
    exports: tuple[Lines, Lines, str], tmp_path: Path
) -> None:
    whole, _, key = exports
    forged = forge(whole)
    with pytest.raises(Failed, match="signature not checked"):
        verify_export.verify(forged, None)
    with pytest.raises(Failed, match="pinned key"):
        verify_export.verify(forged, key)
    # The command line says it too, and exits 1 unless told that an unsigned export will do.
    (tmp_path / "forged.jsonl").write_text("\n".join(forged) + "\n")
    tool = [sys.executable, "tools/verify_export.py", str(tmp_path / "forged.jsonl")]
    refused = subprocess.run(tool, capture_output=True, text=True)
    assert refused.returncode == 1 and "signature not checked" in refused.stdout
    accepted = subprocess.run([*tool, "--unsigned-ok"], capture_output=True, text=True)
    assert accepted.returncode == 0 and "signature not checked" in accepted.stdout


def test_an_api_keys_secret_hash_is_withheld_and_its_place_in_the_log_still_proved(
    exports: tuple[Lines, Lines, str],
) -> None:
    """Finding 11: the export, like the audit API, never shows a key's secret hash."""
    whole, _, key = exports
    assert "secret_hash" not in "\n".join(whole)
    withheld = [i for i, line in enumerate(whole) if "withheld" in json.loads(line)]
    assert len(withheld) == 1  # the key's Issued event; its revocation holds no secret
    line = json.loads(whole[withheld[0]])
    assert line["fact"] == "Issued" and "state_hex" not in line and len(line["state_sha256"]) == 64
    assert "(the whole log)" in verify_export.verify(whole, key)
    altered = dict(line, state_sha256="00" * 32)
    with pytest.raises(Failed, match=f"line {withheld[0] + 1}"):
        verify_export.verify([*whole[: withheld[0]], json.dumps(altered), *whole[withheld[0] + 1 :]], key)
    smuggled = dict(line, state={"secret_hash": "a readable field the bytes cannot vouch for"})
    with pytest.raises(Failed, match="readable state"):
        verify_export.verify([*whole[: withheld[0]], json.dumps(smuggled), *whole[withheld[0] + 1 :]], key)
