"""Rules for innovations; the flow they share with every reference collection is
service.reference.service. Routers and GraphQL resolvers both call these; they flush, never commit.

An innovation is never deleted: touchpoints and status history refer to it, so it retires by
phase. Its embedding plan always holds every delivery system (defaults fill what is not said).
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.auth.principal import Principal
from service.innovations import repository
from service.innovations.models import Innovation, effective_embedding_plan
from service.innovations.schemas import (
    EmbeddingPlan,
    EmbeddingPlanInput,
    InnovationFields,
    InnovationFilter,
    InnovationPublic,
)
from service.projections.marking import mark_innovations
from service.reference.rules import visible_service_ids
from service.reference.service import ReferenceService
from service.vocabulary import Phase


def _plan(base: dict[str, Any] | None, given: EmbeddingPlanInput | None) -> dict[str, int]:
    plan = effective_embedding_plan(base)
    if given is not None:
        plan.update(given.changes())
    return plan


class Innovations(ReferenceService[Innovation, InnovationPublic, InnovationFilter]):
    resource = "innovation"
    collection = "innovations"
    noun = "innovation"

    def public(self, principal: Principal, row: Innovation, service_ids: set[uuid.UUID]) -> InnovationPublic:
        return InnovationPublic(
            id=row.id,
            name=row.name,
            summary=row.summary,
            why=row.why,
            started_on=row.started_on,
            service_ids=visible_service_ids(principal, service_ids),
            phase=Phase(row.phase),
            embedding_plan=EmbeddingPlan.model_validate(effective_embedding_plan(row.embedding_plan)),
            source_system=row.source_system,
            external_ref=row.external_ref,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def listed(self, principal: Principal, filters: InnovationFilter) -> Select[Innovation]:
        return repository.listed(principal, filters)

    async def after_write(self, session: AsyncSession, row: Innovation, *, services_changed: bool) -> None:
        """The services in scope are what its statuses are computed over."""
        if services_changed:
            await mark_innovations(session, row.organisation_id, [row.id])

    def stored_values(self, payload: InnovationFields) -> dict[str, Any]:
        return {
            "name": payload.name,
            "summary": payload.summary,
            "why": payload.why,
            "started_on": payload.started_on,
            "phase": payload.phase.value,
            "embedding_plan": _plan(None, payload.embedding_plan),
        }

    def changed_values(self, row: Innovation, changes: dict[str, Any]) -> dict[str, Any]:
        """Retire it with `phase: retired`. Named plan systems change, others keep theirs."""
        if "phase" in changes:
            changes["phase"] = changes["phase"].value
        if "embedding_plan" in changes:
            changes["embedding_plan"] = _plan(row.embedding_plan, changes["embedding_plan"])
        return changes

    async def at_services(
        self, *, session: AsyncSession, principal: Principal, service_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[InnovationPublic]]:
        """The innovations in scope at each of `service_ids`, oldest first, as the caller sees them."""
        stmt = repository.innovations.readable(principal).where(
            repository.innovations.at_services(service_ids)
        )
        rows = (await session.scalars(stmt.order_by(col(Innovation.created_at), col(Innovation.id)))).all()
        found = await self.answers(session, principal, rows, action="read")
        # The caller's view of each innovation's services is what places it under a service.
        return {service_id: [i for i in found if service_id in i.service_ids] for service_id in service_ids}


innovations = Innovations(repository.innovations)
