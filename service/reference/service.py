"""The flow every reference collection shares: create, read, list, change, and sync by reference.

An area (services, staff, people, innovations) subclasses `ReferenceService` and says only what
differs: the columns its payloads store, the shape it answers with, its list's filters and its own
checks. The flow keeps, once, the rules every collection follows (service.reference.rules):

- a caller bound to a source system writes only under it, and changes only rows filed under it;
- every service a payload names belongs to the caller's organisation and scope, and a caller
  limited to some services neither sees nor removes a row's links to services outside them;
- a sync by reference creates its row once, whoever asks first, and a repeat changes nothing;
- every write, and every read of a collection whose reads are personal data, is access-logged.

Routers and GraphQL resolvers both call these; they flush, never commit.
"""

import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import Conflict
from service.model_helpers import utcnow
from service.pagination import Page
from service.reference.listing import split_page
from service.reference.repository import ReferenceRepository, ReferenceRow
from service.reference.rules import (
    check_may_write_row,
    check_service_filter,
    check_service_refs,
    check_source_system,
    check_unlimited,
    effective_source_system,
    merged_service_ids,
    out_of_scope,
    reference_taken,
    require_found,
)
from service.reference.types import PatchModel
from service.reference.writes import Synced, assign

M = TypeVar("M", bound=ReferenceRow)
P = TypeVar("P", bound=BaseModel)
F = TypeVar("F")


class NewRow(Protocol):
    """A create payload: the reference a caller may name the new row by."""

    @property
    def source_system(self) -> str | None: ...

    @property
    def external_ref(self) -> str | None: ...


def requested_services(payload: object) -> list[uuid.UUID] | None:
    """The services a payload names; None where it names none (a service, or a sync that leaves
    them as they are)."""
    service_ids: list[uuid.UUID] | None = getattr(payload, "service_ids", None)
    return service_ids


