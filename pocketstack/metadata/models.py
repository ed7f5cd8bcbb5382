"""The metadata service's one table: the password a guest posted (Nova keeps
it in the instance's system_metadata; here the service that takes it keeps it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Password(Base):
    __tablename__ = "passwords"

    instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    password: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
