"""An agent's side of networking: ports made or bound for an instance (steps 22-24)."""

from __future__ import annotations

from typing import Any

from pocketstack.compute.conductor.messages import NetworkRequest, Vif
from pocketstack.compute.remote.network import NetworkAPI

OWNER = "compute:nova"


def vif(port: dict[str, Any], network: dict[str, Any], created: bool) -> Vif:
    ips = [{"address": ip["ip_address"], "subnet_id": ip.get("subnet_id"),
            "version": 6 if ":" in ip["ip_address"] else 4} for ip in port.get("fixed_ips", [])]
    return Vif(port_id=port["id"], network_id=port["network_id"],
               network_name=network.get("name") or port["network_id"],
               mac=port["mac_address"], ips=ips, created=created,
               mtu=network.get("mtu") or 1500, details=port.get("binding:vif_details") or {})


async def allocate_one(net: NetworkAPI, token: str | None, req: NetworkRequest,
                       instance_id: str, host: str, project_id: str,
                       security_groups: list[str]) -> Vif:
    binding = {"device_id": instance_id, "device_owner": OWNER, "binding:host_id": host}
    if req.port_id:
        port = await net.update_port(token, req.port_id, binding)
        created = False
    else:
        body: dict[str, Any] = {"network_id": req.network_id, "project_id": project_id,
                                **binding}
        if req.fixed_ip:
            body["fixed_ips"] = [{"ip_address": req.fixed_ip}]
        if security_groups:
            body["security_groups"] = security_groups
        port = await net.create_port(token, body)
        created = True
    network = {"name": req.network_name, "mtu": req.mtu} if req.network_name else (
        await net.get_network(token, port["network_id"]))
    return vif(port, network, created)


async def allocate(net: NetworkAPI, token: str | None, requests: list[NetworkRequest],
                   instance_id: str, host: str, project_id: str,
                   security_groups: list[str]) -> list[Vif]:
    """A port per request, all or none: on an error the ones made are released."""
    vifs: list[Vif] = []
    try:
        for req in requests:
            vifs.append(await allocate_one(net, token, req, instance_id, host, project_id,
                                           security_groups))
    except BaseException:
        await release(net, token, vifs)
        raise
    return vifs


async def release(net: NetworkAPI, token: str | None, vifs: list[Vif]) -> None:
    """Delete the ports made for the instance; unbind the user's own."""
    for v in vifs:
        if v.created:
            await net.delete_port(token, v.port_id)
        else:
            await net.update_port(token, v.port_id, {"device_id": "", "device_owner": "",
                                                     "binding:host_id": ""})
