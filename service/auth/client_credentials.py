"""The OAuth 2.0 client-credentials grant (RFC 6749 §4.4) behind POST /v1/auth/token.

Errors follow RFC 6749 §5.2 (`{"error": …, "error_description": …}`), not problem+json, because
that is what OAuth client libraries in care record systems parse.
"""

import base64
import binascii
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth import repository
from service.auth.keys import SigningKey
from service.auth.models import IntegrationClient
from service.auth.principal import Principal
from service.auth.rate_limit import ClientAuthLimiter
from service.auth.schemas import TokenResponse
from service.auth.secrets import verify_secret
from service.model_helpers import utcnow
from service.settings import Settings
from service.vocabulary import Role

GRANT_TYPE = "client_credentials"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 4096
MAX_CREDENTIAL_LENGTH = 256


@dataclass
class OAuthError(Exception):
    error: str
    description: str
    status: int = 400
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TokenRequest:
    grant_type: str
    client_id: str
    client_secret: str
    scope: str | None
    used_basic_auth: bool


def _invalid_client(description: str, *, used_basic_auth: bool) -> OAuthError:
    # §5.2: a client that authenticated with the Authorization header gets 401 and a challenge.
    headers = {"WWW-Authenticate": 'Basic realm="ingrain"'} if used_basic_auth else {}
    return OAuthError("invalid_client", description, status=401, headers=headers)


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_request", "client authentication must use HTTP Basic or the form")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client("the Basic credentials are not valid base64", used_basic_auth=True) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _invalid_client("the Basic credentials need `client_id:client_secret`", used_basic_auth=True)
    # §2.3.1: both halves are form-urlencoded before they are joined.
    return unquote_plus(client_id), unquote_plus(secret)


def parse_token_request(content_type: str | None, body: bytes, authorization: str | None) -> TokenRequest:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_CONTENT_TYPE:
        raise OAuthError("invalid_request", f"the request body must be {FORM_CONTENT_TYPE}")
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", f"the request body exceeds {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the request body is not a valid form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"parameter `{name}` is repeated")  # §3.2
        form[name] = value

    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "parameter `grant_type` is required")
    if grant_type != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", f"only `{GRANT_TYPE}` is supported")

    basic = _basic_credentials(authorization)
    in_form = "client_id" in form or "client_secret" in form
    if basic is not None and in_form:
        raise OAuthError("invalid_request", "use one client authentication method, not Basic and the form")
    if basic is not None:
        client_id, secret = basic
    elif in_form:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    else:
        raise _invalid_client("client authentication is required", used_basic_auth=False)
    if not client_id or not secret:
        raise _invalid_client(
            "both client_id and client_secret are required", used_basic_auth=basic is not None
        )
    # A NUL could only fail the lookup (Postgres stores none): such credentials are simply not valid.
    too_long = len(client_id) > MAX_CREDENTIAL_LENGTH or len(secret) > MAX_CREDENTIAL_LENGTH
    if too_long or "\x00" in client_id or "\x00" in secret:
        raise _invalid_client("client credentials are not valid", used_basic_auth=basic is not None)
    return TokenRequest(
        grant_type=grant_type,
        client_id=client_id,
        client_secret=secret,
        scope=form.get("scope") or None,
        used_basic_auth=basic is not None,
    )


def _client_principal(client: IntegrationClient) -> Principal:
    return Principal(
        sub=client.client_id,
        organisation_id=client.organisation_id,
        roles=frozenset({Role.integration}),
        client_id=client.client_id,
        source_system=client.source_system,
    )


async def _refuse_while_limited(
    session: AsyncSession, limiter: ClientAuthLimiter, client_id: str, address: str | None
) -> None:
    wait = await limiter.retry_after(session, client_id, address)
    if wait is not None:
        raise OAuthError(
            "temporarily_unavailable",
            "too many failed authentication attempts; retry later",
            status=429,
            headers={"Retry-After": str(wait)},
        )


def _client_claims(settings: Settings, client: IntegrationClient, ttl: int) -> dict[str, Any]:
    """An integration client's token: its organisation, the integration role and its source system."""
    now = int(time.time())
    return {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": client.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "roles": [Role.integration.value],
        "org": str(client.organisation_id),
        "client_id": client.client_id,
        "source_system": client.source_system,
    }


async def issue_token(
    *,
    session: AsyncSession,
    settings: Settings,
    signing_key: SigningKey,
    limiter: ClientAuthLimiter,
    token_request: TokenRequest,
    address: str | None,
) -> TokenResponse:
    """Authenticate the client and sign a short-lived token for it, or raise OAuthError."""
    client_id = token_request.client_id
    await _refuse_while_limited(session, limiter, client_id, address)

    client = await repository.find_by_client_id(session, client_id)
    secret_ok = await verify_secret(client.secret_hash if client else None, token_request.client_secret)
    if client is None or not secret_ok or client.revoked_at is not None:
        await limiter.record_failure(session, client_id, address)
        if client is not None:
            # The provider admin can see attempts against its clients in the access log.
            record_access(
                session,
                principal=_client_principal(client),
                action="integration_client.token_refused",
                resource_type="integration_client",
                record_ids=[client.id],
            )
        raise _invalid_client("client authentication failed", used_basic_auth=token_request.used_basic_auth)

    if token_request.scope is not None:
        raise OAuthError("invalid_scope", "scopes are not used: a client's access follows from its role")

    ttl = settings.service_token_ttl_seconds
    claims = _client_claims(settings, client, ttl)
    client.last_used_at = utcnow()
    record_access(
        session,
        principal=_client_principal(client),
        action="integration_client.token",
        resource_type="integration_client",
        record_ids=[client.id],
    )
    await session.flush()
    return TokenResponse(access_token=signing_key.sign(claims), expires_in=ttl)
