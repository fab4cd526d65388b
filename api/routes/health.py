"""Liveness and how far the read models have read the log (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SystemDep

router = APIRouter(tags=["health"])


@router.get("/v1/health", summary="Alive; the log's last position and the projections' position")
def health(system: SystemDep) -> dict[str, int | str]:
    return {
        "status": "ok",
        "log_position": system.ledger.recorder.max_notification_id() or 0,
        "projections_position": system.runner.position,
    }
