"""Queries for services: bound to the caller's organisation and, for callers limited to some
services, to those services (service.reference.repository)."""

from sqlalchemy import Select
from sqlmodel import col

from service.auth.principal import Principal
from service.reference.repository import ReferenceRepository
from service.services.models import Service
from service.services.schemas import ServiceFilter

services = ReferenceRepository(Service)


def listed(principal: Principal, filters: ServiceFilter) -> Select[Service]:
    stmt = services.listed(principal, source_system=filters.source_system)
    if filters.cqc_location_id is not None:
        stmt = stmt.where(col(Service.cqc_location_id) == filters.cqc_location_id)
    return stmt
