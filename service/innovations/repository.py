"""Queries for innovations: bound to the caller's organisation and, for callers limited to some
services, to innovations in scope at one of them (service.reference.repository)."""

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.auth.principal import Principal
from service.innovations.models import Innovation, InnovationService
from service.innovations.schemas import InnovationFilter
from service.reference.links import ServiceLinks
from service.reference.repository import ReferenceRepository

links = ServiceLinks(InnovationService, "innovation_id")
innovations = ReferenceRepository(Innovation, links)
readable, get, get_by_ref, insert = (
    innovations.readable,
    innovations.get,
    innovations.get_by_ref,
    innovations.insert,
)


async def list_page(
    session: AsyncSession, principal: Principal, filters: InnovationFilter, *, limit: int, cursor: str | None
) -> list[Innovation]:
    stmt = innovations.listed(principal, service_id=filters.service_id, source_system=filters.source_system)
    if filters.phase is not None:
        stmt = stmt.where(col(Innovation.phase) == filters.phase.value)
    return await innovations.page(session, stmt, limit=limit, cursor=cursor)
