"""Hostile input answered with 4xx, never 5xx: loan tapes of every malformed kind, oversized
bodies refused before they are read, closed CORS, and keys that leave no secret behind."""

from __future__ import annotations

import io
import json
import logging

import pytest

from api.logs import JsonLines
from ledger.domain.key import ApiKey
from ledger.tape import COLUMNS
from tests.api.conftest import OPERATOR, SCHEME, Api, uscc

TAPE = f"/v1/schemes/{SCHEME}/banks/bank-a/loan-tapes"
HEADER = ",".join(COLUMNS)


def row(ref: str, n: int, principal: str = "100000.00") -> str:
    return f"{ref},Fictional Firm {n},{uscc(100 + n)},tech_loan,,{principal},450,24,2019-03-01,direct,"


def tape_with(bad: str) -> bytes:
    """A tape whose second row (line 3) is `bad`."""
    return f"{HEADER}\n{row('T1', 1)}\n{bad}\n".encode()


def send(api: Api, body: bytes, **headers: str):
    return api.client.post(
        TAPE, content=body, headers=api.as_("bank-a") | {"Content-Type": "text/csv"} | headers
    )


@pytest.fixture
def funded(api: Api) -> Api:
    api.post(
        "fm",
        f"/v1/schemes/{SCHEME}/contributions",
        {"party_id": "city-fund", "amount": "10000000.00", "contributed_on": "2018-02-01"},
    )
    return api


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        (f"{HEADER}\n{row('T1', 1)}\n{row('T1', 2)}\n".encode(), "duplicate_loan"),
        (f"{HEADER}\n{row('T1', 1)}\n{row('T2', 2, '1e5')}\n".encode(), "invalid_amount"),
        (
            tape_with(f"=cmd|' /C calc'!A0,x,{uscc(3)},tech_loan,,1.00,1,1,2019-03-01,direct,"),
            "invalid_request",
        ),
        (
            tape_with(f"@SUM(1+1),x,{uscc(3)},tech_loan,,1.00,1,1,2019-03-01,direct,"),
            "invalid_request",
        ),
        (f"{HEADER}\n{row('T1', 1)}\nT3,x,{uscc(3)},tech_loan,,1.00,1,1\n".encode(), "invalid_request"),
        (
            f"{HEADER}\n{row('T1', 1)}\nT3,x,{uscc(3)},tech_loan,,-5.00,450,24,2019-03-01,direct,\n".encode(),
            "invalid_amount",
        ),
        (
            f"{HEADER}\n{row('T1', 1)}\nT3,x,9141,tech_loan,,5.00,450,24,2019-03-01,direct,\n".encode(),
            "invalid_uscc",
        ),
        (
            f"{HEADER}\n{row('T1', 1)}\nT3,x,{uscc(3)},tech_loan,,5.00,450,24,2029-03-01,direct,\n".encode(),
            "invalid_date",
        ),
    ],
    ids=[
        "duplicate rows",
        "exponent",
        "formula =",
        "formula @",
        "short row",
        "negative",
        "bad USCC",
        "future date",
    ],
)
def test_a_tape_with_one_bad_row_enrols_nothing_and_reports_that_row(
    funded: Api, body: bytes, expect: str
) -> None:
    before = funded.written()
    answer = send(funded, body)
    assert answer.status_code in (409, 422), answer.text
    assert [r["code"] for r in answer.json()["figures"]["rows"]] == [expect]
    assert answer.json()["figures"]["rows"][0]["row"] == 3
    assert funded.written() == before


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"loan_ref;principal\nT1;1\n", "header"),
        (f"{HEADER}\n{row('T1', 1)}\n".replace("Fictional", "虚构").encode("gb18030"), "not UTF-8"),
        (f"{HEADER}\n{row('T1', 1)}\n".encode("utf-16"), "NUL byte"),
        (b"\xff\xfe\x00", "NUL byte"),
        (b"", "header"),
    ],
    ids=["wrong header", "GB18030", "UTF-16", "binary", "empty"],
)
def test_an_unreadable_tape_is_refused_whole_with_the_reason(funded: Api, body: bytes, why: str) -> None:
    answer = send(funded, body)
    assert (
        answer.status_code == 422
        and answer.json()["code"] == "invalid_request"
        and why in answer.json()["detail"]
    )


def test_a_tape_with_a_byte_order_mark_and_crlf_lines_is_read(funded: Api) -> None:
    body = ("\ufeff" + HEADER + "\r\n" + row("T1", 1) + "\r\n" + row("T2", 2) + "\r\n").encode()
    answer = send(funded, body)
    assert answer.status_code == 201 and answer.json()["details"]["loans"] == 2


