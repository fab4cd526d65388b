"""Idempotency keys and expected versions over HTTP."""

from __future__ import annotations

from ledger.tape import COLUMNS
from tests.api.conftest import SCHEME, Api, uscc

LOAN = f"/v1/schemes/{SCHEME}/banks/bank-a/loans/L1"


def enrolled(api: Api) -> None:
    assert (
        api.post(
            "fm",
            f"/v1/schemes/{SCHEME}/contributions",
            {"party_id": "city-fund", "amount": "10000000.00", "contributed_on": "2018-02-01"},
        ).status_code
        == 201
    )
    body = {
        "loan_ref": "L1",
        "borrower_name": "Fictional Co",
        "borrower_uscc": uscc(1),
        "product": "tech_loan",
        "principal": "1000000.00",
        "rate_bp": 450,
        "term_months": 24,
        "enrolled_on": "2019-01-02",
    }
    assert api.post("bank-a", f"/v1/schemes/{SCHEME}/banks/bank-a/loans", body).status_code == 201
    assert (
        api.post(
            "bank-a", f"{LOAN}/disbursement", {"amount": "1000000.00", "disbursed_on": "2019-01-03"}
        ).status_code
        == 201
    )


def events(api: Api) -> int:
    return api.system.ledger.recorder.max_notification_id()


