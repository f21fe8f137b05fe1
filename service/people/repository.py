"""Queries for person references: bound to the caller's organisation and, for callers limited to
some services, to people supported by one of them (service.reference.repository)."""

from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.people.models import PersonRef, PersonRefService
from service.people.schemas import PersonRefFilter
from service.reference.links import ServiceLinks
from service.reference.repository import ReferenceRepository

links = ServiceLinks(PersonRefService, "person_ref_id")
people = ReferenceRepository(PersonRef, links)
readable, get, get_by_ref, insert = people.readable, people.get, people.get_by_ref, people.insert


async def list_page(
    session: AsyncSession, principal: Principal, filters: PersonRefFilter, *, limit: int, cursor: str | None
) -> list[PersonRef]:
    stmt = people.listed(
        principal,
        service_id=filters.service_id,
        source_system=filters.source_system,
        external_ref=filters.external_ref,
    )
    return await people.page(session, stmt, limit=limit, cursor=cursor)
