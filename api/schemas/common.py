"""Field types shared by every body, and the problem, receipt and page shapes."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from ledger.calendar import parse_date
from ledger.domain.guards import require_reason
from ledger.errors import InvalidRequest, LedgerError
from ledger.ids import ID_CHARS_MAX, REFERENCE_PATTERN
from ledger.money import Money, format_fen, parse_fen
from ledger.text import NAME_CHARS_MAX, REASON_CHARS_MAX, check_strings, check_text
from ledger.uscc import validate_uscc
from projections.model import PAGE_ITEMS_MAX  # noqa: F401 (the API's `limit` bound, defined there)

YUAN_PATTERN = r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$"
AMOUNT_PATTERN = r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$"  # what the ledger answers: always two decimals
PERCENT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
REF_PATTERN = f"^{REFERENCE_PATTERN}$"
POSITION_MAX = 2**62  # log positions, sizes and versions are 64-bit in every store


def _amount(allow_zero: bool) -> Any:
    def validate(value: object) -> Money:
        try:
            return Money(parse_fen(value, allow_zero=allow_zero))
        except LedgerError as error:
            raise PydanticCustomError(error.code, error.message) from None

    return validate


def _day(value: object) -> date:
    try:
        return parse_date(value)
    except LedgerError as error:
        raise PydanticCustomError(error.code, error.message) from None


def _uscc(value: object) -> str:
    try:
        return validate_uscc(value)
    except LedgerError as error:
        raise PydanticCustomError(error.code, error.message) from None


_YUAN_SCHEMA = {
    "type": "string",
    "pattern": YUAN_PATTERN,
    "examples": ["1234567.89"],
    "description": "yuan with at most two decimals, as a string",
}
Yuan = Annotated[
    Money,
    BeforeValidator(_amount(False)),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(_YUAN_SCHEMA | {"description": "a positive amount in yuan, as a string"}),
]
YuanOrZero = Annotated[
    Money,
    BeforeValidator(_amount(True)),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(_YUAN_SCHEMA | {"description": "an amount in yuan (zero allowed), as a string"}),
]
Day = Annotated[
    date,
    BeforeValidator(_day),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "examples": ["2019-06-30"],
            "description": "a business date in Asia/Shanghai, YYYY-MM-DD",
        }
    ),
]
Uscc = Annotated[
    str,
    BeforeValidator(_uscc),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 18,
            "maxLength": 18,
            "examples": ["91350100M000100Y43"],
            "description": "unified social credit code (GB 32100-2015)",
        }
    ),
]
Ref = Annotated[str, Field(pattern=REF_PATTERN, examples=["icbc-hebi"])]

# Fields of answers. Amounts are yuan strings with exactly two decimals (negative where a balance
# can be); dates are business dates; instants are ISO 8601 with their offset.
Amount = Annotated[
    str,
    Field(
        pattern=AMOUNT_PATTERN,
        examples=["1234567.89"],
        description="yuan with exactly two decimals, as a string",
    ),
]
Percent = Annotated[
    str, Field(pattern=PERCENT_PATTERN, examples=["61.73"], description="percent, two decimals")
]


def _instant(value: str) -> str:
    if datetime.fromisoformat(value).tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return value


Instant = Annotated[
    str,
    AfterValidator(_instant),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "examples": ["2019-05-02T09:13:44.123456+00:00"],
            "description": "an instant, ISO 8601 with its UTC offset",
        }
    ),
]


def _text(max_chars: int, *, required: bool) -> Any:
    """The ledger's one rule for free text (ledger/text.py), as a field type: a refusal is a 422
    naming the field's path, before anything runs."""

    def validate(value: object, info: ValidationInfo) -> str:
        try:
            return check_text(value, field=info.field_name or "text", max_chars=max_chars, required=required)
        except LedgerError as error:
            raise PydanticCustomError(error.code, error.message) from None

    return validate


def _strings(value: Any, info: ValidationInfo) -> Any:
    try:
        check_strings(value, field=info.field_name or "document")
    except LedgerError as error:
        raise PydanticCustomError(error.code, error.message) from None
    return value


_TEXT_RULE = (
    "plain text: no control, line-separator or bidirectional-override characters, not only "
    "invisible characters, and not starting like a spreadsheet formula (=, +, -, @)"
)
Name = Annotated[
    str,
    BeforeValidator(_text(NAME_CHARS_MAX, required=True)),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": NAME_CHARS_MAX,
            "description": f"a name: {_TEXT_RULE}",
        }
    ),
]
def _reason(value: object, info: ValidationInfo) -> str:
    """A reason as the rule book wants it: missing or blank is `reason_required` (§12), as the
    service says it, not a malformed request; otherwise the one rule for free text."""
    try:
        return require_reason(value, what="this act")
    except LedgerError as error:
        raise PydanticCustomError(error.code, error.message) from None


