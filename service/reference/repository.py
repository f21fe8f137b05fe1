"""The queries every reference collection shares (services, staff, people, innovations).

Each area keeps one `ReferenceRepository` of its table model and adds only the filters that are its
own. Every statement is bound to one organisation: `readable` to the caller's, and for callers
limited to some services, to rows of those services (a service itself, or a row linked to one).
"""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.auth.principal import Principal
from service.reference.links import ServiceLinks
from service.reference.listing import ordered_after
from service.reference.writes import insert_unless_taken


class ReferenceRow(Protocol):
    """What every reference table has (the external reference too, typed per table)."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    source_system: str | None
    created_at: datetime
    updated_at: datetime

    def __init__(self, **values: Any) -> None: ...


M = TypeVar("M", bound=ReferenceRow)


class ReferenceRepository(Generic[M]):
    def __init__(self, model: type[M], links: ServiceLinks | None = None) -> None:
        """`links`: the table linking rows to their services; without one the rows are services."""
        self.model = model
        self.links = links
        self._id: Any = col(model.id)
        self._organisation_id: Any = col(model.organisation_id)

    def at_services(self, service_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
        """Rows of any of these services."""
        if self.links is None:
            return self._id.in_(service_ids)
        return self.links.linked_to_any(self._organisation_id, self._id, service_ids)

    def readable(self, principal: Principal) -> Select[M]:
        """The rows this caller may read."""
        stmt = select(self.model).where(self._organisation_id == principal.require_organisation())
        if principal.service_ids is not None:
            stmt = stmt.where(self.at_services(list(principal.service_ids)))
        return stmt

    def among(self, principal: Principal, row_ids: Sequence[uuid.UUID]) -> Select[M]:
        """The rows among `row_ids` this caller may read (a loader's batch)."""
        return self.readable(principal).where(self._id.in_(row_ids))

    async def services_of(
        self, session: AsyncSession, organisation_id: uuid.UUID, row_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, set[uuid.UUID]]:
        """The services of each row, in one query; a service is its own."""
        if self.links is None:
            return {row_id: {row_id} for row_id in row_ids}
        return await self.links.load(session, organisation_id, row_ids)

    async def get(
        self, session: AsyncSession, principal: Principal, row_id: uuid.UUID, *, for_update: bool = False
    ) -> M | None:
        stmt = self.readable(principal).where(self._id == row_id)
        if for_update:
            # NO KEY: touchpoints being recorded take KEY SHARE on the rows they reference.
            stmt = stmt.with_for_update(key_share=True)
        return (await session.scalars(stmt)).one_or_none()

    async def get_by_ref(
        self,
        session: AsyncSession,
        organisation_id: uuid.UUID,
        source_system: str | None,
        external_ref: str,
        *,
        for_update: bool = False,
    ) -> M | None:
        """The organisation's row filed under this reference, whoever may read it."""
        source: Any = col(self.model.source_system)
        stmt = select(self.model).where(
            self._organisation_id == organisation_id,
            col(self.model.external_ref) == external_ref,  # type: ignore[attr-defined]
            source.is_(None) if source_system is None else source == source_system,
        )
        if for_update:
            stmt = stmt.with_for_update(key_share=True)
        return (await session.scalars(stmt)).one_or_none()

    def listed(
        self,
        principal: Principal,
        *,
        service_id: uuid.UUID | None = None,
        source_system: str | None = None,
        external_ref: str | None = None,
    ) -> Select[M]:
        """What the caller may read, narrowed by the filters every collection takes."""
        stmt = self.readable(principal)
        if service_id is not None:
            stmt = stmt.where(self.at_services([service_id]))
        if source_system is not None:
            stmt = stmt.where(col(self.model.source_system) == source_system)
        if external_ref is not None:
            stmt = stmt.where(col(self.model.external_ref) == external_ref)  # type: ignore[attr-defined]
        return stmt

    async def page(
        self, session: AsyncSession, stmt: Select[M], *, limit: int, cursor: str | None
    ) -> list[M]:
        """Up to `limit` + 1 rows of `stmt` after the cursor, oldest first, so the caller can tell
        whether another page follows."""
        created_at = col(self.model.created_at)
        stmt = ordered_after(stmt, created_at, self._id, cursor).limit(limit + 1)
        return list((await session.scalars(stmt)).all())

    async def insert(self, session: AsyncSession, row: M) -> M | None:
        """None when the row's reference is already taken in the organisation."""
        return await insert_unless_taken(session, row)
