"""The audit API: the history with its corrections, aggregates as they stood, tree heads and proofs
a regulator can check with the standalone verifier's own functions; and attribution no body can
forge."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest

from api.logs import JsonLines
from tests.api.conftest import SCHEME, Api, uscc
from tools.verify_export import (
    head_hash,
    head_message,
    verify,
    verify_consistency,
    verify_inclusion,
    verify_signature,
)

LOAN = f"/v1/schemes/{SCHEME}/banks/bank-a/loans/L1"


def loan_with_a_corrected_repayment(api: Api) -> str:
    api.post(
        "fm",
        f"/v1/schemes/{SCHEME}/contributions",
        {"party_id": "city-fund", "amount": "10000000.00", "contributed_on": "2018-02-01"},
    )
    api.post(
        "bank-a",
        f"/v1/schemes/{SCHEME}/banks/bank-a/loans",
        {
            "loan_ref": "L1",
            "borrower_name": "Fictional Co",
            "borrower_uscc": uscc(5),
            "product": "tech_loan",
            "principal": "1000000.00",
            "rate_bp": 450,
            "term_months": 24,
            "enrolled_on": "2019-01-02",
        },
    )
    api.post("bank-a", f"{LOAN}/disbursement", {"amount": "1000000.00", "disbursed_on": "2019-01-03"})
    wrong = api.post(
        "bank-a", f"{LOAN}/repayments", {"principal": "100000.00", "interest": "0", "repaid_on": "2019-02-01"}
    ).json()["fact_id"]
    api.post(
        "bank-a",
        f"/v1/schemes/{SCHEME}/reversals",
        {"fact_id": wrong, "reason": "keyed 100,000.00 for 10,000.00", "reversed_on": "2019-02-02"},
    )
    api.post(
        "bank-a", f"{LOAN}/repayments", {"principal": "10000.00", "interest": "0", "repaid_on": "2019-02-01"}
    )
    return wrong


def test_the_history_shows_each_reversal_with_the_fact_it_reverses_and_who_recorded_it(api: Api) -> None:
    wrong = loan_with_a_corrected_repayment(api)
    events = api.get("regulator", "/v1/audit/events", loan_ref="L1", scheme_id=SCHEME).json()["items"]
    facts = [(e["fact"], e["principal_id"]) for e in events]
    assert facts == [
        ("Enrolled", "bank-a"),
        ("Disbursed", "bank-a"),
        ("Repaid", "bank-a"),
        ("RepaymentReversed", "bank-a"),
        ("Repaid", "bank-a"),
    ]
    repaid, reversal = events[2], events[3]
    assert (
        reversal["reverses"] == wrong == repaid["fact_id"] and repaid["reversed_by"] == reversal["position"]
    )
    history = api.get("fm", f"{LOAN}/history").json()
    assert [h["figures"]["principal_repaid_fen"] for h in history] == [0, 0, 10_000_000, 0, 1_000_000]
    by_party = api.get("regulator", "/v1/audit/events", party_id="city-fund").json()["items"]
    assert [e["fact"] for e in by_party] == ["Registered", "PartyAdmitted", "Issued", "ContributionRecorded"]
    assert api.get("bank-a", "/v1/audit/events").status_code == 403


def test_an_aggregate_as_it_stood_at_a_version_and_on_a_business_date(api: Api) -> None:
    loan_with_a_corrected_repayment(api)
    originator = api.get("regulator", "/v1/audit/events", loan_ref="L1").json()["items"][0]["originator_id"]
    v3 = api.get("regulator", f"/v1/audit/aggregates/{originator}", version=3).json()
    assert v3["aggregate"] == "Loan" and v3["state"]["principal_repaid_fen"] == 10_000_000
    on_disbursement = api.get(
        "regulator", f"/v1/audit/aggregates/{originator}", business_date="2019-01-03"
    ).json()
    assert on_disbursement["version"] == 2 and on_disbursement["state"]["state"] == "disbursed"


def test_tree_heads_and_proofs_verify_with_the_regulators_own_functions(api: Api) -> None:
    loan_with_a_corrected_repayment(api)
    first = api.post("regulator", "/v1/audit/tree-heads").json()
    api.post(
        "fm",
        f"/v1/schemes/{SCHEME}/contributions",
        {"party_id": "city-fund", "amount": "1.00", "contributed_on": "2019-03-01"},
    )
    second = api.post("regulator", "/v1/audit/tree-heads").json()
    key = api.client.get("/v1/audit/public-key").json()["public_key"]
    for head in (first, second):
        assert head["public_key"] == key
        assert verify_signature(key, head_message(head), head["signature"])
    assert (second["sequence"], second["previous"]) == (first["sequence"] + 1, head_hash(first))
    position = api.get("regulator", "/v1/audit/events", loan_ref="L1").json()["items"][3]["position"]
    proof = api.get(
        "regulator", "/v1/audit/proofs/inclusion", position=position, tree_size=second["size"]
    ).json()
    assert verify_inclusion(
        proof["leaf_index"],
        proof["tree_size"],
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(p) for p in proof["path"]],
        bytes.fromhex(second["root"]),
    )
    grew = api.get(
        "regulator", "/v1/audit/proofs/consistency", from_size=first["size"], to_size=second["size"]
    ).json()
    assert verify_consistency(
        first["size"],
        second["size"],
        bytes.fromhex(first["root"]),
        bytes.fromhex(second["root"]),
        [bytes.fromhex(p) for p in grew["proof"]],
    )


def test_a_bank_cannot_forge_another_actor_through_the_request_body(api: Api) -> None:
    loan_with_a_corrected_repayment(api)
    forged = api.post(
        "bank-a",
        f"{LOAN}/repayments",
        {
            "principal": "1.00",
            "interest": "0",
            "repaid_on": "2019-03-01",
            "actor": {"principal_id": "fm", "role": "fund_manager"},
            "principal_id": "fm",
        },
    )
    assert forged.status_code == 422
    assert {e["field"] for e in forged.json()["errors"]} == {"body.actor", "body.principal_id"}
    events = api.get("regulator", "/v1/audit/events").json()["items"]
    bank_facts = [e for e in events if e["bank_id"] == "bank-a" and e["aggregate"] == "Loan"]
    assert {(e["principal_id"], e["role"], e["actor_party_id"]) for e in bank_facts} == {
        ("bank-a", "bank", "bank-a")
    }
    assert all(e["request_id"] for e in events)


def test_a_refused_request_leaves_a_structured_access_log_line_and_no_trace_in_the_ledger(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    before = api.written()
    with caplog.at_level(logging.INFO, logger="riskpool.access"):
        refused = api.post(
            "regulator",
            f"/v1/schemes/{SCHEME}/contributions",
            {"party_id": "city-fund", "amount": "1.00", "contributed_on": "2019-01-01"},
            **{"X-Request-Id": "req-42"},
        )
    assert refused.status_code == 403 and api.written() == before
    [record] = [r for r in caplog.records if r.name == "riskpool.access"]
    assert record.fields | {"client": None} == {
        "request_id": "req-42",
        "method": "POST",
        "path": f"/v1/schemes/{SCHEME}/contributions",
        "status": 403,
        "code": "forbidden",
        "principal_id": "regulator",
        "role": "regulator",
        "party_id": None,
        "client": None,
    }
    line = JsonLines().format(record)
    assert json.loads(line)["code"] == "forbidden" and api.tokens["regulator"] not in line


def test_each_event_carries_its_amounts_party_and_reason_and_a_reversal_names_the_position_it_reverses(
    api: Api,
) -> None:
    loan_with_a_corrected_repayment(api)
    events = api.get("regulator", "/v1/audit/events", loan_ref="L1", scheme_id=SCHEME).json()["items"]
    enrolled, disbursed, repaid, reversal, again = events
    assert enrolled["amounts"] == [{"name": "principal", "party_id": None, "amount": "1000000.00"}]
    assert disbursed["amounts"] == [{"name": "amount", "party_id": None, "amount": "1000000.00"}]
    assert repaid["amounts"] == [
        {"name": "principal", "party_id": None, "amount": "100000.00"},
        {"name": "interest", "party_id": None, "amount": "0.00"},
    ]
    assert (reversal["reverses_position"], reversal["reason"], reversal["amounts"]) == (
        repaid["position"],
        "keyed 100,000.00 for 10,000.00",
        [],
    )
    assert repaid["reverses_position"] is None and again["reversed_by"] is None
    contribution = api.get("regulator", "/v1/audit/events", fact="ContributionRecorded").json()["items"]
    assert [(e["party_id"], e["amounts"]) for e in contribution] == [
        ("city-fund", [{"name": "amount", "party_id": None, "amount": "10000000.00"}])
    ]
    # An API key's event carries its secret's hash: nothing of it is read out as an amount or a party.
    issued = api.get("regulator", "/v1/audit/events", fact="Issued", limit=1).json()["items"][0]
    assert (issued["amounts"], issued["reason"]) == ([], None)


def test_an_approval_carries_each_partys_figures_and_the_scheme_each_partys_allocation(api: Api) -> None:
    loan_with_a_corrected_repayment(api)
    api.post("bank-a", f"{LOAN}/default", {"overdue_days": 95, "defaulted_on": "2019-06-01"})
    claim = api.post("bank-a", f"{LOAN}/claims", {"claimed": "990000.00", "filed_on": "2019-06-05"}).json()
    api.post(
        "fm",
        f"/v1/schemes/{SCHEME}/claims/{claim['claim_id']}/approvals",
        {"amount": "500000.00", "approved_on": "2019-06-10"},
    )
    approved = api.get("regulator", "/v1/audit/events", fact="Approved").json()["items"][0]
    assert approved["claim_id"] == claim["claim_id"]
    mine = {(a["name"], a["party_id"]): a["amount"] for a in approved["amounts"]}
    assert mine[("amount", None)] == "500000.00"
    allocated = {party: amount for (name, party), amount in mine.items() if name == "parts.allocated"}
    counted = api.get("regulator", "/v1/audit/events", fact="AllocationCounted").json()["items"][0]
    assert allocated == {a["party_id"]: a["amount"] for a in counted["amounts"] if a["name"] == "allocations"}
    assert sum(Decimal(v) for v in allocated.values()) == Decimal("500000.00")


def test_the_history_between_two_positions(api: Api) -> None:
    loan_with_a_corrected_repayment(api)
    every = [e["position"] for e in api.get("regulator", "/v1/audit/events", limit=500).json()["items"]]
    first, last = every[3], every[7]
    between = api.get("regulator", "/v1/audit/events", from_position=first, to_position=last).json()["items"]
    assert [e["position"] for e in between] == every[3:8]
    of_the_loan = api.get("regulator", "/v1/audit/events", loan_ref="L1", to_position=every[-2]).json()
    assert all(e["position"] <= every[-2] and e["loan_ref"] == "L1" for e in of_the_loan["items"])
    refused = api.get("regulator", "/v1/audit/events", from_position=0)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "query.from_position"


def test_the_log_verified_by_the_server_as_the_cli_verifies_it_and_not_again_within_a_minute(
    api: Api,
) -> None:
    loan_with_a_corrected_repayment(api)
    api.post("regulator", "/v1/audit/tree-heads")
    result = api.get("fm", "/v1/audit/verification").json()
    written = api.written()
    assert (result["ok"], result["events"], result["unsealed"], result["findings"]) == (True, written, 0, [])
    assert result["heads_checked"] >= 1 and result["log_end"] == written and result["reused"] is False
    again = api.get("regulator", "/v1/audit/verification").json()
    assert again["reused"] is True and again["checked_at"] == result["checked_at"]
    assert api.get("bank-a", "/v1/audit/verification").status_code == 403


def test_the_verification_is_run_again_in_the_background_once_the_log_moves(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.routes import audit

    monkeypatch.setattr(audit, "VERIFY_MIN_SECONDS", 0.0)
    monkeypatch.setattr(audit, "VERIFY_SHARE", 0)
    loan_with_a_corrected_repayment(api)
    first = api.get("regulator", "/v1/audit/verification").json()
    assert (first["reused"], first["running"]) == (False, False)  # the first run is waited for
    unmoved = api.get("regulator", "/v1/audit/verification").json()
    assert (unmoved["reused"], unmoved["running"], unmoved["checked_at"]) == (
        True,
        False,
        first["checked_at"],
    )
    api.post(
        "fm",
        f"/v1/schemes/{SCHEME}/contributions",
        {"party_id": "city-fund", "amount": "1.00", "contributed_on": "2019-03-01"},
    )
    moved = api.get("regulator", "/v1/audit/verification").json()
    assert moved["reused"] is True and moved["checked_at"] == first["checked_at"]  # not waited for
    again = wait_for_a_new_run(api, first["checked_at"], covering=api.written())
    assert again["ok"] is True and again["log_end"] == api.written() > first["log_end"]
    monkeypatch.setattr(audit, "VERIFY_REUSE_SECONDS", 0.0)  # old at once, moved or not
    api.get("regulator", "/v1/audit/verification")
    assert wait_for_a_new_run(api, again["checked_at"], covering=api.written())["ok"] is True


def wait_for_a_new_run(api: Api, after: str, covering: int) -> dict:
    """The result of a run newer than the one checked at `after`, of the log up to `covering`."""
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = api.get("regulator", "/v1/audit/verification").json()
        if found["checked_at"] != after and found["log_end"] >= covering:
            return found
        time.sleep(0.05)
    raise AssertionError("no new verification run within 20 s")


def test_the_verification_names_an_edited_event(api: Api) -> None:
    """The same findings as `riskpool audit verify`: a repayment's stored state changed behind the
    ledger's back is named at its position."""
    loan_with_a_corrected_repayment(api)
    api.post("regulator", "/v1/audit/tree-heads")
    position = api.get("regulator", "/v1/audit/events", fact="Repaid").json()["items"][0]["position"]
    tamper(api, position)
    result = api.get("regulator", "/v1/audit/verification").json()
    assert result["ok"] is False and result["findings_total"] >= 1
    assert (result["findings"][0]["position"], result["findings"][0]["kind"]) == (position, "edited")
    assert result["first_difference"] == f"the first position that differs is {position}"


