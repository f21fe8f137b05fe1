"""Queries for person references: bound to the caller's organisation and, for callers limited to
some services, to people supported by one of them (service.reference.repository). People are
filtered only by what every collection takes."""

from service.people.models import PersonRef, PersonRefService
from service.reference.links import ServiceLinks
from service.reference.repository import ReferenceRepository

people = ReferenceRepository(PersonRef, ServiceLinks(PersonRefService, "person_ref_id"))
