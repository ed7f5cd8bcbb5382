"""An agent's side of networking: ports made or bound for an instance (steps 22-24)."""

from __future__ import annotations

from typing import Any

from pocketstack.compute.conductor.messages import NetworkRequest, Vif
from pocketstack.core.context import RequestContext
from pocketstack.network.client import NetworkClient


def vif(port: dict[str, Any], network: dict[str, Any], created: bool) -> Vif:
    ips = [{"address": ip["ip_address"], "subnet_id": ip.get("subnet_id"),
            "version": 6 if ":" in ip["ip_address"] else 4} for ip in port.get("fixed_ips", [])]
    return Vif(port_id=port["id"], network_id=port["network_id"],
               network_name=network.get("name") or port["network_id"],
               mac=port["mac_address"], ips=ips, created=created,
               mtu=network.get("mtu") or 1500, details=port.get("binding:vif_details") or {})


async def allocate_one(net: NetworkClient, ctx: RequestContext, req: NetworkRequest,
                       instance_id: str, host: str, project_id: str,
                       security_groups: list[str]) -> Vif:
    """The port made (created and bound in one request) or the user's port bound."""
    if req.port_id:
        port = await net.bind_port(ctx, req.port_id, host, instance_id)
        created = False
    else:
        port = await net.create_port(
            ctx, req.network_id, device_id=instance_id, host=host, project_id=project_id,
            fixed_ips=[{"ip_address": req.fixed_ip}] if req.fixed_ip else None,
            security_groups=security_groups or None)
        created = True
    network = {"name": req.network_name, "mtu": req.mtu} if req.network_name else (
        await net.get_network(ctx, port["network_id"]))
    return vif(port, network, created)


async def allocate(net: NetworkClient, ctx: RequestContext, requests: list[NetworkRequest],
                   instance_id: str, host: str, project_id: str,
                   security_groups: list[str]) -> list[Vif]:
    """A port per request, all or none: on an error the ones made are released."""
    vifs: list[Vif] = []
    try:
        for req in requests:
            vifs.append(await allocate_one(net, ctx, req, instance_id, host, project_id,
                                           security_groups))
    except BaseException:
        await release(net, ctx, vifs)
        raise
    return vifs


async def release(net: NetworkClient, ctx: RequestContext, vifs: list[Vif]) -> None:
    """Delete the ports made for the instance; unbind the user's own."""
    for v in vifs:
        if v.created:
            await net.delete_port(ctx, v.port_id)
        else:
            await net.unbind_port(ctx, v.port_id)
