"""Roles → permissions, in one table, checked by one function.

REST routes declare what they need with `require(...)`; GraphQL fields use the same permissions
through `service.graphql.permissions`. A test walks both and fails for anything undeclared.
"""

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

from fastapi.dependencies.models import Dependant

from service.auth.principal import Principal
from service.errors import Forbidden
from service.vocabulary import Role


class Permission(StrEnum):
    # Touchpoints
    touchpoint_write = "touchpoint:write"
    touchpoint_read = "touchpoint:read"  # any touchpoint in scope
    touchpoint_read_own = "touchpoint:read_own"  # those the caller recorded or is the subject of
    touchpoint_read_text = "touchpoint:read_text"  # free text about people
    # Reference data
    reference_read = "reference:read"  # services, staff, people, innovations
    staff_identity_read = "staff_identity:read"  # staff ids and names
    reference_write = "reference:write"  # services, staff, people
    innovation_manage = "innovation:manage"
    thresholds_manage = "thresholds:manage"
    # Status
    status_read = "status:read"
    evidence_read = "evidence:read"  # touchpoints behind an indicator (redacted by role)
    evidence_pack_read = "evidence_pack:read"  # the printable pack: the status, its trends and levers
    portfolio_read = "portfolio:read"
    # Administration
    organisation_manage = "organisation:manage"
    relationship_manage = "relationship:manage"
    access_grant_manage = "access_grant:manage"
    integration_client_manage = "integration_client:manage"
    user_manage = "user:manage"
    audit_read = "audit:read"
    webhook_manage = "webhook:manage"  # the organisation's webhook endpoints and their deliveries


P = Permission

_MANAGER = {
    P.touchpoint_write,
    P.touchpoint_read,
    P.touchpoint_read_own,
    P.touchpoint_read_text,
    P.reference_read,
    P.staff_identity_read,
    P.status_read,
    P.evidence_read,
    P.evidence_pack_read,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.care_worker: frozenset(
        {P.touchpoint_write, P.touchpoint_read_own, P.touchpoint_read_text, P.reference_read}
    ),
    Role.registered_manager: frozenset(_MANAGER),
    Role.quality_lead: frozenset(_MANAGER | {P.innovation_manage, P.thresholds_manage}),
    Role.provider_admin: frozenset(
        {
            P.reference_read,
            P.staff_identity_read,
            P.reference_write,
            P.innovation_manage,
            P.access_grant_manage,
            P.integration_client_manage,
            P.user_manage,
            P.audit_read,
            P.status_read,
            P.evidence_pack_read,
            P.webhook_manage,
        }
    ),
    Role.integration: frozenset(
        {
            P.touchpoint_write,
            P.touchpoint_read_own,
            P.touchpoint_read_text,
            P.reference_read,
            P.staff_identity_read,
            P.reference_write,
        }
    ),
    Role.commissioner: frozenset({P.status_read, P.portfolio_read, P.webhook_manage}),
    Role.inspector: frozenset({P.status_read, P.evidence_read, P.evidence_pack_read, P.webhook_manage}),
    Role.platform_admin: frozenset({P.organisation_manage, P.relationship_manage}),
}


def permissions_of(principal: Principal) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in principal.roles:
        out |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(out)


def allowed(principal: Principal, *needed: Permission) -> bool:
    """True when the principal holds any one of `needed`."""
    held = permissions_of(principal)
    return any(p in held for p in needed)


def check(principal: Principal, *needed: Permission) -> None:
    if not allowed(principal, *needed):
        names = " or ".join(p.value for p in needed)
        raise Forbidden(f"role {principal.role_label or 'none'} lacks permission {names}")


def roles_allowed(*needed: Permission) -> set[Role]:
    return {role for role, perms in ROLE_PERMISSIONS.items() if any(p in perms for p in needed)}


# A marker the route-table test reads: every route must carry one of these.
POLICY_ATTR = "__ingrain_policy__"


def mark_policy(fn: Callable[..., Any], permissions: Iterable[Permission] | str) -> Callable[..., Any]:
    setattr(fn, POLICY_ATTR, permissions if isinstance(permissions, str) else tuple(permissions))
    return fn


def declared_policies(dependant: Dependant) -> list[str | tuple[Permission, ...]]:
    """Every policy marker in a route's dependency tree (route, router and parameter dependencies)."""
    marker = getattr(dependant.call, POLICY_ATTR, None) if dependant.call else None
    found: list[str | tuple[Permission, ...]] = [marker] if marker is not None else []
    for sub in dependant.dependencies:
        found.extend(declared_policies(sub))
    return found
