"""Queries for services: bound to the caller's organisation and, for callers limited to some
services, to those services (service.reference.repository)."""

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.auth.principal import Principal
from service.reference.repository import ReferenceRepository
from service.services.models import Service
from service.services.schemas import ServiceFilter

services = ReferenceRepository(Service)
readable, get, get_by_ref, insert = services.readable, services.get, services.get_by_ref, services.insert


async def list_page(
    session: AsyncSession, principal: Principal, filters: ServiceFilter, *, limit: int, cursor: str | None
) -> list[Service]:
    stmt = services.listed(principal, source_system=filters.source_system)
    if filters.cqc_location_id is not None:
        stmt = stmt.where(col(Service.cqc_location_id) == filters.cqc_location_id)
    return await services.page(session, stmt, limit=limit, cursor=cursor)