def test_a_tape_with_too_many_rows_is_refused(funded: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ledger.service.handlers.loans.TAPE_ROWS_MAX", 3)
    body = "\n".join([HEADER, *(row(f"T{i}", i) for i in range(4))]).encode()
    answer = send(funded, body)
    assert answer.status_code == 422 and "1 to 3 rows" in answer.json()["detail"]


def test_an_oversized_tape_is_refused_before_it_is_read(funded: Api) -> None:
    answer = send(funded, b"x", **{"Content-Length": str(64 * 1024 * 1024 + 1)})
    assert answer.status_code == 413 and answer.json()["code"] == "payload_too_large"


def test_cross_origin_requests_are_not_allowed(api: Api) -> None:
    preflight = api.client.options(
        "/v1/schemes", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    plain = api.client.get("/v1/schemes", headers=api.as_("fm") | {"Origin": "https://evil.example"})
    assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers


def test_a_key_leaves_only_a_keyed_hash_of_its_secret_in_the_ledger(api: Api) -> None:
    token = api.tokens["bank-a"]
    secret = token.split("_", 2)[2]
    for notification in api.system.ledger.recorder.select_notifications(1, 100_000):
        assert secret.encode() not in notification.state and token.encode() not in notification.state
    issued = [
        api.system.ledger.mapper.to_domain_event(n)
        for n in api.system.ledger.recorder.select_notifications(
            1, 100_000, topics=[f"{ApiKey.Issued.__module__}:{ApiKey.Issued.__qualname__}"]
        )
    ]
    assert len({e.secret_hash for e in issued}) == len(issued) and all(
        len(e.secret_hash) == 64 for e in issued
    )
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert api.client.get("/v1/schemes", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401


def test_a_revoked_key_is_refused_from_the_next_request_on(api: Api) -> None:
    token = api.tokens["bank-b"]
    assert api.client.get("/v1/schemes", headers=api.as_("bank-b")).status_code == 200
    api.system.ledger.revoke_key(OPERATOR, token.split("_")[1], "the bank left the programme")
    answer = api.client.get("/v1/schemes", headers=api.as_("bank-b"))
    assert answer.status_code == 401 and answer.json()["code"] == "unauthenticated"
    assert api.client.get("/v1/schemes", headers=api.as_("bank-a")).status_code == 200


def test_the_log_of_refused_requests_holds_no_secret(api: Api) -> None:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonLines())
    access = logging.getLogger("riskpool.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        token = api.tokens["bank-a"]
        wrong = token[:-4] + "AAAA"
        assert api.client.get("/v1/schemes", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
        refused = api.client.post(
            f"/v1/schemes/{SCHEME}/contributions",
            json={"party_id": "city-fund", "amount": "1.00", "contributed_on": "2018-02-01"},
            headers=api.as_("bank-a"),
        )
        assert refused.status_code == 403
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [entry["status"] for entry in logged] == [401, 403]
    assert logged[1]["principal_id"] == "bank-a"  # who was refused is there; their secret is not
    for secret in (token, token.split("_", 2)[2], wrong, wrong.split("_", 2)[2]):
        assert secret not in lines.getvalue()


def test_a_fact_dated_before_its_scheme_is_refused_so_as_of_reads_stay_whole(api: Api) -> None:
    """Found by the stateful fuzz run: targets dated before their scheme's creation were recorded,
    and every as-of-date read between the two dates then failed on the orphaned fact."""
    created = api.post("fm", "/v1/schemes", {"scheme_id": "s2", "name": "Second", "created_on": "2020-01-01"})
    assert created.status_code == 201, created.text
    before = api.written()
    answer = api.client.put(
        "/v1/schemes/s2/targets", json={"targets": [], "set_on": "2019-01-01"}, headers=api.as_("fm")
    )
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_date", answer.text
    assert answer.json()["figures"]["value"] == "2019-01-01"
    assert api.written() == before
    for who in ("fm", "bank-a"):
        assert api.get(who, f"/v1/schemes/{SCHEME}", as_of_date="2019-06-01").status_code == 200
        balances = api.get(who, f"/v1/schemes/{SCHEME}/reports/balances", as_of_date="2019-06-01")
        assert balances.status_code == 200, balances.text


# A key is recognised from memory once its secret has matched, and confirmed against the store
# with the read, or with the command's batch before its facts are saved (ledger/service/keys.py,
# UnitOfWork.confirm_credential). The attacker: a bank whose key the operator revoked, from this
# server or from `riskpool keys revoke` in another process, who keeps using it.


def _other_process(api: Api):
    """A second system on the same store, as `riskpool keys revoke` would open it."""
    from riskpool.bootstrap import build_system
    from riskpool.settings import Settings

    return build_system(Settings(database_url=api.system.settings.database_url))


def _claim_body() -> dict[str, str]:
    return {"party_id": "city-fund", "amount": "1.00", "contributed_on": "2018-02-01"}


@pytest.mark.parametrize("revoked_by", ["this server", "another process"])
def test_a_key_revoked_after_it_was_recognised_writes_nothing_and_reads_nothing(
    api: Api, revoked_by: str
) -> None:
    contributions = f"/v1/schemes/{SCHEME}/contributions"
    assert api.post("fm", contributions, _claim_body()).status_code == 201  # the key is now known
    assert api.client.get("/v1/schemes", headers=api.as_("fm")).status_code == 200
    key_id = api.tokens["fm"].split("_")[1]
    if revoked_by == "this server":
        api.system.ledger.revoke_key(OPERATOR, key_id, "the manager moved on")
    else:
        other = _other_process(api)
        try:
            other.ledger.revoke_key(OPERATOR, key_id, "the manager moved on")
        finally:
            other.close()
    before = api.written()
    write = api.post("fm", contributions, _claim_body())
    assert write.status_code == 401 and write.json()["code"] == "unauthenticated"
    replay = api.post("fm", contributions, _claim_body(), **{"Idempotency-Key": "after-revocation"})
    assert replay.status_code == 401
    read = api.client.get("/v1/schemes", headers=api.as_("fm"))
    assert read.status_code == 401 and read.json()["code"] == "unauthenticated"
    assert api.written() == before  # nothing recorded for the revoked key
    assert api.post("fm2", contributions, _claim_body()).status_code == 201  # other keys unaffected


def test_a_recognised_key_with_a_wrong_secret_is_not_recognised(api: Api) -> None:
    token = api.tokens["bank-a"]
    assert api.client.get("/v1/schemes", headers=api.as_("bank-a")).status_code == 200  # known now
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    answer = api.client.post(
        f"/v1/schemes/{SCHEME}/contributions",
        json=_claim_body(),
        headers={"Authorization": f"Bearer {wrong}"},
    )
    assert answer.status_code == 401 and answer.json()["code"] == "unauthenticated"


def test_a_revoked_key_learns_nothing_of_what_its_role_may_do_and_sends_no_tape_to_be_read(
    funded: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key revoked after it was recognised is refused 401 before anything else is judged: not
    403 naming what its role may not do, and not after a tape of up to 64 MB has been read."""
    import api.routes.loans as loan_routes

    contributions = f"/v1/schemes/{SCHEME}/contributions"
    assert send(funded, tape_with(row("R1", 1))).status_code == 201  # bank-a's key is now known
    funded.system.ledger.revoke_key(OPERATOR, funded.tokens["bank-a"].split("_")[1], "retired")
    forbidden = funded.post("bank-a", contributions, _claim_body())  # a bank may never contribute
    assert forbidden.status_code == 401 and forbidden.json()["code"] == "unauthenticated"
    read: list[bytes] = []
    monkeypatch.setattr(loan_routes, "read_tape", lambda data: read.append(data))
    tape = send(funded, tape_with(row("R2", 2)))
    assert tape.status_code == 401 and read == []


def test_a_read_model_catching_up_is_not_served_as_current(funded: Api) -> None:
    """A read model that stands behind the others (one just added, replaying the log from the
    start) would give figures of an earlier position: the live reads answer 503
    `projections_behind`, naming it, until it has caught up; then they answer as before."""
    assert send(funded, tape_with(row("R1", 1))).status_code == 201
    system = funded.system
    system.runner.stop()  # the tables as the following runner left them
    system.runner.catch_up()
    owed = f"/v1/schemes/{SCHEME}/reports/owed"
    current = funded.client.get(owed, headers=funded.as_("fm"))
    assert current.status_code == 200
    system.store.reset("journal")  # the model the owed report reads, back at position zero
    system.runner.reset()
    for path in (owed, f"/v1/schemes/{SCHEME}/loans", "/v1/audit/events"):
        behind = funded.client.get(path, headers=funded.as_("fm"))
        assert behind.status_code == 503, (path, behind.text)
        assert behind.json()["code"] == "projections_behind" and "journal at position 0" in behind.text
    system.runner.catch_up()
    again = funded.client.get(owed, headers=funded.as_("fm"))
    assert again.status_code == 200 and again.json() == current.json()


@pytest.mark.parametrize("reason", ["", "   ", "\u200b", None])
@pytest.mark.parametrize(
    "path, body",
    [
        (f"/v1/schemes/{SCHEME}/breakers/bank_loss_rate:bank-a/reset", {"reset_on": "2019-01-02"}),
        (
            f"/v1/schemes/{SCHEME}/reversals",
            {"fact_id": "city-fund:contribution:1", "reversed_on": "2019-01-02"},
        ),
    ],
)
def test_a_missing_or_blank_reason_is_reason_required_as_the_rule_book_says(
    api: Api, path: str, body: dict, reason: str | None
) -> None:
    """Rule book §12: a rejection, breaker reset or reversal without a reason is `reason_required`
    (the API answered `invalid_request` before), and records nothing."""
    before = api.written()
    sent = body | ({} if reason is None else {"reason": reason})
    answer = api.post("fm", path, sent)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    if reason is None:  # absent altogether: a malformed body, the field named
        assert problem["errors"][0]["field"] == "body.reason"
    else:
        assert problem["code"] == "reason_required", problem
        assert problem["errors"][0]["field"] == "body.reason"
    assert api.written() == before
