"""Organisation administration: organisations, their first users, commissioning and access grants."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from service.auth.principal import Principal
from service.dependencies import SessionDep, SettingsDep, authenticated, require
from service.errors import PROBLEM_RESPONSES
from service.moments import QueryDate
from service.organisations import grants, service
from service.organisations.schemas import (
    AccessGrantCreate,
    AccessGrantPublic,
    CommissioningRelationshipCreate,
    CommissioningRelationshipPublic,
    CommissioningRelationshipUpdate,
    OrganisationCreate,
    OrganisationPublic,
)
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.policy import Permission
from service.touchpoints.limits import BodyLimitedRoute
from service.users import service as users
from service.users.schemas import UserCreate, UserPublic
from service.vocabulary import OrganisationKind, Role

P = Permission
organisations_router = APIRouter(
    prefix="/organisations", tags=["organisations"], responses=PROBLEM_RESPONSES, route_class=BodyLimitedRoute
)
relationships_router = APIRouter(
    prefix="/commissioning-relationships",
    tags=["organisations"],
    responses=PROBLEM_RESPONSES,
    route_class=BodyLimitedRoute,
)
grants_router = APIRouter(
    prefix="/access-grants", tags=["organisations"], responses=PROBLEM_RESPONSES, route_class=BodyLimitedRoute
)

PlatformAdmin = Annotated[Principal, Depends(require(P.organisation_manage))]
GrantManager = Annotated[Principal, Depends(require(P.access_grant_manage))]
ActiveOn = Annotated[QueryDate | None, Query(description="Only those in force on this day.")]


# Organisations


@organisations_router.post(
    "",
    operation_id="create_organisation",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationPublic,
)
async def create_organisation(
    session: SessionDep, principal: PlatformAdmin, data: OrganisationCreate
) -> OrganisationPublic:
    """Create a provider, commissioner, regulator or platform organisation."""
    row = await service.create_organisation(session=session, principal=principal, data=data)
    return service.organisation_public(row)


@organisations_router.get("", operation_id="list_organisations", response_model=Page[OrganisationPublic])
async def list_organisations(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(P.organisation_manage, P.access_grant_manage))],
    kind: Annotated[OrganisationKind | None, Query(description="Only organisations of this kind.")] = None,
    name: Annotated[str | None, Query(max_length=200, description="Names containing this text.")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[OrganisationPublic]:
    """Every organisation (platform admin); regulators only (provider admin, to grant them access)."""
    return await service.list_organisations(
        session=session, principal=principal, kind=kind, name=name, cursor=cursor, limit=limit
    )


@organisations_router.get(
    "/{organisation_id}", operation_id="get_organisation", response_model=OrganisationPublic
)
async def get_organisation(
    session: SessionDep,
    principal: Annotated[Principal, Depends(authenticated())],
    organisation_id: uuid.UUID,
) -> OrganisationPublic:
    """One organisation the caller may know of: its own, providers it commissions or holds a grant
    from, regulators (for provider admins), any (platform admin). Others answer 404."""
    row = await service.get_organisation(
        session=session, principal=principal, organisation_id=organisation_id
    )
    return service.organisation_public(row)


@organisations_router.post(
    "/{organisation_id}/users",
    operation_id="create_organisation_user",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
)
async def create_organisation_user(
    session: SessionDep,
    settings: SettingsDep,
    principal: PlatformAdmin,
    organisation_id: uuid.UUID,
    data: UserCreate,
) -> UserPublic:
    """Create a user in any organisation, typically its first admin (`provider_admin` of a provider).
    The roles must suit the organisation's kind."""
    row = await users.create_user(
        session=session, settings=settings, principal=principal, organisation_id=organisation_id, data=data
    )
    return users.user_public(row)


@organisations_router.get(
    "/{organisation_id}/users", operation_id="list_organisation_users", response_model=Page[UserPublic]
)
async def list_organisation_users(
    session: SessionDep,
    principal: PlatformAdmin,
    organisation_id: uuid.UUID,
    role: Annotated[Role | None, Query(description="Only users holding this role.")] = None,
    include_disabled: Annotated[bool, Query(description="Include disabled accounts.")] = False,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[UserPublic]:
    """An organisation's user accounts (to see who administers it)."""
    await service.get_organisation(session=session, principal=principal, organisation_id=organisation_id)
    return await users.list_users(
        session=session,
        principal=principal,
        organisation_id=organisation_id,
        role=role,
        issuer=None,
        sub=None,
        include_disabled=include_disabled,
        cursor=cursor,
        limit=limit,
    )


# Commissioning relationships

RelationshipReader = Annotated[Principal, Depends(require(P.relationship_manage, P.portfolio_read))]


@relationships_router.post(
    "",
    operation_id="create_commissioning_relationship",
    status_code=status.HTTP_201_CREATED,
    response_model=CommissioningRelationshipPublic,
)
async def create_commissioning_relationship(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(P.relationship_manage))],
    data: CommissioningRelationshipCreate,
) -> CommissioningRelationshipPublic:
    """Let a commissioner read a provider's status (all services, or `service_ids`) between two dates."""
    row = await service.create_relationship(session=session, principal=principal, data=data)
    return service.relationship_public(row)