def test_a_repeated_write_with_its_idempotency_key_returns_the_original_answer_and_records_nothing(
    api: Api,
) -> None:
    enrolled(api)
    body = {"principal": "1000.00", "interest": "50.00", "repaid_on": "2019-02-01"}
    first = api.post("bank-a", f"{LOAN}/repayments", body, **{"Idempotency-Key": "bank-a-txn-0001"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    recorded = events(api)
    again = api.post("bank-a", f"{LOAN}/repayments", body, **{"Idempotency-Key": "bank-a-txn-0001"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert events(api) == recorded
    loan = api.get("fm", LOAN).json()
    assert loan["principal_repaid"] == "1000.00"


def test_the_same_idempotency_key_with_another_body_is_a_conflict(api: Api) -> None:
    enrolled(api)
    headers = {"Idempotency-Key": "bank-a-txn-0002"}
    api.post(
        "bank-a",
        f"{LOAN}/repayments",
        {"principal": "1000.00", "interest": "0", "repaid_on": "2019-02-01"},
        **headers,
    )
    recorded = events(api)
    other = api.post(
        "bank-a",
        f"{LOAN}/repayments",
        {"principal": "2000.00", "interest": "0", "repaid_on": "2019-02-01"},
        **headers,
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert events(api) == recorded


def test_an_idempotency_key_belongs_to_its_principal(api: Api) -> None:
    enrolled(api)
    body = {"amount": "100.00", "contributed_on": "2018-03-01", "party_id": "city-fund"}
    mine = api.post("fm", f"/v1/schemes/{SCHEME}/contributions", body, **{"Idempotency-Key": "k1"})
    theirs = api.post("fm2", f"/v1/schemes/{SCHEME}/contributions", body, **{"Idempotency-Key": "k1"})
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["fact_id"] != theirs.json()["fact_id"]


def test_a_write_on_a_version_that_moved_is_a_conflict(api: Api) -> None:
    enrolled(api)
    read = api.get("bank-a", LOAN)
    etag = read.headers["ETag"]
    assert etag == f'"{read.json()["version"]}"'
    body = {"principal": "10.00", "interest": "0", "repaid_on": "2019-02-01"}
    assert api.post("bank-a", f"{LOAN}/repayments", body, **{"If-Match": etag}).status_code == 201
    recorded = events(api)
    stale = api.post("bank-a", f"{LOAN}/repayments", body, **{"If-Match": etag})
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    assert stale.json()["figures"] == {"expected": int(etag.strip('"')), "current": int(etag.strip('"')) + 1}
    assert events(api) == recorded
    bad = api.post("bank-a", f"{LOAN}/repayments", body, **{"If-Match": "yesterday"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"


def test_validation_lists_every_bad_field_with_the_rule_books_codes(api: Api) -> None:
    bad = api.post(
        "bank-a",
        f"/v1/schemes/{SCHEME}/banks/bank-a/loans",
        {
            "loan_ref": "bad ref!",
            "borrower_name": "",
            "borrower_uscc": "91350100M000100Y44",
            "product": "tech_loan",
            "principal": 1000000,
            "rate_bp": 0,
            "term_months": 24,
            "enrolled_on": "2019-02-30",
            "surplus": 1,
        },
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    errors = {e["field"]: e["code"] for e in bad.json()["errors"]}
    assert errors == {
        "body.loan_ref": "invalid_request",
        "body.borrower_name": "invalid_request",
        "body.borrower_uscc": "invalid_uscc",
        "body.principal": "invalid_amount",
        "body.rate_bp": "invalid_request",
        "body.enrolled_on": "invalid_date",
        "body.surplus": "invalid_request",
    }


def test_an_oversized_body_is_refused_before_it_is_read(api: Api) -> None:
    huge = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    refused = api.client.post(
        "/v1/schemes", content=huge, headers=api.as_("fm") | {"Content-Type": "application/json"}
    )
    assert refused.status_code == 413 and refused.json()["code"] == "payload_too_large"


def test_a_loan_tape_is_enrolled_whole_or_refused_row_by_row(api: Api) -> None:
    assert (
        api.post(
            "fm",
            f"/v1/schemes/{SCHEME}/contributions",
            {"party_id": "city-fund", "amount": "10000000.00", "contributed_on": "2018-02-01"},
        ).status_code
        == 201
    )
    header = ",".join(COLUMNS)
    good = f"T1,Firm One,{uscc(11)},tech_loan,,100000.00,450,24,2019-03-01,direct,\n"
    bad = f'T2,"=HYPERLINK(""http://x"")",{uscc(12)},tech_loan,,100000.00,450,24,2019-03-01,direct,\n'
    path = f"/v1/schemes/{SCHEME}/banks/bank-a/loan-tapes"
    headers = api.as_("bank-a") | {"Content-Type": "text/csv"}
    refused = api.client.post(path, content=f"{header}\n{good}{bad}".encode(), headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["figures"]["rows"] == [
        {"row": 3, "code": "invalid_request", "message": refused.json()["figures"]["rows"][0]["message"]}
    ]
    assert "formula" in refused.json()["figures"]["rows"][0]["message"]
    accepted = api.client.post(path, content=f"\ufeff{header}\n{good}".encode(), headers=headers)
    assert accepted.status_code == 201 and accepted.json()["details"] == {
        "loans": 1,
        "principal": "100000.00",
    }
    gbk = api.client.post(
        path, content=f"{header}\n{good}".replace("Firm One", "企业").encode("gbk"), headers=headers
    )
    assert gbk.status_code == 422 and "not UTF-8" in gbk.json()["detail"]


def test_a_tape_sent_as_a_file_upload_is_the_same_request_as_the_raw_csv(api: Api) -> None:
    """A retried multipart upload has a new boundary; its Idempotency-Key still stands for the CSV."""
    contributed = api.post(
        "fm",
        f"/v1/schemes/{SCHEME}/contributions",
        {"party_id": "city-fund", "amount": "10000000.00", "contributed_on": "2018-02-01"},
    )
    assert contributed.status_code == 201
    tape = f"{','.join(COLUMNS)}\nT1,Firm One,{uscc(11)},tech_loan,,100000.00,450,24,2019-03-01,direct,\n"
    path = f"/v1/schemes/{SCHEME}/banks/bank-a/loan-tapes"
    headers = api.as_("bank-a") | {"Idempotency-Key": "tape-2019-03"}
    uploaded = api.client.post(path, files={"file": ("tape.csv", tape.encode(), "text/csv")}, headers=headers)
    assert uploaded.status_code == 201, uploaded.text
    before = events(api)
    again = api.client.post(
        path, files={"file": ("tape (1).csv", tape.encode(), "text/csv")}, headers=headers
    )
    raw = api.client.post(path, content=tape.encode(), headers=headers | {"Content-Type": "text/csv"})
    for replay in (again, raw):
        assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == uploaded.json()
    other = api.client.post(
        path, files={"file": ("tape.csv", tape.replace("100000.00", "200000.00").encode())}, headers=headers
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert events(api) == before


def test_a_multipart_upload_without_its_file_field_is_refused_naming_the_field(api: Api) -> None:
    path = f"/v1/schemes/{SCHEME}/banks/bank-a/loan-tapes"
    before = events(api)
    wrong = api.client.post(path, files={"tape": ("tape.csv", b"loan_ref\n")}, headers=api.as_("bank-a"))
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_request"
    assert "'file'" in wrong.json()["detail"]
    broken = api.client.post(
        path,
        content=b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nno end',
        headers=api.as_("bank-a") | {"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert broken.status_code == 422 and broken.json()["code"] == "invalid_request", broken.text
    assert events(api) == before
