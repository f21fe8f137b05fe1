"""Rules every reference data write follows: who may write under which source system, which services
a caller may name, and that every id in a payload belongs to the caller's organisation.

Another tenant's ids are answered exactly like ids that do not exist (`reference_not_found`), so a
refusal never tells one provider what another holds.
"""

import uuid
from collections.abc import Iterable, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.auth.principal import Principal
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.services.models import Service

T = TypeVar("T")


def error(field: str, rule: str, message: str) -> dict[str, str]:
    return {"field": field, "rule": rule, "message": message}


def check_source_system(principal: Principal, source_system: str | None, *, field: str) -> None:
    """A caller bound to a source system (an integration client) writes only under that system."""
    if principal.source_system is not None and source_system != principal.source_system:
        raise Forbidden(
            f"this client writes as source system {principal.source_system!r} only",
            errors=[
                error(
                    field,
                    "source_system_mismatch",
                    f"must be {principal.source_system!r}, the source system of this client",
                )
            ],
        )


def effective_source_system(
    principal: Principal, source_system: str | None, external_ref: str | None
) -> str | None:
    """The source system a new row is filed under.

    A client bound to a source system files everything it creates under it, and names each row by
    its own reference so a later sync finds it again.
    """
    if principal.source_system is not None:
        check_source_system(principal, source_system or principal.source_system, field="source_system")
        if external_ref is None:
            raise InvalidInput(
                "external_ref: required from a client bound to a source system",
                errors=[
                    error(
                        "external_ref",
                        "missing",
                        "an integration names every row it creates by its own reference",
                    )
                ],
            )
        return principal.source_system
    if source_system is not None and external_ref is None:
        raise InvalidInput(
            "external_ref: required with source_system",
            errors=[error("external_ref", "missing", "a source system names rows by their external_ref")],
        )
    return source_system


def check_may_write_row(principal: Principal, row_source_system: str | None) -> None:
    """A client bound to a source system may change only the rows filed under it."""
    if principal.source_system is not None and row_source_system != principal.source_system:
        raise Forbidden(
            f"this row is not filed under source system {principal.source_system!r}",
            errors=[
                error(
                    "source_system",
                    "source_system_mismatch",
                    "a client changes only the rows of its own source system",
                )
            ],
        )


def check_unlimited(principal: Principal, action: str) -> None:
    """Some writes (a new service) concern the whole provider, not a caller's own services."""
    if principal.service_ids is not None:
        raise Forbidden(f"{action} needs access to every service of the provider")


def reference_taken(collection: str, source_system: str | None, external_ref: str | None) -> Conflict:
    """A create named by a reference that already names a row: the sync route updates it instead."""
    if source_system is None:
        hint = "change that row instead of creating another"
    else:
        hint = f"PUT /v1/{collection}/by-ref/{source_system}/{external_ref} updates it"
    return Conflict(
        f"external_ref {external_ref!r} already names a row of this organisation; {hint}",
        errors=[error("external_ref", "reference_taken", "already names another row")],
    )


def out_of_scope(what: str) -> Forbidden:
    return Forbidden(f"this {what} is outside the services this caller works in")


def require_found(row: T | None, what: str, row_id: uuid.UUID) -> T:
    if row is None:
        raise NotFound(f"no {what} {row_id}")
    return row


async def service_ids_in_organisation(
    session: AsyncSession, organisation_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` are services of this organisation (one query)."""
    wanted = set(ids)
    if not wanted:
        return set()
    stmt = select(col(Service.id)).where(
        col(Service.organisation_id) == organisation_id, col(Service.id).in_(wanted)
    )
    return set((await session.scalars(stmt)).all())


def reference_errors(
    field: str, ids: Sequence[uuid.UUID], found: set[uuid.UUID], what: str
) -> list[dict[str, str]]:
    """One `reference_not_found` entry per id that is not in `found`, naming its position."""
    return [
        error(f"{field}[{i}]", "reference_not_found", f"no {what} {value} in this organisation")
        for i, value in enumerate(ids)
        if value not in found
    ]


def duplicate_errors(field: str, ids: Sequence[uuid.UUID]) -> list[dict[str, str]]:
    seen: set[uuid.UUID] = set()
    out = []
    for i, value in enumerate(ids):
        if value in seen:
            out.append(error(f"{field}[{i}]", "duplicate", f"{value} is listed more than once"))
        seen.add(value)
    return out


async def check_service_refs(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID], *, field: str = "service_ids"
) -> None:
    """Every id names a service of the caller's organisation, once, within the caller's services."""
    problems = duplicate_errors(field, ids)
    if problems:
        raise InvalidInput(f"{problems[0]['field']}: {problems[0]['message']}", errors=problems)
    found = await service_ids_in_organisation(session, principal.require_organisation(), ids)
    problems = reference_errors(field, ids, found, "service")
    if problems:
        raise InvalidInput(f"{problems[0]['field']}: {problems[0]['message']}", errors=problems)
    if principal.service_ids is not None:
        outside = [
            error(f"{field}[{i}]", "service_out_of_scope", "not one of the services this caller works in")
            for i, value in enumerate(ids)
            if value not in principal.service_ids
        ]
        if outside:
            raise Forbidden(f"{outside[0]['field']}: {outside[0]['message']}", errors=outside)


async def check_service_filter(session: AsyncSession, principal: Principal, service_id: uuid.UUID) -> None:
    """A list filtered by a service names one the caller may read (the same rules as a payload)."""
    found = await service_ids_in_organisation(session, principal.require_organisation(), [service_id])
    if service_id not in found:
        raise InvalidInput(
            "service_id: no such service in this organisation",
            errors=[
                error("service_id", "reference_not_found", f"no service {service_id} in this organisation")
            ],
        )
    if not principal.may_see_service(service_id):
        raise Forbidden(
            "service_id: not one of the services this caller works in",
            errors=[
                error("service_id", "service_out_of_scope", "not one of the services this caller works in")
            ],
        )


def visible_service_ids(principal: Principal, ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The links a caller is shown: those within its services, in a stable order."""
    return sorted((s for s in ids if principal.may_see_service(s)), key=str)


def merged_service_ids(
    principal: Principal, current: Iterable[uuid.UUID], requested: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """The links after a write. A caller limited to some services neither sees nor removes the
    links a row has to services outside them; it replaces only the part it can see."""
    wanted = set(requested)
    if principal.service_ids is None:
        return wanted
    return wanted | {s for s in current if s not in principal.service_ids}
