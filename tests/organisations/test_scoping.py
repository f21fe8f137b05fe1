"""The shared scoping helpers, against a real database."""

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.errors import NotFound
from service.model_helpers import utcnow
from service.organisations.models import Organisation
from service.scoping import Access, provider_scope, readable_providers, service_condition, tenant_condition
from service.services.models import Service
from service.vocabulary import Role
from tests import factories


def principal(role: Role, org: Organisation | None, services: list[uuid.UUID] | None = None) -> Principal:
    return Principal(
        sub=f"scope-{role}",
        organisation_id=org.id if org else None,
        roles=frozenset({role}),
        service_ids=frozenset(services) if services is not None else None,
    )


async def test_tenant_and_service_conditions_are_applied_in_sql(session: AsyncSession) -> None:
    provider, other = await factories.organisation(session), await factories.organisation(session)
    house, flat = (
        await factories.care_service(session, provider),
        await factories.care_service(session, provider),
    )
    await factories.care_service(session, other)
    columns = Service.__table__.c  # type: ignore[attr-defined]

    async def visible(who: Principal) -> set[uuid.UUID]:
        statement = select(columns.id).where(
            tenant_condition(who, columns.organisation_id), service_condition(who, columns.id)
        )
        return set((await session.execute(statement)).scalars())

    assert await visible(principal(Role.quality_lead, provider)) == {house.id, flat.id}
    assert await visible(principal(Role.registered_manager, provider, [house.id])) == {house.id}
    assert await visible(principal(Role.registered_manager, provider, [])) == set()


async def test_commissioner_scope_follows_relationships_in_force(session: AsyncSession) -> None:
    provider = await factories.organisation(session)
    house, flat = (
        await factories.care_service(session, provider),
        await factories.care_service(session, provider),
    )
    commissioner = await factories.organisation(session, "commissioner")
    await factories.commissioning(session, commissioner, provider, service_ids=[house.id])
    await factories.commissioning(
        session,
        commissioner,
        provider,
        service_ids=[flat.id],
        starts_on=date(2020, 1, 1),
        ends_on=date(2020, 12, 31),
    )
    who = principal(Role.commissioner, commissioner)

    scope = await provider_scope(session, who, provider.id)
    assert scope.access is Access.commissioning
    assert scope.is_external
    assert scope.service_ids == frozenset({house.id})
    assert scope.may_see_service(house.id) and not scope.may_see_service(flat.id)
    in_2020 = await provider_scope(session, who, provider.id, on=date(2020, 6, 1))
    assert in_2020.service_ids == frozenset({flat.id})

    await factories.commissioning(session, commissioner, provider)  # a second, unlimited relationship
    assert (await provider_scope(session, who, provider.id)).service_ids is None

    stranger = await factories.organisation(session)
    with pytest.raises(NotFound):
        await provider_scope(session, who, stranger.id)


async def test_inspector_scope_needs_an_unrevoked_grant_in_force(session: AsyncSession) -> None:
    provider = await factories.organisation(session)
    regulator = await factories.organisation(session, "regulator")
    who = principal(Role.inspector, regulator)
    with pytest.raises(NotFound):
        await provider_scope(session, who, provider.id)

    today = date.today()
    grant = await factories.access_grant(
        session, provider, regulator, starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=1)
    )
    scope = await provider_scope(session, who, provider.id)
    assert (scope.access, scope.service_ids) == (Access.access_grant, None)
    with pytest.raises(NotFound):
        await provider_scope(session, who, provider.id, on=today + timedelta(days=2))

    grant.revoked_at = utcnow()
    await session.commit()
    with pytest.raises(NotFound):
        await provider_scope(session, who, provider.id)


async def test_provider_roles_read_their_own_provider_only(session: AsyncSession) -> None:
    provider, other = await factories.organisation(session), await factories.organisation(session)
    house = await factories.care_service(session, provider)
    manager = principal(Role.registered_manager, provider, [house.id])
    scope = await provider_scope(session, manager, provider.id)
    assert (scope.access, scope.service_ids, scope.is_external) == (Access.own, frozenset({house.id}), False)
    with pytest.raises(NotFound):
        await provider_scope(session, manager, other.id)
    assert [s.provider_id for s in await readable_providers(session, manager)] == [provider.id]
    assert await readable_providers(session, principal(Role.platform_admin, None)) == []
