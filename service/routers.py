"""Every REST router, mounted in one place."""

from fastapi import FastAPI

from service.audit.router import router as access_log_router
from service.auth.router import router as integration_clients_router
from service.auth.token_router import router as token_router
from service.auth.well_known import router as well_known_router
from service.evidence_pack.router import router as evidence_pack_router
from service.innovations.router import router as innovations_router
from service.organisations.router import grants_router, organisations_router, relationships_router
from service.people.router import router as people_router
from service.portfolio.router import router as portfolio_router
from service.projections.router import router as events_router
from service.services.router import router as services_router
from service.settings import Settings
from service.staff.router import router as staff_router
from service.status.router import router as status_router
from service.touchpoints.router import router as touchpoints_router
from service.users.router import router as users_router
from service.webhooks.router import router as webhooks_router


def include_routers(app: FastAPI, settings: Settings) -> None:
    # Each domain area registers its router here, under /v1.
    app.include_router(services_router, prefix="/v1")
    app.include_router(staff_router, prefix="/v1")
    app.include_router(people_router, prefix="/v1")
    app.include_router(innovations_router, prefix="/v1")
    app.include_router(touchpoints_router, prefix="/v1")
    app.include_router(organisations_router, prefix="/v1")
    app.include_router(relationships_router, prefix="/v1")
    app.include_router(grants_router, prefix="/v1")
    app.include_router(users_router, prefix="/v1")
    app.include_router(integration_clients_router, prefix="/v1")
    app.include_router(token_router, prefix="/v1")
    app.include_router(access_log_router, prefix="/v1")
    app.include_router(status_router, prefix="/v1")
    app.include_router(evidence_pack_router, prefix="/v1")
    app.include_router(portfolio_router, prefix="/v1")
    app.include_router(events_router, prefix="/v1")
    app.include_router(webhooks_router, prefix="/v1")
    # Outside /v1 by standard (RFC 8615): where token verifiers look for Ingrain's public key.
    app.include_router(well_known_router)
    del settings
    return None
