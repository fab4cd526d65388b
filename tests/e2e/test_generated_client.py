"""The API contract, tried the way a partner bank's IT team would: take the served OpenAPI
document, validate it, generate a Python client from it with openapi-python-client, and run W1 and
W11 (enrol, disburse, repay, default, file, approve twice, read what is owed) and the refusals
through that client against a real `riskpool serve`, on SQLite and on PostgreSQL.

Every answer must parse into its typed model with no field the document does not declare, every
refusal into the `Problem` model with its rule-book code. A document that refers to a schema it
does not define (as a pruning of unreferenced schemas once produced) fails the validation here.
"""

from __future__ import annotations

import datetime
import importlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import httpx
import pytest
from openapi_spec_validator import validate

from ledger.tape import COLUMNS
from ledger.uscc import make_uscc
from tests.e2e.conftest import Server
from tests.e2e.test_worked_examples_over_http import RULES

PACKAGE = "riskpool_ledger_client"
GENERATOR = [sys.executable, "-m", "openapi_python_client"]


@pytest.fixture
def client_package(server_on_each_store: Server, tmp_path: Path) -> Iterator[ModuleType]:
    """The client generated from the document the server serves, importable as `PACKAGE`."""
    served = httpx.get(f"{server_on_each_store.url}/v1/openapi.json", timeout=30).json()
    validate(served)  # raises, naming the first problem, if the document is not valid OpenAPI
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(served))
    out = tmp_path / "client"
    generated = subprocess.run(
        [*GENERATOR, "generate", "--path", str(spec), "--output-path", str(out / PACKAGE), "--meta", "none"],
        capture_output=True,
        text=True,
    )
    said = generated.stdout + generated.stderr
    assert generated.returncode == 0, said
    assert "warning" not in said.lower() and "error" not in said.lower(), said
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


class Bank:
    """The generated client's modules, looked up by name: `api.claims.file_claim` and so on."""

    def __init__(self, package: ModuleType) -> None:
        self.package = package

    def op(self, tag: str, operation: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")

    def model(self, name: str) -> Any:
        return getattr(importlib.import_module(f"{PACKAGE}.models"), name)

    def client(self, server: Server, token: str) -> Any:
        return self.package.AuthenticatedClient(
            base_url=server.url, token=token, raise_on_unexpected_status=True
        )


def undeclared(value: Any, path: str = "answer") -> list[str]:
    """Fields of an answer that its schema does not declare (a generated model keeps them in
    `additional_properties`); a free-form object (no declared fields) may hold anything."""
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in undeclared(v, f"{path}[{i}]")]
    if not attrs.has(type(value)):
        return []
    declared = [a.name for a in attrs.fields(type(value)) if a.name != "additional_properties"]
    extra = getattr(value, "additional_properties", {})
    found = [f"{path}.{k}" for k in extra] if declared else []
    return found + [f for name in declared for f in undeclared(getattr(value, name), f"{path}.{name}")]


def typed(response: Any, model: Any, status: int) -> Any:
    assert response.status_code == status, response.content
    assert isinstance(response.parsed, model), (type(response.parsed), response.content)
    assert undeclared(response.parsed) == [], response.content
    return response.parsed


def refused(response: Any, problem: Any, status: int, code: str) -> Any:
    assert response.headers["content-type"] == "application/problem+json"
    found = typed(response, problem, status)
    assert found.code == code and found.status == status, response.content
    assert found.request_id == response.headers["x-request-id"]
    return found


