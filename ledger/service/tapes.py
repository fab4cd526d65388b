"""Bulk enrolment from a bank's loan tape: all rows or none, with every refused row reported."""

from __future__ import annotations

from typing import Any

from ledger.actors import Actor
from ledger.bulk import collector_paused
from ledger.domain import Loan, Scheme
from ledger.errors import DuplicateLoan, LedgerError
from ledger.service.base import Receipt
from ledger.service.loans import Enrolment, LoanService, _require_own_bank

TAPE_ROWS_MAX = 200_000
ROW_ERRORS_SHOWN_MAX = 1_000


class LoanTapeRefused(LedgerError):
    """A loan tape with refused rows: nothing was enrolled. `code` is the first row's code;
    `figures["rows"]` lists every refused row (1-based, as in the file) with its own."""

    def __init__(self, rows: list[dict[str, Any]], total: int) -> None:
        self.code = rows[0]["code"]  # type: ignore[misc]
        super().__init__(
            f"{total} of the tape's rows were refused, so none was enrolled; first, row {rows[0]['row']}: "
            f"{rows[0]['message']}",
            rows=rows[:ROW_ERRORS_SHOWN_MAX],
            refused_rows=total,
        )


class TapeService(LoanService):
    def enrol_tape(
        self, actor: Actor, scheme_id: str, bank_id: str, rows: list[tuple[int, Enrolment | LedgerError]]
    ) -> Receipt:
        """Enrol every loan of a tape in one atomic save, or refuse the tape naming each bad row.

        `rows` are (row number, parsed enrolment or the error that refused parsing it).
        """
        _require_own_bank(actor, bank_id, action="enrol a loan tape")
        if not rows or len(rows) > TAPE_ROWS_MAX:
            raise LoanTapeRefused(
                [
                    {
                        "row": 0,
                        "code": "invalid_request",
                        "message": f"a tape has 1 to {TAPE_ROWS_MAX} rows, not {len(rows)}",
                    }
                ],
                1,
            )

        def review(scheme: Scheme, careful: bool) -> tuple[list[dict[str, Any]], list[Loan], list[list[Any]]]:
            refused: list[dict[str, Any]] = []
            loans: list[Loan] = []
            accepted: list[list[Any]] = []
            pending, seen, unblocked = 0, set(), set()
            for number, row in rows:
                try:
                    if isinstance(row, LedgerError):
                        raise row
                    facts = self._check_enrolment(bank_id, row)
                    if row.loan_ref in seen:
                        raise DuplicateLoan(
                            f"loan {row.loan_ref!r} appears twice in the tape", loan_ref=row.loan_ref
                        )
                    seen.add(row.loan_ref)
                    version, _ = self._admissible(
                        scheme,
                        bank_id,
                        row,
                        facts,
                        pending_fen=pending,
                        look_for_duplicate=careful,
                        unblocked=unblocked,
                    )
                except LedgerError as error:
                    refused.append({"row": number, "code": error.code, "message": error.message})
                    continue
                pending += facts["principal_fen"]
                accepted.append([row.loan_ref, facts["principal_fen"]])
                loans.append(self._new_loan(actor, scheme_id, bank_id, facts, version))
            return refused, loans, accepted

        # The first review does not look each loan up in the store: the store refuses a second
        # first event of a loan (its id and version are unique), which fails the whole save. A
        # refused tape or a failed save (a duplicate, or a concurrent writer) is reviewed again with
        # the lookups, so that the refusal names every duplicate row.
        def command() -> Any:
            scheme = self._scheme(scheme_id)
            careful = self._retrying()
            refused, loans, accepted = review(scheme, careful)
            if refused and not careful:
                refused, loans, accepted = review(scheme, careful=True)
            if refused:
                raise LoanTapeRefused(refused, len(refused))
            total_fen = sum(principal_fen for _, principal_fen in accepted)
            scheme.enrol_tape(actor, bank_id, accepted, self._today())
            return [*loans, scheme], Receipt(details={"loans": len(loans), "principal_fen": total_fen})

        with collector_paused():
            return self._execute(command)
