"""Per-request DataLoaders: one batched query per relation per tick, whatever the nesting.

Each batch opens a session of its own from the factory, so loaders resolving side by side never
share an `AsyncSession`. Each batch calls the owning area's service function for many ids at once,
so GraphQL answers with REST's scoping, redaction and access logging.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from service.auth.principal import Principal
from service.database import read_session, unit_of_work
from service.innovations.schemas import InnovationPublic
from service.innovations.service import innovations
from service.people.schemas import PersonRefPublic
from service.people.service import people
from service.services.schemas import ServicePublic
from service.services.service import services
from service.staff.schemas import StaffMemberPublic
from service.staff.service import staff_members
from service.status.service import StatusAnswer, StatusRequest, innovation_status_batch
from service.touchpoints.reading import get_touchpoint
from service.touchpoints.schemas import TouchpointDetail

K = TypeVar("K")
V = TypeVar("V")


def _in_order(keys: Sequence[uuid.UUID], found: dict[uuid.UUID, V]) -> list[V | None]:
    return [found.get(k) for k in keys]


class Loaders:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        principal: Principal | None,
        read_session_factory: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._factory = session_factory
        self._read_factory = read_session_factory
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
            found = await services.by_id(session=session, principal=self.principal, ids=ids)
            return _in_order(ids, found)

        return self._batched(load)

    @cached_property
    def staff_member(self) -> DataLoader[uuid.UUID, StaffMemberPublic | None]:
        async def load(session: AsyncSession, ids: list[uuid.UUID]) -> list[StaffMemberPublic | None]:
            found = await staff_members.by_id(session=session, principal=self.principal, ids=ids)
            return _in_order(ids, found)

        # The staff service logs reads that may return identity: the batch commits.
        return self._batched(load, commit=True)

    @cached_property
    def person_ref(self) -> DataLoader[uuid.UUID, PersonRefPublic | None]:
        async def load(session: AsyncSession, ids: list[uuid.UUID]) -> list[PersonRefPublic | None]:
            found = await people.by_id(session=session, principal=self.principal, ids=ids)
            return _in_order(ids, found)

        return self._batched(load)

    @cached_property
    def innovation(self) -> DataLoader[uuid.UUID, InnovationPublic | None]:
        async def load(session: AsyncSession, ids: list[uuid.UUID]) -> list[InnovationPublic | None]:
            found = await innovations.by_id(session=session, principal=self.principal, ids=ids)
            return _in_order(ids, found)

        return self._batched(load)

    @cached_property
    def innovations_of_service(self) -> DataLoader[uuid.UUID, list[InnovationPublic]]:
        """The innovations in scope at each service, oldest first."""

        async def load(session: AsyncSession, service_ids: list[uuid.UUID]) -> list[list[InnovationPublic]]:
            found = await innovations.at_services(
                session=session, principal=self.principal, service_ids=service_ids
            )
            return [found[service_id] for service_id in service_ids]

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
    def status(self) -> DataLoader[StatusRequest, StatusAnswer]:
        """Embedding statuses; a refusal comes back as the key's error, the others still answer."""

        async def load(session: AsyncSession, keys: list[StatusRequest]) -> list[StatusAnswer]:
            async with read_session(self._read_factory) as read:
                return await innovation_status_batch(
                    session=session, principal=self.principal, requests=keys, read=read
                )

        return self._batched(load)
