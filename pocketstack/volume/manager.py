"""The volume manager: runs on a storage host, drives its backend, and is the
one place a volume's or snapshot's state settles (creating -> available or
error, deleting -> gone or error_deleting, extending -> available or
error_extending...). Served over RPC on `volume.<host>`; every public
coroutine is an RPC method `(ctxt, **args)`.

A failure never leaves a transitional state behind: the volume ends in an
error state and a user message (the /messages API) says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from pathlib import Path
from typing import Any

from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.exceptions import BadRequest, PocketstackError
from pocketstack.image.client import ImageClient
from pocketstack.volume import store
from pocketstack.volume.backends.base import Backend, ImageSource, SnapshotRef, VolumeRef
from pocketstack.volume.messages import CapacityReport, SchedulerClient, ScheduleRequest
from pocketstack.volume.models import Attachment, Snapshot, Volume, now

log = logging.getLogger(__name__)


class VolumeManager:
    def __init__(self, db: Database, backend: Backend, host: str, *, pool: str,
                 availability_zone: str, images: ImageClient | None,
                 scheduler: SchedulerClient | None, scratch_dir: Path,
                 max_over_subscription_ratio: float = 20.0, reserved_percentage: float = 0.0):
        self.db = db
        self.backend = backend
        self.host = host  # host@backend
        self.pool = pool
        self.full_host = f"{host}#{pool}"
        self.availability_zone = availability_zone
        self.images = images
        self.scheduler = scheduler
        self.scratch = scratch_dir
        self.ratio = max_over_subscription_ratio
        self.reserved_percentage = reserved_percentage
        self._tasks: set[asyncio.Task] = set()
        self._creating: set[str] = set()  # a duplicate cast (at-least-once) is ignored

    # -- life cycle ---------------------------------------------------------

    async def init_host(self) -> None:
        """Settle what a previous run left in flight on this host."""
        ctx = RequestContext.admin(request_id="req-init-host")
        async with self.db.write() as s:
            for state, to in (("creating", "error"), ("extending", "error_extending"),
                              ("downloading", "error")):
                for v in await self._volumes_in(s, state):
                    v.status = to
                    await store.add_message(s, v.project_id, "VOLUME", v.id, "VOLUME_000_001",
                                            "volume service restarted during the operation")
            for v in await self._volumes_in(s, "uploading"):
                v.status = v.previous_status or "available"
            stuck = [v.id for v in await self._volumes_in(s, "deleting")]
        for volume_id in stuck:
            await self.delete_volume(ctx, volume_id)

    async def _volumes_in(self, s, status: str) -> list[Volume]:  # noqa: ANN001
        from sqlalchemy import select

        rows = await s.execute(select(Volume).where(Volume.host == self.full_host,
                                                    Volume.status == status))
        return list(rows.scalars())

    async def report(self) -> CapacityReport:
        cap = await self.backend.capacity()
        async with self.db.read() as s:
            allocated = await store.allocated_gb(s, self.full_host)
        return CapacityReport(
            host=self.host, pool=self.pool, availability_zone=self.availability_zone,
            backend_name=self.pool, kind=self.backend.kind, total_gb=cap.total_gb,
            free_gb=cap.free_gb, allocated_gb=allocated, thin=cap.thin,
            max_over_subscription_ratio=self.ratio,
            reserved_percentage=self.reserved_percentage,
            capabilities={"volume_backend_name": self.pool, "storage_protocol": self.backend.kind,
                          "thin_provisioning_support": cap.thin,
                          "thick_provisioning_support": not cap.thin},
        )

    async def send_report(self) -> None:
        if self.scheduler is None:
            return
        try:
            report = await self.report()
            await self.scheduler.update_capacity(RequestContext.admin(), report)
        except Exception:  # noqa: BLE001 - a missed report is retried on the next tick
            log.exception("volume manager %s: capacity report failed", self.host)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- volumes ------------------------------------------------------------

    async def create_volume(self, ctxt: RequestContext, host: str,
                            request: ScheduleRequest) -> None:
        async with self.db.read() as s:
            volume = await store.find_volume(s, request.volume_id)
        if volume is None or volume.status != "creating" or volume.id in self._creating:
            return
        self._creating.add(volume.id)
        try:
            await self._create(ctxt, volume, request)
        finally:
            self._creating.discard(volume.id)
        await self.send_report()

    async def _create(self, ctxt: RequestContext, volume: Volume,
                      request: ScheduleRequest) -> None:
        ref = VolumeRef(volume.id, volume.size)
        try:
            values = await self._create_from_source(ctxt, ref, request)
        except Exception as err:  # noqa: BLE001 - every failure ends in "error"
            await self._fail(Volume, volume, "error", "create volume", err)
            return
        async with self.db.write() as s:
            await store.transition(s, Volume, volume.id, ["creating"], status="available",
                                   launched_at=now(), **values)

    async def _create_from_source(self, ctxt: RequestContext, ref: VolumeRef,
                                  request: ScheduleRequest) -> dict[str, Any]:
        if request.snapshot_id:
            async with self.db.read() as s:
                snap = await store.get_snapshot(s, request.snapshot_id)
                source = await store.find_volume(s, snap.volume_id)
            await self.backend.create_volume_from_snapshot(
                ref, SnapshotRef(snap.id, snap.volume_id, snap.size))
            return {"bootable": bool(source and source.bootable),
                    "image_metadata": source.image_metadata if source else None}
        if request.source_volid:
            async with self.db.read() as s:
                source = await store.get_volume(s, request.source_volid)
            await self.backend.clone_volume(ref, VolumeRef(source.id, source.size))
            return {"bootable": source.bootable, "image_metadata": source.image_metadata}
        if request.image_id:
            return await self._create_from_image(ctxt, ref, request.image_id)
        await self.backend.create_volume(ref)
        return {}

    async def _create_from_image(self, ctxt: RequestContext, ref: VolumeRef,
                                 image_id: str) -> dict[str, Any]:
        if self.images is None:
            raise BadRequest("no image service to read images from")
        image = await self.images.get(ctxt, image_id)
        if image.get("status") != "active":
            raise BadRequest(f"Image {image_id} is not active.")
        async with self.images.local_data(ctxt, image, self.scratch) as path:
            await self.backend.copy_image_to_volume(
                ref, ImageSource(path, image.get("disk_format") or "raw"))
        return {"bootable": True, "image_metadata": image_metadata(image)}

    async def delete_volume(self, ctxt: RequestContext, volume_id: str) -> None:
        async with self.db.read() as s:
            volume = await store.find_volume(s, volume_id)
        if volume is None:
            return
        try:
            await self.backend.delete_volume(VolumeRef(volume.id, volume.size))
        except Exception as err:  # noqa: BLE001
            await self._fail(Volume, volume, "error_deleting", "delete volume", err)
        else:
            async with self.db.write() as s:
                row = await store.find_volume(s, volume_id)
                if row is not None:
                    await s.execute(Attachment.__table__.delete()
                                    .where(Attachment.volume_id == volume_id))
                    await s.delete(row)
        await self.send_report()

    async def extend_volume(self, ctxt: RequestContext, volume_id: str, new_size: int) -> None:
        async with self.db.read() as s:
            volume = await store.get_volume(s, volume_id)
        try:
            await self.backend.extend_volume(VolumeRef(volume.id, volume.size), new_size)
        except Exception as err:  # noqa: BLE001
            await self._fail(Volume, volume, "error_extending", "extend volume", err)
        else:
            async with self.db.write() as s:
                await store.transition(s, Volume, volume_id, ["extending"],
                                       status=volume.previous_status or "available",
                                       size=new_size)
        await self.send_report()

    async def upload_to_image(self, ctxt: RequestContext, volume_id: str, image_id: str,
                              disk_format: str) -> None:
        async with self.db.read() as s:
            volume = await store.get_volume(s, volume_id)
        back_to = volume.previous_status or "available"
        self.scratch.mkdir(parents=True, exist_ok=True)
        tmp = self.scratch / f".upload-{image_id}-{uuid.uuid4().hex[:8]}.tmp"
        try:
            assert self.images is not None, "no image service"
            await self.backend.copy_volume_to_image(VolumeRef(volume.id, volume.size), tmp,
                                                    disk_format)
            await self.images.upload(ctxt, image_id, tmp)
        except Exception as err:  # noqa: BLE001
            if self.images is not None:
                with contextlib.suppress(PocketstackError):
                    await self.images.delete(ctxt, image_id)
            await self._fail(Volume, volume, back_to, "upload volume to image", err)
        else:
            async with self.db.write() as s:
                await store.transition(s, Volume, volume_id, ["uploading"], status=back_to)
        finally:
            tmp.unlink(missing_ok=True)

    # -- snapshots ----------------------------------------------------------

    async def create_snapshot(self, ctxt: RequestContext, snapshot_id: str) -> None:
        async with self.db.read() as s:
            snap = await store.get_snapshot(s, snapshot_id)
            volume = await store.get_volume(s, snap.volume_id)
        try:
            await self.backend.create_snapshot(SnapshotRef(snap.id, snap.volume_id, snap.size),
                                               VolumeRef(volume.id, volume.size))
        except Exception as err:  # noqa: BLE001
            await self._fail(Snapshot, snap, "error", "create snapshot", err)
        else:
            async with self.db.write() as s:
                await store.transition(s, Snapshot, snapshot_id, ["creating"],
                                       status="available", progress="100%")
        await self.send_report()

    async def delete_snapshot(self, ctxt: RequestContext, snapshot_id: str) -> None:
        async with self.db.read() as s:
            snap = await s.get(Snapshot, snapshot_id)
        if snap is None:
            return
        try:
            await self.backend.delete_snapshot(SnapshotRef(snap.id, snap.volume_id, snap.size))
        except Exception as err:  # noqa: BLE001
            await self._fail(Snapshot, snap, "error_deleting", "delete snapshot", err)
        else:
            async with self.db.write() as s:
                row = await s.get(Snapshot, snapshot_id)
                if row is not None:
                    await s.delete(row)
        await self.send_report()

    async def revert_to_snapshot(self, ctxt: RequestContext, volume_id: str,
                                 snapshot_id: str) -> None:
        async with self.db.read() as s:
            volume = await store.get_volume(s, volume_id)
            snap = await store.get_snapshot(s, snapshot_id)
        try:
            await self.backend.revert_to_snapshot(VolumeRef(volume.id, volume.size),
                                                  SnapshotRef(snap.id, snap.volume_id, snap.size))
        except Exception as err:  # noqa: BLE001
            async with self.db.write() as s:
                await store.set_values(s, Snapshot, snapshot_id, status="available")
            await self._fail(Volume, volume, "error", "revert volume to snapshot", err)
            return
        async with self.db.write() as s:
            await store.set_values(s, Volume, volume_id, status="available")
            await store.set_values(s, Snapshot, snapshot_id, status="available")

    # -- attachments --------------------------------------------------------

    async def attachment_update(self, ctxt: RequestContext, attachment_id: str,
                                connector: dict[str, Any]) -> dict[str, Any]:
        """Export the volume to the connector's host; the connection info to attach it."""
        async with self.db.write() as s:
            att = await store.get_attachment(s, attachment_id)
            volume = await store.get_volume(s, att.volume_id)
            info = self.backend.connection_info(VolumeRef(volume.id, volume.size), connector)
            info = {**info, "data": {**info.get("data", {}), "attachment_id": att.id}}
            att.connector = connector
            att.connection_info = info
            att.attached_host = connector.get("host")
            att.mountpoint = connector.get("mountpoint")
            att.attach_mode = connector.get("mode") or att.attach_mode
            if att.attach_status == "reserved":
                att.attach_status = "attaching"
            if volume.status in ("reserved", "available"):
                volume.status = "attaching"
        return info

    async def attachment_complete(self, ctxt: RequestContext, attachment_id: str) -> None:
        async with self.db.write() as s:
            att = await store.get_attachment(s, attachment_id)
            volume = await store.get_volume(s, att.volume_id)
            att.attach_status = "attached"
            att.attach_time = now()
            volume.status = "in-use"
            volume.attach_status = "attached"

    async def attachment_delete(self, ctxt: RequestContext, attachment_id: str) -> None:
        async with self.db.write() as s:
            att = await s.get(Attachment, attachment_id)
            if att is None:
                return
            volume = await store.get_volume(s, att.volume_id)
            await s.delete(att)
            await s.flush()
            left = (await store.attachments_of(s, [volume.id]))[volume.id]
            attached = [a for a in left if a.attach_status == "attached"]
            if attached:
                volume.status, volume.attach_status = "in-use", "attached"
            elif left:
                volume.status, volume.attach_status = "reserved", "detached"
            else:
                volume.status, volume.attach_status = "available", "detached"

    # -- failures -----------------------------------------------------------

    async def _fail(self, model: Any, row: Any, status: str, action: str,
                    err: BaseException) -> None:
        known = isinstance(err, PocketstackError)
        reason = err.message if known else f"{type(err).__name__}: {err}"
        if not isinstance(err, PocketstackError):
            log.exception("%s %s failed", action, row.id, exc_info=err)
        else:
            log.warning("%s %s failed: %s", action, row.id, reason)
        kind = "VOLUME" if model is Volume else "SNAPSHOT"
        with contextlib.suppress(Exception):
            async with self.db.write() as s:
                await store.set_values(s, model, row.id, status=status)
                await store.add_message(s, row.project_id, kind, row.id, _event(action),
                                        f"{action}: {reason}")


