"""Passwords posted by guests: set once, read any number of times."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from pocketstack.core import exceptions as exc
from pocketstack.core.db import Database
from pocketstack.metadata.models import Password


class PasswordStore:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, instance_id: str) -> str | None:
        async with self.db.read() as s:
            row = await s.get(Password, instance_id)
            return row.password if row else None

    async def set_once(self, instance_id: str, password: str) -> None:
        """Conflict when the instance already has one (a guest sets it at first boot)."""
        try:
            async with self.db.write() as s:
                if await s.get(Password, instance_id) is not None:
                    raise exc.Conflict("The password was already set.")
                s.add(Password(instance_id=instance_id, password=password))
        except IntegrityError:
            raise exc.Conflict("The password was already set.") from None
