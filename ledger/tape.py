"""Reading a bank's loan tape (CSV): the boundary between a spreadsheet export and the ledger.

The tape is UTF-8 (a byte-order mark is allowed), has exactly the columns below, and every text
cell is plain free text by the ledger's one rule (ledger/text.py): no control, line-separator or
bidirectional-override characters, and nothing a spreadsheet would run as a formula (=, +, -, @,
tab, CR first, after any leading whitespace) — refused rather than stored. Each row becomes an
`Enrolment` or the error that refused it, with its line number in the file, so the bank gets one
report naming every bad row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date

from ledger.bulk import collector_paused
from ledger.calendar import parse_date
from ledger.domain.loan import Enrolment
from ledger.errors import InvalidRequest, LedgerError
from ledger.money import Money
from ledger.text import shown, text_problem

COLUMNS = (
    "loan_ref",
    "borrower_name",
    "borrower_uscc",
    "product",
    "tags",
    "principal",
    "rate_bp",
    "term_months",
    "enrolled_on",
    "cover",
    "cover_party_id",
)
TAPE_BYTES_MAX = 64 * 1024 * 1024
CELL_CHARS_MAX = 400
FIGURES = ("principal", "rate_bp", "term_months")
TEXT_COLUMNS = tuple("" if name in FIGURES else name for name in COLUMNS)  # "" for a figure
# A cell that starts, after spaces, like a formula: in a row's cells joined by commas, at the start
# or after a comma. (A comma inside a cell may make it match a row with no such cell: that row is
# then checked cell by cell, like any other row this does not clear.)
_FORMULA_START = re.compile(r"(?:^|,) *[=+\-@]")

Row = tuple[int, Enrolment | LedgerError]


class TapeUnreadable(InvalidRequest):
    """The tape as a whole cannot be read (encoding, size, header)."""


def read_tape(data: bytes) -> list[Row]:
    if len(data) > TAPE_BYTES_MAX:
        raise TapeUnreadable(f"the tape is {len(data)} bytes, above the limit of {TAPE_BYTES_MAX}")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise TapeUnreadable(f"the tape has a NUL byte at offset {nul}: it is not a CSV text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TapeUnreadable(
            f"the tape is not UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "export it as UTF-8 CSV"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise TapeUnreadable(f"the tape's header must be exactly: {','.join(COLUMNS)}; found {header!r}")
        with collector_paused():
            return list(_rows(reader))
    except csv.Error as error:  # a cell above the csv module's field limit (131,072 characters) …
        raise TapeUnreadable(
            f"line {reader.line_num} of the tape cannot be read as CSV ({error}); "
            f"a cell holds at most {CELL_CHARS_MAX} characters",
            line=reader.line_num,
        ) from None


def _rows(reader: Iterator[list[str]]) -> Iterator[Row]:
    days: dict[str, date] = {}  # a tape's enrolment dates are few: each is parsed once
    for cells in reader:
        line = reader.line_num  # type: ignore[attr-defined]
        if not "".join(cells).strip():  # a blank row (every cell empty or whitespace)
            continue
        try:
            yield line, _enrolment(cells, days)
        except LedgerError as error:
            yield line, error


def _enrolment(cells: list[str], days: dict[str, date]) -> Enrolment:
    if len(cells) != len(COLUMNS):
        raise InvalidRequest(f"the row has {len(cells)} cells, not {len(COLUMNS)}")
    joined = ",".join(cells)
    # The common row, cleared in compiled code: printable ASCII throughout, no cell starting like a
    # formula, no cell longer than the limit (none is longer than the row). Any other row is
    # checked cell by cell, so that the refusal names the cell.
    if not (joined.isascii() and joined.isprintable() and _FORMULA_START.search(joined) is None):
        _check_text_cells(cells)
    if len(joined) > CELL_CHARS_MAX and max(map(len, cells)) > CELL_CHARS_MAX:
        name, cell = next((n, c) for n, c in zip(COLUMNS, cells, strict=True) if len(c) > CELL_CHARS_MAX)
        raise InvalidRequest(f"{name} is {len(cell)} characters, above {CELL_CHARS_MAX}")
    (
        loan_ref,
        borrower_name,
        borrower_uscc,
        product,
        tags,
        principal,
        rate_bp,
        term_months,
        on,
        cover,
        party,
    ) = map(str.strip, cells)
    enrolled_on = days.get(on)
    if enrolled_on is None:
        enrolled_on = days[on] = parse_date(on, field="enrolled_on")
    return Enrolment.of(
        loan_ref,
        borrower_name,
        borrower_uscc,
        product,
        Money.parse(principal, field="principal"),
        _whole(rate_bp, "rate_bp"),
        _whole(term_months, "term_months"),
        enrolled_on,
        cover,
        party or None,
        tuple(filter(None, tags.split(";"))),
    )


def _check_text_cells(cells: list[str]) -> None:
    """Every text cell of the row by the free-text rule; figures are parsed strictly after (a
    "-5.00" is a negative amount)."""
    for name, cell in zip(TEXT_COLUMNS, cells, strict=True):
        if name and cell.strip(" ") and (problem := text_problem(cell)) is not None:
            raise InvalidRequest(f"{name} {shown(cell)} {problem}", field=name, value=shown(cell))


def _whole(text: str, field: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise InvalidRequest(f"{field} {text!r} is not a whole number", field=field)
    return int(text)