def image_metadata(image: dict[str, Any]) -> dict[str, Any]:
    """What a volume made from an image shows as `volume_image_metadata`."""
    keep = ("id", "name", "disk_format", "container_format", "checksum", "min_disk",
            "min_ram", "size")
    meta = {("image_id" if k == "id" else "image_name" if k == "name" else k): image.get(k)
            for k in keep if image.get(k) is not None}
    core = {"id", "name", "disk_format", "container_format", "checksum", "min_disk", "min_ram",
            "size", "status", "visibility", "protected", "owner", "created_at", "updated_at",
            "file", "schema", "self", "tags", "virtual_size", "direct_url", "locations",
            "os_hash_algo", "os_hash_value", "os_hidden", "stores"}
    meta.update({k: v for k, v in image.items() if k not in core and isinstance(v, str)})
    return {k: str(v) for k, v in meta.items()}


def _event(action: str) -> str:
    return {"create volume": "VOLUME_VOLUME_001_003", "delete volume": "VOLUME_VOLUME_003_002",
            "extend volume": "VOLUME_VOLUME_007_001",
            "create snapshot": "VOLUME_SNAPSHOT_001_002",
            "delete snapshot": "VOLUME_SNAPSHOT_003_002"}.get(action, "VOLUME_VOLUME_000_000")
