"""The linuxbridge agent: makes the host match the network service.

It is level-triggered: every pass lists the network service's networks,
subnets, ports, security groups, routers and floating IPs (as admin, with
the service token), builds the wanted `Topology`, and applies what differs
from what it applied last: bridges, DHCP servers, routers, the firewall.
Passes run when the server notifies a change (port bound or removed, network
changed, routers, floating IPs, security groups or ports changed), every
`resync_interval` seconds (what changed without a notice: an internal
change, a lost RPC cast), and at start, which is how a restarted agent
rebuilds its state. Between passes a cheap scan of the
bound ports' taps plugs a bare tap into its bridge and reports the port
ACTIVE when its tap exists, DOWN when it went away.

Ports it binds get vif_type `bridge` with `bridge_name` = the network's
bridge; libvirt plugs the guest's tap (`tap` + port id[:11]) into it.
Stopping the agent stops its dnsmasq processes and metadata sockets; bridges,
namespaces and rules stay (guests keep their network) and the next start
adopts them. Deleting a network or router removes all it had.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.network.agent.linuxbridge import ip, registry, router
from pocketstack.network.agent.linuxbridge.dhcp import DhcpServer, MetadataServer
from pocketstack.network.agent.linuxbridge.firewall import Firewall
from pocketstack.network.agent.linuxbridge.topology import (
    DHCP_OWNER,
    Bridge,
    Listing,
    Topology,
    build,
)
from pocketstack.network.agent.messages import PortBinding, PortStatus
from pocketstack.network.agent.notifier import StatusSink
from pocketstack.network.client import NetworkClient

log = logging.getLogger(__name__)
SCAN_INTERVAL = 1.0


def agent_id_for(host: str, state_dir: Path) -> str:
    """Stable across restarts of the same agent, distinct between clouds."""
    return hashlib.sha256(f"{host}\0{state_dir.resolve()}".encode()).hexdigest()[:12]


class LinuxBridgeAgent:
    vif_type = "bridge"
    vif_details: dict[str, Any] = {"port_filter": True, "connectivity": "l2"}

    def __init__(self, sink: StatusSink, client: NetworkClient,
                 token: Callable[[], Awaitable[str]], workdir: Path, agent_id: str,
                 hosts: set[str] | None = None, resync_interval: float = 10.0,
                 metadata: MetadataServer | None = None):
        self.sink, self.client, self.token = sink, client, token
        self.workdir, self.agent_id, self.hosts = workdir, agent_id, hosts
        self.resync_interval, self.metadata = resync_interval, metadata
        self.dhcp_device_id = f"dhcp{agent_id}-"
        self.firewall = Firewall(agent_id)
        self.applied = Topology()
        self.adopted = registry.Record(agent_id)
        self.servers: dict[str, DhcpServer] = {}
        self.reported: dict[str, str] = {}  # port id -> status last reported
        self.kick = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.passes = 0
        self.failed: list[tuple[dict[str, Any], str]] = []

    def vif_details_for(self, network_id: str) -> dict[str, Any]:
        return dict(self.vif_details, bridge_name=ip.bridge_name(network_id))

    # -- the notifier contract (the server calls these; they never block) ------

    async def port_bound(self, ctx: RequestContext, binding: PortBinding) -> None:
        self.kick.set()

    async def port_removed(self, ctx: RequestContext, port_id: str, host: str) -> None:
        self.kick.set()

    async def network_changed(self, ctx: RequestContext, network_id: str) -> None:
        self.kick.set()

    async def resources_changed(self, ctx: RequestContext, collection: str) -> None:
        self.kick.set()

    # -- life cycle -------------------------------------------------------------

    async def start(self) -> None:
        await registry.reap_stale(self.agent_id)
        self.adopted = registry.load(self.agent_id) or registry.Record(self.agent_id)
        self.task = asyncio.create_task(self._run(), name=f"linuxbridge-{self.agent_id}")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        for server in self.servers.values():
            await server.stop()
        self.servers.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sync = 0.0
        while True:
            if self.kick.is_set() or loop.time() >= next_sync:
                self.kick.clear()
                next_sync = loop.time() + self.resync_interval
                try:
                    await self.sync()
                except Exception:  # noqa: BLE001 - the next pass retries
                    log.exception("linuxbridge agent: sync failed")
            try:
                await self.scan()
            except Exception:  # noqa: BLE001
                log.exception("linuxbridge agent: port scan failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.kick.wait(), SCAN_INTERVAL)

    # -- one pass -----------------------------------------------------------------

    async def fetch(self) -> Listing:
        ctx = RequestContext.admin(user_name="network-agent", auth_token=await self.token())
        c = self.client
        return Listing(await c.list_networks(ctx), await c.list_subnets(ctx),
                       await c.list_ports(ctx), await c.list_all(ctx, "security-groups"),
                       await c.list_all(ctx, "routers"), await c.list_all(ctx, "floatingips"))

    async def sync(self) -> None:
        listing = await self.fetch()
        top = build(listing, self.dhcp_device_id, self.hosts)
        if await self._dhcp_ports(top):
            top = build(await self.fetch(), self.dhcp_device_id, self.hosts)
        await self.apply(top)
        self.passes += 1

    async def _dhcp_ports(self, top: Topology) -> bool:
        """Create, extend or delete this agent's DHCP ports; whether any changed."""
        ctx = RequestContext.admin(user_name="network-agent", auth_token=await self.token())
        changed = False
        for net_id in set(top.dhcp_wanted) | set(top.dhcp_ports):
            try:
                changed |= await self._dhcp_port(ctx, net_id, top.dhcp_wanted.get(net_id),
                                                 top.dhcp_ports.get(net_id))
            except exc.PocketstackError as e:  # an exhausted subnet, a quota: next pass
                log.warning("linuxbridge agent: DHCP port on network %s: %s", net_id, e)
        return changed

    async def _dhcp_port(self, ctx: RequestContext, net_id: str,
                         wanted: tuple[str, tuple[str, ...]] | None,
                         port: dict[str, Any] | None) -> bool:
        if wanted is None:
            await self.client.delete_port(ctx, port["id"])  # type: ignore[index]
            return True
        project, subnet_ids = wanted
        if port is None:
            await self.client.create_port(
                ctx, net_id, device_id=self.dhcp_device_id + net_id, device_owner=DHCP_OWNER,
                project_id=project, fixed_ips=[{"subnet_id": s} for s in subnet_ids])
            return True
        have = {f["subnet_id"] for f in port["fixed_ips"]}
        if not set(subnet_ids) - have:
            return False
        await self.client.update_port(ctx, port["id"], fixed_ips=port["fixed_ips"] + [
            {"subnet_id": s} for s in subnet_ids if s not in have])
        return True

    async def apply(self, top: Topology) -> None:
        old, adopted = self.applied, self.adopted
        old_bridges = set(old.bridges)
        self.failed = []
        for net_id, bridge in top.bridges.items():
            if old.bridges.get(net_id) != bridge:
                await self._attempt(top.bridges, net_id, self._bridge(net_id, bridge))
        self.applied.bridges = dict(top.bridges)
        self._record(top)
        await self._apply_dhcp(old, top)
        await self._apply_routers(old, top)
        await self._apply_firewall(old, top)
        for net_id in old_bridges | set(adopted.networks):
            if net_id not in top.bridges:
                await ip.delete_link(ip.bridge_name(net_id))
        for items, key in self.failed:  # not applied: the next pass tries again
            items.pop(key, None)
        self.applied = top
        self.adopted = registry.Record(self.agent_id)
        self._record(top)
        legs = {leg.port_id for r in top.routers.values()
                for leg in r.interfaces + ((r.gateway,) if r.gateway else ())}
        keep = set(top.ports) | {d.port_id for d in top.dhcp.values()} | legs
        self.reported = {p: s for p, s in self.reported.items() if p in keep}

    @staticmethod
    async def _bridge(net_id: str, bridge: Bridge) -> None:
        await ip.ensure_bridge(ip.bridge_name(net_id), bridge.mtu or None)
        await ip.set_addresses(ip.bridge_name(net_id), list(bridge.host_cidrs))

    async def _attempt(self, items: dict[str, Any], key: str, work: Awaitable[None]) -> bool:
        """Run one item's work; a failure is logged and the item retried next pass."""
        try:
            await work
        except Exception:  # noqa: BLE001 - one network or router never stops the others
            log.exception("linuxbridge agent: applying %s failed", key)
            self.failed.append((items, key))
            return False
        return True

    async def _apply_dhcp(self, old: Topology, top: Topology) -> None:
        for net_id, spec in top.dhcp.items():
            server = self.servers.get(net_id)
            if server is None:
                server = self.servers[net_id] = DhcpServer(
                    net_id, self.workdir / "dhcp" / net_id, self.metadata)
            if old.dhcp.get(net_id) != spec or server.dnsmasq is None \
                    or server.dnsmasq.pid is None:
                if await self._attempt(top.dhcp, net_id, server.apply(spec)):
                    await self._report(spec.port_id, "ACTIVE")
        for net_id in set(old.dhcp) | set(self.adopted.dhcp) | set(self.servers):
            if net_id not in top.dhcp:
                server = self.servers.pop(net_id, None) or DhcpServer(net_id, Path(), None)
                await server.remove()

    async def _apply_routers(self, old: Topology, top: Topology) -> None:
        mtus = {n: b.mtu for n, b in top.bridges.items() if b.mtu}
        for router_id, spec in top.routers.items():
            if old.routers.get(router_id) != spec \
                    and await self._attempt(top.routers, router_id, router.apply(spec, mtus)):
                for leg in spec.interfaces + ((spec.gateway,) if spec.gateway else ()):
                    await self._report(leg.port_id, "ACTIVE")
        for router_id in set(old.routers) | set(self.adopted.routers):
            if router_id not in top.routers:
                await router.remove(router_id)

    async def _apply_firewall(self, old: Topology, top: Topology) -> None:
        filters = [p.filter for p in top.ports.values() if p.filter is not None]
        before = [p.filter for p in old.ports.values() if p.filter is not None]
        had = {f.port_id for f in before} | set(self.adopted.ports)
        gone = sorted(had - {f.port_id for f in filters})
        gone_groups = sorted((set(old.members) | set(self.adopted.groups)) - set(top.members))
        if filters != before or top.members != old.members or gone or gone_groups:
            await self.firewall.apply(filters, top.members, gone, gone_groups)

    def _record(self, top: Topology) -> None:
        a = self.adopted
        registry.Record(
            self.agent_id,
            networks=sorted(set(top.bridges) | set(self.applied.bridges) | set(a.networks)),
            dhcp=sorted(set(top.dhcp) | set(self.servers) | set(a.dhcp)),
            routers=sorted(set(top.routers) | set(self.applied.routers) | set(a.routers)),
            ports=sorted({p for p, b in top.ports.items() if b.filter is not None}
                         | {p for p, b in self.applied.ports.items() if b.filter is not None}
                         | set(a.ports)),
            groups=sorted(set(top.members) | set(self.applied.members) | set(a.groups)),
        ).save()

    # -- port status ------------------------------------------------------------

    async def scan(self) -> None:
        """Plug bare taps into their bridge; report ports ACTIVE/DOWN as taps come and go."""
        for port_id, bound in self.applied.ports.items():
            tap, bridge = ip.tap_name(port_id), ip.bridge_name(bound.network_id)
            if ip.link_exists(tap):
                if ip.master_of(tap) != bridge:
                    await ip.plug(tap, bridge)
                await self._report(port_id, "ACTIVE")
            elif self.reported.get(port_id) == "ACTIVE":
                await self._report(port_id, "DOWN")

    async def _report(self, port_id: str, status: str) -> None:
        if self.reported.get(port_id) != status:
            await self.sink.port_status(PortStatus(port_id=port_id, host="", status=status))
            self.reported[port_id] = status
