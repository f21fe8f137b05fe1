"""Field policy: the REST permission table, checked by the same function, declared on every field.

`policy(Permission.x, ...)` is the field extension every Query and Mutation field carries (the caller
needs any one of the permissions), and so does every field on a type exposing free text or staff or
person identity. `authenticated()` declares a field any verified caller may ask, because what it
answers is scoped to the caller. The declaration shows in the SDL as `@policy(needs: [...])`.
"""

from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from service.policy import Permission, check

AUTHENTICATED = "authenticated"


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="policy",
    description="What the caller needs: any one of these permissions, or `authenticated`.",
)
class PolicyDirective:
    needs: list[str]


class Needs(BasePermission):
    """Allows the field when the caller holds any one of `permissions` (none: any verified caller)."""

    def __init__(self, *permissions: Permission) -> None:
        self.permissions = permissions
        self._directive = PolicyDirective(needs=[p.value for p in permissions] or [AUTHENTICATED])

    @property
    def schema_directive(self) -> object:
        return self._directive

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        # `principal` raises Unauthenticated without a token; `check` raises the REST Forbidden.
        principal = info.context.principal
        if self.permissions:
            check(principal, *self.permissions)
        return True


def policy(*permissions: Permission) -> PermissionExtension:
    if not permissions:
        raise ValueError("name at least one permission, or use authenticated()")
    return PermissionExtension(permissions=[Needs(*permissions)])


def authenticated() -> PermissionExtension:
    return PermissionExtension(permissions=[Needs()])


def declared_policy(extensions: list[Any]) -> tuple[str, ...] | None:
    """The permissions a field declares, or None when it declares nothing (read by the policy test)."""
    for extension in extensions:
        if isinstance(extension, PermissionExtension):
            for permission in extension.permissions:
                if isinstance(permission, Needs):
                    return tuple(p.value for p in permission.permissions) or (AUTHENTICATED,)
    return None
