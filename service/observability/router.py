"""`GET /metrics`: the Prometheus exposition, outside /v1 beside the probes.

It carries no tenant data (see metrics.py), so it is public like /healthz; an operator who wants it
off the API's port sets INGRAIN_METRICS_PORT and it is served there instead (a port a network
policy or firewall can keep to the monitoring system).
"""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from service.dependencies import public
from service.errors import PROBLEM_RESPONSES, NotFound
from service.observability.metrics import CONTENT_TYPE, exposition
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(tags=["operations"], route_class=BodyLimitedRoute)

EXPOSITION: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Metrics in the Prometheus text exposition format.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    404: {**PROBLEM_RESPONSES[404], "description": "Metrics are served on INGRAIN_METRICS_PORT instead."},
}


@router.get(
    "/metrics",
    operation_id="metrics",
    dependencies=[Depends(public())],
    response_class=Response,
    responses=EXPOSITION,
)
def metrics(request: Request) -> Response:
    """Request counts and latencies by route template and status, requests in flight, database
    connections in use, transaction retries, jobs by entrypoint and outcome: added up over every
    process that shares `PROMETHEUS_MULTIPROC_DIR`. No tenant data: labels are route templates,
    methods, statuses and job names."""
    # A plain function, so FastAPI runs it on a thread: reading many processes' files in
    # multi-process mode does not hold up the event loop.
    if request.app.state.settings.metrics_port is not None:
        raise NotFound("metrics are served on another port (INGRAIN_METRICS_PORT)")
    return Response(exposition(), media_type=CONTENT_TYPE)
