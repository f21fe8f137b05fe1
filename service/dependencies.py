"""Request-scoped dependencies: settings, the unit of work, the caller and its permissions."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.auth.resolution import resolve_principal, resolve_with_factory
from service.database import read_session
from service.errors import Unauthenticated
from service.observability.context import note_principal
from service.policy import Permission, check, mark_policy
from service.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


_ONE_STATEMENT = "_ingrain_one_statement_unless_header"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def writes_in_one_statement(*, unless_header: str) -> Callable[[Endpoint], Endpoint]:
    """Marks a route whose unit of work is reads and at most one writing statement, atomic by itself:
    unless the request carries `unless_header`, its session runs each statement as its own
    transaction, which spares the BEGIN and COMMIT round trips of a transaction around them."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _ONE_STATEMENT, unless_header)
        return endpoint

    return mark


def _in_one_statement(request: Request) -> bool:
    route = request.scope.get("route")
    header = getattr(getattr(route, "endpoint", None), _ONE_STATEMENT, None)
    return header is not None and header not in request.headers


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request; the route's service calls only flush.

    Used with `scope="function"` so the commit happens before the response is sent.
    """
    factory = request.app.state.session_factory
    async with factory() as session:
        if _in_one_statement(request):
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession | None]:
    """The read replica's session for a route's status or list reads (`database.read_session`);
    what such a read must write (an access-log entry, a projection not stored yet) goes through the
    request's own session."""
    async with read_session(request.app.state.read_session_factory) as session:
        yield session


_bearer = HTTPBearer(auto_error=False, description="A JWT issued by Ingrain or a trusted identity provider.")


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[AsyncSession | None, Depends(get_session, scope="function")] = None,
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("an `Authorization: Bearer <token>` header is required")
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    verifier = request.app.state.token_verifier
    principal: Principal = await verifier.verify(credentials.credentials)
    # User accounts and integration clients in the database have the last word (revocation, roles).
    # Checked in the request's own unit of work when it has one (one transaction, not two).
    if session is not None:
        principal = await resolve_principal(session, principal)
    else:
        principal = await resolve_with_factory(request.app.state.session_factory, principal)
    request.state.principal = principal
    note_principal(principal)
    return principal


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession | None, Depends(get_read_session, scope="function")]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*permissions: Permission) -> Callable[..., Any]:
    """A dependency that authenticates the caller and checks it holds one of `permissions`."""

    async def dependency(principal: PrincipalDep) -> Principal:
        check(principal, *permissions)
        return principal

    return mark_policy(dependency, permissions)


def public() -> Callable[..., Any]:
    """A declared exception to authentication (health checks, JWKS, the token endpoint)."""

    async def dependency() -> None:
        return None

    return mark_policy(dependency, "public")


def authenticated() -> Callable[..., Any]:
    """Any valid token; the service function decides by scope (e.g. reading one's own records)."""

    async def dependency(principal: PrincipalDep) -> Principal:
        return principal

    return mark_policy(dependency, "authenticated")
