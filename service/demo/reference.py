"""The demo's organisations and reference data, written as a provider's own admin would."""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.auth.principal import Principal
from service.demo import cast
from service.demo.plan import DemoPlan
from service.innovations.schemas import EmbeddingPlanInput, InnovationCreate
from service.innovations.service import innovations
from service.organisations.grants import create_grant
from service.organisations.models import Organisation
from service.organisations.schemas import (
    AccessGrantCreate,
    CommissioningRelationshipCreate,
    OrganisationCreate,
)
from service.organisations.service import create_organisation, create_relationship
from service.people.schemas import PersonRefCreate
from service.people.service import people
from service.scoping import today
from service.services.schemas import ServiceCreate
from service.services.service import services
from service.staff.schemas import StaffMemberCreate
from service.staff.service import staff_members
from service.vocabulary import OrganisationKind, Role

LOADER_SUB = "ingrain-demo-loader"
# The inspection grant runs from a quarter before the data ends to a quarter after it is loaded.
GRANT_DAYS = 90


@dataclass
class DemoIds:
    provider_id: uuid.UUID
    commissioner_id: uuid.UUID
    regulator_id: uuid.UUID
    services: dict[str, uuid.UUID] = field(default_factory=dict)
    staff: dict[str, uuid.UUID] = field(default_factory=dict)
    people: dict[str, uuid.UUID] = field(default_factory=dict)
    innovations: dict[str, uuid.UUID] = field(default_factory=dict)


PLATFORM_ADMIN = Principal(sub=LOADER_SUB, organisation_id=None, roles=frozenset({Role.platform_admin}))


def provider_principal(provider_id: uuid.UUID) -> Principal:
    """The provider's admin and quality lead at once: they set up services, staff and innovations."""
    return Principal(
        sub=LOADER_SUB,
        organisation_id=provider_id,
        roles=frozenset({Role.provider_admin, Role.quality_lead}),
    )


async def find_provider(session: AsyncSession, name: str) -> Organisation | None:
    stmt = select(Organisation).where(
        col(Organisation.kind) == OrganisationKind.provider.value, col(Organisation.name) == name
    )
    return (await session.scalars(stmt.limit(1))).first()


async def _organisation(session: AsyncSession, name: str, kind: OrganisationKind) -> uuid.UUID:
    """The commissioner and regulator are shared by every demo provider loaded into one database."""
    stmt = select(Organisation).where(col(Organisation.kind) == kind.value, col(Organisation.name) == name)
    existing = (await session.scalars(stmt.limit(1))).first()
    if existing is not None:
        return existing.id
    row = await create_organisation(
        session=session, principal=PLATFORM_ADMIN, data=OrganisationCreate(name=name, kind=kind)
    )
    return row.id


async def write_organisations(session: AsyncSession, plan: DemoPlan, provider_name: str) -> DemoIds:
    """The provider, its commissioner and the regulator, as a platform admin and the provider's
    admin would set them up through the API."""
    provider = await create_organisation(
        session=session,
        principal=PLATFORM_ADMIN,
        data=OrganisationCreate(name=provider_name, kind=OrganisationKind.provider),
    )
    commissioner_id = await _organisation(session, plan.commissioner_name, OrganisationKind.commissioner)
    regulator_id = await _organisation(session, plan.regulator_name, OrganisationKind.regulator)
    await create_relationship(
        session=session,
        principal=PLATFORM_ADMIN,
        data=CommissioningRelationshipCreate(
            commissioner_id=commissioner_id,
            provider_id=provider.id,
            starts_on=plan.anchor - timedelta(days=3 * 365),
        ),
    )
    # A grant is time-limited from the day it is given, whatever day the data ends on.
    await create_grant(
        session=session,
        principal=provider_principal(provider.id),
        data=AccessGrantCreate(
            regulator_id=regulator_id,
            starts_on=plan.anchor - timedelta(days=GRANT_DAYS),
            ends_on=today() + timedelta(days=GRANT_DAYS),
        ),
    )
    return DemoIds(provider_id=provider.id, commissioner_id=commissioner_id, regulator_id=regulator_id)


async def write_reference_data(session: AsyncSession, plan: DemoPlan, ids: DemoIds) -> None:
    """Services, staff and people through the same service functions the API calls."""
    principal = provider_principal(ids.provider_id)
    source = cast.CARE_RECORDS_SOURCE
    for service in plan.services:
        created_service = await services.create(
            session=session,
            principal=principal,
            data=ServiceCreate(
                name=service.name,
                cqc_location_id=service.cqc_location_id,
                source_system=source,
                external_ref=service.external_ref,
            ),
        )
        ids.services[service.key] = created_service.id
    for member in plan.staff:
        created_member = await staff_members.create(
            session=session,
            principal=principal,
            data=StaffMemberCreate(
                role=member.role,
                service_ids=[ids.services[member.service_key]],
                started_on=member.started_on,
                left_on=member.left_on,
                display_name=member.display_name,
                source_system=source,
                external_ref=member.external_ref,
            ),
        )
        ids.staff[member.external_ref] = created_member.id
    for service in plan.services:
        for ref in service.person_refs:
            person = await people.create(
                session=session,
                principal=principal,
                data=PersonRefCreate(
                    external_ref=ref, source_system=source, service_ids=[ids.services[service.key]]
                ),
            )
            ids.people[ref] = person.id
    await _write_innovations(session, plan, ids)


async def _write_innovations(session: AsyncSession, plan: DemoPlan, ids: DemoIds) -> None:
    principal = provider_principal(ids.provider_id)
    for innovation in plan.innovations:
        created = await innovations.create(
            session=session,
            principal=principal,
            data=InnovationCreate(
                name=innovation.name,
                summary=innovation.summary,
                why=innovation.why,
                started_on=innovation.started_on,
                service_ids=[ids.services[key] for key in innovation.service_keys],
                phase=innovation.phase,
                embedding_plan=EmbeddingPlanInput(**innovation.embedding_plan),
                source_system=cast.PROVIDER_HUB_SOURCE,
                external_ref=innovation.external_ref,
            ),
        )
        ids.innovations[innovation.key] = created.id
