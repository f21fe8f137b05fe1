"""Per-request DataLoaders: one batched query per relation per tick, whatever the nesting.

Each batch opens a session of its own from the factory, so loaders resolving side by side never
share an `AsyncSession`. Rows are read through the owning area's repository statements
(`readable(principal)`), which carry the tenant and service scoping; answers are shaped as that
area's public schemas, with the area's own redaction rules.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from strawberry.dataloader import DataLoader

from service.audit.service import record_access
from service.auth.principal import Principal
from service.database import unit_of_work
from service.graphql.status.loader import Answer, StatusKey, load_statuses
from service.innovations import repository as innovations_repository
from service.innovations.models import Innovation, effective_embedding_plan
from service.innovations.schemas import EmbeddingPlan, InnovationPublic
from service.people import repository as people_repository
from service.people.models import PersonRef
from service.people.schemas import PersonRefPublic
from service.reference.rules import visible_service_ids
from service.services import repository as services_repository
from service.services.models import Service
from service.services.schemas import ServicePublic
from service.staff import repository as staff_repository
from service.staff.models import StaffMember
from service.staff.schemas import StaffMemberPublic
from service.staff.service import may_read_identity
from service.touchpoints.reading import get_touchpoint
from service.touchpoints.schemas import TouchpointDetail
from service.vocabulary import Phase, StaffRole

K = TypeVar("K")
V = TypeVar("V")


def _in_order(keys: Sequence[uuid.UUID], found: dict[uuid.UUID, V]) -> list[V | None]:
    return [found.get(k) for k in keys]


class Loaders:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], principal: Principal | None
    ) -> None:
        self._factory = session_factory
        self._principal = principal

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            from service.errors import Unauthenticated

            raise Unauthenticated()
        return self._principal

    def _batched(
        self, load: Callable[[AsyncSession, list[K]], Awaitable[Sequence[V]]], *, commit: bool = False
    ) -> DataLoader[K, V]:
        """A loader whose batches run in a session of their own (committed when they log access)."""

        async def batch(keys: list[K]) -> Sequence[V]:
            if commit:
                async with unit_of_work(self._factory) as session:
                    return await load(session, keys)
            async with self._factory() as session:
                return await load(session, keys)

        return DataLoader(load_fn=batch)

    @cached_property
    def service(self) -> DataLoader[uuid.UUID, ServicePublic | None]:
        async def load(session: AsyncSession, ids: list[uuid.UUID]) -> list[ServicePublic | None]:
            stmt = services_repository.readable(self.principal).where(col(Service.id).in_(ids))
            rows = (await session.scalars(stmt)).all()
            return _in_order(ids, {row.id: ServicePublic.model_validate(row) for row in rows})

        return self._batched(load)

    @cached_property
    def staff_member(self) -> DataLoader[uuid.UUID, StaffMemberPublic | None]:
        async def load(session: AsyncSession, ids: list[uuid.UUID]) -> list[StaffMemberPublic | None]:
            principal = self.principal
            stmt = staff_repository.readable(principal).where(col(StaffMember.id).in_(ids))
            rows = (await session.scalars(stmt)).all()
            services = await staff_repository.links.load(
                session, principal.require_organisation(), [r.id for r in rows]
            )
            identity = may_read_identity(principal)
            if rows and identity:
                # As the staff service does: a read that may return identity is logged.
                record_access(
                    session,
                    principal=principal,
                    action="staff_member.read",
                    resource_type="staff_member",
                    record_ids=[r.id for r in rows],
                )
            found = {
                r.id: StaffMemberPublic(
                    id=r.id,
                    role=StaffRole(r.role),
                    service_ids=visible_service_ids(principal, services[r.id]),
                    started_on=r.started_on,
                    left_on=r.left_on,
                    display_name=r.display_name if identity else None,
                    source_system=r.source_system,
                    external_ref=r.external_ref if identity else None,
                    created_at=r.created_at,
                    updated_at=r.updated_at,
                )
                for r in rows
            }
            return _in_order(ids, found)

        return self._batched(load, commit=True)

    @cached_property
    def person_ref(self) -> DataLoader[uuid.UUID, PersonRefPublic | None]:
        async def load(session: AsyncSession, ids: list[uuid.UUID]) -> list[PersonRefPublic | None]:
            principal = self.principal
            stmt = people_repository.readable(principal).where(col(PersonRef.id).in_(ids))
            rows = (await session.scalars(stmt)).all()
            services = await people_repository.links.load(
                session, principal.require_organisation(), [r.id for r in rows]
            )
            found = {
                r.id: PersonRefPublic(
                    id=r.id,
                    external_ref=r.external_ref,
                    source_system=r.source_system,
                    service_ids=visible_service_ids(principal, services[r.id]),
                    created_at=r.created_at,
                    updated_at=r.updated_at,
                )
                for r in rows
            }
            return _in_order(ids, found)

        return self._batched(load)

    async def _innovations(self, session: AsyncSession, stmt: Select[Innovation]) -> list[InnovationPublic]:
        """Innovations of a statement over `readable(principal)`, with their services, oldest first."""
        principal = self.principal
        rows = (await session.scalars(stmt.order_by(col(Innovation.created_at), col(Innovation.id)))).all()
        services = await innovations_repository.links.load(
            session, principal.require_organisation(), [r.id for r in rows]
        )
        return [
            InnovationPublic(
                id=r.id,
                name=r.name,
                summary=r.summary,
                why=r.why,
                started_on=r.started_on,
                service_ids=visible_service_ids(principal, services[r.id]),
                phase=Phase(r.phase),
                embedding_plan=EmbeddingPlan.model_validate(effective_embedding_plan(r.embedding_plan)),
                source_system=r.source_system,
                external_ref=r.external_ref,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ]

    @cached_property
    def innovation(self) -> DataLoader[uuid.UUID, InnovationPublic | None]:
        async def load(session: AsyncSession, ids: list[uuid.UUID]) -> list[InnovationPublic | None]:
            stmt = innovations_repository.readable(self.principal).where(col(Innovation.id).in_(ids))
            found = await self._innovations(session, stmt)
            return _in_order(ids, {i.id: i for i in found})

        return self._batched(load)

    @cached_property
    def innovations_of_service(self) -> DataLoader[uuid.UUID, list[InnovationPublic]]:
        """The innovations in scope at each service, oldest first."""

        async def load(session: AsyncSession, service_ids: list[uuid.UUID]) -> list[list[InnovationPublic]]:
            principal = self.principal
            stmt = innovations_repository.readable(principal).where(
                innovations_repository.links.linked_to_any(
                    col(Innovation.organisation_id), col(Innovation.id), service_ids
                )
            )
            found = await self._innovations(session, stmt)
            # The caller's view of each innovation's services is what places it under a service.
            return [[i for i in found if service_id in i.service_ids] for service_id in service_ids]

        return self._batched(load)

    @cached_property
    def touchpoint_detail(self) -> DataLoader[uuid.UUID, TouchpointDetail]:
        """Touchpoints with their revisions, through the REST single read (its redaction, its log).

        Asked for only when a list's items are asked for their revisions; one session per batch.
        """

        async def load(session: AsyncSession, ids: list[uuid.UUID]) -> list[TouchpointDetail]:
            return [
                await get_touchpoint(session=session, principal=self.principal, touchpoint_id=i) for i in ids
            ]

        return self._batched(load, commit=True)

    @cached_property
    def status(self) -> DataLoader[StatusKey, Answer]:
        """Embedding statuses; a refusal comes back as the key's error, the others still answer."""

        async def load(session: AsyncSession, keys: list[StatusKey]) -> list[Answer]:
            return await load_statuses(session, self.principal, keys)

        return self._batched(load)
