"""Findings of an attack on the ledger (main at 18c7f35, `riskpool serve --demo`), each a test that
failed before its fix, over the API and loan tapes, on SQLite and PostgreSQL. Each test names its
finding: 6 control characters, 8 another bank's loans through scheme figures, 9 formula cells,
10 500s from tapes and cursors, 11 secrets, 13 chunked bodies, 15 types and borrower identity."""

from __future__ import annotations

import base64
import copy
import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.actors import Actor, Role
from ledger.domain.key import ApiKey
from ledger.errors import InvalidRequest
from ledger.ids import party_uuid
from ledger.service.keys import key_uuid
from ledger.tape import COLUMNS
from tests.api.conftest import RULES, SCHEME, Api, uscc

S = f"/v1/schemes/{SCHEME}"
TAPE = f"{S}/banks/bank-a/loan-tapes"
NUL, BIDI, ZERO_WIDTH = "nul\u0000byte", "Fictional\u202eoC", "\u200b\u200c\u200d\u2060"
HOSTILE = {"NUL": NUL, "bidi override": BIDI, "zero-width only": ZERO_WIDTH}
FORMULAS = {
    "HYPERLINK after a space": ' =HYPERLINK("http://evil.example","x")',
    "@ after a space": " @SUM(1+1)",
    "= after a space": " =1+1",
    "plus": "+1+1",
}


def loan(ref: str, n: int, **changes: Any) -> dict[str, Any]:
    return {
        "loan_ref": ref,
        "borrower_name": f"Fictional Firm {n}",
        "borrower_uscc": uscc(n),
        "product": "tech_loan",
        "principal": "1000000.00",
        "rate_bp": 450,
        "term_months": 24,
        "enrolled_on": "2019-02-01",
    } | changes


def tape(*names: str) -> bytes:
    """A tape of a good row (line 2) and one row per name (lines 3 …), written as a spreadsheet would."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for n, name in enumerate(["Fictional Firm 1", *names], start=1):
        cells = [f"T{n}", name, uscc(200 + n), "tech_loan", "", "100000.00", "450", "24", "2019-03-01"]
        writer.writerow([*cells, "direct", ""])
    return out.getvalue().encode()


def send_tape(api: Api, body: bytes):
    return api.client.post(TAPE, content=body, headers=api.as_("bank-a") | {"Content-Type": "text/csv"})


def fields(answer: Any) -> list[str]:
    return [e["field"] for e in answer.json().get("errors") or []]


@pytest.fixture
def funded(api: Api) -> Api:
    answer = api.post(
        "fm",
        f"{S}/contributions",
        {"party_id": "city-fund", "amount": "10000000.00", "contributed_on": "2018-02-01"},
    )
    assert answer.status_code == 201, answer.text
    return api


# Finding 6: control characters, bidirectional overrides and invisible names, everywhere text enters.


def test_names_and_reasons_with_a_nul_a_bidi_override_or_only_zero_width_characters_are_refused_over_the_api(
    funded: Api,
) -> None:
    """Finding 6: 422 naming the field's path, before anything is recorded."""
    api = funded
    assert api.post("bank-a", f"{S}/banks/bank-a/loans", loan("W1", 1)).status_code == 201
    for bad in HOSTILE.values():
        before = api.written()
        for who, path, body, field in [
            ("bank-a", f"{S}/banks/bank-a/loans", loan("X1", 2, borrower_name=bad), "body.borrower_name"),
            (
                "fm",
                "/v1/parties",
                {"party_id": "p-x", "role": "bank", "name": bad, "registered_on": "2018-01-02"},
                "body.name",
            ),
            ("fm", "/v1/schemes", {"scheme_id": "s-x", "name": bad, "created_on": "2018-01-02"}, "body.name"),
            (
                "bank-a",
                f"{S}/banks/bank-a/loans/W1/withdrawal",
                {"reason": bad, "withdrawn_on": "2019-02-02"},
                "body.reason",
            ),
            (
                "fm",
                f"{S}/reversals",
                {"fact_id": "city-fund:contribution:1", "reason": bad, "reversed_on": "2019-01-01"},
                "body.reason",
            ),
        ]:
            answer = api.post(who, path, body)
            assert answer.status_code == 422, (path, bad, answer.text)
            # a reversal's reason of invisible characters only is no reason (rule book §12, as the
            # service says); a withdrawal's reason is free text like a name
            blank = path.endswith("/reversals") and bad == ZERO_WIDTH
            code = "reason_required" if blank else "invalid_request"
            assert answer.json()["code"] == code and fields(answer) == [field], answer.text
        assert api.written() == before


