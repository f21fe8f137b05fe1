"""The domain's closed vocabularies as GraphQL enums (the values are the REST values).

Types import the enums from here, so they are registered with Strawberry before use.
"""

import strawberry

from service.vocabulary import (
    DeliverySystem,
    OrganisationKind,
    Phase,
    Role,
    Shift,
    StaffRole,
    TouchpointKind,
)

for _enum in (DeliverySystem, OrganisationKind, Phase, Role, Shift, StaffRole, TouchpointKind):
    strawberry.enum(_enum)

__all__ = ["DeliverySystem", "OrganisationKind", "Phase", "Role", "Shift", "StaffRole", "TouchpointKind"]
