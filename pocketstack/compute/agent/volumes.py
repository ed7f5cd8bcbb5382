"""An agent's side of block storage: volumes made to boot from and the
attachments of an instance's volumes (steps 25-27)."""

from __future__ import annotations

from typing import Any

from pocketstack.compute.conductor.messages import Bdm, InstanceInfo
from pocketstack.compute.virt.driver import Disk
from pocketstack.core.context import RequestContext
from pocketstack.volume.client import VolumeClient


def connector(host: str) -> dict[str, Any]:
    """What the volume service needs to know about the host attaching a volume."""
    return {"host": host, "initiator": f"iqn.2026-01.org.pocketstack:{host}",
            "platform": "x86_64", "os_type": "linux", "multipath": False}


async def attach(vol: VolumeClient, ctx: RequestContext, instance: InstanceInfo, host: str,
                 bdm: Bdm) -> tuple[Bdm, dict[str, Any]]:
    """Attach one mapping's volume (making it first when its source is an image or
    blank); returns the mapping with its volume and attachment ids, and the
    attachment's connection info."""
    made = None
    if bdm.volume_id is None:
        made = await vol.create_volume(
            ctx, bdm.volume_size or 1, name=f"{instance.name}-{bdm.id[:8]}",
            image_id=bdm.image_id if bdm.source_type == "image" else None)
        bdm = bdm.model_copy(update={"volume_id": made["id"]})
    try:
        if made is not None:
            await vol.wait_available(ctx, made["id"])
        att = await vol.create_attachment(ctx, bdm.volume_id, instance.id,
                                          {**connector(host), "mountpoint": bdm.device_name})
        await vol.complete_attachment(ctx, att.id)
    except BaseException:
        if made is not None:
            await vol.delete_volume(ctx, made["id"])
        raise
    return bdm.model_copy(update={"attachment_id": att.id}), att.connection_info or {}


async def attach_all(vol: VolumeClient, ctx: RequestContext, instance: InstanceInfo,
                     host: str) -> tuple[list[Bdm], list[Disk]]:
    """Every volume mapping attached, or none: on an error the done ones are undone."""
    done: list[Bdm] = []
    disks: list[Disk] = []
    try:
        for bdm in instance.bdms:
            if bdm.destination_type != "volume":
                continue
            attached, connection = await attach(vol, ctx, instance, host, bdm)
            done.append(attached)
            disks.append(Disk(attached.volume_id, attached.device_name or "/dev/vdb",
                              connection, boot=attached.boot_index == 0))
    except BaseException:
        await detach_all(vol, ctx, done, made_only=True)
        raise
    return done, disks


async def detach_all(vol: VolumeClient, ctx: RequestContext, bdms: list[Bdm],
                     made_only: bool = False) -> None:
    """Delete the attachments; delete the volumes marked delete_on_termination (with
    `made_only`, a failed build: the volumes it made itself)."""
    for bdm in bdms:
        if bdm.attachment_id:
            await vol.delete_attachment(ctx, bdm.attachment_id)
        made = bdm.source_type in ("image", "blank")
        if bdm.volume_id and (bdm.delete_on_termination or (made_only and made)):
            await vol.delete_volume(ctx, bdm.volume_id)