def test_a_tape_row_with_a_nul_a_bidi_override_or_a_zero_width_name_enrols_nothing(funded: Api) -> None:
    """Finding 6, on a loan tape: the NUL refuses the file, the others their row (line 3)."""
    before = funded.written()
    answer = send_tape(funded, tape(NUL))
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request", answer.text
    for bad in (BIDI, ZERO_WIDTH, "escape \u001b[2J", "next\u0085line"):
        answer = send_tape(funded, tape(bad))
        assert answer.status_code == 422, (bad, answer.text)
        rows = answer.json()["figures"]["rows"]
        assert [(r["row"], r["code"]) for r in rows] == [(3, "invalid_request")], rows
        assert rows[0]["message"].startswith("borrower_name "), rows
    assert funded.written() == before


def _rules_with_split_key(key: str) -> dict[str, Any]:
    document = copy.deepcopy(RULES) | {"effective_from": "2019-01-01"}
    document["covers"]["direct"]["split"] = {key: 4000, "bank": "remainder"}
    return document


def test_a_rule_document_or_targets_with_a_nul_a_bidi_override_or_a_zero_width_string_is_refused(
    funded: Api,
) -> None:
    """Finding 6, inside documents: every string of a rule version or a targets list, keys too, over
    the API (422 naming the field) and through the ledger itself (as the CLI and scripts call it)."""
    api = funded
    before = api.written()
    for bad in HOSTILE.values():
        answer = api.post(
            "fm",
            f"{S}/rule-versions",
            {"document": _rules_with_split_key(bad), "published_on": "2018-06-01"},
        )
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_request", answer.text
        assert fields(answer) == ["body.document"] and "document.covers.direct.split" in answer.text
        targets = [{"target_id": bad, "metric": "firms_served", "count": 5, "by": "2020-12-31"}]
        answer = api.client.put(
            f"{S}/targets", json={"targets": targets, "set_on": "2018-06-01"}, headers=api.as_("fm")
        )
        assert answer.status_code == 422 and fields(answer) == ["body.targets"], answer.text
    fm = Actor("fm", Role.FUND_MANAGER)
    for document in (
        _rules_with_split_key(ZERO_WIDTH),
        json.dumps(_rules_with_split_key(f"a{NUL}")),  # a YAML/JSON file's text, the NUL escaped
    ):
        with pytest.raises(InvalidRequest) as refused:
            api.system.ledger.publish_rules(fm, SCHEME, document, published_on=api.system.ledger.clock())
        assert refused.value.figures["field"] == "document.covers.direct.split"
    assert api.written() == before


def test_a_request_id_that_is_not_a_plain_token_is_replaced_before_it_reaches_an_event(api: Api) -> None:
    """Finding 6: X-Request-Id is recorded on every event a request causes."""
    kept = api.client.post(
        "/v1/parties",
        json={"party_id": "p-1", "role": "bank", "name": "Bank One", "registered_on": "2018-01-02"},
        headers=api.as_("fm") | {"X-Request-Id": "crm:req-1.2_3"},
    )
    assert kept.headers["X-Request-Id"] == "crm:req-1.2_3"
    for n, sent in enumerate(
        [b"id\x85next", b"id\x1b[2J", b"a b", b"<script>", b"=cmd", b"x" * 101], start=2
    ):
        answer = api.client.post(
            "/v1/parties",
            json={"party_id": f"p-{n}", "role": "bank", "name": f"Bank {n}", "registered_on": "2018-01-02"},
            headers=api.as_("fm") | {"X-Request-Id": sent},
        )
        assert answer.status_code == 201, answer.text
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-Id"]), answer.headers
        stored = next(iter(api.system.ledger.events.get(party_uuid(f"p-{n}"))))
        assert stored.actor.request_id == answer.headers["X-Request-Id"]


