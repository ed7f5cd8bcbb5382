"""The `services` table: which service binaries run on which hosts, and
whether each is up (a heartbeat within `rpc.service_down_time`).

An owning service (compute for `openstack compute service list`, volume for
`openstack volume service list`...) includes the table in its own models and
migrations (`pocketstack dev migration SERVICE "services"` picks it up):

    class Service(ServiceRecordMixin, Base):      # pocketstack/compute/models.py
        pass

    records = ServiceRecords(db, Service, down_time=cfg.rpc.service_down_time)
    for svc in await records.list(binary="pocketstack-compute"):
        print(svc.host, "up" if records.is_up(svc) else "down")

The service runner (core/runner.py) registers and heartbeats through it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    String,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from pocketstack.core.db import Database
from pocketstack.core.exceptions import NotFound

CHUNK = 5000  # hosts per IN list, under the databases' parameter limits


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; they were stored as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class ServiceRecordMixin:
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True,
                                      default=lambda: str(uuid.uuid4()))
    host: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str | None] = mapped_column(String(255), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    forced_down: Mapped[bool] = mapped_column(Boolean, default=False)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_up: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                        nullable=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805
        return (UniqueConstraint("host", "binary", name="uniq_services0host0binary"),)


class ServiceRecords:
    """Queries and updates of one service's `services` table."""

    def __init__(self, db: Database, model: type[ServiceRecordMixin], *,
                 down_time: float = 60.0, clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.model = model
        self.down_time = timedelta(seconds=down_time)
        self.clock = clock

    def is_up(self, record: ServiceRecordMixin) -> bool:
        """Up: not forced down, and seen within the down time."""
        seen = _aware(record.last_seen_up or record.updated_at or record.created_at)
        return not record.forced_down and seen is not None and (
            self.clock() - seen <= self.down_time
        )

    async def register(self, host: str, binary: str, topic: str | None) -> ServiceRecordMixin:
        """Create the record, or mark an existing one seen (keeping disabled and forced_down)."""
        now = self.clock()
        async with self.db.write() as s:
            record = await self._find(s, host, binary)
            if record is None:
                record = self.model(host=host, binary=binary, topic=topic, created_at=now)
                s.add(record)
            record.topic = topic
            record.last_seen_up = record.updated_at = now
            await s.flush()
            return record

    async def heartbeat(self, host: str, binary: str) -> bool:
        """Count a report and mark the service seen now; False if its record is gone."""
        now = self.clock()
        async with self.db.write() as s:
            record = await self._find(s, host, binary)
            if record is None:
                return False
            record.report_count = (record.report_count or 0) + 1
            record.last_seen_up = record.updated_at = now
            return True

    async def heartbeat_many(self, hosts: Sequence[str], binary: str,
                             topic: str | None) -> None:
        """`heartbeat` for many hosts in one transaction, registering those without a
        record (one process running many fake hosts reports them all at once)."""
        now, m = self.clock(), self.model
        hosts = list(dict.fromkeys(hosts))
        new: list[str] = []
        async with self.db.write() as s:
            for i in range(0, len(hosts), CHUNK):
                chunk = hosts[i:i + CHUNK]
                seen = await s.execute(update(m).where(m.binary == binary, m.host.in_(chunk))
                                       .values(report_count=m.report_count + 1,
                                               last_seen_up=now, updated_at=now))
                if seen.rowcount != len(chunk):  # some have no record yet
                    known = set(await s.scalars(select(m.host).where(
                        m.binary == binary, m.host.in_(chunk))))
                    new += [h for h in chunk if h not in known]
            if new:
                await s.execute(insert(m), [
                    {"uuid": str(uuid.uuid4()), "host": h, "binary": binary, "topic": topic,
                     "disabled": False, "forced_down": False, "report_count": 1,
                     "created_at": now, "last_seen_up": now, "updated_at": now}
                    for h in new])

    async def list(self, *, host: str | None = None,
                   binary: str | None = None) -> list[ServiceRecordMixin]:
        query = select(self.model).order_by(self.model.id)
        if host is not None:
            query = query.where(self.model.host == host)
        if binary is not None:
            query = query.where(self.model.binary == binary)
        async with self.db.read() as s:
            return list((await s.scalars(query)).all())

    async def up_hosts(self, binary: str) -> set[str]:
        """The hosts whose `binary` is up and enabled (what a scheduler may pick)."""
        return {r.host for r in await self.list(binary=binary)
                if self.is_up(r) and not r.disabled}

    async def get(self, record_id: int | str) -> ServiceRecordMixin:
        column = self.model.uuid if isinstance(record_id, str) else self.model.id
        async with self.db.read() as s:
            record = await s.scalar(select(self.model).where(column == record_id))
        if record is None:
            raise NotFound(f"Service {record_id} could not be found.")
        return record

    async def update(self, record_id: int | str, **changes: Any) -> ServiceRecordMixin:
        """Set `disabled`, `disabled_reason` and/or `forced_down`."""
        allowed = {"disabled", "disabled_reason", "forced_down"}
        if not set(changes) <= allowed:
            raise ValueError(f"only {sorted(allowed)} can change, not {sorted(changes)}")
        column = self.model.uuid if isinstance(record_id, str) else self.model.id
        async with self.db.write() as s:
            record = await s.scalar(select(self.model).where(column == record_id))
            if record is None:
                raise NotFound(f"Service {record_id} could not be found.")
            for name, value in changes.items():
                setattr(record, name, value)
            record.updated_at = self.clock()
            return record

    async def delete(self, record_id: int | str) -> None:
        column = self.model.uuid if isinstance(record_id, str) else self.model.id
        async with self.db.write() as s:
            record = await s.scalar(select(self.model).where(column == record_id))
            if record is None:
                raise NotFound(f"Service {record_id} could not be found.")
            await s.delete(record)

    async def _find(self, s: Any, host: str, binary: str) -> ServiceRecordMixin | None:
        return await s.scalar(
            select(self.model).where(self.model.host == host, self.model.binary == binary)
        )
