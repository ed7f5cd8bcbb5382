"""An agent's side of block storage: volumes made to boot from and the
attachments of an instance's volumes (steps 25-27)."""

from __future__ import annotations

from typing import Any

from pocketstack.compute.conductor.messages import Bdm, InstanceInfo
from pocketstack.compute.remote.volume import VolumeAPI
from pocketstack.compute.virt.driver import Disk


def connector(host: str) -> dict[str, Any]:
    """What the volume service needs to know about the host attaching a volume."""
    return {"host": host, "initiator": f"iqn.2026-01.org.pocketstack:{host}",
            "platform": "x86_64", "os_type": "linux", "multipath": False}


async def attach(vol: VolumeAPI, token: str | None, instance: InstanceInfo, host: str,
                 bdm: Bdm) -> tuple[Bdm, dict[str, Any]]:
    """Attach one mapping's volume (making it first when its source is an image or
    blank); returns the mapping with its volume and attachment ids, and the
    attachment's connection info."""
    made = None
    if bdm.volume_id is None:
        made = await vol.create(token, instance.project_id, bdm.volume_size or 1,
                                bdm.image_id if bdm.source_type == "image" else None,
                                f"{instance.name}-{bdm.id[:8]}")
        bdm = bdm.model_copy(update={"volume_id": made["id"]})
    try:
        att = await vol.attach(token, instance.project_id, bdm.volume_id, instance.id,
                               {**connector(host), "mountpoint": bdm.device_name})
    except BaseException:
        if made is not None:
            await vol.delete(token, instance.project_id, made["id"])
        raise
    return bdm.model_copy(update={"attachment_id": att["id"]}), att.get("connection_info") or {}


async def attach_all(vol: VolumeAPI, token: str | None, instance: InstanceInfo,
                     host: str) -> tuple[list[Bdm], list[Disk]]:
    """Every volume mapping attached, or none: on an error the done ones are undone."""
    done: list[Bdm] = []
    disks: list[Disk] = []
    try:
        for bdm in instance.bdms:
            if bdm.destination_type != "volume":
                continue
            attached, connection = await attach(vol, token, instance, host, bdm)
            done.append(attached)
            disks.append(Disk(attached.volume_id, attached.device_name or "/dev/vdb",
                              connection, boot=attached.boot_index == 0))
    except BaseException:
        await detach_all(vol, token, instance.project_id, done, made_only=True)
        raise
    return done, disks


async def detach_all(vol: VolumeAPI, token: str | None, project_id: str, bdms: list[Bdm],
                     made_only: bool = False) -> None:
    """Delete the attachments; delete the volumes marked delete_on_termination (with
    `made_only`, a failed build: the volumes it made itself)."""
    for bdm in bdms:
        if bdm.attachment_id:
            await vol.detach(token, project_id, bdm.attachment_id)
        made = bdm.source_type in ("image", "blank")
        if bdm.volume_id and (bdm.delete_on_termination or (made_only and made)):
            await vol.delete(token, project_id, bdm.volume_id)