@pytest.mark.parametrize(
    "key", [b"key\x85next", b"key\x1bx", b"   ", b"k" * 201], ids=["C1", "escape", "spaces", "201 chars"]
)
def test_an_idempotency_key_with_control_or_only_invisible_characters_or_over_200_is_refused_naming_it(
    api: Api, key: bytes
) -> None:
    """Finding 6: the Idempotency-Key is recorded with the request it guards."""
    before = api.written()
    answer = api.client.post(
        "/v1/parties",
        json={"party_id": "p-1", "role": "bank", "name": "Bank One", "registered_on": "2018-01-02"},
        headers=api.as_("fm") | {"Idempotency-Key": key},
    )
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request", answer.text
    assert answer.json()["figures"]["field"] == "Idempotency-Key"
    assert api.written() == before


# Finding 9: formula cells, after leading whitespace, in JSON and on tapes.


@pytest.mark.parametrize("text", FORMULAS.values(), ids=FORMULAS.keys())
def test_free_text_that_starts_like_a_formula_after_leading_whitespace_is_refused_everywhere(
    funded: Api, text: str
) -> None:
    """Finding 9: names and reasons from JSON, and tape cells."""
    api = funded
    before = api.written()
    for who, path, body, field in [
        ("bank-a", f"{S}/banks/bank-a/loans", loan("X1", 2, borrower_name=text), "body.borrower_name"),
        (
            "fm",
            "/v1/parties",
            {"party_id": "p-x", "role": "bank", "name": text, "registered_on": "2018-01-02"},
            "body.name",
        ),
        (
            "fm",
            f"{S}/reversals",
            {"fact_id": "city-fund:contribution:1", "reason": text, "reversed_on": "2019-01-01"},
            "body.reason",
        ),
    ]:
        answer = api.post(who, path, body)
        assert answer.status_code == 422 and fields(answer) == [field], (path, answer.text)
    answer = send_tape(api, tape(text))
    assert answer.status_code == 422, answer.text
    assert [(r["row"], r["code"]) for r in answer.json()["figures"]["rows"]] == [(3, "invalid_request")]
    assert api.written() == before


# Finding 10: 500s.


def test_a_tape_cell_above_the_csv_field_limit_is_a_tape_error_naming_its_line(funded: Api) -> None:
    """Finding 10: the csv module's field limit (131,072 characters) gave a 500."""
    before = funded.written()
    body = tape("Fictional Firm 2").decode().replace("Fictional Firm 2", "x" * 131_073).encode()
    answer = send_tape(funded, body)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request", answer.text
    assert "line 3" in answer.json()["detail"]
    assert funded.written() == before


BAD_CURSORS = [  # the wrong shape for every route
    "[1e23]",
    '["a", 1e23]',
    "[true]",
    "[false, true]",
    f"[{2**70}]",
    f'["a", {2**70}]',
    "[-1]",
    '["a", null]',
    "[[]]",
    '[{"a": 1}]',
    '"a"',
    "[]",
    '["a", "b", "c"]',
    "not json",
]
WRONG_TYPES = {  # a cursor of the right length with the wrong type at a position
    (int,): ['["a"]', '["1"]', "[1.0]"],
    (str,): ["[1]", "[1.5]"],
    (str, str): ['[1, "a"]', '["a", 1]', '["a", 2.5]'],
    ("date", str): ['["a", "b"]', '["2019-01-01", 1]', '[1, "a"]', '["2019-02-30", "x"]'],
}


@pytest.mark.parametrize(
    ("route", "who", "shape"),
    [
        ("/v1/audit/events", "fm", (int,)),
        ("/v1/parties", "fm", (str,)),
        ("/v1/schemes", "bank-a", (str,)),
        (f"{S}/loans", "bank-a", (str, str)),
        (f"{S}/claims", "fm", ("date", str)),
    ],
)
def test_a_cursor_of_the_wrong_shape_for_its_route_is_refused_as_invalid_request(
    api: Api, route: str, who: str, shape: tuple
) -> None:
    """Finding 10: each route states its cursor's shape (str, int within 0..2**62, a date); floats,
    bools, huge integers and the wrong type for a position were 500s or silently taken."""
    before = api.written()
    for bad in [*BAD_CURSORS, *WRONG_TYPES[shape]]:
        token = base64.urlsafe_b64encode(bad.encode()).decode().rstrip("=")
        answer = api.client.get(route, params={"cursor": token}, headers=api.as_(who))
        assert answer.status_code == 422, (route, bad, answer.status_code, answer.text)
        assert answer.json()["code"] == "invalid_request" and answer.json()["figures"]["field"] == "cursor"
    assert api.written() == before
    first = api.get(who, route, limit=1)  # a cursor the route gave out is of its shape
    if first.json()["next_cursor"]:
        second = api.get(who, route, limit=1, cursor=first.json()["next_cursor"])
        assert second.status_code == 200 and second.json()["items"] != first.json()["items"], second.text


