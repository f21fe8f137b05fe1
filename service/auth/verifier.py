"""Verifies bearer tokens against every configured signer."""

from service.auth.principal import Principal
from service.auth.tokens import verify_hs256_token
from service.settings import Settings


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def verify(self, token: str) -> Principal:
        return verify_hs256_token(self.settings, token)

    async def aclose(self) -> None:
        return None
