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
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from ledger.calendar import parse_date
from ledger.errors import InvalidRequest, LedgerError
from ledger.money import Money, format_fen, parse_fen
from ledger.uscc import validate_uscc

YUAN_PATTERN = r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$"
AMOUNT_PATTERN = r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$"  # what the ledger answers: always two decimals
PERCENT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
PAGE_ITEMS_MAX = 500


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
Reason = Annotated[str, Field(min_length=1, max_length=2000, examples=["keyed 100,000.00 for 10,000.00"])]


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


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, list) or len(key) != size or not all(isinstance(k, (str, int)) for k in key):
        raise InvalidRequest(f"cursor {cursor[:40]!r} is not one this API gave out", field="cursor")
    return key
