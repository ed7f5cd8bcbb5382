"""A router as a namespace, `qrouter-<id>`: a veth leg from each attached
network's bridge (`qr-` for interfaces, `qg-` for the external gateway),
forwarding on, a default route via the external subnet's gateway, and its
nat table: SNAT of the internal subnets to the gateway address, and per
floating IP a DNAT to the fixed IP and a SNAT back (the floating address
sits on the `qg-` device, so the external bridge answers ARP for it)."""

from __future__ import annotations

import ipaddress

from pocketstack.network.agent.linuxbridge import ip
from pocketstack.network.agent.linuxbridge.topology import Leg, Router


def internal_cidrs(router: Router) -> list[str]:
    return sorted({str(ipaddress.ip_interface(c).network) for leg in router.interfaces
                   for c in leg.cidrs})


def render_nat(router: Router) -> str:
    """The whole nat table of the router's namespace, for iptables-restore."""
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]",
             ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
    if router.gateway is not None:
        qg = ip.inner_name("qg-", router.gateway.port_id)
        for fip, fixed in router.floating:
            lines.append(f"-A PREROUTING -d {fip}/32 -j DNAT --to-destination {fixed}")
            lines.append(f"-A OUTPUT -d {fip}/32 -j DNAT --to-destination {fixed}")
            lines.append(f"-A POSTROUTING -s {fixed}/32 -o {qg} -j SNAT --to-source {fip}")
        gw = _v4(router.gateway)
        if router.snat and gw:
            for cidr in internal_cidrs(router):
                lines.append(f"-A POSTROUTING -s {cidr} -o {qg} -j SNAT --to-source {gw}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def _v4(leg: Leg) -> str | None:
    return next((c.split("/")[0] for c in leg.cidrs if ":" not in c), None)


async def apply(router: Router, mtus: dict[str, int]) -> None:
    """Make the namespace match `router` (idempotent; legs no longer wanted go)."""
    ns = ip.router_namespace(router.id)
    await ip.ensure_netns(ns)
    await ip.sysctl("net.ipv4.ip_forward", "1", ns)
    legs = [("qr-", leg) for leg in router.interfaces]
    if router.gateway is not None:
        legs.append(("qg-", router.gateway))
    for prefix, leg in legs:
        inner = ip.inner_name(prefix, leg.port_id)
        await ip.veth_into(ip.bridge_name(leg.network_id), ip.tap_name(leg.port_id), ns, inner,
                           leg.mac, mtus.get(leg.network_id))
        extra = [f"{fip}/32" for fip, _ in router.floating] if prefix == "qg-" else []
        await ip.set_addresses(inner, list(leg.cidrs) + extra, netns=ns)
    kept = {ip.inner_name(prefix, leg.port_id) for prefix, leg in legs}
    for device in await ip.devices(ns):
        if device.startswith(("qr-", "qg-")) and device not in kept:
            await ip.delete_link(device, netns=ns)
    await ip.set_default_route(router.gateway_ip if router.gateway else None, ns)
    await ip.run("iptables-restore", "-w", stdin=render_nat(router), netns=ns)


async def remove(router_id: str) -> None:
    await ip.delete_netns(ip.router_namespace(router_id))
