"""Integration clients of the caller's organisation (provider admin): register, list, rotate, revoke."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from service.auth import service
from service.auth.principal import Principal
from service.auth.schemas import (
    IntegrationClientCreate,
    IntegrationClientCredentials,
    IntegrationClientPublic,
)
from service.dependencies import SessionDep, require
from service.errors import PROBLEM_RESPONSES
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.policy import Permission
from service.reference.routing import problems
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(
    prefix="/integration-clients",
    tags=["authentication"],
    responses=PROBLEM_RESPONSES,
    route_class=BodyLimitedRoute,
)

ClientManager = Annotated[Principal, Depends(require(Permission.integration_client_manage))]


def _with_secret(public: IntegrationClientPublic, secret: str) -> IntegrationClientCredentials:
    return IntegrationClientCredentials(**public.model_dump(), client_secret=secret)


@router.post(
    "",
    operation_id="create_integration_client",
    status_code=status.HTTP_201_CREATED,
    response_model=IntegrationClientCredentials,
)
async def create_integration_client(
    session: SessionDep, principal: ClientManager, data: IntegrationClientCreate
) -> IntegrationClientCredentials:
    """Register a care record system. The answer holds `client_secret`, shown this once only."""
    row, secret = await service.create_client(session=session, principal=principal, data=data)
    return _with_secret(service.client_public(row), secret)


@router.get("", operation_id="list_integration_clients", response_model=Page[IntegrationClientPublic])
async def list_integration_clients(
    session: SessionDep,
    principal: ClientManager,
    source_system: Annotated[str | None, Query(description="Only clients writing as this system.")] = None,
    include_revoked: Annotated[bool, Query(description="Include revoked clients.")] = False,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[IntegrationClientPublic]:
    return await service.list_clients(
        session=session,
        principal=principal,
        source_system=source_system,
        include_revoked=include_revoked,
        cursor=cursor,
        limit=limit,
    )


@router.get("/{client_row_id}", operation_id="get_integration_client", response_model=IntegrationClientPublic)
async def get_integration_client(
    session: SessionDep, principal: ClientManager, client_row_id: uuid.UUID
) -> IntegrationClientPublic:
    return service.client_public(
        await service.get_client(session=session, principal=principal, client_row_id=client_row_id)
    )


@router.post(
    "/{client_row_id}/rotate-secret",
    operation_id="rotate_integration_client_secret",
    response_model=IntegrationClientCredentials,
    # A revoked client gets no new secret.
    responses=problems(409),
)
async def rotate_integration_client_secret(
    session: SessionDep, principal: ClientManager, client_row_id: uuid.UUID
) -> IntegrationClientCredentials:
    """A new secret, shown this once. The old secret, and tokens issued with it, stop working now."""
    row, secret = await service.rotate_secret(
        session=session, principal=principal, client_row_id=client_row_id
    )
    return _with_secret(service.client_public(row), secret)


@router.post(
    "/{client_row_id}/revoke",
    operation_id="revoke_integration_client",
    response_model=IntegrationClientPublic,
)
async def revoke_integration_client(
    session: SessionDep, principal: ClientManager, client_row_id: uuid.UUID
) -> IntegrationClientPublic:
    """Revoke for good (idempotent): no new tokens, and tokens already issued are refused."""
    return service.client_public(
        await service.revoke_client(session=session, principal=principal, client_row_id=client_row_id)
    )
