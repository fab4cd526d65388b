"""Business dates: days in China Standard Time, never after today there (rule book §1)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Transcoding

from ledger.errors import InvalidDate

CHINA = ZoneInfo("Asia/Shanghai")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Clock = Callable[[], date]


def today_in_china() -> date:
    return datetime.now(tz=CHINA).date()


def parse_date(text: object, *, field: str = "date") -> date:
    """Parse a `YYYY-MM-DD` business date, refusing anything else with `invalid_date`."""
    if isinstance(text, date) and not isinstance(text, datetime):
        return text
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        raise InvalidDate(f"{field} {text!r} is not a date written YYYY-MM-DD", field=field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidDate(f"{field} {text!r} is not a calendar date", field=field) from None


def check_not_future(day: date, today: date, *, field: str = "date") -> None:
    if day > today:
        raise InvalidDate(
            f"{field} {day} is after today's date in Asia/Shanghai ({today})",
            field=field,
            value=day.isoformat(),
            today=today.isoformat(),
        )


def check_not_before(day: date, earlier: date, *, field: str, what: str) -> None:
    """Business dates never go backwards: along one loan and its claim, and from a scheme's or a
    party's first fact to every later one about it."""
    if day < earlier:
        raise InvalidDate(
            f"{field} {day} is before {what} ({earlier}): business dates never go backwards",
            field=field,
            value=day.isoformat(),
            earliest=earlier.isoformat(),
        )


class DateAsISO(Transcoding):
    """Stores `date` values as ISO strings in events and snapshots."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)
