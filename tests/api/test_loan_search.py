"""Searching the loans list by reference, borrower name and USCC (the console's loan search): the
filters narrow what the key may see, never widen it, and a key that may not see borrowers may not
search by them either."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import SCHEME, Api, uscc

S = f"/v1/schemes/{SCHEME}"
LOANS = {  # ref: (bank, borrower name, USCC number)
    "HB2019-0001": ("bank-a", "鹤壁星河电子科技有限公司", 1),
    "HB2019-0002": ("bank-a", "鹤壁远景新材料有限公司", 2),
    "HB2020-0001": ("bank-a", "Hebi Starriver Optics Co., Ltd.", 3),
    "HB2019-0101": ("bank-b", "鹤壁星河软件有限公司", 4),
}


def enrol_all(api: Api) -> None:
    answer = api.post(
        "fm",
        f"{S}/contributions",
        {"party_id": "city-fund", "amount": "10000000.00", "contributed_on": "2018-02-01"},
    )
    assert answer.status_code == 201, answer.text
    for ref, found in LOANS.items():
        bank, name, n = found
        body = {
            "loan_ref": ref,
            "borrower_name": name,
            "borrower_uscc": uscc(n),
            "product": "tech_loan",
            "principal": "100000.00",
            "rate_bp": 450,
            "term_months": 24,
            "enrolled_on": "2019-02-01",
        }
        answer = api.post(bank, f"{S}/banks/{bank}/loans", body)
        assert answer.status_code == 201, answer.text


def refs(api: Api, who: str, **params: Any) -> list[str]:
    answer = api.get(who, f"{S}/loans", **params)
    assert answer.status_code == 200, answer.text
    return [item["loan_ref"] for item in answer.json()["items"]]


def test_the_loans_list_narrows_by_reference_borrower_name_and_uscc(api: Api) -> None:
    enrol_all(api)
    assert refs(api, "fm", loan_ref="HB2019-") == ["HB2019-0001", "HB2019-0002", "HB2019-0101"]
    assert refs(api, "fm", loan_ref="hb2020") == ["HB2020-0001"]  # a reference's letters in any case
    assert refs(api, "fm", loan_ref="HB2019-0001") == ["HB2019-0001"]
    assert refs(api, "fm", borrower_name="星河") == ["HB2019-0001", "HB2019-0101"]
    assert refs(api, "fm", borrower_name="starriver") == ["HB2020-0001"]
    assert refs(api, "fm", borrower_uscc=uscc(2)) == ["HB2019-0002"]
    assert refs(api, "fm", borrower_uscc=uscc(2).lower()) == ["HB2019-0002"]
    assert refs(api, "fm", borrower_name="星河", loan_ref="HB2019-01") == ["HB2019-0101"]
    assert refs(api, "fm", borrower_name="星河", state="enrolled", bank_id="bank-b") == ["HB2019-0101"]
    assert refs(api, "fm", borrower_name="不存在的企业") == []


def test_a_bank_s_search_finds_only_its_own_loans(api: Api) -> None:
    enrol_all(api)
    assert refs(api, "bank-a", borrower_name="星河") == ["HB2019-0001"]
    assert refs(api, "bank-b", borrower_name="星河") == ["HB2019-0101"]
    assert refs(api, "bank-b", borrower_uscc=uscc(1)) == []
    assert refs(api, "bank-b", loan_ref="HB2019-0001") == []


def test_like_wildcards_in_a_search_are_plain_characters(api: Api) -> None:
    enrol_all(api)
    assert refs(api, "fm", borrower_name="%") == []
    assert refs(api, "fm", borrower_name="_") == []
    assert refs(api, "fm", borrower_name="Co._") == []
    assert refs(api, "fm", borrower_name="Co.,") == ["HB2020-0001"]


def test_the_search_holds_as_of_a_position(api: Api) -> None:
    enrol_all(api)
    position = api.written()
    assert refs(api, "fm", borrower_name="星河", as_of_position=position) == ["HB2019-0001", "HB2019-0101"]
    assert refs(api, "bank-a", loan_ref="HB2019-0002", as_of_date="2019-02-01") == ["HB2019-0002"]
    assert refs(api, "bank-a", loan_ref="HB2019-0002", as_of_date="2019-01-31") == []


def test_a_key_that_may_not_see_borrowers_may_not_search_by_them(api: Api) -> None:
    enrol_all(api)
    before = api.written()
    for params in ({"borrower_name": "星河"}, {"borrower_uscc": uscc(1)[:10]}):
        answer = api.get("city-fund", f"{S}/loans", **params)
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "forbidden"
        assert "星河" not in answer.text and "HB2019" not in answer.text
    assert refs(api, "city-fund", loan_ref="HB2019-0001") == ["HB2019-0001"]  # by reference it may
    assert api.written() == before


def test_a_malformed_search_is_refused_naming_its_parameter(api: Api) -> None:
    for params, field in [
        ({"loan_ref": "HB 2019"}, "query.loan_ref"),
        ({"loan_ref": "星河"}, "query.loan_ref"),
        ({"borrower_uscc": "9141-0600"}, "query.borrower_uscc"),
        ({"borrower_uscc": "9" * 19}, "query.borrower_uscc"),
        ({"borrower_name": "x" * 201}, "query.borrower_name"),
    ]:
        answer = api.get("fm", f"{S}/loans", **params)
        assert answer.status_code == 422, (params, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [field], params
    answer = api.get("fm", f"{S}/loans", borrower_name="星\x00河")
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert answer.json()["figures"]["field"] == "borrower_name"
