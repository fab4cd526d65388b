"""Liveness and how far the read models have read the log (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import SystemDep

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: str = Field(examples=["ok"])
    log_position: int = Field(examples=[3772], description="the last position written to the event log")
    projections_position: int = Field(
        examples=[3772], description="the last position the read models applied"
    )


@router.get(
    "/v1/health",
    response_model=HealthPublic,
    summary="Alive; the log's last position and the projections' position",
)
def get_health(system: SystemDep) -> HealthPublic:
    return HealthPublic(
        status="ok",
        log_position=system.ledger.recorder.max_notification_id() or 0,
        projections_position=system.runner.position,
    )
