"""Queries for staff members: bound to the caller's organisation and, for callers limited to some
services, to staff working in one of them (service.reference.repository)."""

from datetime import date

from sqlalchemy import Select, or_
from sqlmodel import col

from service.auth.principal import Principal
from service.reference.links import ServiceLinks
from service.reference.repository import ReferenceRepository
from service.staff.models import StaffMember, StaffMemberService
from service.staff.schemas import StaffFilter

staff = ReferenceRepository(StaffMember, ServiceLinks(StaffMemberService, "staff_member_id"))


def listed(principal: Principal, filters: StaffFilter, *, today: date) -> Select[StaffMember]:
    stmt = staff.listed(principal, service_id=filters.service_id, source_system=filters.source_system)
    if filters.role is not None:
        stmt = stmt.where(col(StaffMember.role) == filters.role.value)
    if filters.active_on is not None:
        stmt = stmt.where(
            col(StaffMember.started_on) <= filters.active_on,
            or_(col(StaffMember.left_on).is_(None), col(StaffMember.left_on) >= filters.active_on),
        )
    elif not filters.include_leavers:
        stmt = stmt.where(or_(col(StaffMember.left_on).is_(None), col(StaffMember.left_on) >= today))
    return stmt