def test_a_bank_integrates_from_the_generated_client(
    server_on_each_store: Server, client_package: ModuleType
) -> None:
    server, bank = server_on_each_store, Bank(client_package)
    m = bank.model
    Written, Problem = m("Written"), m("Problem")
    fm = bank.client(server, server.key("fund_manager", "maker", principal="fm-alice"))
    fm2 = bank.client(server, server.key("fund_manager", "checker", principal="fm-bob"))

    # The pool of W1, set up by the fund manager through the same client.
    schemes = "schemes"
    typed(
        bank.op(schemes, "create_scheme").sync_detailed(
            client=fm,
            body=m("SchemeCreate")(scheme_id="w", name="W1 pool", created_on=datetime.date(2019, 1, 1)),
        ),
        Written,
        201,
    )
    for party, role in [
        ("bank-a", "bank"),
        ("guar-a", "guarantor"),
        ("prov-reguarantee", "government"),
        ("city-fund", "government"),
    ]:
        body = m("PartyCreate")(
            party_id=party, role=role, name=party, registered_on=datetime.date(2019, 1, 1)
        )
        typed(bank.op("parties", "register_party").sync_detailed(client=fm, body=body), Written, 201)
        member = m("MemberCreate")(party_id=party, admitted_on=datetime.date(2019, 1, 1))
        typed(bank.op(schemes, "admit_member").sync_detailed("w", client=fm, body=member), Written, 201)
    rules = m("RuleVersionCreate")(
        document=m("RuleVersionCreateDocument").from_dict(RULES), published_on=datetime.date(2019, 1, 1)
    )
    typed(bank.op(schemes, "publish_rule_version").sync_detailed("w", client=fm, body=rules), Written, 201)
    for fund in ("prov-reguarantee", "city-fund"):
        paid = m("ContributionCreate")(
            party_id=fund, amount="10000000.00", contributed_on=datetime.date(2019, 1, 2)
        )
        typed(bank.op(schemes, "record_contribution").sync_detailed("w", client=fm, body=paid), Written, 201)

    # The bank's flow: enrol, disburse, repay, default, file.
    loans = bank.client(server, server.key("bank", "bank-a loan system", party="bank-a"))
    loan = m("LoanCreate")(
        loan_ref="L1",
        borrower_name="Fictional Tech Co",
        borrower_uscc=make_uscc("91410600MA0000001"),
        product="tech_loan",
        principal="2000000.00",
        rate_bp=450,
        term_months=24,
        cover="guaranteed",
        cover_party_id="guar-a",
        enrolled_on=datetime.date(2019, 2, 1),
    )
    enrolled = bank.op("loans", "enrol_loan").sync_detailed("w", "bank-a", client=loans, body=loan)
    typed(enrolled, Written, 201)
    assert enrolled.headers["location"] == "/v1/schemes/w/banks/bank-a/loans/L1"
    facts = [
        (
            "record_disbursement",
            m("DisbursementCreate")(amount="2000000.00", disbursed_on=datetime.date(2019, 2, 2)),
        ),
        (
            "record_repayment",
            m("RepaymentCreate")(principal="765432.11", interest="0", repaid_on=datetime.date(2019, 5, 2)),
        ),
        ("declare_default", m("DefaultCreate")(overdue_days=91, defaulted_on=datetime.date(2019, 9, 1))),
    ]
    for operation, body in facts:
        typed(
            bank.op("loans", operation).sync_detailed("w", "bank-a", "L1", client=loans, body=body),
            Written,
            201,
        )
    got = bank.op("loans", "get_loan").sync_detailed("w", "bank-a", "L1", client=loans)
    found = typed(got, m("LoanPublic"), 200)
    assert (found.state, found.outstanding, found.defaulted_on) == (
        "defaulted",
        "1234567.89",
        datetime.date(2019, 9, 1),
    )
    assert got.headers["etag"] == f'"{found.version}"'

    claim = m("ClaimCreate")(claimed="1234567.89", filed_on=datetime.date(2019, 9, 10))
    file_claim = bank.op("claims", "file_claim")
    filed = typed(file_claim.sync_detailed("w", "bank-a", "L1", client=loans, body=claim), Written, 201)
    assert (filed.claim_id, filed.status) == ("bank-a:L1:claim:1", "filed")
    again = file_claim.sync_detailed("w", "bank-a", "L1", client=loans, body=claim)
    assert "bank-a:L1:claim:1" in refused(again, Problem, 409, "claim_already_open").detail

    # Maker-checker (W8): alice's approval waits for a second checker, alice again is refused.
    approve = bank.op("claims", "approve_claim")
    approval = m("ApprovalCreate")(amount="1234567.89", approved_on=datetime.date(2019, 10, 1))
    first = typed(approve.sync_detailed("w", filed.claim_id, client=fm, body=approval), Written, 201)
    assert first.status == "awaiting_second_approval"
    refused(
        approve.sync_detailed("w", filed.claim_id, client=fm, body=approval), Problem, 409, "same_checker"
    )
    final_answer = approve.sync_detailed("w", filed.claim_id, client=fm2, body=approval, idempotency_key="k1")
    final = typed(final_answer, Written, 201)
    replay = approve.sync_detailed("w", filed.claim_id, client=fm2, body=approval, idempotency_key="k1")
    assert replay.headers["idempotent-replayed"] == "true" and typed(replay, Written, 201) == final
    assert final.details.additional_properties["allocations"] == {  # W1, worked by hand in the rule book
        "guar-a": "493827.15",
        "prov-reguarantee": "370370.37",
        "bank-a": "246913.58",
        "city-fund": "123456.79",
    }

    # W11: what each party owes the bank right after the approval.
    owed = bank.op("reports", "get_owed_report").sync_detailed("w", client=fm, after_position=final.position)
    report = typed(owed, m("OwedReport"), 200)
    assert [(d.debtor, d.creditor, d.amount) for d in report.totals] == [
        ("city-fund", "bank-a", "123456.79"),
        ("guar-a", "bank-a", "493827.15"),
        ("prov-reguarantee", "bank-a", "370370.37"),
    ]
    assert isinstance(report.today, datetime.date)
    seen = typed(
        bank.op("claims", "get_claim").sync_detailed("w", filed.claim_id, client=loans), m("ClaimPublic"), 200
    )
    assert [(p.party_id, p.allocated, p.owed_to_bank) for p in seen.parties] == [
        ("guar-a", "493827.15", "493827.15"),
        ("prov-reguarantee", "370370.37", "370370.37"),
        ("bank-a", "246913.58", "0.00"),
        ("city-fund", "123456.79", "123456.79"),
    ]
    assert (seen.first_approval.principal_id, seen.first_approval.approved_on) == (
        "fm-alice",
        datetime.date(2019, 10, 1),
    )
    every_report = [
        ("get_balances_report", "BalancesReport"),
        ("get_loss_ratios_report", "LossRatiosReport"),
        ("get_exposure_report", "ExposureReport"),
        ("get_funds_report", "FundsReport"),
        ("get_breakers_report", "BreakersReport"),
        ("get_claims_queue_report", "ClaimsQueueReport"),
        ("get_loan_book_report", "LoanBookReport"),
        ("get_targets_report", "TargetsReport"),
        ("get_fund_history_report", "FundHistoryReport"),
        ("get_breaker_figures_report", "BreakerFiguresReport"),
        ("get_settlements_report", "SettlementsReport"),
    ]
    for operation, model in every_report:
        typed(bank.op("reports", operation).sync_detailed("w", client=fm), m(model), 200)
    exposure = bank.op("reports", "get_exposure_report").sync_detailed("w", client=fm).parsed
    assert (exposure.exposure, exposure.limit) == ("1234567.89", "200000000.00")