class ReferenceService(ABC, Generic[M, P, F]):
    resource: ClassVar[str]  # "staff_member": access-log actions, not-found answers
    collection: ClassVar[str]  # "staff": the REST collection a taken reference points to
    noun: ClassVar[str]  # "staff member": what a refusal calls a row
    # A new row concerns the whole provider (a service), not only the services a caller works in.
    whole_provider: ClassVar[bool] = False

    def __init__(self, repository: ReferenceRepository[M]) -> None:
        self.repository = repository

    # ---- What an area says about itself ---------------------------------------------------------

    @abstractmethod
    def public(self, principal: Principal, row: M, service_ids: set[uuid.UUID]) -> P:
        """The row as this caller may see it; `service_ids` are all of its services."""

    @abstractmethod
    def listed(self, principal: Principal, filters: F) -> Select[M]:
        """The rows the caller may read, narrowed by the area's own filters (a repository statement)."""

    def stored_values(self, payload: Any) -> dict[str, Any]:
        """The row's own columns from a create or sync payload."""
        return {}

    def changed_values(self, row: M, changes: dict[str, Any]) -> dict[str, Any]:
        """The columns a partial update sets, from the fields the client sent (services taken out)."""
        return changes

    def check_values(self, values: dict[str, Any], row: M | None) -> None:
        """Rules between the fields of a row about to be written (`row`: None for a new one)."""

    def check_new(self, principal: Principal, service_ids: Sequence[uuid.UUID]) -> None:
        """Whether this caller may create a row with these services."""

    def logs_reads(self, principal: Principal) -> bool:
        """Whether what this caller reads is personal data, so that every read is access-logged."""
        return False

    async def before_change(self, session: AsyncSession, row: M, values: dict[str, Any]) -> None:
        """Work a change of a (locked) row needs first; `values` are what the change sets."""

    async def after_write(self, session: AsyncSession, row: M, *, services_changed: bool) -> None:
        """Work a created or changed row needs in the same transaction (marking statuses it moves)."""

    # ---- Reads ----------------------------------------------------------------------------------

    async def get(self, *, session: AsyncSession, principal: Principal, row_id: uuid.UUID) -> P:
        row = require_found(await self.repository.get(session, principal, row_id), self.resource, row_id)
        return (await self.answers(session, principal, [row], action="read"))[0]

    async def list_page(
        self,
        *,
        session: AsyncSession,
        principal: Principal,
        filters: F,
        limit: int,
        cursor: str | None = None,
    ) -> Page[P]:
        service_id: uuid.UUID | None = getattr(filters, "service_id", None)
        if service_id is not None:
            await check_service_filter(session, principal, service_id)
        stmt = self.listed(principal, filters)
        rows = await self.repository.page(session, stmt, limit=limit, cursor=cursor)
        page, next_cursor = split_page(rows, limit)
        items = await self.answers(session, principal, page, action="list")
        return Page[Any](items=items, next_cursor=next_cursor)

    async def by_id(
        self, *, session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, P]:
        """The rows among `ids` the caller may read, as `get` answers each, in one statement per
        table (GraphQL's loaders)."""
        rows = list((await session.scalars(self.repository.among(principal, ids))).all())
        answers = await self.answers(session, principal, rows, action="read")
        return {row.id: answer for row, answer in zip(rows, answers, strict=True)}

    async def answers(
        self, session: AsyncSession, principal: Principal, rows: Sequence[M], *, action: str
    ) -> list[P]:
        """The rows as this caller sees them, their services loaded in one query."""
        ids = [row.id for row in rows]
        services = await self.repository.services_of(session, principal.require_organisation(), ids)
        if ids and self.logs_reads(principal):
            self._record(session, principal, action, ids)
        return [self.public(principal, row, services[row.id]) for row in rows]

    # ---- Writes ---------------------------------------------------------------------------------

    async def create(self, *, session: AsyncSession, principal: Principal, data: NewRow) -> P:
        if self.whole_provider:
            check_unlimited(principal, f"creating a {self.noun}")
        source_system = effective_source_system(principal, data.source_system, data.external_ref)
        values = self.stored_values(data)
        self.check_values(values, None)
        service_ids = requested_services(data)
        self.check_new(principal, service_ids or [])
        if service_ids is not None:
            await check_service_refs(session, principal, service_ids)
        row = self.repository.model(
            organisation_id=principal.require_organisation(),
            source_system=source_system,
            external_ref=data.external_ref,
            **values,
        )
        created = await self._insert(session, principal, row, service_ids)
        if created is None:
            raise reference_taken(self.collection, source_system, data.external_ref)
        return created

    async def update(
        self, *, session: AsyncSession, principal: Principal, row_id: uuid.UUID, data: PatchModel
    ) -> P:
        """Change the fields the client sent; the others keep their value."""
        row = require_found(
            await self.repository.get(session, principal, row_id, for_update=True), self.resource, row_id
        )
        check_may_write_row(principal, row.source_system)
        changes = data.changes()
        service_ids = changes.pop("service_ids", None)
        values = self.changed_values(row, changes)
        self.check_values(values, row)
        if service_ids is not None:
            await check_service_refs(session, principal, service_ids)
        return await self._apply(session, principal, row, values, service_ids)

    async def sync(
        self,
        *,
        session: AsyncSession,
        principal: Principal,
        source_system: str,
        external_ref: str,
        data: BaseModel,
    ) -> Synced[P]:
        """Create or update the row its source system calls `external_ref`; a repeat changes nothing."""
        check_source_system(principal, source_system, field="source_system")
        values = self.stored_values(data)
        self.check_values(values, None)
        service_ids = requested_services(data)
        if service_ids is not None:
            await check_service_refs(session, principal, service_ids)
        organisation_id = principal.require_organisation()
        repository = self.repository
        row = await repository.get_by_ref(
            session, organisation_id, source_system, external_ref, for_update=True
        )
        if row is None:
            if self.whole_provider:
                check_unlimited(principal, f"creating a {self.noun}")
            self.check_new(principal, service_ids or [])
            new = repository.model(
                organisation_id=organisation_id,
                source_system=source_system,
                external_ref=external_ref,
                **values,
            )
            created = await self._insert(session, principal, new, service_ids)
            if created is not None:
                return Synced(created, created=True)
            # A concurrent sync of the same reference inserted it first: update that row instead.
            row = await repository.get_by_ref(
                session, organisation_id, source_system, external_ref, for_update=True
            )
            if row is None:
                raise Conflict("the reference changed while it was being synced; retry the request")
        current = (await repository.services_of(session, organisation_id, [row.id]))[row.id]
        if principal.service_ids is not None and not current & principal.service_ids:
            raise out_of_scope(self.noun)
        updated = await self._apply(session, principal, row, values, service_ids, current=current)
        return Synced(updated, created=False)

    async def _insert(
        self, session: AsyncSession, principal: Principal, row: M, service_ids: Sequence[uuid.UUID] | None
    ) -> P | None:
        """None when the row's reference is already taken."""
        stored = await self.repository.insert(session, row)
        if stored is None:
            return None
        wanted = set(service_ids or ())
        if self.repository.links is not None:
            await self.repository.links.replace(
                session, stored.organisation_id, stored.id, current=set(), wanted=wanted
            )
        self._record(session, principal, "create", [stored.id])
        await self.after_write(session, stored, services_changed=bool(wanted))
        await session.flush()
        return self.public(principal, stored, wanted)

    async def _apply(
        self,
        session: AsyncSession,
        principal: Principal,
        row: M,
        values: dict[str, Any],
        service_ids: Sequence[uuid.UUID] | None,
        *,
        current: set[uuid.UUID] | None = None,
    ) -> P:
        """Write the changed fields and (already checked) services of a locked row."""
        if current is None:
            current = (await self.repository.services_of(session, row.organisation_id, [row.id]))[row.id]
        wanted = current if service_ids is None else merged_service_ids(principal, current, service_ids)
        await self.before_change(session, row, values)
        changed = assign(row, values)
        if wanted != current and self.repository.links is not None:
            await self.repository.links.replace(
                session, row.organisation_id, row.id, current=current, wanted=wanted
            )
            changed = True
        if changed:
            row.updated_at = utcnow()
            self._record(session, principal, "update", [row.id])
            await self.after_write(session, row, services_changed=wanted != current)
            await session.flush()
        return self.public(principal, row, wanted)

    def _record(self, session: AsyncSession, principal: Principal, action: str, ids: list[uuid.UUID]) -> None:
        record_access(
            session,
            principal=principal,
            action=f"{self.resource}.{action}",
            resource_type=self.resource,
            record_ids=ids,
        )
