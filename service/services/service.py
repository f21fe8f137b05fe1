"""Rules for services; the flow they share with every reference collection is
service.reference.service. Routers and GraphQL resolvers both call these; they flush, never commit.

A service is itself the unit of a caller's scope: a new one concerns the whole provider, and a
caller limited to some services reads and changes only those.
"""

import uuid
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.database import driver_connection
from service.projections.marking import mark_provider
from service.reference.service import ReferenceService
from service.services import repository
from service.services.models import DEFAULT_SHIFT_PATTERN, Service
from service.services.schemas import ServiceFields, ServiceFilter, ServicePublic
from service.status.locks import lock_organisation_rollups


class Services(ReferenceService[Service, ServicePublic, ServiceFilter]):
    resource = "service"
    collection = "services"
    noun = "service"
    whole_provider = True

    def public(self, principal: Principal, row: Service, service_ids: set[uuid.UUID]) -> ServicePublic:
        return ServicePublic.model_validate(row)

    def listed(self, principal: Principal, filters: ServiceFilter) -> Select[Service]:
        return repository.listed(principal, filters)

    def stored_values(self, payload: ServiceFields) -> dict[str, Any]:
        shift_pattern = payload.shift_pattern
        return {
            "name": payload.name,
            "timezone": payload.timezone,
            "cqc_location_id": payload.cqc_location_id,
            "shift_pattern": shift_pattern.model_dump()
            if shift_pattern is not None
            else dict(DEFAULT_SHIFT_PATTERN),
        }

    def changed_values(self, row: Service, changes: dict[str, Any]) -> dict[str, Any]:
        if "shift_pattern" in changes:
            changes["shift_pattern"] = changes["shift_pattern"].model_dump()
        return changes

    async def before_change(self, session: AsyncSession, row: Service, values: dict[str, Any]) -> None:
        """A new time zone moves the service's touchpoints between months, so the update rebuilds the
        organisation's rollups (a trigger): it first queues, in the writers' one order, for all of them."""
        timezone = values.get("timezone")
        if timezone is not None and timezone != row.timezone:
            await lock_organisation_rollups(await driver_connection(session), row.organisation_id)
            await mark_provider(session, row.organisation_id)


services = Services(repository.services)
