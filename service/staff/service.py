"""Rules for staff members; the flow they share with every reference collection is
service.reference.service. Routers and GraphQL resolvers both call these; they flush, never commit.

Staff identity (name, external reference) is personal data: callers without
`staff_identity:read` get the rest of the record with those fields null (a care worker can see
who is on a team by role and tenure, not by name), and every read that returns identity is
written to the access log.
"""

import uuid
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from service import clock
from service.auth.principal import Principal
from service.errors import InvalidInput
from service.policy import Permission, allowed
from service.projections.marking import mark_provider
from service.reference.rules import error, visible_service_ids
from service.reference.service import ReferenceService
from service.staff import repository
from service.staff.models import StaffMember
from service.staff.schemas import StaffFilter, StaffMemberFields, StaffMemberPublic
from service.vocabulary import StaffRole


def may_read_identity(principal: Principal) -> bool:
    return allowed(principal, Permission.staff_identity_read)


class StaffMembers(ReferenceService[StaffMember, StaffMemberPublic, StaffFilter]):
    resource = "staff_member"
    collection = "staff"
    noun = "staff member"

    def public(
        self, principal: Principal, row: StaffMember, service_ids: set[uuid.UUID]
    ) -> StaffMemberPublic:
        identity = may_read_identity(principal)
        return StaffMemberPublic(
            id=row.id,
            role=StaffRole(row.role),
            service_ids=visible_service_ids(principal, service_ids),
            started_on=row.started_on,
            left_on=row.left_on,
            display_name=row.display_name if identity else None,
            source_system=row.source_system,
            external_ref=row.external_ref if identity else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def listed(self, principal: Principal, filters: StaffFilter) -> Select[StaffMember]:
        """Current staff by default; `include_leavers` adds those who have left, `active_on` asks
        about a day."""
        return repository.listed(principal, filters, today=clock.today())

    def stored_values(self, payload: StaffMemberFields) -> dict[str, Any]:
        return {
            "role": payload.role.value,
            "started_on": payload.started_on,
            "left_on": payload.left_on,
            "display_name": payload.display_name,
        }

    def changed_values(self, row: StaffMember, changes: dict[str, Any]) -> dict[str, Any]:
        """A leaver is recorded by setting `left_on` (and un-recorded by clearing it)."""
        if "role" in changes:
            changes["role"] = changes["role"].value
        return changes

    def check_values(self, values: dict[str, Any], row: StaffMember | None) -> None:
        """A staff member cannot leave before starting; the date just sent is the one refused."""
        dates: dict[str, Any] = {} if row is None else {"started_on": row.started_on, "left_on": row.left_on}
        dates |= values  # what the write sets, over what the row holds
        started_on, left_on = dates["started_on"], dates["left_on"]
        if left_on is not None and left_on < started_on:
            blame = "left_on" if "left_on" in values else "started_on"
            raise InvalidInput(
                f"{blame}: a staff member cannot leave before starting",
                errors=[
                    error(blame, "dates_ordered", f"left_on {left_on} is before started_on {started_on}")
                ],
            )

    async def after_write(self, session: AsyncSession, row: StaffMember, *, services_changed: bool) -> None:
        """Tenure decides who is a new starter, whose first steps the statuses count."""
        await mark_provider(session, row.organisation_id)

    def logs_reads(self, principal: Principal) -> bool:
        return may_read_identity(principal)


staff_members = StaffMembers(repository.staff)