@relationships_router.get(
    "", operation_id="list_commissioning_relationships", response_model=Page[CommissioningRelationshipPublic]
)
async def list_commissioning_relationships(
    session: SessionDep,
    principal: RelationshipReader,
    commissioner_id: Annotated[uuid.UUID | None, Query(description="Only this commissioner's.")] = None,
    provider_id: Annotated[uuid.UUID | None, Query(description="Only with this provider.")] = None,
    active_on: ActiveOn = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[CommissioningRelationshipPublic]:
    """All relationships (platform admin), or the caller's own (commissioner)."""
    return await service.list_relationships(
        session=session,
        principal=principal,
        commissioner_id=commissioner_id,
        provider_id=provider_id,
        active_on=active_on,
        cursor=cursor,
        limit=limit,
    )


@relationships_router.get(
    "/{relationship_id}",
    operation_id="get_commissioning_relationship",
    response_model=CommissioningRelationshipPublic,
)
async def get_commissioning_relationship(
    session: SessionDep, principal: RelationshipReader, relationship_id: uuid.UUID
) -> CommissioningRelationshipPublic:
    row = await service.get_relationship(
        session=session, principal=principal, relationship_id=relationship_id
    )
    return service.relationship_public(row)


@relationships_router.patch(
    "/{relationship_id}",
    operation_id="update_commissioning_relationship",
    response_model=CommissioningRelationshipPublic,
)
async def update_commissioning_relationship(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(P.relationship_manage))],
    relationship_id: uuid.UUID,
    data: CommissioningRelationshipUpdate,
) -> CommissioningRelationshipPublic:
    """End a relationship (`ends_on`) or change the services it covers."""
    row = await service.update_relationship(
        session=session, principal=principal, relationship_id=relationship_id, data=data
    )
    return service.relationship_public(row)


# Access grants


@grants_router.post(
    "",
    operation_id="create_access_grant",
    status_code=status.HTTP_201_CREATED,
    response_model=AccessGrantPublic,
)
async def create_access_grant(
    session: SessionDep, principal: GrantManager, data: AccessGrantCreate
) -> AccessGrantPublic:
    """Let a regulator read your status and evidence summaries from `starts_on` to `ends_on`."""
    return grants.grant_public(await grants.create_grant(session=session, principal=principal, data=data))


@grants_router.get("", operation_id="list_access_grants", response_model=Page[AccessGrantPublic])
async def list_access_grants(
    session: SessionDep,
    principal: GrantManager,
    regulator_id: Annotated[uuid.UUID | None, Query(description="Only grants to this regulator.")] = None,
    active_on: ActiveOn = None,
    include_revoked: Annotated[bool, Query(description="Include revoked grants.")] = False,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[AccessGrantPublic]:
    return await grants.list_grants(
        session=session,
        principal=principal,
        regulator_id=regulator_id,
        active_on=active_on,
        include_revoked=include_revoked,
        cursor=cursor,
        limit=limit,
    )


@grants_router.get("/{grant_id}", operation_id="get_access_grant", response_model=AccessGrantPublic)
async def get_access_grant(
    session: SessionDep, principal: GrantManager, grant_id: uuid.UUID
) -> AccessGrantPublic:
    return grants.grant_public(
        await grants.get_grant(session=session, principal=principal, grant_id=grant_id)
    )


@grants_router.post(
    "/{grant_id}/revoke", operation_id="revoke_access_grant", response_model=AccessGrantPublic
)
async def revoke_access_grant(
    session: SessionDep, principal: GrantManager, grant_id: uuid.UUID
) -> AccessGrantPublic:
    """End the grant now (idempotent)."""
    return grants.grant_public(
        await grants.revoke_grant(session=session, principal=principal, grant_id=grant_id)
    )
