"""Every REST router, mounted in one place."""

from fastapi import FastAPI

from service.people.router import router as people_router
from service.services.router import router as services_router
from service.settings import Settings
from service.staff.router import router as staff_router
from service.touchpoints.router import router as touchpoints_router


def include_routers(app: FastAPI, settings: Settings) -> None:
    # Each domain area registers its router here, under /v1.
    app.include_router(services_router, prefix="/v1")
    app.include_router(staff_router, prefix="/v1")
    app.include_router(people_router, prefix="/v1")
    app.include_router(touchpoints_router, prefix="/v1")
    del settings
    return None