def test_refusals_arrive_typed_through_the_generated_client(
    server_on_each_store: Server, client_package: ModuleType
) -> None:
    server, bank = server_on_each_store, Bank(client_package)
    m = bank.model
    Problem = m("Problem")
    fm = bank.client(server, server.key("fund_manager", "desk"))
    stranger = bank.client(server, "rpk_000000000000_not-a-key")
    schemes = bank.op("schemes", "list_schemes")
    refused(schemes.sync_detailed(client=stranger), Problem, 401, "unauthenticated")

    scheme = m("SchemeCreate")(scheme_id="w", name="W pool", created_on=datetime.date(2019, 1, 1))
    created = typed(
        bank.op("schemes", "create_scheme").sync_detailed(client=fm, body=scheme), m("Written"), 201
    )
    bad = m("ContributionCreate")(
        party_id="city-fund", amount="12.345", contributed_on=datetime.date(2019, 1, 2)
    )
    malformed = refused(
        bank.op("schemes", "record_contribution").sync_detailed("w", client=fm, body=bad),
        Problem,
        422,
        "invalid_amount",
    )
    assert [(e.field, e.code) for e in malformed.errors] == [("body.amount", "invalid_amount")]
    unknown = bank.op("schemes", "get_scheme").sync_detailed("nowhere", client=fm)
    assert "nowhere" in refused(unknown, Problem, 404, "unknown_scheme").detail
    listed = typed(schemes.sync_detailed(client=fm, after_position=created.position), m("SchemesPublic"), 200)
    assert [s.scheme_id for s in listed.items] == ["w"]


