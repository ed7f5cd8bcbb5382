"""Queries on instances and what hangs off them, shared by the api, scheduler
and conductor (compute agents never touch the database). Each method is one
transaction."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from pocketstack.compute.models import (
    Aggregate,
    BlockDeviceMapping,
    ComputeNode,
    Instance,
    InstanceAction,
    InstanceActionEvent,
    InstanceFault,
    Service,
    Span,
)
from pocketstack.core import exceptions as exc
from pocketstack.core.db import Database
from pocketstack.core.service_records import ServiceRecords
from pocketstack.core.tracing import Span as TraceSpan


def now() -> datetime:
    return datetime.utcnow().replace(microsecond=0)


class Store:
    def __init__(self, db: Database, down_time: float = 60.0):
        self.db = db
        self.records = ServiceRecords(db, Service, down_time=down_time)

    # -- instances ----------------------------------------------------------------

    async def instance(self, instance_id: str, *, deleted_ok: bool = False) -> Instance:
        async with self.db.read() as s:
            inst = await s.get(Instance, instance_id)
        if inst is None or (inst.deleted and not deleted_ok):
            raise exc.NotFound(f"Instance {instance_id} could not be found.")
        return inst

    async def instance_and_bdms(self, instance_id: str,
                                ) -> tuple[Instance, list[BlockDeviceMapping]]:
        async with self.db.read() as s:
            inst = await s.get(Instance, instance_id)
            if inst is None or inst.deleted:
                raise exc.NotFound(f"Instance {instance_id} could not be found.")
            bdms = await s.scalars(select(BlockDeviceMapping).where(
                BlockDeviceMapping.instance_id == instance_id).order_by(
                BlockDeviceMapping.created_at, BlockDeviceMapping.boot_index))
            return inst, list(bdms)

    async def finish_build(self, instance_id: str, request_id: str, values: dict[str, Any],
                           event: str, host: str) -> bool:
        """A build's end in one transaction: the instance's new state and the event of
        its create action; False when the instance is no longer building."""
        async with self.db.write() as s:
            done = await s.execute(update(Instance).where(
                Instance.id == instance_id, Instance.deleted.is_(False),
                Instance.vm_state == "building").values(updated_at=now(), **values))
            if done.rowcount != 1:
                return False
            await self._event(s, instance_id, request_id, event, True, None, host, None)
        return True

    async def update(self, instance_id: str, values: dict[str, Any],
                     expect_vm_state: str | None = None) -> bool:
        """Set `values` on a live instance (in `expect_vm_state`, when given); False
        when it is deleted or in another state."""
        q = update(Instance).where(Instance.id == instance_id, Instance.deleted.is_(False))
        if expect_vm_state is not None:
            q = q.where(Instance.vm_state == expect_vm_state)
        async with self.db.write() as s:
            done = await s.execute(q.values(updated_at=now(), **values))
        return done.rowcount == 1

    async def set_error(self, instance_id: str, message: str, details: str = "",
                        code: int = 500, host: str | None = None,
                        values: dict[str, Any] | None = None) -> bool:
        async with self.db.write() as s:
            inst = await s.get(Instance, instance_id)
            if inst is None or inst.deleted:
                return False
            inst.vm_state, inst.task_state = "error", None
            for key, value in (values or {}).items():
                setattr(inst, key, value)
            s.add(InstanceFault(instance_id=instance_id, code=code, message=message[:255],
                                details=details, host=host))
        return True

    async def mark_deleted(self, instance_id: str) -> None:
        async with self.db.write() as s:
            inst = await s.get(Instance, instance_id)
            if inst is not None and not inst.deleted:
                inst.deleted, inst.deleted_at, inst.terminated_at = True, now(), now()
                inst.vm_state, inst.task_state, inst.power_state = "deleted", None, 0

    async def faults(self, instance_ids: list[str]) -> dict[str, InstanceFault]:
        """The newest fault of each instance that has one."""
        if not instance_ids:
            return {}
        async with self.db.read() as s:
            rows = await s.scalars(select(InstanceFault).where(
                InstanceFault.instance_id.in_(instance_ids)).order_by(InstanceFault.id))
            return {f.instance_id: f for f in rows}

    async def live_on_hosts(self) -> list[tuple[str, str, dict, dict]]:
        """(id, host, flavor, request spec) of every live instance that has a host."""
        async with self.db.read() as s:
            rows = await s.execute(select(Instance.id, Instance.host, Instance.flavor,
                                          Instance.request_spec).where(
                Instance.deleted.is_(False), Instance.host.is_not(None)))
            return [(i, h, f, rs) for i, h, f, rs in rows.all()]

    async def building_since(self, before: datetime) -> list[Instance]:
        async with self.db.read() as s:
            return list(await s.scalars(select(Instance).where(
                Instance.deleted.is_(False), Instance.vm_state == "building",
                Instance.created_at < before)))

    async def on_host(self, host: str) -> list[Instance]:
        async with self.db.read() as s:
            return list(await s.scalars(select(Instance).where(
                Instance.deleted.is_(False), Instance.host == host)))

    # -- block devices ---------------------------------------------------------------

    async def bdms(self, instance_id: str) -> list[BlockDeviceMapping]:
        async with self.db.read() as s:
            return list(await s.scalars(select(BlockDeviceMapping).where(
                BlockDeviceMapping.instance_id == instance_id).order_by(
                BlockDeviceMapping.created_at, BlockDeviceMapping.boot_index)))

    async def save_bdms(self, instance_id: str, bdms: list[dict[str, Any]]) -> None:
        """Insert or update block device mappings (by their id)."""
        async with self.db.write() as s:
            for b in bdms:
                row = await s.get(BlockDeviceMapping, b["id"])
                if row is None:
                    s.add(BlockDeviceMapping(instance_id=instance_id, **b))
                else:
                    for key, value in b.items():
                        setattr(row, key, value)

    async def delete_bdm(self, bdm_id: str) -> None:
        async with self.db.write() as s:
            row = await s.get(BlockDeviceMapping, bdm_id)
            if row is not None:
                await s.delete(row)

    # -- actions and events ------------------------------------------------------------

    async def start_action(self, instance_id: str, action: str, request_id: str,
                           project_id: str, user_id: str,
                           values: dict[str, Any] | None = None) -> None:
        """Record the action; with `values`, set them on the live instance in the
        same transaction."""
        async with self.db.write() as s:
            s.add(InstanceAction(instance_id=instance_id, action=action,
                                 request_id=request_id, project_id=project_id,
                                 user_id=user_id))
            if values:
                await s.execute(update(Instance).where(
                    Instance.id == instance_id, Instance.deleted.is_(False)).values(
                    updated_at=now(), **values))

    async def event(self, instance_id: str, request_id: str, event: str, ok: bool,
                    start: datetime, host: str | None = None,
                    traceback: str | None = None) -> None:
        """Record a finished event of the action started by `request_id`."""
        async with self.db.write() as s:
            await self._event(s, instance_id, request_id, event, ok, start, host, traceback)

    async def _event(self, s: Any, instance_id: str, request_id: str, event: str, ok: bool,
                     start: datetime | None, host: str | None, traceback: str | None) -> None:
        action = await s.scalar(select(InstanceAction).where(
            InstanceAction.instance_id == instance_id,
            InstanceAction.request_id == request_id))
        if action is None:
            return
        if not ok:
            action.message = "Error"
        action.updated_at = now()
        s.add(InstanceActionEvent(action_id=action.id, event=event, host=host,
                                  result="Success" if ok else "Error", traceback=traceback,
                                  start_time=start or action.start_time, finish_time=now()))

    # -- services, nodes and aggregates -------------------------------------------------

    async def save_node(self, report: Any) -> None:
        values = _node_values(report)
        async with self.db.write() as s:
            row = await s.get(ComputeNode, report.provider_id)
            if row is None:
                s.add(ComputeNode(id=report.provider_id, **values))
            elif any(getattr(row, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)

    async def save_nodes(self, reports: list[Any]) -> None:
        """`save_node` for many hosts in one transaction (a process of fake hosts)."""
        async with self.db.write() as s:
            ids = [r.provider_id for r in reports]
            rows: dict[str, ComputeNode] = {}
            for i in range(0, len(ids), 5000):  # under the databases' parameter limits
                rows.update((r.id, r) for r in await s.scalars(
                    select(ComputeNode).where(ComputeNode.id.in_(ids[i:i + 5000]))))
            new = []
            for report in reports:
                values = _node_values(report)
                row = rows.get(report.provider_id)
                if row is None:
                    new.append({"id": report.provider_id, "updated_at": now(), **values})
                elif any(getattr(row, k) != v for k, v in values.items()):
                    for key, value in values.items():
                        setattr(row, key, value)
            if new:
                await s.execute(insert(ComputeNode), new)

    async def nodes(self) -> list[ComputeNode]:
        async with self.db.read() as s:
            return list(await s.scalars(select(ComputeNode).order_by(ComputeNode.host)))

    async def aggregates(self) -> list[Aggregate]:
        async with self.db.read() as s:
            return list(await s.scalars(select(Aggregate).order_by(Aggregate.id)))

    # -- spans ----------------------------------------------------------------------------

    async def save_spans(self, spans: list[TraceSpan]) -> None:
        """One multi-row INSERT (no ORM objects: a batch is hundreds of rows)."""
        async with self.db.write() as s:
            await s.execute(insert(Span.__table__), [asdict(sp) for sp in spans])

    async def spans(self, trace_id: str) -> list[Span]:
        async with self.db.read() as s:
            return list(await s.scalars(select(Span).where(Span.trace_id == trace_id)
                                        .order_by(Span.start)))


def _node_values(report: Any) -> dict[str, Any]:
    """A compute_nodes row's columns from a HostReport."""
    return dict(host=report.host, hypervisor_hostname=report.node,
                hypervisor_type=report.hypervisor_type,
                hypervisor_version=report.hypervisor_version, host_ip=report.host_ip,
                vcpus=report.vcpus, memory_mb=report.memory_mb, local_gb=report.disk_gb,
                cpu_arch=report.cpu_arch)
