"""The one rule for free text (findings 6 and 9 of the attack on the ledger) and the one way the
ledger writes a cell for a spreadsheet (finding 9)."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import InvalidRequest
from ledger.text import check_strings, check_text, spreadsheet_cell

REFUSED = {
    "NUL": "nul\u0000byte",
    "tab": "a\tb",
    "line feed": "line\nbreak",
    "carriage return": "a\rb",
    "escape": "\u001b[31mred",
    "DEL": "a\u007fb",
    "C1 NEL": "a\u0085b",
    "C1 CSI": "a\u009bb",
    "line separator": "a\u2028b",
    "paragraph separator": "a\u2029b",
    "LRE": "a\u202ab",
    "RLO": "invoice\u202egpj.exe",
    "PDF": "a\u202cb",
    "LRI": "a\u2066b",
    "PDI": "a\u2069b",
    "lone surrogate": "a\ud800b",
    "zero-width only": "\u200b\u200c\u200d",
    "word joiner and BOM only": "\u2060\ufeff",
    "spaces only": "   ",
    "ideographic space only": "\u3000",
    "Hangul filler only": "\u3164",
    "formula =": '=HYPERLINK("http://x")',
    "formula after a space": ' =HYPERLINK("http://x")',
    "@ after spaces": "  @SUM(1+1)",
    "plus": "+1+1",
    "minus": "-1+1",
    "formula after an ideographic space": "\u3000=1+1",
}
ACCEPTED = [
    "鹤壁星河电子科技有限公司",
    "Fictional Firm (Hebi) Ltd.",
    "O'Brien & Sons – 1 = 1",
    "zero\u200bwidth inside a visible name",
    "مرحبا",
    "a=b",
    "e-mail",
]


@pytest.mark.parametrize("value", REFUSED.values(), ids=REFUSED.keys())
def test_free_text_with_control_bidi_invisible_only_or_formula_content_is_refused_naming_the_field(
    value: str,
) -> None:
    """Findings 6 and 9."""
    with pytest.raises(InvalidRequest) as refused:
        check_text(value, field="borrower name", max_chars=200)
    assert refused.value.code == "invalid_request"
    assert refused.value.figures["field"] == "borrower name"
    assert refused.value.message.startswith("borrower name ")


@pytest.mark.parametrize("value", ACCEPTED)
def test_ordinary_names_in_any_script_are_accepted_and_stripped(value: str) -> None:
    assert check_text(f"  {value} ", field="name", max_chars=200) == value


def test_a_refusal_quotes_the_offending_value_escaped_and_names_the_character() -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_text("nul\u0000byte", field="borrower name", max_chars=200)
    assert "'nul\\x00byte'" in refused.value.message and "U+0000" in refused.value.message
    assert "\u0000" not in refused.value.message


def test_optional_text_may_be_empty_and_required_text_may_not() -> None:
    assert check_text("", field="reason", max_chars=10, required=False) == ""
    with pytest.raises(InvalidRequest):
        check_text("", field="name", max_chars=10)
    with pytest.raises(InvalidRequest):
        check_text("x" * 11, field="name", max_chars=10)
    with pytest.raises(InvalidRequest):
        check_text(12, field="name", max_chars=10)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"covers": {"direct": {"split": {"city\u0000fund": 4000}}}}, "document.covers.direct.split"),
        ({"covers": {"direct": {"split": {"\u200b\u200b": 4000}}}}, "document.covers.direct.split"),
        ({"effective_from": "2018-01-02\u202e"}, "document.effective_from"),
        ({"covers": [{"tag": "ip\u2066pledge"}]}, "document.covers.0.tag"),
    ],
    ids=["NUL in a key", "zero-width key", "bidi override in a value", "isolate in a list"],
)
def test_every_string_inside_a_document_keys_included_meets_the_character_rule(
    document: dict, field: str
) -> None:
    """Finding 6: strings anywhere inside a rule-version document or a targets list."""
    with pytest.raises(InvalidRequest) as refused:
        check_strings(document, field="document")
    assert refused.value.figures["field"] == field


def test_a_documents_amounts_dates_and_numbers_pass_the_character_rule() -> None:
    check_strings(
        {"amount": "-5.00", "by": date(2020, 1, 1), "count": 3, "split": {"bank": "remainder"}, "x": None},
        field="document",
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        (" =1+1", "' =1+1"),
        ("  @SUM(1+1)", "'  @SUM(1+1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        ("\r=1", "'\r=1"),
        ("鹤壁星河电子科技有限公司", "鹤壁星河电子科技有限公司"),
        ("a=b", "a=b"),
        ("-5.00", "-5.00"),
        ("1234567.89", "1234567.89"),
        ("", ""),
        (None, None),
        (12, 12),
        (date(2020, 1, 1), date(2020, 1, 1)),
    ],
)
def test_a_cell_the_ledger_writes_for_a_spreadsheet_never_starts_like_a_formula(
    value: object, written: object
) -> None:
    """Finding 9: prefix an apostrophe to text that starts (after leading whitespace) with =, +, -, @,
    tab or CR; leave plain numbers and non-text values as they are."""
    assert spreadsheet_cell(value) == written
