"""First start: the networks a DevStack user expects. `public` (external, flat on
physnet `public`, admin project, an unrouted range), and for the demo project
`private` with `private-subnet` and `router1` joining it to `public`."""

from __future__ import annotations

import ipaddress

from pocketstack.network.service import NetworkService
from pocketstack.runtime import BootstrapInfo


async def create_defaults(svc: NetworkService, info: BootstrapInfo) -> None:
    admin, cfg = info.admin_ctx, svc.cfg
    public = (await svc.networks.create(admin, {"network": {
        "name": "public", "router:external": True, "project_id": info.admin_project_id,
        "provider:network_type": "flat", "provider:physical_network": "public",
    }}))["network"]
    pub_net = ipaddress.ip_network(cfg.public_cidr)
    await svc.subnets.create(admin, {"subnet": {
        "name": "public-subnet", "network_id": public["id"], "ip_version": pub_net.version,
        "cidr": str(pub_net), "enable_dhcp": False, "project_id": info.admin_project_id,
    }})
    demo = info.demo_project_id
    private = (await svc.networks.create(admin, {"network": {
        "name": "private", "project_id": demo}}))["network"]
    priv_net = ipaddress.ip_network(cfg.private_cidr)
    subnet = (await svc.subnets.create(admin, {"subnet": {
        "name": "private-subnet", "network_id": private["id"], "ip_version": priv_net.version,
        "cidr": str(priv_net), "project_id": demo,
    }}))["subnet"]
    router = (await svc.routers.create(admin, {"router": {
        "name": "router1", "project_id": demo,
        "external_gateway_info": {"network_id": public["id"]},
    }}))["router"]
    await svc.routers.add_interface(admin, router["id"], {"subnet_id": subnet["id"]})
