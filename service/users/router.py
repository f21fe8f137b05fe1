"""User accounts of the caller's organisation (provider admin)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from service.auth.principal import Principal
from service.dependencies import SessionDep, SettingsDep, require
from service.errors import PROBLEM_RESPONSES
from service.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from service.policy import Permission
from service.reference.routing import problems
from service.touchpoints.limits import BodyLimitedRoute
from service.users import service
from service.users.schemas import UserCreate, UserPublic, UserUpdate
from service.vocabulary import Role

router = APIRouter(prefix="/users", tags=["users"], responses=PROBLEM_RESPONSES, route_class=BodyLimitedRoute)

UserManager = Annotated[Principal, Depends(require(Permission.user_manage))]


@router.post(
    "",
    operation_id="create_user",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    # The organisation already has a user with this issuer and `sub`.
    responses=problems(409),
)
async def create_user(
    session: SessionDep, settings: SettingsDep, principal: UserManager, data: UserCreate
) -> UserPublic:
    """Give a person (by their token's `iss` and `sub`) roles and, optionally, a service limit in your
    organisation."""
    row = await service.create_user(
        session=session,
        settings=settings,
        principal=principal,
        organisation_id=principal.require_organisation(),
        data=data,
    )
    return service.user_public(row)


@router.get("", operation_id="list_users", response_model=Page[UserPublic])
async def list_users(
    session: SessionDep,
    principal: UserManager,
    role: Annotated[Role | None, Query(description="Only users holding this role.")] = None,
    issuer: Annotated[str | None, Query(description="Only users of this token issuer.")] = None,
    sub: Annotated[str | None, Query(description="Only users with this token subject.")] = None,
    include_disabled: Annotated[bool, Query(description="Include disabled accounts.")] = False,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[UserPublic]:
    return await service.list_users(
        session=session,
        principal=principal,
        organisation_id=principal.require_organisation(),
        role=role,
        issuer=issuer,
        sub=sub,
        include_disabled=include_disabled,
        cursor=cursor,
        limit=limit,
    )


@router.get("/{user_id}", operation_id="get_user", response_model=UserPublic)
async def get_user(session: SessionDep, principal: UserManager, user_id: uuid.UUID) -> UserPublic:
    return service.user_public(await service.get_user(session=session, principal=principal, user_id=user_id))


# 409: an admin may not remove their own provider_admin role or disable their own account.
@router.patch("/{user_id}", operation_id="update_user", response_model=UserPublic, responses=problems(409))
async def update_user(
    session: SessionDep, principal: UserManager, user_id: uuid.UUID, data: UserUpdate
) -> UserPublic:
    """Change a user's roles or service limit, or disable the account (its tokens are then refused)."""
    row = await service.update_user(session=session, principal=principal, user_id=user_id, data=data)
    return service.user_public(row)
