"""The per-request GraphQL context: who is calling, where sessions come from, and the DataLoaders.

Authentication is the REST one (`service.dependencies.get_principal`, the app's token verifier).
Resolvers that run side by side never share an `AsyncSession`: each resolver and each loader batch
opens its own from the session factory, and every write commits in its own unit of work.
"""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from service.auth.principal import Principal
from service.database import read_session, unit_of_work
from service.dependencies import get_principal
from service.errors import Unauthenticated
from service.graphql.loaders import Loaders
from service.policy import mark_policy
from service.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="A JWT issued by Ingrain or a trusted identity provider.")


class GraphQLContext(BaseContext):
    def __init__(
        self,
        *,
        principal: Principal | None,
        session_factory: async_sessionmaker[AsyncSession],
        settings: Settings,
        read_session_factory: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        super().__init__()
        self._principal = principal
        self.session_factory = session_factory
        self.read_session_factory = read_session_factory
        self.settings = settings
        self.loaders = Loaders(session_factory, principal, read_session_factory)

    @property
    def principal(self) -> Principal:
        """The verified caller; only the GraphiQL page itself is served without one."""
        if self._principal is None:
            raise Unauthenticated("an `Authorization: Bearer <token>` header is required")
        return self._principal

    @property
    def has_principal(self) -> bool:
        return self._principal is not None

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session of this resolver's own, committed when the block succeeds.

        Reads commit too: the service functions add access-log rows for reads of free text and
        staff identity, and those must be kept.
        """
        async with unit_of_work(self.session_factory) as session:
            yield session

    def reading(self) -> AbstractAsyncContextManager[AsyncSession | None]:
        """A session on the read replica for status reads, or None without one (as REST's)."""
        return read_session(self.read_session_factory)


GraphQLInfo = Info[GraphQLContext, None]


def _is_ide_page(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


async def graphql_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """Every GraphQL operation needs a valid bearer token, verified as for REST.

    The one exception is the GraphiQL page a browser opens at /graphql: it is static HTML holding
    no data, and the explorer then sends the token the user enters with each operation.
    """
    if credentials is None and _is_ide_page(request):
        return None
    return await get_principal(request, credentials)


mark_policy(graphql_caller, "authenticated")


async def get_context(
    request: Request, principal: Annotated[Principal | None, Depends(graphql_caller)]
) -> GraphQLContext:
    state: Any = request.app.state
    return GraphQLContext(
        principal=principal,
        session_factory=state.session_factory,
        settings=state.settings,
        read_session_factory=state.read_session_factory,
    )