# Finding 11: secrets.


def test_the_audit_view_of_an_api_key_shows_no_secret_hash_to_anyone(api: Api) -> None:
    """Finding 11: GET /v1/audit/aggregates/{key} showed each key's keyed hash to regulators and fund
    managers. A key's aggregate holds its id, principal, role, party, name, dates, revocation reason
    and the hash: the hash is the one secret, and no read shows it."""
    key_id = api.tokens["bank-a"].split("_")[1]
    issued = [
        api.system.ledger.mapper.to_domain_event(n)
        for n in api.system.ledger.recorder.select_notifications(1, 1000)
        if n.originator_id == key_uuid(key_id)
    ]
    secret_hash = issued[0].secret_hash
    assert isinstance(issued[0], ApiKey.Issued) and len(secret_hash) == 64
    for who in ("regulator", "fm"):
        for params in ({}, {"version": 1}, {"business_date": "2026-11-27"}):
            answer = api.get(who, f"/v1/audit/aggregates/{key_uuid(key_id).hex}", **params)
            assert answer.status_code == 200, answer.text
            state = answer.json()["state"]
            assert "secret_hash" not in state and secret_hash not in answer.text
            assert state["key_id"] == key_id and state["role"] == "bank" and state["party_id"] == "bank-a"


# Finding 13: chunked bodies.


