"""The OpenAPI document as a contract: valid, every operation named, tagged, secured and typed,
its headers and formats declared. (tests/e2e/test_generated_client.py generates a client from it
and drives the server through that client.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import validate

from api.app import create_app
from riskpool.bootstrap import build_system
from riskpool.settings import Settings

# The operation ids a bank's generated client is built on: changing one breaks its code, so a
# change here is a change of the contract.
OPERATION_IDS = {
    "get_health",
    "register_party",
    "list_parties",
    "get_party",
    "create_scheme",
    "list_schemes",
    "get_scheme",
    "admit_member",
    "list_members",
    "publish_rule_version",
    "list_rule_versions",
    "get_rule_version",
    "what_if",
    "set_targets",
    "record_contribution",
    "reset_breaker",
    "reverse_fact",
    "enrol_loan",
    "upload_loan_tape",
    "list_loans",
    "get_loan",
    "get_loan_history",
    "record_disbursement",
    "record_repayment",
    "declare_default",
    "withdraw_loan",
    "write_off_loan",
    "record_premium",
    "record_fee",
    "file_claim",
    "list_claims",
    "get_claim",
    "get_claim_history",
    "approve_claim",
    "reject_claim",
    "record_settlement_payment",
    "record_recovery",
    "record_recovery_payment",
    "get_balances_report",
    "get_owed_report",
    "get_loss_ratios_report",
    "get_exposure_report",
    "get_funds_report",
    "get_breakers_report",
    "get_claims_queue_report",
    "get_loan_book_report",
    "get_targets_report",
    "get_fund_history_report",
    "get_breaker_figures_report",
    "get_settlements_report",
    "list_audit_events",
    "get_aggregate",
    "list_tree_heads",
    "get_latest_tree_head",
    "seal_tree_head",
    "get_inclusion_proof",
    "get_consistency_proof",
    "get_public_key",
    "get_verification",
    "export_history",
}
PUBLIC = {"get_health", "get_public_key"}
AMOUNT = r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$"


@pytest.fixture(scope="module")
def document() -> Iterator[dict[str, Any]]:
    system = build_system(Settings(database_url="memory://"))
    yield create_app(system, follow=False).openapi()
    system.close()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_every_operation_has_its_short_stable_id_and_a_tag(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    assert set(ids) == OPERATION_IDS
    assert all(re.fullmatch(r"[a-z][a-z_]{2,29}", i) for i in ids), ids
    assert all(len(op.get("tags", [])) == 1 for _, _, op in operations(document))


def test_every_operation_but_health_and_the_public_key_needs_the_bearer_scheme(
    document: dict[str, Any],
) -> None:
    assert document["components"]["securitySchemes"] == {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "rpk_…",
            "description": "an API key made by `riskpool keys create`, sent as `Authorization: Bearer rpk_…`",
        }
    }
    for _, _, op in operations(document):
        expected = None if op["operationId"] in PUBLIC else [{"bearer": []}]
        assert op.get("security") == expected, op["operationId"]
        assert not [p for p in op.get("parameters", []) if p["name"].lower() == "authorization"]


def test_every_refusal_is_a_typed_problem_and_every_answer_names_its_request(
    document: dict[str, Any],
) -> None:
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            assert "X-Request-Id" in response["headers"], (method, path, status)
            if int(status) >= 400:
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, (method, path, status)
        if "requestBody" in op:
            assert "413" in op["responses"], (method, path)
        if op["operationId"] not in PUBLIC:
            assert "401" in op["responses"], (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    problem = document["components"]["schemas"]["Problem"]
    assert problem["properties"]["errors"]["anyOf"][0]["items"] == {
        "$ref": "#/components/schemas/FieldProblem"
    }


def test_writes_declare_location_and_replay_and_single_reads_their_etag(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        if method == "POST" and "201" in op["responses"] and op["operationId"] != "seal_tree_head":
            assert {"Location", "Idempotent-Replayed"} <= set(op["responses"]["201"]["headers"]), path
    for name in ("get_loan", "get_claim"):
        op = next(op for _, _, op in operations(document) if op["operationId"] == name)
        assert "ETag" in op["responses"]["200"]["headers"]


def test_amounts_answer_with_their_pattern_and_dates_with_their_format(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    claim = schemas["ClaimPublic"]["properties"]
    assert claim["claimed"]["pattern"] == AMOUNT
    assert claim["filed_on"]["format"] == "date"
    assert {"type": "string", "format": "date"} in claim["approved_on"]["anyOf"]
    assert schemas["OwedReport"]["properties"]["today"]["format"] == "date"
    assert schemas["DebtPublic"]["properties"]["amount"]["pattern"] == AMOUNT
    assert schemas["HistoryEntryPublic"]["properties"]["recorded_at"]["format"] == "date-time"
    assert schemas["PartyBalancesPublic"]["properties"]["cash"]["pattern"] == AMOUNT
    assert re.fullmatch(AMOUNT, "-493827.15") and not re.fullmatch(AMOUNT, "1.5")


def test_a_tape_is_documented_as_a_multipart_upload_of_a_file(document: dict[str, Any]) -> None:
    op = next(op for _, _, op in operations(document) if op["operationId"] == "upload_loan_tape")
    body = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"] and body["properties"]["file"]["format"] == "binary"
    assert "text/csv" in op["description"]
