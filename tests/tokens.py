"""Signed test tokens for any role."""

import uuid
from collections.abc import Iterable

from service.auth.tokens import issue_hs256_token
from service.settings import Settings
from service.vocabulary import Role


class TokenFactory:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def token(
        self,
        role: Role | str,
        org: uuid.UUID | None = None,
        *,
        sub: str | None = None,
        services: Iterable[uuid.UUID] | None = None,
    ) -> str:
        return issue_hs256_token(
            self.settings,
            sub=sub or f"test-{role}",
            roles=[role],
            organisation_id=org,
            service_ids=services,
        )

    def headers(
        self,
        role: Role | str,
        org: uuid.UUID | None = None,
        *,
        sub: str | None = None,
        services: Iterable[uuid.UUID] | None = None,
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, org, sub=sub, services=services)}"}
