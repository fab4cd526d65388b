"""What a read model is: one module holding its tables, the event classes it handles and how, and
its queries (projections/models/, projections/audit/model.py), listed in projections/registry.py.

The runner keeps each model's position on its own and writes every model's rows with their
positions in one transaction, so a model can be added, or rebuilt, and catch up alone while the
others go on. A handler therefore reads and writes only its own model's rows; who an aggregate is
(its scheme, bank, loan, claim) it asks `rows.subjects`, which answers from the log itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from eventsourcing.persistence import Notification
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, cast, func

from ledger.ids import REFERENCE_CHARS_MAX

if TYPE_CHECKING:
    from projections.rows import Rows

Id = String(REFERENCE_CHARS_MAX)
PAGE_ITEMS_MAX = 500  # the most rows one page of a list query answers (the API's `limit` too)
Ref = String(200)


def fen(name: str) -> Column:
    return Column(name, BigInteger, nullable=False, default=0)


def count(name: str) -> Column:
    return Column(name, Integer, nullable=False, default=0)


def total(column: Any) -> Any:
    """SUM of a fen column as an integer (PostgreSQL sums bigints into numeric)."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


class Recorded(NamedTuple):
    """One event of the log as the runner hands it to the models: where it stands, what it says,
    and the stored notification (the audit model hashes its exact bytes)."""

    position: int
    event: Any
    notification: Notification


Handler = Callable[["Rows", Any, int], None]  # (the model's rows, the event, its log position)
BatchHandler = Callable[["Rows", Sequence[Recorded]], None]


class ReadModel:
    """A read model: its tables, the handler of each event class it reads, and optionally a handler
    of whole batches (the audit model hashes and indexes a batch at once).

    `whole_log` models describe the log itself (the Merkle tree, the audit index): a replay as of
    a business date leaves them out, since a fact dated later is still in the log.
    """

    def __init__(self, name: str, *, whole_log: bool = False) -> None:
        self.name = name
        self.whole_log = whole_log
        self.metadata = MetaData()
        self.keyed: list[Table] = []  # rows read back and updated
        self.appended: list[Table] = []  # rows only ever added, never read back by the model
        self.handlers: dict[type, Handler] = {}
        self.batch_handler: BatchHandler | None = None

    def __repr__(self) -> str:
        return f"<read model {self.name}>"

    @property
    def tables(self) -> list[Table]:
        return [*self.keyed, *self.appended]

    def table(self, name: str, *columns: Any, appended: bool = False, **options: Any) -> Table:
        table = Table(name, self.metadata, *columns, **options)
        (self.appended if appended else self.keyed).append(table)
        return table

    def handles(self, *classes: type) -> Callable[[Handler], Handler]:
        """Register the decorated function as this model's handler of these event classes."""

        def register(handler: Handler) -> Handler:
            for event_class in classes:
                assert event_class not in self.handlers, f"{self.name} handles {event_class} twice"
                self.handlers[event_class] = handler
            return handler

        return register

    def handles_batches(self, handler: BatchHandler) -> BatchHandler:
        """Register the decorated function as the handler of every batch, whatever its events."""
        assert self.batch_handler is None, f"{self.name} has a batch handler already"
        self.batch_handler = handler
        return handler