def test_a_loan_tape_is_sent_as_a_multipart_upload_by_the_generated_client(
    server_on_each_store: Server, client_package: ModuleType
) -> None:
    server, bank = server_on_each_store, Bank(client_package)
    m = bank.model
    fm = bank.client(server, server.key("fund_manager", "desk"))
    bank.op("schemes", "create_scheme").sync_detailed(
        client=fm, body=m("SchemeCreate")(scheme_id="w", name="W pool", created_on=datetime.date(2019, 1, 1))
    )
    for party, role in [("bank-a", "bank"), ("city-fund", "government")]:
        body = m("PartyCreate")(
            party_id=party, role=role, name=party, registered_on=datetime.date(2019, 1, 1)
        )
        bank.op("parties", "register_party").sync_detailed(client=fm, body=body)
        member = m("MemberCreate")(party_id=party, admitted_on=datetime.date(2019, 1, 1))
        bank.op("schemes", "admit_member").sync_detailed("w", client=fm, body=member)
    direct = RULES | {"covers": {"direct": {"split": {"city-fund": 4000, "bank": "remainder"}}}}
    rules = m("RuleVersionCreate")(
        document=m("RuleVersionCreateDocument").from_dict(direct), published_on=datetime.date(2019, 1, 1)
    )
    bank.op("schemes", "publish_rule_version").sync_detailed("w", client=fm, body=rules)
    paid = m("ContributionCreate")(
        party_id="city-fund", amount="1000000.00", contributed_on=datetime.date(2019, 1, 2)
    )
    bank.op("schemes", "record_contribution").sync_detailed("w", client=fm, body=paid)

    loans = bank.client(server, server.key("bank", "bank-a loan system", party="bank-a"))
    header = ",".join(COLUMNS) + "\n"

    def row(ref: str, number: int, principal: str) -> str:
        uscc = make_uscc(f"91410600MA000{number:04d}")
        return f"{ref},Fictional Firm {number},{uscc},tech_loan,,{principal},435,12,2019-03-01,direct,\n"

    rows = row("T1", 1, "3000000.00") + row("T2", 2, "1500000.50")
    upload = bank.op("loans", "upload_loan_tape")

    def tape(text: str) -> Any:
        csv = client_package.types.File(
            payload=io.BytesIO(text.encode()), file_name="tape.csv", mime_type="text/csv"
        )
        return m("UploadLoanTapeBody")(file=csv)

    # Limit 10 x 1,000,000.00: T3 takes the exposure from 4,500,000.50 to 10,500,000.50, so nothing
    # of the tape is enrolled and the problem names the row (the header is row 1).
    over = upload.sync_detailed(
        "w", "bank-a", client=loans, body=tape(header + rows + row("T3", 3, "6000000.00"))
    )
    refusal = refused(over, m("Problem"), 422, "leverage_exceeded")
    assert [(r["row"], r["code"]) for r in refusal.figures.additional_properties["rows"]] == [
        (4, "leverage_exceeded")
    ]
    done = typed(
        upload.sync_detailed("w", "bank-a", client=loans, body=tape(header + rows)), m("Written"), 201
    )
    listed = bank.op("loans", "list_loans").sync_detailed("w", client=loans, after_position=done.position)
    assert [(loan.loan_ref, loan.principal) for loan in typed(listed, m("LoansPublic"), 200).items] == [
        ("T1", "3000000.00"),
        ("T2", "1500000.50"),
    ]
