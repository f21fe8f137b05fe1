"""Client ids, client secrets and their slow hashes.

Secrets are 256 random bits, shown once, stored only as an argon2id hash (argon2-cffi's RFC 9106
low-memory profile). Hashing runs in a worker thread so it never stalls the event loop, and at most
two hashes run at once so a burst of token requests cannot take 64 MiB each without bound.
"""

import asyncio
import secrets
import threading
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

CLIENT_ID_PREFIX = "ic_"
SECRET_PREFIX = "ics_"

_hasher = PasswordHasher()
_hashing_slots = threading.BoundedSemaphore(2)


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(12)


def new_client_secret() -> str:
    # The prefix lets secret scanners recognise a leaked secret.
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _hash(secret: str) -> str:
    with _hashing_slots:
        return _hasher.hash(secret)


def _verify(secret_hash: str, secret: str) -> bool:
    with _hashing_slots:
        try:
            return _hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return _hash(new_client_secret())


async def hash_secret(secret: str) -> str:
    return await asyncio.to_thread(_hash, secret)


async def verify_secret(secret_hash: str | None, secret: str) -> bool:
    """Check a secret; with no hash (unknown client) spend the same time and answer False."""
    if secret_hash is None:
        await asyncio.to_thread(lambda: _verify(_decoy_hash(), secret))
        return False
    return await asyncio.to_thread(_verify, secret_hash, secret)
