"""From verified claims to the caller that counts, checked against the database.

- A token Ingrain signed for an integration client is honoured only while that client exists in
  the token's organisation, is not revoked, and its secret has not been rotated since the token
  was issued: revoking or rotating takes effect at once, not when the token expires.
- A token whose (`org`, `iss`, `sub`) has a user account gets the account's roles and services
  instead of its claims; a disabled account is refused. Other tokens keep what their claims state.
  The issuer is part of the key: a `sub` is unique only within its issuer.
"""

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.auth import repository as clients
from service.auth.principal import Principal
from service.auth.verifier import Signer
from service.errors import Unauthenticated
from service.users import repository as users
from service.vocabulary import Role


async def resolve_principal(session: AsyncSession, principal: Principal) -> Principal:
    if principal.signer == Signer.ingrain_key:
        if principal.client_id is None:
            raise Unauthenticated("token names no integration client")
        client = await clients.find_by_client_id(session, principal.client_id)
        if (
            client is None
            or client.organisation_id != principal.organisation_id
            or client.revoked_at is not None
        ):
            raise Unauthenticated("the integration client of this token is not registered or was revoked")
        rotated = int(client.secret_rotated_at.timestamp())
        if principal.issued_at is None or principal.issued_at < rotated:
            raise Unauthenticated("the integration client's secret was rotated after this token was issued")
        return principal
    if principal.organisation_id is None:
        return principal
    account = await users.find_account(
        session, organisation_id=principal.organisation_id, issuer=principal.issuer, sub=principal.sub
    )
    if account is None:
        return principal
    if account.disabled:
        raise Unauthenticated("this user account is disabled")
    return replace(
        principal,
        roles=frozenset(Role(r) for r in account.roles),
        service_ids=frozenset(account.service_ids) if account.service_ids is not None else None,
        account_id=account.id,
    )


async def resolve_with_factory(factory: async_sessionmaker[AsyncSession], principal: Principal) -> Principal:
    """The same check in a short session of its own (the request's unit of work is not touched)."""
    async with factory() as session:
        return await resolve_principal(session, principal)
