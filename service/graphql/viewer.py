"""Who is asking: the caller's identity, permissions and organisation."""

import uuid
from datetime import datetime

import strawberry

from service.auth.principal import Principal
from service.graphql.context import GraphQLInfo
from service.graphql.enums import OrganisationKind, Role
from service.graphql.permissions import authenticated
from service.organisations.models import Organisation as OrganisationRow
from service.policy import permissions_of


@strawberry.type
class Organisation:
    id: uuid.UUID
    name: str
    kind: OrganisationKind
    created_at: datetime

    @classmethod
    def from_row(cls, row: OrganisationRow) -> "Organisation":
        return cls(id=row.id, name=row.name, kind=OrganisationKind(row.kind), created_at=row.created_at)


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
        row = await info.context.loaders.organisation.load(self.organisation_id)
        return Organisation.from_row(row) if row is not None else None

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
