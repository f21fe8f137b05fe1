"""Every table model, imported once so the metadata (and Alembic) sees them all."""

from service.audit.models import AccessLogEntry
from service.auth.models import ClientAuthFailure, IntegrationClient
from service.innovations.models import Innovation, InnovationService, ProviderThresholds
from service.organisations.models import AccessGrant, CommissioningRelationship, Organisation
from service.people.models import PersonRef, PersonRefService
from service.projections.models import status_event, status_projection
from service.services.models import Service
from service.staff.models import StaffMember, StaffMemberService
from service.status.models import (
    status_audit_month,
    status_month_rollup,
    status_service_month,
    status_staff_month,
)
from service.touchpoints.models import (
    IdempotencyRecord,
    Touchpoint,
    TouchpointIdentity,
    TouchpointInnovation,
    TouchpointRevision,
)
from service.users.models import UserAccount
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "AccessGrant",
    "AccessLogEntry",
    "ClientAuthFailure",
    "CommissioningRelationship",
    "IdempotencyRecord",
    "Innovation",
    "InnovationService",
    "IntegrationClient",
    "Organisation",
    "PersonRef",
    "PersonRefService",
    "ProviderThresholds",
    "Service",
    "StaffMember",
    "StaffMemberService",
    "Touchpoint",
    "TouchpointIdentity",
    "TouchpointInnovation",
    "TouchpointRevision",
    "UserAccount",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "status_audit_month",
    "status_event",
    "status_month_rollup",
    "status_projection",
    "status_service_month",
    "status_staff_month",
]