def chunks(size: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    while size > 0:
        yield b" " * min(piece, size)
        size -= piece


def test_a_chunked_body_above_the_limit_is_413_and_one_below_it_is_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 13: a chunked body (no Content-Length) above 1 MiB answered 422 "not valid JSON"."""
    before = api.written()
    headers = api.as_("fm") | {"Content-Type": "application/json"}
    answer = api.client.post("/v1/parties", content=chunks(1024 * 1024 + 1), headers=headers)
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413 and answer.json()["code"] == "payload_too_large", answer.text
    monkeypatch.setattr("api.app.TAPE_BYTES_MAX", 4096)
    tape_headers = api.as_("bank-a") | {"Content-Type": "text/csv"}
    answer = api.client.post(TAPE, content=chunks(4097, 1000), headers=tape_headers)
    assert answer.status_code == 413 and answer.json()["code"] == "payload_too_large", answer.text
    assert api.written() == before
    body = json.dumps({"party_id": "p-1", "role": "bank", "name": "Bank One", "registered_on": "2018-01-02"})
    padded = body.encode() + b" " * (1024 * 1024 - len(body))
    pieces = (padded[i : i + 50_000] for i in range(0, len(padded), 50_000))
    answer = api.client.post("/v1/parties", content=pieces, headers=headers)
    assert answer.status_code == 201, answer.text


# Finding 15: numbers are numbers, and who sees a borrower.


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rate_bp", "450"),
        ("rate_bp", 450.0),
        ("rate_bp", True),
        ("term_months", "24"),
        ("term_months", 24.0),
        ("term_months", True),
    ],
)
def test_an_integer_field_sent_as_a_string_a_float_or_a_bool_is_refused(
    funded: Api, field: str, value: object
) -> None:
    """Finding 15: `rate_bp: "450"` was accepted."""
    before = funded.written()
    answer = funded.post("bank-a", f"{S}/banks/bank-a/loans", loan("X1", 2, **{field: value}))
    assert answer.status_code == 422 and fields(answer) == [f"body.{field}"], answer.text
    assert funded.written() == before


@pytest.mark.parametrize("value", ["92", 92.0, True])
def test_overdue_days_sent_as_a_string_a_float_or_a_bool_is_refused(funded: Api, value: object) -> None:
    """Finding 15."""
    api = funded
    assert api.post("bank-a", f"{S}/banks/bank-a/loans", loan("L1", 1)).status_code == 201
    assert (
        api.post(
            "bank-a",
            f"{S}/banks/bank-a/loans/L1/disbursement",
            {"amount": "1000000.00", "disbursed_on": "2019-02-02"},
        ).status_code
        == 201
    )
    before = api.written()
    answer = api.post(
        "bank-a",
        f"{S}/banks/bank-a/loans/L1/default",
        {"overdue_days": value, "defaulted_on": "2019-09-01"},
    )
    assert answer.status_code == 422 and fields(answer) == ["body.overdue_days"], answer.text
    assert api.written() == before


BORROWER_SEERS = {"fm", "fm2", "regulator"}


def test_each_role_sees_the_borrower_of_the_loans_it_may_see_except_a_government_party(funded: Api) -> None:
    """Finding 15: a borrower's name and USCC are for the loan's bank, its cover party, the fund
    manager and the regulator; a government party sees loans' figures with both null, in lists and
    single reads, live and as of, and in a loan's history."""
    api = funded
    covers = {"D1": ("direct", None), "G1": ("guaranteed", "guar-a"), "I1": ("insured", "ins-a")}
    for n, (ref, (cover, party)) in enumerate(covers.items(), start=1):
        body = loan(ref, n, borrower_name=f"Secretive Firm {ref}", cover=cover, cover_party_id=party)
        assert api.post("bank-a", f"{S}/banks/bank-a/loans", body).status_code == 201
    position = api.written()
    may_see = {
        "fm": set(covers),
        "fm2": set(covers),
        "regulator": set(covers),
        "bank-a": set(covers),
        "bank-b": set(),
        "guar-a": {"G1"},
        "ins-a": {"I1"},
        "city-fund": set(covers),
        "prov-reguarantee": set(covers),
    }
    for who, refs in may_see.items():
        sees_borrower = who not in ("city-fund", "prov-reguarantee")
        for params in ({}, {"as_of_position": position}, {"as_of_date": "2019-12-31"}):
            listed = api.get(who, f"{S}/loans", **params)
            assert listed.status_code == 200, listed.text
            assert {item["loan_ref"] for item in listed.json()["items"]} == refs, (who, params)
            for item in listed.json()["items"]:
                expected = (
                    f"Secretive Firm {item['loan_ref']}",
                    uscc(list(covers).index(item["loan_ref"]) + 1),
                )
                assert (item["borrower_name"], item["borrower_uscc"]) == (
                    expected if sees_borrower else (None, None)
                ), (who, params)
        for n, ref in enumerate(covers, start=1):
            one = api.get(who, f"{S}/banks/bank-a/loans/{ref}")
            history = api.get(who, f"{S}/banks/bank-a/loans/{ref}/history")
            if ref not in refs:
                assert one.status_code == history.status_code == 404, (who, ref)
                continue
            assert one.status_code == history.status_code == 200, (who, ref, one.text)
            seen = (one.json()["borrower_name"], one.json()["borrower_uscc"])
            enrolled = history.json()[0]["data"]
            seen_in_history = (enrolled["borrower_name"], enrolled["borrower_uscc"])
            expected = (f"Secretive Firm {ref}", uscc(n)) if sees_borrower else (None, None)
            assert seen == seen_in_history == expected, (who, ref)
            if not sees_borrower:
                assert "Secretive" not in one.text + history.text + listed.text


# Finding 8: a bank sees nothing scheme-wide, nor anything of another bank, at any position or date.

OTHER_PARTIES_ROUTES = [
    "/v1/schemes",
    S,
    f"{S}/members",
    f"{S}/rule-versions",
    f"{S}/rule-versions/1",
    f"{S}/loans",
    f"{S}/claims",
    *(
        f"{S}/reports/{name}"
        for name in (
            "balances",
            "owed",
            "loss-ratios",
            "exposure",
            "funds",
            "breakers",
            "claims-queue",
            "loan-book",
            "targets",
            "fund-history",
            "breaker-figures",
            "settlements",
        )
    ),
    "/v1/parties",
]


def test_a_bank_guarantor_or_insurer_sees_no_scheme_wide_figure_of_a_scheme_live_or_as_of(
    funded: Api,
) -> None:
    """Finding 8: `exposure` and `paid_in` moved with another bank's principal in the scheme's as-of
    figures. They are null for a bank, guarantor or insurer key, and shown to the fund manager, the
    regulator and a government party."""
    api = funded
    assert api.post("bank-b", f"{S}/banks/bank-b/loans", loan("B1", 9)).status_code == 201
    position = api.written()
    for who in ("bank-a", "bank-b", "guar-a", "ins-a", "fm", "regulator", "city-fund"):
        hidden = who in ("bank-a", "bank-b", "guar-a", "ins-a")
        for params in (
            {},
            {"as_of_position": position},
            {"as_of_position": position - 1},
            {"as_of_date": "2019-06-01"},
        ):
            one = api.get(who, S, **params).json()
            listed = api.get(who, "/v1/schemes", **params).json()["items"]
            for scheme in (one, *listed):
                figures = (scheme["exposure"], scheme["paid_in"])
                assert (figures == (None, None)) == hidden, (who, params, scheme)


def _views(api: Api, who: str, **params: Any) -> dict[str, Any]:
    views = {}
    for route in OTHER_PARTIES_ROUTES:
        answer = api.get(who, route, **params)
        views[route] = (answer.status_code, _comparable(answer.json()))
    described = {"bank_id": "bank-a", "principal": "500000.00", "cover": "direct"}
    for name, body in [
        ("what-if bank-b's loan", {"bank_id": "bank-b", "loan_ref": "B1"}),
        ("what-if a described loan", described),
    ]:
        answer = api.post(who, f"{S}/what-if", body | {"amount": "100000.00", "approved_on": "2019-12-01"})
        views[name] = (answer.status_code, _comparable(answer.json()))
    return views


def _comparable(body: Any) -> Any:
    """An answer without what differs from one request to the next whatever the ledger holds: the
    request id of a problem, and `today` (as of a date, that date)."""
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k not in ("request_id", "today")}
    return body


