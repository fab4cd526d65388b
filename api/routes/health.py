"""Liveness, how far the read models have read the log, and what keeps them from being current
(no key needed)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import SystemDep

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        examples=["ok"], description="degraded while the read models or the tree heads cannot move on"
    )
    log_position: int = Field(examples=[3772], description="the last position written to the event log")
    projections_position: int = Field(
        examples=[3772], description="the last position the read models applied"
    )
    lag: int = Field(examples=[0], description="events written but not yet applied to the read models")
    failing_position: int | None = Field(
        default=None, examples=[None], description="the position the projection runner cannot apply"
    )
    problems: list[str] = Field(default=[], examples=[[]], description="what keeps the ledger degraded")


@router.get(
    "/v1/health",
    response_model=HealthPublic,
    summary="Alive; the log's last position and the projections' position, and any problem",
)
def get_health(system: SystemDep) -> HealthPublic:
    runner = system.runner
    log_position = system.ledger.recorder.max_notification_id() or 0
    problems = runner.problems()
    return HealthPublic(
        status="degraded" if problems else "ok",
        log_position=log_position,
        projections_position=runner.position,
        lag=max(log_position - runner.position, 0),
        failing_position=runner.failing[0] if runner.failing else None,
        problems=problems,
    )
