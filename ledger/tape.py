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
from collections.abc import Iterator

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
    for cells in reader:
        line = reader.line_num  # type: ignore[attr-defined]
        if not any(cell.strip() for cell in cells):
            continue
        try:
            yield line, _enrolment(cells)
        except LedgerError as error:
            yield line, error


def _enrolment(cells: list[str]) -> Enrolment:
    if len(cells) != len(COLUMNS):
        raise InvalidRequest(f"the row has {len(cells)} cells, not {len(COLUMNS)}")
    for name, cell in zip(TEXT_COLUMNS, cells, strict=True):
        # Figures are parsed strictly below (a "-5.00" is a negative amount); text is checked here.
        if name and cell.strip(" ") and (problem := text_problem(cell)) is not None:
            raise InvalidRequest(f"{name} {shown(cell)} {problem}", field=name, value=shown(cell))
    if max(map(len, cells)) > CELL_CHARS_MAX:
        name, cell = next((n, c) for n, c in zip(COLUMNS, cells, strict=True) if len(c) > CELL_CHARS_MAX)
        raise InvalidRequest(f"{name} is {len(cell)} characters, above {CELL_CHARS_MAX}")
    row = dict(zip(COLUMNS, (cell.strip() for cell in cells), strict=True))
    return Enrolment(
        loan_ref=row["loan_ref"],
        borrower_name=row["borrower_name"],
        borrower_uscc=row["borrower_uscc"],
        product=row["product"],
        principal=Money.parse(row["principal"], field="principal"),
        rate_bp=_whole(row["rate_bp"], "rate_bp"),
        term_months=_whole(row["term_months"], "term_months"),
        enrolled_on=parse_date(row["enrolled_on"], field="enrolled_on"),
        cover=row["cover"],
        cover_party_id=row["cover_party_id"] or None,
        tags=tuple(tag for tag in row["tags"].split(";") if tag),
    )


def _whole(text: str, field: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise InvalidRequest(f"{field} {text!r} is not a whole number", field=field)
    return int(text)
