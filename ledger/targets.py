"""Programme targets (rule book §9): what the pilot set out to reach, and by when."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ledger.errors import InvalidRequest
from ledger.ids import REFERENCE_PATTERN
from ledger.rules.document import Fen

TARGETS_MAX = 32


class Target(BaseModel):
    """A goal to reach by a date: cumulative lending or contributions of at least `amount`,
    or at least `count` firms served (firms with a disbursed loan)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target_id: str = Field(pattern=f"^{REFERENCE_PATTERN}$")
    metric: Literal["cumulative_lending", "cumulative_contributions", "firms_served"]
    amount: Fen | None = None
    count: int | None = Field(default=None, strict=True, ge=1)
    by: date

    @model_validator(mode="after")
    def _goal_matches_metric(self) -> Target:
        if self.metric != "firms_served" and (self.amount is None or self.count is not None):
            raise ValueError(f"{self.metric} needs an amount and no count")
        if self.metric == "firms_served" and (self.count is None or self.amount is not None):
            raise ValueError("firms_served needs a count and no amount")
        return self


def check_targets(targets: object) -> list[dict[str, Any]]:
    """Validate targets, refusing with `invalid_request` and every problem listed."""
    if not isinstance(targets, list) or len(targets) > TARGETS_MAX:
        raise InvalidRequest(f"targets must be a list of at most {TARGETS_MAX} targets", field="targets")
    problems, checked = [], []
    for index, raw in enumerate(targets):
        try:
            checked.append(Target.model_validate(raw).model_dump(mode="json", exclude_none=True))
        except ValidationError as error:
            problems += [
                f"targets.{index}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            ]
    ids = [raw.get("target_id") for raw in targets if isinstance(raw, dict)]
    if len(set(ids)) != len(ids):
        problems.append("targets: a target_id appears twice")
    if problems:
        raise InvalidRequest("; ".join(problems), problems=problems)
    return checked
