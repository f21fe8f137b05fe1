"""Every REST router, mounted in one place."""

from fastapi import FastAPI

from service.services.router import router as services_router
from service.settings import Settings


def include_routers(app: FastAPI, settings: Settings) -> None:
    # Each domain area registers its router here, under /v1.
    app.include_router(services_router, prefix="/v1")
    del settings
    return None
