"""Key pairs: imported or generated SSH public keys, owned by a user."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from pocketstack.compute.models import KeyPair
from pocketstack.core import exceptions as exc
from pocketstack.core.db import Database

VALID_NAME = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_ .@")


def fingerprint(public_key: str) -> str:
    """The MD5 fingerprint Nova shows (aa:bb:...), or 400 for a key that is not one."""
    try:
        parts = public_key.strip().split()
        blob = base64.b64decode(parts[1], validate=True)
        serialization.load_ssh_public_key(public_key.strip().encode())
    except (IndexError, ValueError, TypeError, UnicodeEncodeError):
        raise exc.BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate() -> tuple[str, str]:
    """(private key PEM, public key in OpenSSH format): RSA 2048, as Nova generates."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, public + " Generated-by-Nova"


class KeyPairs:
    def __init__(self, db: Database):
        self.db = db

    async def create(self, user_id: str, name: str, public_key: str | None,
                     key_type: str, limit: int) -> tuple[KeyPair, str | None]:
        name = name.strip()
        if not name or len(name) > 255 or not set(name) <= VALID_NAME:
            raise exc.BadRequest("Keypair data is invalid: Keypair name contains unsafe "
                                 "characters")
        private = None
        if public_key is None:
            private, public_key = generate()
        fp = fingerprint(public_key)
        async with self.db.write() as s:
            if await self._find(s, user_id, name) is not None:
                raise exc.Conflict(f"Key pair '{name}' already exists.")
            count = await s.scalar(select(func.count()).where(KeyPair.user_id == user_id))
            if limit >= 0 and count >= limit:
                raise exc.OverQuota("Quota exceeded, too many key pairs.", status=403)
            kp = KeyPair(user_id=user_id, name=name, fingerprint=fp,
                         public_key=public_key.strip(), type=key_type)
            s.add(kp)
        return kp, private

    async def _find(self, s, user_id: str, name: str) -> KeyPair | None:  # noqa: ANN001
        return await s.scalar(select(KeyPair).where(KeyPair.user_id == user_id,
                                                    KeyPair.name == name))

    async def get(self, user_id: str, name: str) -> KeyPair:
        async with self.db.read() as s:
            kp = await self._find(s, user_id, name)
        if kp is None:
            raise exc.NotFound(f"Keypair {name} not found for user {user_id}")
        return kp

    async def list(self, user_id: str, limit: int | None, marker: str | None) -> list[KeyPair]:
        q = select(KeyPair).where(KeyPair.user_id == user_id).order_by(KeyPair.name)
        async with self.db.read() as s:
            if marker is not None:
                if await self._find(s, user_id, marker) is None:
                    raise exc.NotFound(f"Marker {marker} could not be found.")
                q = q.where(KeyPair.name > marker)
            if limit is not None:
                q = q.limit(limit)
            return list(await s.scalars(q))

    async def delete(self, user_id: str, name: str) -> None:
        async with self.db.write() as s:
            kp = await self._find(s, user_id, name)
            if kp is None:
                raise exc.NotFound(f"Keypair {name} not found for user {user_id}")
            await s.delete(kp)
