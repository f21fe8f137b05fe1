"""Per-request DataLoaders: one batched query per relation per tick, whatever the nesting.

Each batch opens a session of its own from the factory, so loaders resolving side by side never
share an `AsyncSession`. Every query is scoped to the caller's organisation in its statement.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from strawberry.dataloader import DataLoader

from service.auth.principal import Principal
from service.organisations.models import Organisation

K = TypeVar("K")
V = TypeVar("V")


class Loaders:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], principal: Principal | None
    ) -> None:
        self._factory = session_factory
        self._principal = principal

    def _batched(self, load: Callable[[AsyncSession, list[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
        async def batch(keys: list[K]) -> Sequence[V]:
            async with self._factory() as session:
                return await load(session, keys)

        return DataLoader(load_fn=batch)

    @cached_property
    def organisation(self) -> DataLoader[uuid.UUID, Organisation | None]:
        async def load(session: AsyncSession, ids: list[uuid.UUID]) -> list[Organisation | None]:
            rows = (await session.scalars(select(Organisation).where(col(Organisation.id).in_(ids)))).all()
            by_id = {row.id: row for row in rows}
            return [by_id.get(i) for i in ids]

        return self._batched(load)
