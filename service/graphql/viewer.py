"""Who is asking: the caller's identity, permissions and organisation."""

import uuid
from datetime import datetime

import strawberry

from service.auth.principal import Principal
from service.graphql.context import GraphQLInfo
from service.graphql.enums import OrganisationKind, Role
from service.graphql.permissions import authenticated
from service.organisations.schemas import OrganisationPublic
from service.organisations.service import get_organisation, organisation_public
from service.policy import permissions_of


@strawberry.type
class Organisation:
    id: uuid.UUID
    name: str
    kind: OrganisationKind
    created_at: datetime

    @classmethod
    def from_public(cls, public: OrganisationPublic) -> "Organisation":
        return cls(id=public.id, name=public.name, kind=public.kind, created_at=public.created_at)


async def _organisation(info: GraphQLInfo, organisation_id: uuid.UUID) -> Organisation:
    async with info.context.unit_of_work() as session:
        row = await get_organisation(
            session=session, principal=info.context.principal, organisation_id=organisation_id
        )
    return Organisation.from_public(organisation_public(row))


@strawberry.type(description="The verified caller.")
class Viewer:
    sub: str
    roles: list[Role]
    organisation_id: uuid.UUID | None
    service_ids: list[uuid.UUID] | None = strawberry.field(
        description="Services the caller is limited to; null means every service of its organisation."
    )
    permissions: list[str] = strawberry.field(description="What the caller's roles allow (policy values).")

    @strawberry.field(description="The caller's own organisation.")
    async def organisation(self, info: GraphQLInfo) -> Organisation | None:
        if self.organisation_id is None:
            return None
        return await _organisation(info, self.organisation_id)

    @classmethod
    def of(cls, principal: Principal) -> "Viewer":
        return cls(
            sub=principal.sub,
            roles=sorted(principal.roles),
            organisation_id=principal.organisation_id,
            service_ids=sorted(principal.service_ids) if principal.service_ids is not None else None,
            permissions=sorted(p.value for p in permissions_of(principal)),
        )


@strawberry.type
class ViewerQuery:
    @strawberry.field(extensions=[authenticated()], description="The caller, as its token says.")
    def viewer(self, info: GraphQLInfo) -> Viewer:
        return Viewer.of(info.context.principal)

    @strawberry.field(
        extensions=[authenticated()],
        description="An organisation the caller may know of: its own, the providers it may read, and "
        "for a provider admin the regulators (REST: GET /v1/organisations/{id}).",
    )
    async def organisation(self, info: GraphQLInfo, id: uuid.UUID) -> Organisation | None:
        return await _organisation(info, id)
