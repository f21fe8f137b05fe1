"""Liveness and readiness probes."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from service.dependencies import public
from service.errors import PROBLEM_JSON, Unavailable
from service.health import service as health_service

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="healthz", dependencies=[Depends(public())])
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    dependencies=[Depends(public())],
    responses={
        503: {
            "description": "Database unreachable or migrations not at head; `readiness` says which",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    },
)
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the latest migration."""
    report = await health_service.readiness(request.app.state.engine)
    if report["status"] != "ready":
        # An error like any other: problem+json, the report's facts as extensions.
        facts = {key: value for key, value in report.items() if key != "status"}
        raise Unavailable(f"not ready: {report['status']}", readiness=report["status"], **facts)
    return JSONResponse(report)
