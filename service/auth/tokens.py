"""Issuing and verifying bearer JWTs.

Signers are kept apart by algorithm: the shared secret only ever verifies HS256, asymmetric keys
only RS256/ES256, so a public key can never be replayed as an HMAC secret. Every token, whoever
signed it, lives at most INGRAIN_TOKEN_MAX_LIFETIME_SECONDS from `iat` to `exp`: a stolen token
stops working within that time, whatever its issuer chose.
"""

import math
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from service.auth.principal import Principal
from service.errors import Unauthenticated
from service.settings import Settings
from service.vocabulary import Role

HMAC_ALGORITHMS = ["HS256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
DEFAULT_TTL = timedelta(hours=12)


def default_ttl(settings: Settings) -> timedelta:
    """Twelve hours, or the maximum lifetime when that is shorter."""
    return min(DEFAULT_TTL, timedelta(seconds=settings.token_max_lifetime_seconds))


def issue_hs256_token(
    settings: Settings,
    *,
    sub: str,
    roles: Iterable[Role | str],
    organisation_id: uuid.UUID | str | None = None,
    service_ids: Iterable[uuid.UUID | str] | None = None,
    ttl: timedelta | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A token the running configuration accepts; `ttl` beyond the maximum lifetime is refused."""
    ttl = default_ttl(settings) if ttl is None else ttl
    if ttl > timedelta(seconds=settings.token_max_lifetime_seconds):
        raise ValueError(
            f"a token may live at most {settings.token_max_lifetime_seconds} s "
            "(INGRAIN_TOKEN_MAX_LIFETIME_SECONDS)"
        )
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "roles": [str(r) for r in roles],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if organisation_id is not None:
        claims["org"] = str(organisation_id)
    if service_ids is not None:
        claims["services"] = [str(s) for s in service_ids]
    if extra:
        claims.update(extra)
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Turn verified claims into a Principal; anything malformed is a 401, never a guess."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthenticated("token claim `sub` is missing or empty")
    raw_roles = claims.get("roles")
    if not isinstance(raw_roles, list) or not raw_roles:
        raise Unauthenticated("token claim `roles` must be a non-empty list of role names")
    roles: set[Role] = set()
    for name in raw_roles:
        try:
            roles.add(Role(name))
        except ValueError:
            raise Unauthenticated(f"token claim `roles` names an unknown role {name!r}") from None
    org_claim = claims.get("org")
    organisation_id: uuid.UUID | None = None
    if org_claim is not None:
        try:
            organisation_id = uuid.UUID(str(org_claim))
        except ValueError:
            raise Unauthenticated("token claim `org` is not an organisation id") from None
    elif Role.platform_admin not in roles:
        raise Unauthenticated("token claim `org` is required for every role but platform_admin")
    services_claim = claims.get("services")
    service_ids: frozenset[uuid.UUID] | None = None
    if services_claim is not None:
        if not isinstance(services_claim, list):
            raise Unauthenticated("token claim `services` must be a list of service ids")
        try:
            service_ids = frozenset(uuid.UUID(str(s)) for s in services_claim)
        except ValueError:
            raise Unauthenticated("token claim `services` holds a value that is not a service id") from None
    for optional in ("client_id", "source_system"):
        value = claims.get(optional)
        if value is not None and (not isinstance(value, str) or not value):
            raise Unauthenticated(f"token claim `{optional}` must be a non-empty string")
    return Principal(
        sub=sub,
        organisation_id=organisation_id,
        roles=frozenset(roles),
        service_ids=service_ids,
        client_id=claims.get("client_id"),
        source_system=claims.get("source_system"),
        issuer=str(claims.get("iss", "")),
        token_id=claims.get("jti"),
        issued_at=claims["iat"] if isinstance(claims.get("iat"), int) else None,
    )


def decode_claims(
    settings: Settings,
    token: str,
    *,
    key: Any,
    algorithms: list[str],
    issuer: str,
    strict_aud: bool = True,
) -> dict[str, Any]:
    """Verify signature and registered claims with one signer's key and its own algorithm list.

    `exp`, `iat`, `iss`, `aud` and `sub` must be present, `nbf` is honoured when present, the issuer
    must match exactly, keys below the minimum length (HMAC 32 bytes, RSA 2048 bits) are refused, and
    the token may not live longer than INGRAIN_TOKEN_MAX_LIFETIME_SECONDS.
    """
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.jwt_audience,
            issuer=issuer,
            leeway=settings.jwt_leeway_seconds,
            options={
                "require": REQUIRED_CLAIMS,
                "strict_aud": strict_aud,
                "enforce_minimum_key_length": True,
            },
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"token rejected: {exc}") from None
    except OverflowError:
        # `exp` of 1e999 (Infinity) cannot become an int; PyJWT 2.15 reports that itself, and this
        # keeps a release that does not from turning it into a 500.
        raise Unauthenticated("token rejected: a time claim is out of range") from None
    _check_lifetime(settings, claims)
    return claims


def _check_lifetime(settings: Settings, claims: dict[str, Any]) -> None:
    """`iat` is not in the future (PyJWT checked it), so this also bounds `exp` from now."""
    issued_at, expires_at = claims["iat"], claims["exp"]
    for name, value in (("iat", issued_at), ("exp", expires_at)):
        # Not math.isfinite on an int: 10**400 does not fit a float, and ints are finite anyway.
        finite = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
        if isinstance(value, bool) or not finite:
            raise Unauthenticated(f"token claim `{name}` must be a number of seconds since the epoch")
    # In whole seconds, rounded against the token: Python's ints do not overflow (an `exp` in the
    # year 33658 is merely a large difference), while `10**400 - 0.5` would as a float.
    lifetime = math.ceil(expires_at) - math.floor(issued_at)
    if lifetime > settings.token_max_lifetime_seconds:
        raise Unauthenticated(
            "token lives longer from `iat` to `exp` than the "
            f"{settings.token_max_lifetime_seconds} s accepted (INGRAIN_TOKEN_MAX_LIFETIME_SECONDS)"
        )


def verify_hs256_token(settings: Settings, token: str) -> Principal:
    claims = decode_claims(
        settings, token, key=settings.jwt_secret, algorithms=HMAC_ALGORITHMS, issuer=settings.jwt_issuer
    )
    return principal_from_claims(claims)
