"""Releasing everything an instance holds when its agent cannot do it (the
instance never reached a host, the host is down, the build timed out):
its ports, its volume attachments, and its claim in placement."""

from __future__ import annotations

import logging

from pocketstack.compute.agent.volumes import detach_all
from pocketstack.compute.conductor.messages import Bdm, Vif
from pocketstack.compute.models import BlockDeviceMapping, Instance
from pocketstack.compute.remote.placement import PlacementAPI
from pocketstack.core.context import RequestContext
from pocketstack.network.client import COMPUTE_OWNER, NetworkClient
from pocketstack.volume.client import VolumeClient

log = logging.getLogger(__name__)


async def release_all(instance: Instance, bdms: list[BlockDeviceMapping],
                      ctx: RequestContext, net: NetworkClient, vol: VolumeClient,
                      placement: PlacementAPI, deleting: bool) -> None:
    """Ports, attachments (and, when `deleting`, the volumes marked
    delete_on_termination) and the placement claim. Errors are logged, not raised:
    each part is released independently."""
    for part in (_ports(instance, ctx, net),
                 _volumes(instance, bdms, ctx, vol, deleting),
                 placement.release(instance.id)):
        try:
            await part
        except Exception:  # noqa: BLE001 - release the other parts regardless
            log.exception("releasing a resource of instance %s failed", instance.id)


async def _ports(instance: Instance, ctx: RequestContext, net: NetworkClient) -> None:
    mine = {v["port_id"]: Vif.model_validate(v) for v in instance.network_info or []}
    for port in await net.list_ports(ctx, device_id=instance.id):
        vif = mine.get(port["id"])
        if vif is not None and not vif.created:
            await net.unbind_port(ctx, port["id"])
        elif port.get("device_owner") == COMPUTE_OWNER:
            await net.delete_port(ctx, port["id"])


async def _volumes(instance: Instance, bdms: list[BlockDeviceMapping], ctx: RequestContext,
                   vol: VolumeClient, deleting: bool) -> None:
    wire = [Bdm.model_validate(b, from_attributes=True) for b in bdms]
    if not deleting:
        wire = [b.model_copy(update={"delete_on_termination": False}) for b in wire]
    await detach_all(vol, ctx, wire)