def test_what_another_bank_does_changes_nothing_a_bank_guarantor_or_insurer_reads_at_any_position_or_date(
    funded: Api,
) -> None:
    """Finding 8: every read route with a bank's (or guarantor's or insurer's) key, live and as of a
    position and a date, answers the same before and after another bank's loan is enrolled, disbursed,
    defaulted, claimed, approved and paid; and a what-if naming the other bank's loan is 404."""
    api = funded
    assert (
        api.post("bank-a", f"{S}/banks/bank-a/loans", loan("A1", 1, enrolled_on="2019-01-10")).status_code
        == 201
    )
    answer = api.post(
        "bank-a",
        f"{S}/banks/bank-a/loans/A1/disbursement",
        {"amount": "1000000.00", "disbursed_on": "2019-01-11"},
    )
    assert answer.status_code == 201, answer.text
    viewers = ("bank-a", "guar-a", "ins-a")
    live_before = {who: _views(api, who) for who in viewers}
    before = api.written()
    b1 = f"{S}/banks/bank-b/loans/B1"
    for who, path, body in [
        ("bank-b", f"{S}/banks/bank-b/loans", loan("B1", 9, enrolled_on="2019-03-01")),
        ("bank-b", f"{b1}/disbursement", {"amount": "1000000.00", "disbursed_on": "2019-03-02"}),
        ("bank-b", f"{b1}/default", {"overdue_days": 92, "defaulted_on": "2019-09-01"}),
        ("bank-b", f"{b1}/claims", {"claimed": "800000.00", "filed_on": "2019-09-10"}),
        (
            "fm",
            f"{S}/claims/bank-b:B1:claim:1/approvals",
            {"amount": "800000.00", "approved_on": "2019-10-01"},
        ),
        (
            "city-fund",
            f"{S}/claims/bank-b:B1:claim:1/payments",
            {"party_id": "city-fund", "amount": "320000.00", "paid_on": "2019-11-01"},
        ),
    ]:
        answer = api.post(who, path, body)
        assert answer.status_code == 201, (path, answer.text)
    after = api.written()
    for who in viewers:
        assert _views(api, who) == live_before[who], who
        assert _views(api, who, as_of_position=before) == _views(api, who, as_of_position=after), who
        assert _views(api, who, as_of_date="2019-02-28") == _views(api, who, as_of_date="2019-12-31"), who
    what_if = _views(api, "bank-a")["what-if bank-b's loan"]
    assert what_if[0] == 404 and what_if[1]["code"] == "unknown_loan", what_if