def tamper(api: Api, position: int) -> None:
    """Rewrite the stored state of the event at `position` (100,000.00 repaid → 1,000,000.00)."""
    from sqlalchemy import create_engine, text

    recorder = api.system.ledger.recorder
    table = recorder.events_table_name
    url = api.system.settings.database_url
    if url.startswith("sqlite"):
        engine, where = create_engine(url), "rowid"
    else:
        base, _, schema = url.partition("?schema=")
        engine, where = (
            create_engine(base.replace("postgresql://", "postgresql+psycopg://")),
            "notification_id",
        )
        table = f"{schema}.{table}"
    with engine.begin() as conn:
        state = conn.execute(text(f"SELECT state FROM {table} WHERE {where} = :p"), {"p": position}).scalar()
        changed = bytes(state).replace(b'"principal_fen":10000000', b'"principal_fen":100000000')
        assert changed != bytes(state)
        conn.execute(text(f"UPDATE {table} SET state = :s WHERE {where} = :p"), {"s": changed, "p": position})
    engine.dispose()


def test_a_regulator_downloads_an_export_that_the_standalone_verifier_accepts(api: Api, tmp_path) -> None:
    loan_with_a_corrected_repayment(api)
    key = api.client.get("/v1/audit/public-key").json()["public_key"]
    whole = api.get("regulator", "/v1/audit/export")
    assert whole.status_code == 200 and whole.headers["content-type"] == "application/octet-stream"
    assert whole.headers["content-disposition"].startswith('attachment; filename="riskpool-export-all-')
    lines = whole.text.splitlines()
    head = json.loads(lines[-1])
    assert head["record"] == "tree_head" and head["size"] == api.written() == len(lines) - 1
    assert verify(
        lines, key
    ) == f"verified {head['size']} events (the whole log) against the tree head of " + (
        f"size {head['size']} (signed by the pinned key)"
    )
    # The export sealed a head, which is now the latest: a second export is sealed by the same one.
    latest = api.get("regulator", "/v1/audit/tree-heads/latest").json()
    assert (latest["sequence"], latest["root"]) == (head["sequence"], head["root"])
    one = api.get("regulator", "/v1/audit/export", scheme_id=SCHEME).text.splitlines()
    assert json.loads(one[-1])["scheme"]["scheme_id"] == SCHEME
    assert verify(one, key).startswith(f"verified {len(one) - 1} events (all of scheme {SCHEME})")
    saved = tmp_path / "export.jsonl"
    saved.write_text(whole.text, encoding="utf-8")
    from tools.verify_export import main

    assert main([str(saved), "--public-key", key]) == 0
    assert api.get("fm", "/v1/audit/export").json()["code"] == "forbidden"
    unknown = api.get("regulator", "/v1/audit/export", scheme_id="no-such-scheme")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_scheme")
