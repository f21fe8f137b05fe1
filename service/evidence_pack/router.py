"""REST for the evidence pack: one innovation's status and evidence as a printable HTML document."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse

from service.auth.principal import Principal
from service.dependencies import SessionDep, require
from service.evidence_pack import service as rules
from service.evidence_pack.document import render_pack
from service.policy import Permission
from service.reference.routing import problems
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(tags=["evidence pack"], route_class=BodyLimitedRoute)

PackReader = Annotated[Principal, Depends(require(Permission.evidence_pack_read))]

# The document asks for nothing beyond itself: no script, no request of any kind, inline styles,
# and images only as data. Browsers must not guess another type for it.
PACK_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}
HTML_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The evidence pack: one HTML document (UTF-8) with its own A4 print styles, an "
        "SVG chart per indicator and no script; served with a `Content-Security-Policy` that lets "
        "it make no request.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/innovations/{innovation_id}/evidence-pack",
    operation_id="get_evidence_pack",
    response_class=HTMLResponse,
    responses={**HTML_ANSWER, **problems()},
    summary="One innovation's evidence pack, printable",
)
async def get_evidence_pack(
    innovation_id: Annotated[uuid.UUID, Path(description="The innovation.")],
    session: SessionDep,
    principal: PackReader,
    service_id: Annotated[
        uuid.UUID | None,
        Query(description="One service; omit for the provider, over the services the caller may see."),
    ] = None,
) -> HTMLResponse:
    """The innovation's name, summary and why; its stage month by month with the reasons for it
    now; each indicator's monthly trend against its thresholds, with its counts (small ones
    withheld outside the provider, as in the JSON status), the CQC quality statements it evidences
    and, when amber or red, what the provider can do next. Each read is written to the provider's
    access log."""
    pack = await rules.evidence_pack(
        session=session, principal=principal, innovation_id=innovation_id, service_id=service_id
    )
    return HTMLResponse(render_pack(pack), headers=PACK_HEADERS)
