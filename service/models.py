"""Every table model, imported once so the metadata (and Alembic) sees them all."""

from service.audit.models import AccessLogEntry
from service.innovations.models import Innovation, InnovationService, ProviderThresholds
from service.organisations.models import AccessGrant, CommissioningRelationship, Organisation
from service.people.models import PersonRef, PersonRefService
from service.services.models import Service
from service.staff.models import StaffMember, StaffMemberService
from service.touchpoints.models import Touchpoint, TouchpointInnovation, TouchpointRevision

__all__ = [
    "AccessGrant",
    "AccessLogEntry",
    "CommissioningRelationship",
    "Innovation",
    "InnovationService",
    "Organisation",
    "PersonRef",
    "PersonRefService",
    "ProviderThresholds",
    "Service",
    "StaffMember",
    "StaffMemberService",
    "Touchpoint",
    "TouchpointInnovation",
    "TouchpointRevision",
]
