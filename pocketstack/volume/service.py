"""The volume API's domain logic: check a request against the state it finds,
record the intent (a row in `creating`, or a compare-and-swap to
`deleting`/`extending`/`reserved`...), charge the quota, and hand the work
to the scheduler or the volume's manager. It never waits for the backend:
the client polls.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from pocketstack.config import VolumeConfig
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.image.client import ImageClient
from pocketstack.volume import quota, schemas, store
from pocketstack.volume.messages import (
    ManagerClient,
    SchedulerClient,
    ScheduleRequest,
    VolumeTypeInfo,
)
from pocketstack.volume.models import Attachment, Snapshot, Volume, VolumeType, now

GiB = 1 << 30
DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")


def invalid_volume(message: str) -> exc.BadRequest:
    return exc.BadRequest(f"Invalid volume: {message}")


class VolumeService:
    def __init__(self, db: Database, cfg: VolumeConfig, scheduler: SchedulerClient,
                 managers: ManagerClient, images: ImageClient | None):
        self.db = db
        self.cfg = cfg
        self.scheduler = scheduler
        self.managers = managers
        self.images = images

    @staticmethod
    def scope(ctx: RequestContext) -> str | None:
        """The project whose resources `ctx` may see by id (None: admin, any)."""
        return None if ctx.is_admin else ctx.project_id

    # -- volumes ------------------------------------------------------------

    async def create_volume(self, ctx: RequestContext, body: schemas.VolumeCreate) -> Volume:
        if body.multiattach:
            raise exc.BadRequest("Invalid input received: multiattach volumes are not "
                                 "supported by this cloud.")
        image_ref = body.imageRef or body.image_id
        async with self.db.read() as s:
            source, snapshot = await self._sources(s, ctx, body)
            vtype = await self._type_for(s, ctx, body.volume_type, source)
        size = await self._size(ctx, body, source, snapshot, image_ref)
        vol = Volume(
            project_id=ctx.project_id, user_id=ctx.user_id,
            name=body.name if body.name is not None else body.display_name,
            description=body.description if body.description is not None
            else body.display_description,
            size=size, status="creating", attach_status="detached",
            availability_zone=body.availability_zone
            or (source.availability_zone if source else self.cfg.availability_zone),
            volume_type_id=vtype.id, meta=dict(body.metadata),
            snapshot_id=snapshot.id if snapshot else None,
            source_volid=body.source_volid if snapshot is None and source else None,
            image_id=image_ref,
        )
        async with self.db.write() as s:
            quota.check_size(self.cfg, await store.limits(s, ctx.project_id), size)
            await quota.check(s, self.cfg, ctx.project_id, vtype.name,
                              {"volumes": 1, "gigabytes": size})
            s.add(vol)
        request = ScheduleRequest(
            volume_id=vol.id, size=size,
            volume_type=VolumeTypeInfo(id=vtype.id, name=vtype.name,
                                       extra_specs=dict(vtype.extra_specs or {})),
            availability_zone=vol.availability_zone,
            snapshot_id=vol.snapshot_id, source_volid=vol.source_volid, image_id=image_ref,
            host=source.host if source else None)
        await self.scheduler.create_volume(ctx, request)
        return vol

    async def _sources(self, s, ctx: RequestContext,  # noqa: ANN001
                       body: schemas.VolumeCreate) -> tuple[Volume | None, Snapshot | None]:
        if body.snapshot_id:
            snapshot = await store.get_snapshot(s, body.snapshot_id, self.scope(ctx))
            if snapshot.status != "available":
                raise exc.BadRequest("Invalid snapshot: Originating snapshot status must be "
                                     "one of 'available' values")
            return await store.get_volume(s, snapshot.volume_id), snapshot
        if body.source_volid:
            source = await store.get_volume(s, body.source_volid, self.scope(ctx))
            if source.status not in ("available", "in-use"):
                raise invalid_volume(f"Volume {source.id} status must be available or "
                                     f"in-use, but current status is: {source.status}.")
            return source, None
        return None, None

    async def _type_for(self, s, ctx: RequestContext, ref: str | None,  # noqa: ANN001
                        source: Volume | None) -> VolumeType:
        if ref:
            return await store.type_by_id_or_name(s, ref, self.scope(ctx))
        if source is not None:
            return await s.get(VolumeType, source.volume_type_id)
        return await store.type_by_id_or_name(s, self.cfg.default_volume_type)

    async def _size(self, ctx: RequestContext, body: schemas.VolumeCreate,
                    source: Volume | None, snapshot: Snapshot | None,
                    image_ref: str | None) -> int:
        origin = snapshot or source
        size = body.size if body.size is not None else (origin.size if origin else None)
        if size is None:
            raise exc.BadRequest("Invalid input received: Volume size must be specified.")
        if origin is not None and size < origin.size:
            what = "snapshot" if snapshot else "source volume"
            raise exc.BadRequest(f"Invalid input received: Volume size '{size}'GB cannot be "
                                 f"smaller than the {what} size {origin.size}GB. They must "
                                 f"be >= original {what} size.")
        if image_ref:
            await self._check_image(ctx, image_ref, size)
        return size

    async def _check_image(self, ctx: RequestContext, image_ref: str, size: int) -> None:
        if self.images is None:
            raise exc.BadRequest("Invalid input received: no image service to create "
                                 "volumes from images.")
        try:
            image = await self.images.get(ctx, image_ref)
        except exc.NotFound:
            raise exc.BadRequest("Invalid image identifier or unable to access requested "
                                 "image.") from None
        if image.get("status") != "active":
            raise exc.BadRequest(f"Invalid input received: Image {image_ref} is not active.")
        need = max(-(-int(image.get("size") or 0) // GiB),
                   -(-int(image.get("virtual_size") or 0) // GiB))
        if need > size:
            raise exc.BadRequest(f"Invalid input received: Size of specified image {need}GB "
                                 f"is larger than volume size {size}GB.")
        if int(image.get("min_disk") or 0) > size:
            raise exc.BadRequest(f"Invalid input received: Volume size {size}GB cannot be "
                                 f"smaller than the image minDisk size {image['min_disk']}GB.")

    async def get_volume(self, ctx: RequestContext, volume_id: str) -> Volume:
        async with self.db.read() as s:
            return await store.get_volume(s, volume_id, self.scope(ctx))

    async def list_volumes(self, ctx: RequestContext, *, filters: dict[str, Any],
                           all_projects: bool, limit: int | None, marker: str | None,
                           sort: list[tuple[str, str]]) -> list[Volume]:
        from pocketstack.core.paging import page

        q = select(Volume)
        project = filters.pop("project_id", None)
        if not (all_projects and ctx.is_admin):
            q = q.where(Volume.project_id == ctx.project_id)
        elif project:
            q = q.where(Volume.project_id == project)
        metadata = filters.pop("metadata", None) or {}
        async with self.db.read() as s:
            if "volume_type" in filters:
                try:
                    vt = await store.type_by_id_or_name(s, filters.pop("volume_type"))
                    q = q.where(Volume.volume_type_id == vt.id)
                except exc.NotFound:
                    return []
            for key, value in filters.items():
                q = q.where(getattr(Volume, key) == value)
            for key, value in metadata.items():
                q = q.where(Volume.meta[key].as_string() == str(value))
            return await page(s, q, Volume, limit=limit, marker=marker, sort=sort)

    async def update_volume(self, ctx: RequestContext, volume_id: str,
                            body: schemas.VolumeUpdate) -> Volume:
        async with self.db.write() as s:
            vol = await store.get_volume(s, volume_id, self.scope(ctx))
            name = body.name if body.name is not None else body.display_name
            description = body.description if body.description is not None \
                else body.display_description
            if name is not None or "name" in body.model_fields_set:
                vol.name = name
            if description is not None or "description" in body.model_fields_set:
                vol.description = description
            if body.metadata is not None:
                vol.meta = dict(body.metadata)
            vol.updated_at = now()
        return vol

    async def set_metadata(self, ctx: RequestContext, volume_id: str, meta: dict[str, str],
                           *, replace: bool) -> dict[str, str]:
        async with self.db.write() as s:
            vol = await store.get_volume(s, volume_id, self.scope(ctx))
            vol.meta = dict(meta) if replace else {**(vol.meta or {}), **meta}
            vol.updated_at = now()
            return dict(vol.meta)

    async def delete_metadata_key(self, ctx: RequestContext, volume_id: str, key: str) -> None:
        async with self.db.write() as s:
            vol = await store.get_volume(s, volume_id, self.scope(ctx))
            if key not in (vol.meta or {}):
                raise exc.NotFound(f"Metadata item was not found with key {key}.")
            vol.meta = {k: v for k, v in vol.meta.items() if k != key}
            vol.updated_at = now()

    async def delete_volume(self, ctx: RequestContext, volume_id: str, *, cascade: bool = False,
                            force: bool = False) -> None:
        async with self.db.write() as s:
            vol = await store.get_volume(s, volume_id, self.scope(ctx))
            if not force:
                self._check_deletable(vol)
            snaps = list((await s.execute(select(Snapshot)
                                          .where(Snapshot.volume_id == vol.id))).scalars())
            if snaps and not cascade:
                raise invalid_volume("Volume status must be available or error or "
                                     "error_restoring or error_extending or error_managing and "
                                     "must not be migrating, attached, belong to a group, have "
                                     "snapshots, awaiting a transfer, or be disassociated from "
                                     "snapshots after volume transfer.")
            if vol.host is None:
                await s.delete(vol)
                return
            vol.previous_status, vol.status = vol.status, "deleting"
            for snap in snaps:
                snap.status = "deleting"
        for snap in snaps:
            await self.managers.delete_snapshot(ctx, vol.host, snap.id)
        await self.managers.delete_volume(ctx, vol.host, vol.id)

    @staticmethod
    def _check_deletable(vol: Volume) -> None:
        if vol.status not in DELETABLE or vol.attach_status == "attached":
            raise invalid_volume("Volume status must be available or error or error_restoring "
                                 "or error_extending or error_managing and must not be "
                                 "migrating, attached, belong to a group, have snapshots, "
                                 "awaiting a transfer, or be disassociated from snapshots "
                                 "after volume transfer.")

    async def extend(self, ctx: RequestContext, volume_id: str, new_size: int) -> None:
        async with self.db.write() as s:
            vol = await store.get_volume(s, volume_id, self.scope(ctx))
            if vol.status != "available":
                raise invalid_volume(f"Volume {vol.id} status must be available to extend, "
                                     f"but current status is: {vol.status}.")
            if new_size <= vol.size:
                raise exc.BadRequest(f"Invalid input received: New size for extend must be "
                                     f"greater than current size. (current: {vol.size}, "
                                     f"extended: {new_size}).")
            vtype = await s.get(VolumeType, vol.volume_type_id)
            quota.check_size(self.cfg, await store.limits(s, vol.project_id), new_size)
            await quota.check(s, self.cfg, vol.project_id, vtype.name if vtype else "",
                              {"gigabytes": new_size - vol.size})
            if not await store.transition(s, Volume, vol.id, ["available"], status="extending",
                                          previous_status="available"):
                raise invalid_volume(f"Volume {vol.id} is busy.")
        await self.managers.extend_volume(ctx, vol.host, vol.id, new_size)

    async def set_bootable(self, ctx: RequestContext, volume_id: str, bootable: bool) -> None:
        async with self.db.write() as s:
            vol = await store.get_volume(s, volume_id, self.scope(ctx))
            vol.bootable = bootable

    async def reset_status(self, ctx: RequestContext, volume_id: str,
                           body: schemas.ResetStatus) -> None:
        valid = {"available", "error", "creating", "deleting", "in-use", "attaching",
                 "detaching", "error_deleting", "maintenance", "reserved", "extending",
                 "error_extending", "downloading", "uploading"}
        if body.status is not None and body.status not in valid:
            raise exc.BadRequest(f"Invalid input received: Must specify a valid status, "
                                 f"{body.status!r} is not one.")
        async with self.db.write() as s:
            vol = await store.get_volume(s, volume_id)
            if body.status:
                vol.status = body.status
            if body.attach_status:
                vol.attach_status = body.attach_status

    async def upload_to_image(self, ctx: RequestContext, volume_id: str,
                              body: schemas.UploadImage) -> dict[str, Any]:
        if self.images is None:
            raise exc.BadRequest("no image service to upload to")
        async with self.db.read() as s:
            vol = await store.get_volume(s, volume_id, self.scope(ctx))
            vtype = await s.get(VolumeType, vol.volume_type_id)
        allowed = ("available", "in-use") if body.force else ("available",)
        if vol.status not in allowed:
            raise invalid_volume(f"Volume {vol.id} status must be available or in-use if "
                                 f"force is true, but current status is: {vol.status}.")
        image = await self.images.create(
            ctx, name=body.image_name, disk_format=body.disk_format,
            container_format=body.container_format, visibility=body.visibility,
            protected=body.protected, min_disk=vol.size)
        async with self.db.write() as s:
            if not await store.transition(s, Volume, vol.id, allowed, status="uploading",
                                          previous_status=vol.status):
                with contextlib.suppress(exc.PocketstackError):
                    await self.images.delete(ctx, image["id"])
                raise invalid_volume(f"Volume {vol.id} is busy.")
        await self.managers.upload_to_image(ctx, vol.host, vol.id, image["id"], body.disk_format)
        return {"id": vol.id, "updated_at": schemas.iso(now()), "status": "uploading",
                "display_description": vol.description, "size": vol.size,
                "volume_type": schemas.volume_type(vtype, admin=False) if vtype else None,
                "image_id": image["id"], "container_format": body.container_format,
                "disk_format": body.disk_format, "image_name": body.image_name,
                "visibility": body.visibility, "protected": body.protected}

    async def revert(self, ctx: RequestContext, volume_id: str, snapshot_id: str) -> None:
        async with self.db.write() as s:
            vol = await store.get_volume(s, volume_id, self.scope(ctx))
            snap = await store.get_snapshot(s, snapshot_id, self.scope(ctx))
            latest = (await s.execute(select(Snapshot).where(Snapshot.volume_id == vol.id)
                                      .order_by(Snapshot.created_at.desc()))).scalars().first()
            if snap.volume_id != vol.id or latest is None or latest.id != snap.id:
                raise exc.BadRequest("Invalid input received: the snapshot must be the latest "
                                     "snapshot of the volume.")
            if vol.status != "available" or snap.status != "available":
                raise invalid_volume("Volume and snapshot must be available to revert.")
            if snap.size != vol.size:
                raise exc.BadRequest("Invalid input received: the volume was extended since "
                                     "the snapshot; it cannot be reverted.")
            vol.status, snap.status = "reverting", "restoring"
        await self.managers.revert_to_snapshot(ctx, vol.host, vol.id, snap.id)

    # -- snapshots ----------------------------------------------------------

    async def create_snapshot(self, ctx: RequestContext,
                              body: schemas.SnapshotCreate) -> Snapshot:
        async with self.db.write() as s:
            vol = await store.get_volume(s, body.volume_id, self.scope(ctx))
            allowed = ("available", "in-use") if body.force else ("available",)
            if vol.status not in allowed:
                raise invalid_volume(f"Volume {vol.id} status must be available, but current "
                                     f"status is: {vol.status}.")
            vtype = await s.get(VolumeType, vol.volume_type_id)
            await quota.check(s, self.cfg, vol.project_id, vtype.name if vtype else "",
                              {"snapshots": 1, "gigabytes": vol.size})
            snap = Snapshot(project_id=vol.project_id, user_id=ctx.user_id, volume_id=vol.id,
                            volume_type_id=vol.volume_type_id, host=vol.host,
                            name=body.name if body.name is not None else body.display_name,
                            description=body.description if body.description is not None
                            else body.display_description,
                            size=vol.size, status="creating", meta=dict(body.metadata))
            s.add(snap)
        await self.managers.create_snapshot(ctx, vol.host, snap.id)
        return snap

    async def get_snapshot(self, ctx: RequestContext, snapshot_id: str) -> Snapshot:
        async with self.db.read() as s:
            return await store.get_snapshot(s, snapshot_id, self.scope(ctx))

    async def list_snapshots(self, ctx: RequestContext, *, filters: dict[str, Any],
                             all_projects: bool, limit: int | None, marker: str | None,
                             sort: list[tuple[str, str]]) -> list[Snapshot]:
        from pocketstack.core.paging import page

        q = select(Snapshot)
        project = filters.pop("project_id", None)
        if not (all_projects and ctx.is_admin):
            q = q.where(Snapshot.project_id == ctx.project_id)
        elif project:
            q = q.where(Snapshot.project_id == project)
        for key, value in filters.items():
            q = q.where(getattr(Snapshot, key) == value)
        async with self.db.read() as s:
            return await page(s, q, Snapshot, limit=limit, marker=marker, sort=sort)

    async def update_snapshot(self, ctx: RequestContext, snapshot_id: str,
                              body: schemas.SnapshotUpdate) -> Snapshot:
        async with self.db.write() as s:
            snap = await store.get_snapshot(s, snapshot_id, self.scope(ctx))
            name = body.name if body.name is not None else body.display_name
            description = body.description if body.description is not None \
                else body.display_description
            if name is not None:
                snap.name = name
            if description is not None:
                snap.description = description
            snap.updated_at = now()
        return snap

    async def delete_snapshot(self, ctx: RequestContext, snapshot_id: str, *,
                              force: bool = False) -> None:
        async with self.db.write() as s:
            snap = await store.get_snapshot(s, snapshot_id, self.scope(ctx))
            if not force and snap.status not in ("available", "error"):
                raise exc.BadRequest(f"Invalid snapshot: Volume Snapshot status must be "
                                     f"available or error, but current status is: "
                                     f"{snap.status}.")
            if snap.host is None:
                await s.delete(snap)
                return
            snap.status = "deleting"
        await self.managers.delete_snapshot(ctx, snap.host, snap.id)

    async def reset_snapshot_status(self, ctx: RequestContext, snapshot_id: str,
                                    status: str) -> None:
        if status not in ("available", "error", "creating", "deleting", "error_deleting"):
            raise exc.BadRequest(f"Invalid input received: {status!r} is not a valid status.")
        async with self.db.write() as s:
            snap = await store.get_snapshot(s, snapshot_id)
            snap.status = status

    # -- attachments --------------------------------------------------------

    async def create_attachment(self, ctx: RequestContext,
                                body: schemas.AttachmentCreate) -> Attachment:
        async with self.db.write() as s:
            vol = await store.get_volume(s, body.volume_uuid, self.scope(ctx))
            if not await store.transition(s, Volume, vol.id, ["available"], status="reserved"):
                raise invalid_volume(f"Volume {vol.id} status must be available or "
                                     f"downloading to reserve, but the current status is "
                                     f"{vol.status}.")
            att = Attachment(volume_id=vol.id, project_id=vol.project_id,
                             instance_uuid=body.instance_uuid, attach_status="reserved",
                             attach_mode=body.mode)
            s.add(att)
        if body.connector is not None:
            return await self.update_attachment(ctx, att.id, body.connector)
        return att

    async def get_attachment(self, ctx: RequestContext, attachment_id: str) -> Attachment:
        async with self.db.read() as s:
            return await store.get_attachment(s, attachment_id, self.scope(ctx))

    async def list_attachments(self, ctx: RequestContext, *, all_projects: bool,
                               filters: dict[str, Any]) -> list[Attachment]:
        q = select(Attachment).order_by(Attachment.created_at.desc(), Attachment.id)
        if not (all_projects and ctx.is_admin):
            q = q.where(Attachment.project_id == ctx.project_id)
        for key, value in filters.items():
            q = q.where(getattr(Attachment, key) == value)
        async with self.db.read() as s:
            return list((await s.execute(q)).scalars())

    async def update_attachment(self, ctx: RequestContext, attachment_id: str,
                                connector: dict[str, Any]) -> Attachment:
        async with self.db.read() as s:
            att = await store.get_attachment(s, attachment_id, self.scope(ctx))
            vol = await store.get_volume(s, att.volume_id)
        if vol.host is None or vol.status not in ("reserved", "attaching", "in-use"):
            raise invalid_volume(f"Volume {vol.id} status must be reserved to attach, but the "
                                 f"current status is {vol.status}.")
        await self.managers.attachment_update(ctx, vol.host, att.id, connector)
        return await self.get_attachment(ctx, att.id)

    async def complete_attachment(self, ctx: RequestContext, attachment_id: str) -> None:
        async with self.db.read() as s:
            att = await store.get_attachment(s, attachment_id, self.scope(ctx))
            vol = await store.get_volume(s, att.volume_id)
        if att.connection_info is None:
            raise exc.BadRequest("Invalid input received: the attachment has no connector "
                                 "yet; update it with one first.")
        await self.managers.attachment_complete(ctx, vol.host, att.id)

    async def delete_attachment(self, ctx: RequestContext, attachment_id: str) -> None:
        async with self.db.read() as s:
            att = await store.get_attachment(s, attachment_id, self.scope(ctx))
            vol = await store.get_volume(s, att.volume_id)
        if vol.host is None:
            async with self.db.write() as s:
                await s.execute(sql_delete(Attachment).where(Attachment.id == att.id))
                await store.transition(s, Volume, vol.id, ["reserved"], status="available")
            return
        async with self.db.write() as s:
            if vol.status == "in-use":
                await store.set_values(s, Volume, vol.id, status="detaching")
        await self.managers.attachment_delete(ctx, vol.host, att.id)
