"""Who is calling: the verified claims of a bearer token."""

import uuid
from dataclasses import dataclass, field

from service.vocabulary import Role


@dataclass(frozen=True, slots=True)
class Principal:
    sub: str
    organisation_id: uuid.UUID | None
    roles: frozenset[Role]
    # Services the caller is limited to; None means every service of its organisation.
    service_ids: frozenset[uuid.UUID] | None = None
    # For integration clients: the client id and the source system it writes as.
    client_id: str | None = None
    source_system: str | None = None
    issuer: str = ""
    token_id: str | None = field(default=None, compare=False)
    # Which trusted signer vouched for the token (see service.auth.verifier.Signer).
    signer: str = field(default="", compare=False)
    # `iat` of the token, for checks against later events (an integration client's secret rotation).
    issued_at: int | None = field(default=None, compare=False)
    # Set when the caller's roles and services come from its user account rather than the token.
    account_id: uuid.UUID | None = field(default=None, compare=False)

    def has_role(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_platform_admin(self) -> bool:
        return Role.platform_admin in self.roles

    @property
    def role_label(self) -> str:
        return ",".join(sorted(r.value for r in self.roles))

    def require_organisation(self) -> uuid.UUID:
        from service.errors import Forbidden

        if self.organisation_id is None:
            raise Forbidden("this operation needs a token bound to an organisation (claim `org`)")
        return self.organisation_id

    def may_see_service(self, service_id: uuid.UUID) -> bool:
        """False for a service outside the caller's `services`: treat it as not found (404).

        Queries should not fetch such rows in the first place: build their conditions with
        `service.scoping.service_condition(principal, Table.service_id)`.
        """
        return self.service_ids is None or service_id in self.service_ids
