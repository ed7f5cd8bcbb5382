"""A stateful in-memory fake of volume/client.py's VolumeClient, for the
services that use it (compute runs its launch tests on it): volumes that are
available at once, and attachments that make them in-use. Tokens are not
checked."""

from __future__ import annotations

import uuid
from typing import Any

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.volume.client import Attachment


class FakeVolumeClient:
    def __init__(self) -> None:
        self.volumes: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, Attachment] = {}

    def add(self, size: int = 1, name: str = "", volume_id: str | None = None) -> dict:
        vol = {"id": volume_id or str(uuid.uuid4()), "size": size, "name": name,
               "status": "available", "attachments": []}
        self.volumes[vol["id"]] = vol
        return vol

    async def get_volume(self, ctx: RequestContext | None, volume_id: str) -> dict[str, Any]:
        if volume_id not in self.volumes:
            raise exc.NotFound(f"Volume {volume_id} could not be found.")
        return dict(self.volumes[volume_id])

    async def create_volume(self, ctx: RequestContext | None, size: int, *,
                            name: str | None = None, image_id: str | None = None,
                            **kw: Any) -> dict[str, Any]:
        return dict(self.add(size, name or ""))

    async def wait_available(self, ctx: RequestContext | None, volume_id: str,
                             **kw: Any) -> dict[str, Any]:
        return await self.get_volume(ctx, volume_id)

    async def delete_volume(self, ctx: RequestContext | None, volume_id: str) -> None:
        self.volumes.pop(volume_id, None)

    async def create_attachment(self, ctx: RequestContext | None, volume_id: str,
                                instance_id: str, connector: dict[str, Any] | None = None,
                                mode: str = "rw") -> Attachment:
        vol = self.volumes.get(volume_id)
        if vol is None:
            raise exc.NotFound(f"Volume {volume_id} could not be found.")
        if vol["status"] != "available":
            raise exc.BadRequest(f"Volume {volume_id} status must be available, "
                                 f"but it is {vol['status']}.")
        att = Attachment(id=str(uuid.uuid4()), status="attaching", instance=instance_id,
                         volume_id=volume_id, attach_mode=mode,
                         connection_info={"driver_volume_type": "fake",
                                          "data": {"volume_id": volume_id}})
        self.attachments[att.id] = att
        vol["status"] = "attaching"
        return att

    async def complete_attachment(self, ctx: RequestContext | None, attachment_id: str) -> None:
        att = self.attachments[attachment_id]
        att.status = "attached"
        self.volumes[att.volume_id]["status"] = "in-use"

    async def delete_attachment(self, ctx: RequestContext | None, attachment_id: str) -> None:
        att = self.attachments.pop(attachment_id, None)
        if att and att.volume_id in self.volumes:
            self.volumes[att.volume_id]["status"] = "available"
