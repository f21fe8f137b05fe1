"""People supported: a pseudonymous reference and the services supporting them, nothing more."""

import uuid
from datetime import datetime

import strawberry

from service.graphql.connections import After, Connection, First
from service.graphql.context import GraphQLInfo
from service.graphql.permissions import policy
from service.graphql.reference.resolvers import listed, public_fields, read_one
from service.graphql.reference.services import Service, services_named
from service.people.schemas import PersonRefFilter, PersonRefPublic
from service.people.service import people
from service.policy import Permission


@strawberry.type(description="A pseudonymous reference to a person supported. No names, no clinical data.")
class PersonRef:
    id: uuid.UUID
    external_ref: str = strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="The person's id in the care record system.",
    )
    source_system: str | None
    service_ids: list[uuid.UUID] = strawberry.field(
        description="The caller's view: services outside its scope are left out."
    )
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The services supporting the person (the caller's view).")
    async def services(self, info: GraphQLInfo) -> list[Service]:
        return await services_named(info, self.service_ids)

    @classmethod
    def from_public(cls, public: PersonRefPublic) -> "PersonRef":
        return cls(**public_fields(public))


@strawberry.type
class PeopleQuery:
    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="People supported, oldest record first (REST: GET /v1/people).",
    )
    async def people(
        self,
        info: GraphQLInfo,
        first: First = 50,
        after: After = None,
        service_id: uuid.UUID | None = None,
        source_system: str | None = None,
        external_ref: str | None = None,
    ) -> Connection[PersonRef]:
        filters = PersonRefFilter(
            service_id=service_id, source_system=source_system, external_ref=external_ref
        )
        return await listed(info, people, filters, first=first, after=after, shape=PersonRef.from_public)

    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="One person reference (REST: GET /v1/people/{id}).",
    )
    async def person_ref(self, info: GraphQLInfo, id: uuid.UUID) -> PersonRef | None:
        return await read_one(info, people, id, shape=PersonRef.from_public)
