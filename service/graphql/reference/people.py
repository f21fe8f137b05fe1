"""People supported: a pseudonymous reference and the services supporting them, nothing more."""

import uuid
from datetime import datetime

import strawberry

from service.graphql.connections import After, Connection, First, connection, page_limit, time_id_cursor
from service.graphql.context import GraphQLInfo
from service.graphql.permissions import policy
from service.graphql.reference.services import Service
from service.people import service as rules
from service.people.schemas import PersonRefFilter, PersonRefPublic
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
        found = await info.context.loaders.service.load_many(self.service_ids)
        return [Service.from_public(s) for s in found if s is not None]

    @classmethod
    def from_public(cls, public: PersonRefPublic) -> "PersonRef":
        return cls(
            id=public.id,
            external_ref=public.external_ref,
            source_system=public.source_system,
            service_ids=public.service_ids,
            created_at=public.created_at,
            updated_at=public.updated_at,
        )


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
        async with info.context.unit_of_work() as session:
            page = await rules.list_person_refs(
                session=session,
                principal=info.context.principal,
                filters=filters,
                limit=page_limit(first),
                cursor=after,
            )
        return connection(
            [PersonRef.from_public(p) for p in page.items],
            cursors=[time_id_cursor(p.created_at, p.id) for p in page.items],
            next_cursor=page.next_cursor,
            after=after,
        )

    @strawberry.field(
        extensions=[policy(Permission.reference_read)],
        description="One person reference (REST: GET /v1/people/{id}).",
    )
    async def person_ref(self, info: GraphQLInfo, id: uuid.UUID) -> PersonRef | None:
        async with info.context.unit_of_work() as session:
            public = await rules.get_person_ref(
                session=session, principal=info.context.principal, person_ref_id=id
            )
        return PersonRef.from_public(public)
