"""Queries over the volume tables; every function takes an open session.

State changes that race (available -> deleting, available -> reserved...) are
compare-and-swap updates (`transition`): they succeed only from the expected
states, so two requests cannot both win.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.volume.models import (
    Attachment,
    Message,
    Quota,
    Snapshot,
    Volume,
    VolumeType,
    VolumeTypeAccess,
)

DEFAULT_TYPE = "__DEFAULT__"


async def get_volume(s: AsyncSession, volume_id: str, project_id: str | None = None) -> Volume:
    """The volume, if `project_id` (None: any project) owns it; else NotFound."""
    q = select(Volume).where(Volume.id == volume_id)
    if project_id is not None:
        q = q.where(Volume.project_id == project_id)
    found = (await s.execute(q)).scalar()
    if found is None:
        raise exc.NotFound(f"Volume {volume_id} could not be found.")
    return found


async def find_volume(s: AsyncSession, volume_id: str) -> Volume | None:
    return await s.get(Volume, volume_id)


async def get_snapshot(s: AsyncSession, snapshot_id: str,
                       project_id: str | None = None) -> Snapshot:
    q = select(Snapshot).where(Snapshot.id == snapshot_id)
    if project_id is not None:
        q = q.where(Snapshot.project_id == project_id)
    found = (await s.execute(q)).scalar()
    if found is None:
        raise exc.NotFound(f"Snapshot {snapshot_id} could not be found.")
    return found


async def get_attachment(s: AsyncSession, attachment_id: str,
                         project_id: str | None = None) -> Attachment:
    q = select(Attachment).where(Attachment.id == attachment_id)
    if project_id is not None:
        q = q.where(Attachment.project_id == project_id)
    found = (await s.execute(q)).scalar()
    if found is None:
        raise exc.NotFound(f"Volume attachment could not be found with filter: "
                           f"attachment_id = {attachment_id}.")
    return found


async def transition(s: AsyncSession, model: Any, obj_id: str, from_states: Iterable[str],
                     **values: Any) -> bool:
    """Set `values` on the row if its status is one of `from_states`; whether it was."""
    result = await s.execute(
        update(model).where(model.id == obj_id, model.status.in_(list(from_states)))
        .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def set_values(s: AsyncSession, model: Any, obj_id: str, **values: Any) -> None:
    await s.execute(update(model).where(model.id == obj_id).values(**values)
                    .execution_options(synchronize_session=False))


async def attachments_of(s: AsyncSession, volume_ids: Iterable[str]) -> dict[str, list]:
    ids = list(volume_ids)
    by_volume: dict[str, list[Attachment]] = {i: [] for i in ids}
    if ids:
        rows = await s.execute(select(Attachment).where(Attachment.volume_id.in_(ids))
                               .order_by(Attachment.created_at))
        for a in rows.scalars():
            by_volume[a.volume_id].append(a)
    return by_volume


async def snapshot_count(s: AsyncSession, volume_id: str) -> int:
    return await s.scalar(select(func.count()).where(Snapshot.volume_id == volume_id)) or 0


# -- volume types -------------------------------------------------------------

async def type_by_id_or_name(s: AsyncSession, ref: str,
                             project_id: str | None = None) -> VolumeType:
    """A volume type by id or name, visible to `project_id` (None: every type)."""
    q = select(VolumeType).where(or_(VolumeType.id == ref, VolumeType.name == ref))
    found = (await s.execute(q)).scalars().first()
    if found is not None and not found.is_public and project_id is not None:
        allowed = await s.get(VolumeTypeAccess, (found.id, project_id))
        found = found if allowed else None
    if found is None:
        raise exc.NotFound(f"Volume type with name {ref} could not be found.")
    return found


async def types_by_ids(s: AsyncSession, ids: Iterable[str]) -> dict[str, VolumeType]:
    ids = set(ids)
    if not ids:
        return {}
    rows = await s.execute(select(VolumeType).where(VolumeType.id.in_(ids)))
    return {t.id: t for t in rows.scalars()}


async def ensure_default_type(s: AsyncSession) -> VolumeType:
    found = (await s.execute(select(VolumeType).where(VolumeType.name == DEFAULT_TYPE))).scalar()
    if found is None:
        found = VolumeType(name=DEFAULT_TYPE, description="Default Volume Type",
                           is_public=True, extra_specs={})
        s.add(found)
        await s.flush()
    return found


# -- quotas and usage ---------------------------------------------------------

async def lock_project(s: AsyncSession, project_id: str) -> None:
    """Serialise quota checks of one project (SQLite's write lock already does)."""
    if s.bind.dialect.name == "postgresql":
        await s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:p))"), {"p": project_id})


async def limits(s: AsyncSession, project_id: str) -> dict[str, int]:
    rows = await s.execute(select(Quota).where(Quota.project_id == project_id))
    return {q.resource: q.hard_limit for q in rows.scalars()}


async def set_limit(s: AsyncSession, project_id: str, resource: str, value: int) -> None:
    row = await s.get(Quota, (project_id, resource))
    if row is None:
        s.add(Quota(project_id=project_id, resource=resource, hard_limit=value))
    else:
        row.hard_limit = value


async def clear_limits(s: AsyncSession, project_id: str) -> None:
    await s.execute(delete(Quota).where(Quota.project_id == project_id))


async def usage(s: AsyncSession, project_id: str) -> dict[str, int]:
    """In use per resource: volumes, gigabytes, snapshots, and per type name."""
    names = {t.id: t.name for t in (await s.execute(select(VolumeType))).scalars()}
    used: dict[str, int] = {"volumes": 0, "gigabytes": 0, "snapshots": 0}

    def add(key: str, type_id: str, n: int) -> None:
        used[key] += n
        typed = f"{key}_{names.get(type_id, type_id)}"
        used[typed] = used.get(typed, 0) + n

    vols = await s.execute(
        select(Volume.volume_type_id, func.count(), func.coalesce(func.sum(Volume.size), 0))
        .where(Volume.project_id == project_id).group_by(Volume.volume_type_id))
    for type_id, count, size in vols:
        add("volumes", type_id, count)
        add("gigabytes", type_id, int(size))
    snaps = await s.execute(
        select(Snapshot.volume_type_id, func.count(), func.coalesce(func.sum(Snapshot.size), 0))
        .where(Snapshot.project_id == project_id).group_by(Snapshot.volume_type_id))
    for type_id, count, size in snaps:
        add("snapshots", type_id, count)
        add("gigabytes", type_id, int(size))
    return used


async def allocated_gb(s: AsyncSession, host: str) -> int:
    """Provisioned GiB on a backend host (volumes and snapshots)."""
    vols = await s.scalar(select(func.coalesce(func.sum(Volume.size), 0))
                          .where(Volume.host == host)) or 0
    snaps = await s.scalar(select(func.coalesce(func.sum(Snapshot.size), 0))
                           .where(Snapshot.host == host)) or 0
    return int(vols) + int(snaps)


# -- user messages ------------------------------------------------------------

async def add_message(s: AsyncSession, project_id: str, resource_type: str,
                      resource_uuid: str | None, event_id: str, user_message: str,
                      request_id: str | None = None) -> None:
    s.add(Message(project_id=project_id, resource_type=resource_type,
                  resource_uuid=resource_uuid, event_id=event_id,
                  user_message=user_message[:2000], request_id=request_id))
