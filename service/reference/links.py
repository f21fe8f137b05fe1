"""The link tables between a row and its services (staff, people and innovations each have one).

Each is `(organisation_id, <owner>_id, service_id)`; every statement here is bound to one
organisation, so no query crosses a tenant.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession


class ServiceLinks:
    def __init__(self, model: Any, owner_column: str) -> None:
        self.table: Table = model.__table__
        self.owner = self.table.c[owner_column]
        self.organisation_id = self.table.c.organisation_id
        self.service_id = self.table.c.service_id

    async def load(
        self, session: AsyncSession, organisation_id: uuid.UUID, owner_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, set[uuid.UUID]]:
        """The services of each owner, in one query."""
        ids = set(owner_ids)
        out: dict[uuid.UUID, set[uuid.UUID]] = {i: set() for i in ids}
        if not ids:
            return out
        stmt = select(self.owner, self.service_id).where(
            self.organisation_id == organisation_id, self.owner.in_(ids)
        )
        for owner_id, service_id in await session.execute(stmt):
            out[owner_id].add(service_id)
        return out

    async def replace(
        self,
        session: AsyncSession,
        organisation_id: uuid.UUID,
        owner_id: uuid.UUID,
        *,
        current: set[uuid.UUID],
        wanted: set[uuid.UUID],
    ) -> None:
        """Change only the links that differ (the owner row is locked by the caller)."""
        gone = current - wanted
        added = wanted - current
        if gone:
            await session.execute(
                delete(self.table).where(
                    self.organisation_id == organisation_id,
                    self.owner == owner_id,
                    self.service_id.in_(gone),
                )
            )
        if added:
            rows = [
                {"organisation_id": organisation_id, self.owner.name: owner_id, "service_id": s}
                for s in sorted(added, key=str)
            ]
            await session.execute(insert(self.table).values(rows).on_conflict_do_nothing())

    def linked_to_any(
        self,
        owner_organisation_id: Any,
        owner_id: Any,
        service_ids: Iterable[uuid.UUID],
    ) -> ColumnElement[bool]:
        """SQL: the owner row has a link to one of `service_ids` (row scoping for limited callers)."""
        return exists(
            select(1).where(
                self.organisation_id == owner_organisation_id,
                self.owner == owner_id,
                self.service_id.in_(list(service_ids)),
            )
        )