Reason = Annotated[
    str,
    BeforeValidator(_reason),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": REASON_CHARS_MAX,
            "examples": ["keyed 100,000.00 for 10,000.00"],
            "description": f"why: {_TEXT_RULE}",
        }
    ),
]
OptionalReason = Annotated[
    str,
    BeforeValidator(_text(REASON_CHARS_MAX, required=False)),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": REASON_CHARS_MAX,
            "examples": ["the borrower declined the loan"],
            "description": f"why (may be empty): {_TEXT_RULE}",
        }
    ),
]
# A document's strings, keys included, meet the character rule (ledger/text.py `check_strings`).
Strings = AfterValidator(_strings)


def yuan(fen: int | None) -> str | None:
    return None if fen is None else format_fen(fen)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldProblem(BaseModel):
    """One bad field of a malformed request."""

    field: str = Field(
        examples=["body.principal"], description="where: body, query, header or path, then the name"
    )
    code: str = Field(examples=["invalid_amount"])
    message: str = Field(examples=["principal '12.345' has more than two decimals"])


class Problem(BaseModel):
    """An RFC 9457 problem: the rule book's error code, a sentence naming the offending value, and
    the figures involved (the limit, the current value)."""

    type: str = Field(description="a URI naming the code")
    title: str
    status: int
    code: str = Field(description="the rule book's error code: what a program branches on")
    detail: str = Field(description="a sentence naming the offending value")
    instance: str = Field(description="the path of the request")
    request_id: str = Field(default="", description="the X-Request-Id of the request, to quote in a query")
    figures: dict[str, Any] | None = Field(default=None, description="the figures involved: limit, value …")
    errors: list[FieldProblem] | None = Field(
        default=None, description="every bad field, when the body was malformed"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "https://riskpool-ledger.dev/errors/leverage_exceeded",
                    "title": "leverage exceeded",
                    "status": 422,
                    "code": "leverage_exceeded",
                    "instance": "/v1/schemes/hebi/banks/icbc-hebi/loans",
                    "detail": "enrolling 600000.00 would take exposure from 99500000.00 to 100100000.00, "
                    "above the limit 100000000.00 (10 x contributions paid in)",
                    "figures": {"exposure": "99500000.00", "principal": "600000.00", "limit": "100000000.00"},
                }
            ]
        }
    )


class Written(BaseModel):
    """What a write recorded: the log position (for read-your-writes), the ids it created."""

    position: int = Field(examples=[1234], description="the log position written: pass it as after_position")
    fact_id: str | None = Field(default=None, examples=["icbc-hebi:HB2019-0001:repayment:2"])
    claim_id: str | None = Field(default=None, examples=["icbc-hebi:HB2019-0001:claim:1"])
    status: str | None = Field(default=None, examples=["approved"])
    tripped: list[str] = Field(default=[], examples=[["bank_loss_rate:icbc-hebi"]])
    details: dict[str, Any] = Field(
        default={}, examples=[{"allocations": {"guar-a": "493827.15", "bank-a": "246913.58"}}]
    )
    links: dict[str, str] = Field(
        default={}, examples=[{"loan": "/v1/schemes/hebi/banks/icbc-hebi/loans/HB2019-0001"}]
    )


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None = Field(
        default=None, description="pass as ?cursor= for the next page", examples=["WyJiYW5rLWEiLCJMMDAwMSJd"]
    )


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


CURSOR_STR_CHARS_MAX = ID_CHARS_MAX  # the longest string a key holds: an id
CURSOR_CHARS_MAX = 400  # base64 of the JSON of a key: a date, a number and an id fit
CursorPart = type[str] | type[int] | type[date]


def decode_cursor(cursor: str | None, shape: tuple[CursorPart, ...]) -> list[Any] | None:
    """The key a `next_cursor` stood for, checked against the shape its route gave out: each position
    a string (`str`), a whole number from 0 to 2**62 (`int`: never a bool or a float) or a business
    date given out as `YYYY-MM-DD` (`date`). Anything else is `invalid_request` on the field `cursor`."""
    if cursor is None:
        return None
    refused = InvalidRequest(f"cursor {cursor[:40]!r} is not one this API gave out", field="cursor")
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, RecursionError):
        raise refused from None
    if not isinstance(key, list) or len(key) != len(shape):
        raise refused
    decoded: list[Any] = []
    for kind, value in zip(shape, key, strict=True):
        if (kind is int and type(value) is int and 0 <= value <= POSITION_MAX) or (
            kind is str and type(value) is str and len(value) <= CURSOR_STR_CHARS_MAX
        ):
            decoded.append(value)
        elif kind is date and type(value) is str and len(value) == 10:
            try:
                decoded.append(date.fromisoformat(value))
            except ValueError:
                raise refused from None
        else:
            raise refused
    return decoded
