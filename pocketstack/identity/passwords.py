"""Password and secret hashing with bcrypt, always off the event loop.

bcrypt reads at most 72 bytes; longer secrets are cut there (as Keystone's
passlib-based hashing did) rather than refused.
"""

from __future__ import annotations

import asyncio

import bcrypt

MAX_BYTES = 72


def _bytes(secret: str) -> bytes:
    return secret.encode("utf-8")[:MAX_BYTES]


def hash_sync(secret: str, rounds: int) -> str:
    return bcrypt.hashpw(_bytes(secret), bcrypt.gensalt(rounds)).decode("ascii")


def check_sync(secret: str, hashed: str | None) -> bool:
    if not hashed:
        return False
    try:
        return bcrypt.checkpw(_bytes(secret), hashed.encode("ascii"))
    except ValueError:
        return False


async def hash_secret(secret: str, rounds: int) -> str:
    return await asyncio.to_thread(hash_sync, secret, rounds)


async def check_secret(secret: str, hashed: str | None) -> bool:
    return await asyncio.to_thread(check_sync, secret, hashed)
