"""Rules for person references; the flow they share with every reference collection is
service.reference.service. Routers and GraphQL resolvers both call these; they flush, never commit.

A person reference is pseudonymous (an external id and where the person is supported): nothing of
it changes but its services. A caller limited to some services reads only people linked to them,
so it names at least one of its services when it creates one.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import Select

from service.auth.principal import Principal
from service.errors import InvalidInput
from service.people import repository
from service.people.models import PersonRef
from service.people.schemas import PersonRefFilter, PersonRefPublic
from service.reference.rules import error, visible_service_ids
from service.reference.service import ReferenceService


class People(ReferenceService[PersonRef, PersonRefPublic, PersonRefFilter]):
    resource = "person_ref"
    collection = "people"
    noun = "person"

    def public(self, principal: Principal, row: PersonRef, service_ids: set[uuid.UUID]) -> PersonRefPublic:
        return PersonRefPublic(
            id=row.id,
            external_ref=row.external_ref,
            source_system=row.source_system,
            service_ids=visible_service_ids(principal, service_ids),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def listed(self, principal: Principal, filters: PersonRefFilter) -> Select[PersonRef]:
        return repository.people.listed(
            principal,
            service_id=filters.service_id,
            source_system=filters.source_system,
            external_ref=filters.external_ref,
        )

    def check_new(self, principal: Principal, service_ids: Sequence[uuid.UUID]) -> None:
        if principal.service_ids is not None and not service_ids:
            raise InvalidInput(
                "service_ids: name at least one of your services",
                errors=[
                    error(
                        "service_ids",
                        "too_short",
                        "a caller limited to some services names one of them, or could not read the person",
                    )
                ],
            )


people = People(repository.people)
