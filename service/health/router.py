"""Liveness and readiness probes."""

from typing import Any

from fastapi import APIRouter, Depends, Request

from service.dependencies import public
from service.errors import Unavailable, retry_after_seconds
from service.health import service as health_service
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(tags=["operations"], route_class=BodyLimitedRoute)


@router.get("/healthz", operation_id="healthz", dependencies=[Depends(public())])
async def healthz() -> dict[str, str]:
    """The process is alive. It does not touch the database: an outage there is not cured by a restart."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    dependencies=[Depends(public())],
)
async def readyz(request: Request) -> dict[str, Any]:
    """The database answers and its schema is at the latest migration; otherwise 503, whose
    `readiness` says `unavailable` or `migrating`."""
    settings = request.app.state.settings
    report = await health_service.readiness(
        request.app.state.engine, timeout_seconds=settings.db_connect_timeout_seconds + 1
    )
    if report["status"] == "unavailable":
        raise Unavailable.database(
            retry_after_seconds(request), readiness="unavailable", database=report["database"]
        )
    if report["status"] == "migrating":
        raise Unavailable.database(
            retry_after_seconds(request),
            f"the database schema is at revision {report['revision']}, not at {report['head']}",
            readiness="migrating",
            revision=report["revision"],
            head=report["head"],
        )
    return report
