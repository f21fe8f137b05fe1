"""Liveness and readiness probes."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from service.dependencies import public
from service.health import service as health_service
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(tags=["operations"], route_class=BodyLimitedRoute)


@router.get("/healthz", operation_id="healthz", dependencies=[Depends(public())])
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    dependencies=[Depends(public())],
    responses={503: {"description": "Database unreachable or migrations not at head"}},
)
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the latest migration."""
    report = await health_service.readiness(request.app.state.engine)
    return JSONResponse(report, status_code=200 if report["status"] == "ready" else 503)
