"""Queries for innovations: bound to the caller's organisation and, for callers limited to some
services, to innovations in scope at one of them (service.reference.repository)."""

from sqlalchemy import Select
from sqlmodel import col

from service.auth.principal import Principal
from service.innovations.models import Innovation, InnovationService
from service.innovations.schemas import InnovationFilter
from service.reference.links import ServiceLinks
from service.reference.repository import ReferenceRepository

innovations = ReferenceRepository(Innovation, ServiceLinks(InnovationService, "innovation_id"))


def listed(principal: Principal, filters: InnovationFilter) -> Select[Innovation]:
    stmt = innovations.listed(principal, service_id=filters.service_id, source_system=filters.source_system)
    if filters.phase is not None:
        stmt = stmt.where(col(Innovation.phase) == filters.phase.value)
    return stmt
