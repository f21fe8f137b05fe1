"""User accounts: the first admin of an organisation (platform admin), then its users (provider admin).

An account decides, for tokens whose (`org`, `iss`, `sub`) it matches, which roles and services
count: the identity provider proves who someone is, the organisation's admin decides what they may
do. Tokens of a subject without an account keep the roles and services their claims state.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import Conflict, InvalidInput, NotFound
from service.model_helpers import utcnow
from service.organisations import repository as organisations
from service.organisations.models import Organisation
from service.pagination import Page, decode_time_id_cursor, encode_cursor
from service.settings import Settings
from service.users import repository
from service.users.models import UserAccount
from service.users.schemas import UserCreate, UserPublic, UserUpdate
from service.vocabulary import OrganisationKind, Role

RESOURCE = "user_account"

# Which roles a person in each kind of organisation can hold. `integration` is never a person's:
# machines get it through an integration client.
ROLES_BY_KIND: dict[str, frozenset[Role]] = {
    OrganisationKind.provider: frozenset(
        {Role.care_worker, Role.registered_manager, Role.quality_lead, Role.provider_admin}
    ),
    OrganisationKind.commissioner: frozenset({Role.commissioner}),
    OrganisationKind.regulator: frozenset({Role.inspector}),
    OrganisationKind.platform: frozenset({Role.platform_admin}),
}


def user_public(row: UserAccount) -> UserPublic:
    return UserPublic(
        id=row.id,
        organisation_id=row.organisation_id,
        issuer=row.issuer,
        sub=row.sub,
        roles=[Role(r) for r in row.roles],
        service_ids=row.service_ids,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        disabled_at=row.disabled_at,
        active=row.disabled_at is None,
    )


def _check_roles(organisation: Organisation, roles: Sequence[Role]) -> list[str]:
    allowed = ROLES_BY_KIND.get(organisation.kind, frozenset())
    errors = [
        {
            "field": f"roles[{index}]",
            "rule": "role_not_for_organisation",
            "message": f"a {organisation.kind} organisation's users cannot hold {role.value}; "
            f"allowed: {', '.join(sorted(r.value for r in allowed))}",
        }
        for index, role in enumerate(roles)
        if role not in allowed
    ]
    if errors:
        raise InvalidInput(errors[0]["message"], errors=errors)
    return sorted({r.value for r in roles})


async def _check_services(
    session: AsyncSession, organisation: Organisation, service_ids: Sequence[uuid.UUID] | None
) -> list[uuid.UUID] | None:
    if service_ids is None:
        return None
    if organisation.kind != OrganisationKind.provider:
        raise InvalidInput(
            "service_ids: only a provider's users can be limited to services",
            errors=[
                {"field": "service_ids", "rule": "not_a_provider", "message": "only providers have services"}
            ],
        )
    known = await organisations.services_of_organisation(session, organisation.id, service_ids)
    missing = [s for s in service_ids if s not in known]
    if missing:
        # Another provider's service is answered exactly like one that does not exist.
        raise NotFound(f"no service {missing[0]} in this organisation")
    return sorted(set(service_ids))


def _check_issuer(settings: Settings, organisation: Organisation, issuer: str | None) -> str:
    """Ingrain's own issuer, or an identity provider bound to this organisation: an account for any
    other issuer could never match a token that gets through, and is most likely a typo."""
    if issuer is None or issuer == settings.jwt_issuer:
        return settings.jwt_issuer
    trust = settings.jwks_trust.get(issuer)
    if trust is None or organisation.id not in trust.organisations:
        trusted = sorted(i for i, t in settings.jwks_trust.items() if organisation.id in t.organisations)
        message = (
            f"issuer {issuer!r} is not trusted to speak for this organisation; "
            f"trusted: {', '.join([settings.jwt_issuer, *trusted])}"
        )
        raise InvalidInput(
            message, errors=[{"field": "issuer", "rule": "issuer_not_trusted", "message": message}]
        )
    return issuer


async def create_user(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    organisation_id: uuid.UUID,
    data: UserCreate,
) -> UserAccount:
    organisation = await organisations.get_organisation(session, organisation_id)
    if organisation is None:
        raise NotFound(f"no organisation {organisation_id}")
    issuer = _check_issuer(settings, organisation, data.issuer)
    row = UserAccount(
        organisation_id=organisation.id,
        issuer=issuer,
        sub=data.sub,
        roles=_check_roles(organisation, data.roles),
        service_ids=await _check_services(session, organisation, data.service_ids),
        created_by=principal.sub,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(
            f"the organisation already has a user with sub {data.sub!r} of issuer {issuer!r}"
        ) from None
    record_access(
        session,
        principal=principal,
        action="user.create",
        resource_type=RESOURCE,
        record_ids=[row.id],
        organisation_id=organisation.id,
    )
    return row


async def get_user(*, session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> UserAccount:
    row = await repository.get_user(
        session, organisation_id=principal.require_organisation(), user_id=user_id
    )
    if row is None:
        raise NotFound(f"no user {user_id}")
    record_access(
        session, principal=principal, action="user.read", resource_type=RESOURCE, record_ids=[row.id]
    )
    return row


async def list_users(
    *,
    session: AsyncSession,
    principal: Principal,
    organisation_id: uuid.UUID,
    role: Role | None,
    issuer: str | None,
    sub: str | None,
    include_disabled: bool,
    cursor: str | None,
    limit: int,
) -> Page[UserPublic]:
    rows = await repository.list_users(
        session,
        organisation_id=organisation_id,
        role=role.value if role else None,
        issuer=issuer,
        sub=sub,
        include_disabled=include_disabled,
        after=decode_time_id_cursor(cursor),
        limit=limit,
    )
    page = rows[:limit]
    if page:
        record_access(
            session,
            principal=principal,
            action="user.list",
            resource_type=RESOURCE,
            record_ids=[r.id for r in page],
            organisation_id=organisation_id,
        )
    next_cursor = encode_cursor([page[-1].created_at, page[-1].id]) if len(rows) > limit else None
    return Page[UserPublic](items=[user_public(r) for r in page], next_cursor=next_cursor)


async def update_user(
    *, session: AsyncSession, principal: Principal, user_id: uuid.UUID, data: UserUpdate
) -> UserAccount:
    organisation_id = principal.require_organisation()
    row = await repository.get_user(session, organisation_id=organisation_id, user_id=user_id)
    organisation = await organisations.get_organisation(session, organisation_id)
    if row is None or organisation is None:
        raise NotFound(f"no user {user_id}")
    changing = data.model_fields_set
    if (row.issuer, row.sub) == (principal.issuer, principal.sub) and (
        (data.roles is not None and Role.provider_admin not in data.roles) or data.disabled is True
    ):
        # Ask another admin: an organisation must not lose its last way to manage itself by accident.
        raise Conflict("you cannot remove your own provider_admin role or disable your own account")
    if "roles" in changing:
        if data.roles is None:
            raise InvalidInput(
                "roles: cannot be null",
                errors=[{"field": "roles", "rule": "required", "message": "give at least one role"}],
            )
        row.roles = _check_roles(organisation, data.roles)
    if "service_ids" in changing:
        row.service_ids = await _check_services(session, organisation, data.service_ids)
    if data.disabled is not None:
        row.disabled_at = (row.disabled_at or utcnow()) if data.disabled else None
    row.updated_at = utcnow()
    await session.flush()
    record_access(
        session, principal=principal, action="user.update", resource_type=RESOURCE, record_ids=[row.id]
    )
    return row
